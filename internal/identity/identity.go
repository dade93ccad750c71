// Package identity is kumo's built-in Keystone: domains, projects, users,
// roles, role assignments and tokens, stored in the shared database.
package identity

import (
	"context"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/store"
)

// Options configure the identity service.
type Options struct {
	// TokenTTL is how long issued tokens live (default 1h).
	TokenTTL time.Duration
}

// Service implements identity on a store.DB.
type Service struct {
	db   *store.DB
	opts Options
}

// New returns an identity service.
func New(db *store.DB, opts Options) *Service {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	return &Service{db: db, opts: opts}
}

// Bootstrap creates, when missing, the Default domain, the admin and
// service projects, the admin, member and reader roles, and the admin
// user with password (only its hash is stored) holding the admin role on
// the admin project. It returns the admin project's id and whether the
// admin user was created by this call (false: nothing was changed).
func (s *Service) Bootstrap(ctx context.Context, adminPassword string) (adminProjectID string, created bool, err error) {
	panic("TODO")
}

// Authenticate implements auth.Authenticator for compute and image calls.
func (s *Service) Authenticate(ctx context.Context, token string) (*auth.Principal, error) {
	panic("TODO")
}
