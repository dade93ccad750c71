package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

const roleColumns = `id, name, domain_id, description, extra`

func scanRole(row interface{ Scan(...any) error }) (*Role, error) {
	var r Role
	var extra string
	if err := row.Scan(&r.ID, &r.Name, &r.DomainID, &r.Description, &extra); err != nil {
		return nil, err
	}
	var err error
	if r.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("role %s: %w", r.ID, err)
	}
	return &r, nil
}

func getRole(ctx context.Context, q store.Querier, id string) (*Role, error) {
	r, err := scanRole(q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("role", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get role %s: %w", id, err)
	}
	return r, nil
}

// GetRole returns a role by id.
func (s *Service) GetRole(ctx context.Context, id string) (*Role, error) {
	return getRole(ctx, s.db, id)
}

// ListRoles lists roles, optionally by name and domain ("" lists global
// roles only, as Keystone does without a domain_id filter) and Keystone's
// inexact filters on name and domain_id.
func (s *Service) ListRoles(ctx context.Context, name, domainID string, inexact ...Inexact) ([]Role, error) {
	var c conds
	c.add("domain_id = ?", domainID)
	if name != "" {
		c.add("name = ?", name)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+roleColumns+` FROM roles`+c.where()+` ORDER BY name, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, fmt.Errorf("list roles: %w", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return keepInexact(out, inexact, roleAttr), nil
}

// CreateRole stores a new role.
func (s *Service) CreateRole(ctx context.Context, r Role) (*Role, error) {
	if err := requireName(r.Name, nameMax); err != nil {
		return nil, err
	}
	if r.ID == "" {
		r.ID = newID()
	}
	extra, err := encodeExtra(r.Extra)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if r.DomainID != "" {
			if _, err := getDomain(ctx, tx, r.DomainID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO roles (id, name, domain_id, description, extra, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, r.Name, r.DomainID, r.Description, extra, s.nowMicros())
		if store.IsUniqueViolation(err) {
			return duplicate("role", r.Name, r.DomainID)
		}
		if err != nil {
			return fmt.Errorf("create role: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// UpdateRole changes a role's name, description or extra attributes.
func (s *Service) UpdateRole(ctx context.Context, id string, p RolePatch) (*Role, error) {
	defer s.tokensChanged()
	var out *Role
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := getRole(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			if err := requireName(*p.Name, nameMax); err != nil {
				return err
			}
			r.Name = *p.Name
		}
		if p.Description != nil {
			r.Description = *p.Description
		}
		r.Extra = mergeExtra(r.Extra, p.Extra)
		extra, err := encodeExtra(r.Extra)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE roles SET name = ?, description = ?, extra = ? WHERE id = ?`, r.Name, r.Description, extra, id)
		if store.IsUniqueViolation(err) {
			return duplicate("role", r.Name, r.DomainID)
		}
		if err != nil {
			return fmt.Errorf("update role %s: %w", id, err)
		}
		out = r
		return nil
	})
	return out, err
}

// DeleteRole deletes a role and every assignment of it.
func (s *Service) DeleteRole(ctx context.Context, id string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getRole(ctx, tx, id); err != nil {
			return err
		}
		if err := deleteRoleAppCreds(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM role_assignments WHERE role_id = ?`,
			`DELETE FROM implied_roles WHERE prior_role_id = ?`,
			`DELETE FROM implied_roles WHERE implied_role_id = ?`,
			`DELETE FROM roles WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete role %s: %w", id, err)
			}
		}
		return nil
	})
}
