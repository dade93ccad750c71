package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

const roleColumns = `id, name, domain_id, description`

func scanRole(row interface{ Scan(...any) error }) (*Role, error) {
	var r Role
	if err := row.Scan(&r.ID, &r.Name, &r.DomainID, &r.Description); err != nil {
		return nil, err
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
// roles only, as Keystone does without a domain_id filter).
func (s *Service) ListRoles(ctx context.Context, name, domainID string) ([]Role, error) {
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
	return out, rows.Err()
}

// CreateRole stores a new role.
func (s *Service) CreateRole(ctx context.Context, r Role) (*Role, error) {
	if err := requireName(r.Name); err != nil {
		return nil, err
	}
	if r.ID == "" {
		r.ID = newID()
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if r.DomainID != "" {
			if _, err := getDomain(ctx, tx, r.DomainID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO roles (id, name, domain_id, description, created_at) VALUES (?, ?, ?, ?, ?)`,
			r.ID, r.Name, r.DomainID, r.Description, s.nowMicros())
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

// UpdateRole changes a role's name or description.
func (s *Service) UpdateRole(ctx context.Context, id string, p RolePatch) (*Role, error) {
	defer s.tokensChanged()
	var out *Role
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := getRole(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			if err := requireName(*p.Name); err != nil {
				return err
			}
			r.Name = *p.Name
		}
		if p.Description != nil {
			r.Description = *p.Description
		}
		_, err = tx.ExecContext(ctx, `UPDATE roles SET name = ?, description = ? WHERE id = ?`, r.Name, r.Description, id)
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
		for _, q := range []string{
			`DELETE FROM role_assignments WHERE role_id = ?`,
			`DELETE FROM roles WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete role %s: %w", id, err)
			}
		}
		return nil
	})
}
