// Package keypair manages users' SSH key pairs and x509 certificates
// (Nova's os-keypairs): import, generation, lookup and deletion, with
// Nova's fingerprints, messages and per-user quota.
package keypair

import (
	"context"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Key pair types.
const (
	TypeSSH  = "ssh"
	TypeX509 = "x509"
)

// DefaultLimit is Nova's default key_pairs quota per user.
const DefaultLimit = 100

// KeyPair is a stored public key. The private half of a generated pair is
// handed out once at creation and never kept.
type KeyPair struct {
	ID          int64
	UserID      string
	Name        string
	Type        string
	PublicKey   string
	Fingerprint string
	CreatedAt   time.Time
}

// LimitFunc returns the key_pairs limit for a user acting in a project;
// -1 means unlimited.
type LimitFunc func(ctx context.Context, projectID, userID string) (int, error)

// Options configure a Service.
type Options struct {
	// Limit gives the key_pairs quota; nil means Nova's default of 100.
	Limit LimitFunc
}

// Service implements key pair management.
type Service struct {
	db    *store.DB
	limit LimitFunc
}

// New returns a key pair service.
func New(db *store.DB, o Options) *Service {
	limit := o.Limit
	if limit == nil {
		limit = func(context.Context, string, string) (int, error) { return DefaultLimit, nil }
	}
	return &Service{db: db, limit: limit}
}

func notFound(userID, name string) error {
	return errs.NotFound("Keypair %s not found for user %s", name, userID)
}

func invalidKeypair(reason string) error {
	return errs.Invalid("Keypair data is invalid: %s", reason)
}
