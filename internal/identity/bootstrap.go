package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// Bootstrap creates, when missing, the Default domain, the admin and
// service projects, Keystone's default roles (reader, member, manager,
// admin, service) with their implications, and the admin user with
// password (only its hash is stored) holding the admin role on the admin
// project and on the system. It returns the admin project's id and whether the
// admin user was created by this call (false: nothing was changed).
// Each piece is created only when missing, like keystone-manage bootstrap.
func (s *Service) Bootstrap(ctx context.Context, adminPassword string) (adminProjectID string, created bool, err error) {
	// Hash only for a cloud without its admin, and outside the
	// transaction: at Keystone's cost a hash takes a quarter of a second,
	// and restarts find the admin there.
	hash := ""
	hashIfNoAdmin := func(q store.Querier) error {
		ok, err := exists(ctx, q, `SELECT 1 FROM users WHERE domain_id = ? AND name = 'admin'`, DefaultDomainID)
		if err == nil && !ok {
			hash, err = s.passwords.hash(adminPassword)
		}
		return err
	}
	if err := hashIfNoAdmin(s.db); err != nil {
		return "", false, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		created = false
		now := s.nowMicros()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM domains WHERE id = ?`, DefaultDomainID); err != nil {
			return err
		} else if !ok {
			if _, err := tx.ExecContext(ctx, `INSERT INTO domains (id, name, description, enabled, created_at) VALUES (?, 'Default', 'The default domain', TRUE, ?)`, DefaultDomainID, now); err != nil {
				return fmt.Errorf("bootstrap default domain: %w", err)
			}
		}
		ensure := func(what, find string, findArgs []any, insert string, insertArgs func(id string) []any) (string, bool, error) {
			var id string
			err := tx.QueryRowContext(ctx, find, findArgs...).Scan(&id)
			if err == nil {
				return id, false, nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return "", false, fmt.Errorf("bootstrap %s: %w", what, err)
			}
			id = newID()
			if _, err := tx.ExecContext(ctx, insert, insertArgs(id)...); err != nil {
				return "", false, fmt.Errorf("bootstrap %s: %w", what, err)
			}
			return id, true, nil
		}
		project := func(name, desc string) (string, error) {
			id, _, err := ensure("project "+name, `SELECT id FROM projects WHERE domain_id = ? AND name = ?`, []any{DefaultDomainID, name},
				`INSERT INTO projects (id, name, domain_id, description, enabled, created_at) VALUES (?, ?, ?, ?, TRUE, ?)`,
				func(id string) []any { return []any{id, name, DefaultDomainID, desc, now} })
			return id, err
		}
		role := func(name string) (string, bool, error) {
			return ensure("role "+name, `SELECT id FROM roles WHERE domain_id = '' AND name = ?`, []any{name},
				`INSERT INTO roles (id, name, created_at) VALUES (?, ?, ?)`,
				func(id string) []any { return []any{id, name, now} })
		}
		var err error
		if adminProjectID, err = project("admin", "Bootstrap project for initializing the cloud."); err != nil {
			return err
		}
		if _, err = project("service", ""); err != nil {
			return err
		}
		if hash == "" {
			// Rare: the admin user went after the check above.
			if err := hashIfNoAdmin(tx); err != nil {
				return err
			}
		}
		adminUserID, userCreated, err := ensure("admin user", `SELECT id FROM users WHERE domain_id = ? AND name = 'admin'`, []any{DefaultDomainID},
			`INSERT INTO users (id, name, domain_id, password_hash, enabled, created_at, password_changed_at) VALUES (?, 'admin', ?, ?, TRUE, ?, ?)`,
			func(id string) []any { return []any{id, DefaultDomainID, hash, now, now} })
		if err != nil {
			return err
		}
		// Keystone's default roles, each implying the next. An
		// implication is made with a role it names, never again: an
		// administrator may remove it, and restarts leave that alone.
		roleIDs, roleCreated := map[string]string{}, map[string]bool{}
		for _, d := range defaultRoles() {
			id, made, err := role(d.name)
			if err != nil {
				return err
			}
			roleIDs[d.name], roleCreated[d.name] = id, made
			if d.implies == "" || !(made || roleCreated[d.implies] || userCreated) {
				continue
			}
			if err := ensureImpliedRole(ctx, tx, id, roleIDs[d.implies]); err != nil {
				return err
			}
			if d.replaces != "" {
				// Before the manager role, admin implied member.
				if _, err := tx.ExecContext(ctx, `DELETE FROM implied_roles WHERE prior_role_id = ? AND implied_role_id = ?`, id, roleIDs[d.replaces]); err != nil {
					return fmt.Errorf("bootstrap implied roles: %w", err)
				}
			}
		}
		if userCreated {
			// The admin on the admin project and on the system, so that
			// no administrator is locked out of system-level calls.
			for _, target := range [][2]string{{"project", adminProjectID}, {"system", systemTarget}} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (actor_id, target_type, target_id, role_id) VALUES (?, ?, ?, ?)`,
					adminUserID, target[0], target[1], roleIDs["admin"]); err != nil {
					return fmt.Errorf("bootstrap admin role assignment: %w", err)
				}
			}
		}
		created = userCreated
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return adminProjectID, created, nil
}

// defaultRoles are keystone-manage bootstrap's roles in the order it
// makes them: admin ⇒ manager ⇒ member ⇒ reader; service stands alone.
func defaultRoles() []struct{ name, implies, replaces string } {
	return []struct{ name, implies, replaces string }{
		{name: "reader"},
		{name: "member", implies: "reader"},
		{name: "manager", implies: "member"},
		{name: "admin", implies: "manager", replaces: "member"},
		{name: "service"},
	}
}

// ensureImpliedRole records that prior implies implied, once.
func ensureImpliedRole(ctx context.Context, q store.Querier, prior, implied string) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO implied_roles (prior_role_id, implied_role_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, prior, implied); err != nil {
		return fmt.Errorf("bootstrap implied role: %w", err)
	}
	return nil
}
