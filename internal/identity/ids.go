package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
)

// newID returns a Keystone-style id: a UUID4 as 32 hex digits.
func newID() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }

// newTokenID returns 32 random bytes, URL-safe base64 without padding.
func newTokenID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newAuditID returns a 16-byte random audit id, as Keystone's 22-char ids.
func newAuditID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is what the database keeps instead of a token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
