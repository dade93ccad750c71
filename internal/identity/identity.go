// Package identity is kumo's built-in Keystone: domains, projects, users,
// roles, role assignments, tokens and EC2 credentials, stored in the
// shared database.
package identity

import (
	"time"

	"github.com/kumocloud/kumo/internal/secret"
	"github.com/kumocloud/kumo/internal/store"
)

// DefaultDomainID is the id Keystone gives the Default domain.
const DefaultDomainID = "default"

// Options configure the identity service.
type Options struct {
	// TokenTTL is how long issued tokens live (default 1h).
	TokenTTL time.Duration
	// TokenCacheTTL is how long Authenticate trusts a token it validated
	// (default 5 s; negative: never, every request checks the database).
	TokenCacheTTL time.Duration
	// Secrets encrypts credential blobs at rest, as Keystone's credential
	// keys do; without it credentials cannot be created or read.
	Secrets *secret.Box
	// now, when set, replaces the clock (tests).
	now func() time.Time
}

// Service implements identity on a store.DB.
type Service struct {
	db         *store.DB
	opts       Options
	principals principalCache
}

// New returns an identity service.
func New(db *store.DB, opts Options) *Service {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	if opts.TokenCacheTTL == 0 {
		opts.TokenCacheTTL = defaultTokenCacheTTL
	}
	return &Service{db: db, opts: opts}
}

// nowMicros is the current time in the store's timestamp format.
func (s *Service) nowMicros() int64 { return s.opts.now().UnixMicro() }
