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
	// keys do; required (every caller passes the data dir's key).
	Secrets *secret.Box
	// PasswordHashCost is the bcrypt cost of new password hashes
	// (default DefaultPasswordHashCost, Keystone's). Existing hashes keep
	// their own cost, as in Keystone.
	PasswordHashCost int
	// LockoutFailureAttempts locks a user's password authentication
	// after this many consecutive failures (Keystone's [security_compliance]
	// lockout_failure_attempts; 0, the default: never).
	LockoutFailureAttempts int
	// LockoutDuration is how long such a lock lasts (lockout_duration;
	// default 30 minutes, Keystone's 1800 seconds).
	LockoutDuration time.Duration
	// now, when set, replaces the clock (tests).
	now func() time.Time
	// compare, when set, replaces bcrypt's comparison (tests count calls).
	compare func(hash, password []byte) error
}

// DefaultLockoutDuration is Keystone's lockout_duration.
const DefaultLockoutDuration = 1800 * time.Second

// Service implements identity on a store.DB.
type Service struct {
	db         *store.DB
	opts       Options
	principals principalCache
	passwords  *passwords
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
	if opts.LockoutDuration <= 0 {
		opts.LockoutDuration = DefaultLockoutDuration
	}
	return &Service{db: db, opts: opts, passwords: newPasswords(opts.PasswordHashCost, opts.compare)}
}

// nowMicros is the current time in the store's timestamp format.
func (s *Service) nowMicros() int64 { return s.opts.now().UnixMicro() }
