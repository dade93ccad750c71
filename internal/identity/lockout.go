package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// passwordUser is what checking a password reads of a user.
type passwordUser struct {
	id, hash      string
	enabled       bool
	domainEnabled bool
	failures      int
	failedAt      sql.NullInt64
	options       string
}

// passwordUserQuery reads a passwordUser; callers append the condition.
const passwordUserQuery = `SELECT u.id, u.password_hash, u.enabled, d.enabled, u.failed_auth_count, u.failed_auth_at, u.options
	FROM users u JOIN domains d ON d.id = u.domain_id WHERE `

// verifyPassword is Keystone's identity authenticate (identity/backends/
// sql.py) for the user the condition finds: a locked account fails, a
// wrong password fails and counts towards the lock, a disabled user
// fails, and success clears the count. Every path costs exactly one
// bcrypt comparison, so the answer's timing tells nothing about which
// it was. It does not look at the user's domain (Keystone's token
// issuance checks that afterwards).
func (s *Service) verifyPassword(ctx context.Context, password, cond string, args ...any) (*passwordUser, error) {
	var u passwordUser
	err := s.db.QueryRowContext(ctx, passwordUserQuery+cond, args...).Scan(
		&u.id, &u.hash, &u.enabled, &u.domainEnabled, &u.failures, &u.failedAt, &u.options)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.passwords.check("", password); err != nil {
			return nil, err
		}
		return nil, unauthorized()
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	locked := s.locked(&u)
	ok, err := s.passwords.check(u.hash, password)
	if err != nil {
		return nil, err
	}
	// Keystone answers a locked account with AccountLocked, which its
	// notification wrapper turns into the plain 401 of any failure; the
	// attempt is not counted, so the lock runs from the last failure.
	if locked {
		return nil, unauthorized()
	}
	if !ok {
		if err := s.recordFailedAuth(ctx, u.id); err != nil {
			return nil, err
		}
		return nil, unauthorized()
	}
	if !u.enabled {
		return nil, unauthorized()
	}
	if u.failures > 0 {
		if err := s.resetFailedAuth(ctx, u.id); err != nil {
			return nil, err
		}
	}
	return &u, nil
}

// locked is Keystone's _is_account_locked: lockout is on, the user is
// not exempt (ignore_lockout_failure_attempts), has failed at least
// lockout_failure_attempts times, and the last failure is less than
// lockout_duration ago.
func (s *Service) locked(u *passwordUser) bool {
	max := s.opts.LockoutFailureAttempts
	if max <= 0 || u.failures < max || !u.failedAt.Valid {
		return false
	}
	if s.opts.now().Before(time.UnixMicro(u.failedAt.Int64).Add(s.opts.LockoutDuration)) {
		return !ignoresLockout(u.options)
	}
	return false
}

// ignoresLockout reads the user option ignore_lockout_failure_attempts.
func ignoresLockout(options string) bool {
	var o struct {
		Ignore bool `json:"ignore_lockout_failure_attempts"`
	}
	return json.Unmarshal([]byte(options), &o) == nil && o.Ignore
}

// recordFailedAuth counts a failed password authentication, as Keystone
// does whether lockout is on or not. A lock that has run out starts the
// count again (Keystone resets it when it finds the lock expired).
func (s *Service) recordFailedAuth(ctx context.Context, userID string) error {
	now := s.opts.now()
	var err error
	if max := s.opts.LockoutFailureAttempts; max > 0 {
		expired := now.Add(-s.opts.LockoutDuration).UnixMicro()
		_, err = s.db.ExecContext(ctx, `UPDATE users SET
			failed_auth_count = CASE WHEN failed_auth_count >= ? AND failed_auth_at <= ? THEN 1 ELSE failed_auth_count + 1 END,
			failed_auth_at = ? WHERE id = ?`, max, expired, now.UnixMicro(), userID)
	} else {
		_, err = s.db.ExecContext(ctx, `UPDATE users SET failed_auth_count = failed_auth_count + 1, failed_auth_at = ? WHERE id = ?`,
			now.UnixMicro(), userID)
	}
	if err != nil {
		return fmt.Errorf("record failed authentication of user %s: %w", userID, err)
	}
	return nil
}

// resetFailedAuth clears a user's count of failed authentications.
func (s *Service) resetFailedAuth(ctx context.Context, userID string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET failed_auth_count = 0, failed_auth_at = NULL WHERE id = ?`, userID); err != nil {
		return fmt.Errorf("reset failed authentications of user %s: %w", userID, err)
	}
	return nil
}
