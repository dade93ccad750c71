// Package hostlink is the link between compute hosts: the HTTP endpoint
// only hosts use (under /kumo/v1/host/, outside the OpenStack APIs),
// served by every process that runs a compute host's agent, and its
// client. A moving server's files travel over it from the source host to
// the destination. Every call is authenticated with an HMAC under a key
// derived from the cloud's shared secret key (secret.Box.DeriveKey).
package hostlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Prefix is where the host endpoint is mounted.
const Prefix = "/kumo/v1/host/"

// KeyPurpose is the purpose the endpoint's MAC key is derived for.
const KeyPurpose = "host-endpoint"

const (
	// authScheme prefixes the Authorization header:
	// "Kumo-HMAC expires=<unix seconds>, signature=<hex>".
	authScheme = "Kumo-HMAC"
	// bodyTrailer carries the MAC of a streamed request body, sent as an
	// HTTP trailer once the whole body is out, so the body is signed
	// without being held in memory or read twice.
	bodyTrailer = "Kumo-Body-Signature"
	// MaxTTL bounds how far ahead a signature may expire: one captured
	// in transit is worthless soon after.
	MaxTTL = 5 * time.Minute
)

// Signer signs and verifies host endpoint calls with one key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a signer with key (secret.Box.DeriveKey(KeyPurpose));
// now is the clock (nil: the wall clock).
func NewSigner(key []byte, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{key: append([]byte(nil), key...), now: now}
}

// requestMAC is the MAC of a call: its method, path and expiry.
func (s *Signer) requestMAC(method, path string, expires int64) []byte {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "kumo host call\n%s\n%s\n%d", method, path, expires)
	return m.Sum(nil)
}

// bodyMAC is the MAC of a body whose SHA-256 is digest, sent in the call
// whose MAC is reqMAC: a body cannot be moved to another call.
func (s *Signer) bodyMAC(reqMAC, digest []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("kumo host body\n"))
	m.Write(reqMAC)
	m.Write(digest)
	return m.Sum(nil)
}

// Sign adds the Authorization header of r, valid for ttl (at most
// MaxTTL), and returns the call's MAC (for its body's signature).
func (s *Signer) Sign(r *http.Request, ttl time.Duration) []byte {
	ttl = min(ttl, MaxTTL)
	expires := s.now().Add(ttl).Unix()
	mac := s.requestMAC(r.Method, r.URL.EscapedPath(), expires)
	r.Header.Set("Authorization", fmt.Sprintf("%s expires=%d, signature=%s", authScheme, expires, hex.EncodeToString(mac)))
	return mac
}

// authError is a refused call: 401 without a readable signature, 403
// with a wrong or expired one.
type authError struct {
	status int
	msg    string
}

func (e *authError) Error() string { return e.msg }

// Status is the HTTP status of an error Verify returned.
func Status(err error) int {
	var ae *authError
	if errors.As(err, &ae) {
		return ae.status
	}
	return http.StatusInternalServerError
}

// Verify checks r's signature and returns the call's MAC: a missing or
// malformed header is a 401, a signature that does not match the call,
// has expired or expires too far ahead a 403. MACs are compared in
// constant time.
func (s *Signer) Verify(r *http.Request) ([]byte, error) {
	h := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(h, authScheme+" ")
	if !ok {
		return nil, &authError{http.StatusUnauthorized, "host endpoint calls need a " + authScheme + " signature"}
	}
	var expires int64
	var sig []byte
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "expires":
			expires, _ = strconv.ParseInt(v, 10, 64)
		case "signature":
			sig, _ = hex.DecodeString(v)
		}
	}
	if expires == 0 || len(sig) != sha256.Size {
		return nil, &authError{http.StatusUnauthorized, "malformed " + authScheme + " signature"}
	}
	now := s.now().Unix()
	mac := s.requestMAC(r.Method, r.URL.EscapedPath(), expires)
	if !hmac.Equal(sig, mac) {
		return nil, &authError{http.StatusForbidden, "bad signature"}
	}
	if expires < now {
		return nil, &authError{http.StatusForbidden, "signature expired"}
	}
	if expires > now+int64(MaxTTL/time.Second)+60 { // a minute of clock skew
		return nil, &authError{http.StatusForbidden, "signature expires too far ahead"}
	}
	return mac, nil
}

// verifyBody checks the body signature sig (hex, from the trailer) of
// the call whose MAC is reqMAC, whose body's SHA-256 is digest.
func (s *Signer) verifyBody(reqMAC, digest []byte, sig string) error {
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.bodyMAC(reqMAC, digest)) {
		return &authError{http.StatusForbidden, "bad body signature"}
	}
	return nil
}
