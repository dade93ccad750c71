package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

const userColumns = `id, name, domain_id, enabled, default_project_id, description, email, options, extra`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var dp sql.NullString
	var options, extra string
	if err := row.Scan(&u.ID, &u.Name, &u.DomainID, &u.Enabled, &dp, &u.Description, &u.Email, &options, &extra); err != nil {
		return nil, err
	}
	var err error
	if u.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("user %s: %w", u.ID, err)
	}
	u.DefaultProjectID = dp.String
	if err := json.Unmarshal([]byte(options), &u.Options); err != nil {
		return nil, fmt.Errorf("user %s options: %w", u.ID, err)
	}
	if u.Options == nil {
		u.Options = map[string]any{}
	}
	return &u, nil
}

func getUser(ctx context.Context, q store.Querier, id string) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// GetUser returns a user by id.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	return getUser(ctx, s.db, id)
}

// ListUsers lists users matching f, ordered by name.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]User, error) {
	var c conds
	if f.Name != "" {
		c.add("name = ?", f.Name)
	}
	if f.DomainID != "" {
		c.add("domain_id = ?", f.DomainID)
	}
	if f.Enabled != nil {
		c.add("enabled = ?", *f.Enabled)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users`+c.where()+` ORDER BY name, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return keepInexact(out, f.Inexact, userAttr), nil
}

// CreateUser stores a new user with an optional password (only its hash
// is kept).
func (s *Service) CreateUser(ctx context.Context, u User, password *string) (*User, error) {
	if err := requireName(u.Name, nameMax); err != nil {
		return nil, err
	}
	if u.ID == "" {
		u.ID = newID()
	}
	if u.DomainID == "" {
		u.DomainID = DefaultDomainID
	}
	if u.Options == nil {
		u.Options = map[string]any{}
	}
	options, err := encodeUserOptions(u.Options)
	if err != nil {
		return nil, err
	}
	extra, err := encodeExtra(u.Extra)
	if err != nil {
		return nil, err
	}
	hash := ""
	var changedAt sql.NullInt64
	if password != nil {
		h, err := s.passwords.hash(*password)
		if err != nil {
			return nil, err
		}
		hash = h
		changedAt = sql.NullInt64{Int64: s.nowMicros(), Valid: true}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getDomain(ctx, tx, u.DomainID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, domain_id, password_hash, enabled, default_project_id, description, email, options, extra, created_at, password_changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Name, u.DomainID, hash, u.Enabled, nullString(u.DefaultProjectID), u.Description, u.Email, options, extra, s.nowMicros(), changedAt)
		if store.IsUniqueViolation(err) {
			return duplicate("user", u.Name, u.DomainID)
		}
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// UpdateUser changes a user. A new password or disabling the user
// revokes all the user's tokens.
func (s *Service) UpdateUser(ctx context.Context, id string, p UserPatch) (*User, error) {
	defer s.tokensChanged()
	hash := ""
	if p.Password != nil {
		h, err := s.passwords.hash(*p.Password)
		if err != nil {
			return nil, err
		}
		hash = h
	}
	var out *User
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := getUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			if err := requireName(*p.Name, nameMax); err != nil {
				return err
			}
			u.Name = *p.Name
		}
		revoke := p.Password != nil || (p.Enabled != nil && u.Enabled && !*p.Enabled)
		if p.Enabled != nil {
			u.Enabled = *p.Enabled
		}
		if p.DefaultProjectID != nil {
			u.DefaultProjectID = *p.DefaultProjectID
		}
		if p.Description != nil {
			u.Description = *p.Description
		}
		if p.Email != nil {
			u.Email = *p.Email
		}
		for k, v := range p.Options {
			if v == nil {
				delete(u.Options, k)
			} else {
				u.Options[k] = v
			}
		}
		options, err := encodeUserOptions(u.Options)
		if err != nil {
			return err
		}
		u.Extra = mergeExtra(u.Extra, p.Extra)
		extra, err := encodeExtra(u.Extra)
		if err != nil {
			return err
		}
		// Any update that leaves the user enabled unlocks it: Keystone's
		// update sets enabled again, whose setter clears the failure count.
		_, err = tx.ExecContext(ctx, `UPDATE users SET name = ?, enabled = ?, default_project_id = ?, description = ?, email = ?, options = ?, extra = ?,
			failed_auth_count = CASE WHEN ? THEN 0 ELSE failed_auth_count END,
			failed_auth_at = CASE WHEN ? THEN NULL ELSE failed_auth_at END WHERE id = ?`,
			u.Name, u.Enabled, nullString(u.DefaultProjectID), u.Description, u.Email, options, extra, u.Enabled, u.Enabled, id)
		if store.IsUniqueViolation(err) {
			return duplicate("user", u.Name, u.DomainID)
		}
		if err != nil {
			return fmt.Errorf("update user %s: %w", id, err)
		}
		if p.Password != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`, hash, s.nowMicros(), id); err != nil {
				return fmt.Errorf("set password of %s: %w", id, err)
			}
		}
		if revoke {
			if err := revokeUserTokens(ctx, tx, id); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, err
}

// ChangePassword is the self-service change: the original password must
// pass Keystone's authentication (lockout included; a wrong one counts
// towards it). Any failure, an unknown user included, is a 401, as in
// Keystone.
func (s *Service) ChangePassword(ctx context.Context, userID, original, password string) error {
	defer s.tokensChanged()
	if _, err := s.verifyPassword(ctx, original, `u.id = ?`, userID); err != nil {
		return err
	}
	_, err := s.UpdateUser(ctx, userID, UserPatch{Password: &password})
	return err
}

// DeleteUser deletes a user with the user's role assignments and tokens.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getUser(ctx, tx, id); err != nil {
			return err
		}
		if err := deleteUserAppCreds(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM role_assignments WHERE actor_type = 'user' AND actor_id = ?`,
			`DELETE FROM group_members WHERE user_id = ?`,
			`DELETE FROM tokens WHERE user_id = ?`,
			`DELETE FROM credentials WHERE user_id = ?`, // as Keystone's delete_credentials_for_user
			`DELETE FROM users WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete user %s: %w", id, err)
			}
		}
		return nil
	})
}

func revokeUserTokens(ctx context.Context, q store.Querier, userID string) error {
	if _, err := q.ExecContext(ctx, `UPDATE tokens SET revoked = TRUE WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("revoke tokens of %s: %w", userID, err)
	}
	return nil
}

