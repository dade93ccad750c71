package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/kumocloud/kumo/internal/errs"
)

// Password hash costs (bcrypt's log2 rounds). The default is Keystone's
// ([identity] password_hash_rounds for bcrypt); the bounds are bcrypt's,
// which Keystone enforces too.
const (
	DefaultPasswordHashCost = 12
	MinPasswordHashCost     = bcrypt.MinCost // 4
	MaxPasswordHashCost     = bcrypt.MaxCost // 31
)

// CheckPasswordHashCost rejects a cost bcrypt cannot use.
func CheckPasswordHashCost(cost int) error {
	if cost < MinPasswordHashCost || cost > MaxPasswordHashCost {
		return fmt.Errorf("password hash cost %d is out of range (bcrypt takes %d to %d)", cost, MinPasswordHashCost, MaxPasswordHashCost)
	}
	return nil
}

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

// passwords hashes new passwords at one cost and checks passwords so
// that every check costs one bcrypt comparison, whether or not there is
// a hash to check against: a login for a user that does not exist or has
// no password takes as long as a wrong password for one that has.
type passwords struct {
	cost int
	// compare is bcrypt.CompareHashAndPassword; tests count its calls.
	compare func(hash, password []byte) error

	dummyOnce sync.Once
	dummy     []byte
	dummyErr  error
}

func newPasswords(cost int, compare func(hash, password []byte) error) *passwords {
	switch {
	case cost == 0:
		cost = DefaultPasswordHashCost
	case cost < MinPasswordHashCost:
		cost = MinPasswordHashCost // bcrypt would silently use its own default
	case cost > MaxPasswordHashCost:
		cost = MaxPasswordHashCost
	}
	if compare == nil {
		compare = bcrypt.CompareHashAndPassword
	}
	return &passwords{cost: cost, compare: compare}
}

// hash returns the stored form of password.
func (p *passwords) hash(password string) (string, error) {
	if len(password) > maxPasswordLength {
		return "", errs.Invalid("Invalid input for field 'password': the password is longer than %d characters", maxPasswordLength)
	}
	h, err := bcrypt.GenerateFromPassword(bcryptInput(password), p.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is a hash of a random secret at the configured cost, made on
// first need (one bcrypt run) and checked when there is no real hash.
func (p *passwords) dummyHash() ([]byte, error) {
	p.dummyOnce.Do(func() {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			p.dummyErr = fmt.Errorf("dummy password: %w", err)
			return
		}
		p.dummy, p.dummyErr = bcrypt.GenerateFromPassword([]byte(base64.StdEncoding.EncodeToString(secret)), p.cost)
		if p.dummyErr != nil {
			p.dummyErr = fmt.Errorf("dummy password hash: %w", p.dummyErr)
		}
	})
	return p.dummy, p.dummyErr
}

// check reports whether password matches hash. An empty hash (no such
// user, or a user created without a password) never matches, after
// the same work as a real comparison.
func (p *passwords) check(hash, password string) (bool, error) {
	if hash == "" {
		dummy, err := p.dummyHash()
		if err != nil {
			return false, err
		}
		_ = p.compare(dummy, bcryptInput(password))
		return false, nil
	}
	err := p.compare([]byte(hash), bcryptInput(password))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return false, nil
	}
	return false, fmt.Errorf("check password: %w", err)
}
