// Package secret seals short secrets (a server's admin password on its way
// to the compute agent) with AES-GCM under a key kept in the data dir, so
// they are never written to the database in clear.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
	key  []byte // for DeriveKey
}

// NewBox returns a box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead, key: append([]byte(nil), key...)}, nil
}

// DeriveKey is a 32-byte key for one purpose ("host-endpoint"), derived
// from the box's key: each use of the cloud's shared key gets its own, so
// a MAC made for one purpose is never valid for another and the sealing
// key itself is never used for anything but sealing.
func (b *Box) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte("kumo derived key: " + purpose))
	return m.Sum(nil)
}

// Fingerprint names the key without revealing it: processes sharing a
// cloud compare fingerprints to know they hold the same key.
func (b *Box) Fingerprint() string { return hex.EncodeToString(b.DeriveKey("fingerprint")) }

// LoadOrCreate reads the key at path, creating a random one (mode 0600)
// when the file does not exist.
func LoadOrCreate(path string) (*Box, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate secret key: %w", err)
		}
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("write secret key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	return NewBox(key)
}

// Seal encrypts plaintext into a printable string.
func (b *Box) Seal(plaintext string) string {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawStdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(plaintext), nil))
}

// Open decrypts what Seal produced.
func (b *Box) Open(sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("secret: malformed sealed value")
	}
	n := b.aead.NonceSize()
	pt, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	return string(pt), nil
}