// userOptionKind tells whether name is one of Keystone's user resource
// options and whether it holds a boolean (the MFA rules are a list of
// lists of method names).
func userOptionKind(name string) (isBool, known bool) {
	switch name {
	case "ignore_change_password_upon_first_use", "ignore_password_expiry", "ignore_lockout_failure_attempts",
		"ignore_user_inactivity", "lock_password", "multi_factor_auth_enabled":
		return true, true
	case "multi_factor_auth_rules":
		return false, true
	}
	return false, false
}

// encodeUserOptions validates options like Keystone's schema and
// returns their stored form.
func encodeUserOptions(options map[string]any) (string, error) {
	for k, v := range options {
		isBool, known := userOptionKind(k)
		if !known {
			return "", errs.Invalid("Invalid input for field 'options': Additional properties are not allowed ('%s' was unexpected)", k)
		}
		if _, ok := v.(bool); isBool && !ok {
			return "", errs.Invalid("Invalid input for field 'options/%s': %v is not of type 'boolean'", k, v)
		}
		if _, ok := v.([]any); !isBool && !ok {
			return "", errs.Invalid("Invalid input for field 'options/%s': %v is not of type 'array'", k, v)
		}
	}
	b, err := json.Marshal(options)
	if err != nil {
		return "", fmt.Errorf("encode user options: %w", err)
	}
	return string(b), nil
}
