package identity

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/kumocloud/kumo/internal/errs"
)

// bcryptCost keeps one verification around 30 ms on a small host.
const bcryptCost = 9

// maxPasswordLength is Keystone's default max_password_length.
const maxPasswordLength = 4096

// bcryptInput maps a password to what bcrypt sees: bcrypt only reads 72
// bytes, so longer passwords are pre-hashed to keep every byte significant.
func bcryptInput(password string) []byte {
	if len(password) <= 72 {
		return []byte(password)
	}
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

// hashPassword returns the stored form of password.
func hashPassword(password string) (string, error) {
	if len(password) > maxPasswordLength {
		return "", errs.Invalid("Invalid input for field 'password': the password is longer than %d characters", maxPasswordLength)
	}
	h, err := bcrypt.GenerateFromPassword(bcryptInput(password), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// checkPassword reports whether password matches hash. An empty hash (a
// user created without a password) never matches.
func checkPassword(hash, password string) (bool, error) {
	if hash == "" {
		return false, nil
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), bcryptInput(password))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return false, nil
	}
	return false, fmt.Errorf("check password: %w", err)
}
