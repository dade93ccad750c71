package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

const domainColumns = `id, name, description, enabled`

func scanDomain(row interface{ Scan(...any) error }) (*Domain, error) {
	var d Domain
	if err := row.Scan(&d.ID, &d.Name, &d.Description, &d.Enabled); err != nil {
		return nil, err
	}
	return &d, nil
}

func getDomain(ctx context.Context, q store.Querier, id string) (*Domain, error) {
	d, err := scanDomain(q.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("domain", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get domain %s: %w", id, err)
	}
	return d, nil
}

func getDomainByName(ctx context.Context, q store.Querier, name string) (*Domain, error) {
	d, err := scanDomain(q.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("domain", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get domain %s: %w", name, err)
	}
	return d, nil
}

// GetDomain returns a domain by id.
func (s *Service) GetDomain(ctx context.Context, id string) (*Domain, error) {
	return getDomain(ctx, s.db, id)
}

// ListDomains lists domains by name.
func (s *Service) ListDomains(ctx context.Context, f DomainFilter) ([]Domain, error) {
	var c conds
	if f.Name != "" {
		c.add("name = ?", f.Name)
	}
	if f.Enabled != nil {
		c.add("enabled = ?", *f.Enabled)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+domainColumns+` FROM domains`+c.where()+` ORDER BY name, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	defer rows.Close()
	var out []Domain
	for rows.Next() {
		d, err := scanDomain(rows)
		if err != nil {
			return nil, fmt.Errorf("list domains: %w", err)
		}
		out = append(out, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return keepInexact(out, f.Inexact, domainAttr), nil
}

// CreateDomain stores a new domain; an empty ID gets a fresh one.
func (s *Service) CreateDomain(ctx context.Context, d Domain) (*Domain, error) {
	if err := requireName(d.Name, resourceNameMax); err != nil {
		return nil, err
	}
	if d.ID == "" {
		d.ID = newID()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO domains (id, name, description, enabled, created_at) VALUES (?, ?, ?, ?, ?)`,
		d.ID, d.Name, d.Description, d.Enabled, s.nowMicros())
	if store.IsUniqueViolation(err) {
		return nil, domainConflict(d.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("create domain: %w", err)
	}
	return &d, nil
}

// UpdateDomain changes a domain. Disabling it revokes the tokens scoped
// to it, as Keystone does.
func (s *Service) UpdateDomain(ctx context.Context, id string, p DomainPatch) (*Domain, error) {
	defer s.tokensChanged()
	var out *Domain
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := getDomain(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			if err := requireName(*p.Name, resourceNameMax); err != nil {
				return err
			}
			d.Name = *p.Name
		}
		if p.Description != nil {
			d.Description = *p.Description
		}
		disabling := p.Enabled != nil && d.Enabled && !*p.Enabled
		if p.Enabled != nil {
			d.Enabled = *p.Enabled
		}
		_, err = tx.ExecContext(ctx, `UPDATE domains SET name = ?, description = ?, enabled = ? WHERE id = ?`,
			d.Name, d.Description, d.Enabled, id)
		if store.IsUniqueViolation(err) {
			return domainConflict(d.Name)
		}
		if err != nil {
			return fmt.Errorf("update domain %s: %w", id, err)
		}
		if disabling {
			if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = TRUE WHERE domain_id = ?`, id); err != nil {
				return fmt.Errorf("revoke domain tokens: %w", err)
			}
		}
		out = d
		return nil
	})
	return out, err
}

// DeleteDomain deletes a disabled domain with its projects, users and
// role assignments; an enabled domain is refused with a 403 like Keystone.
func (s *Service) DeleteDomain(ctx context.Context, id string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := getDomain(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.Enabled {
			return errs.Forbidden("Cannot delete a domain that is enabled, please disable it first.")
		}
		// Children first: assignments and tokens, then users, projects
		// and domain-specific roles, then the domain.
		for _, q := range []string{
			`DELETE FROM role_assignments WHERE target_type = 'domain' AND target_id = ?`,
			`DELETE FROM role_assignments WHERE target_type = 'project' AND target_id IN (SELECT id FROM projects WHERE domain_id = ?)`,
			`DELETE FROM role_assignments WHERE actor_type = 'user' AND actor_id IN (SELECT id FROM users WHERE domain_id = ?)`,
			`DELETE FROM role_assignments WHERE actor_type = 'group' AND actor_id IN (SELECT id FROM identity_groups WHERE domain_id = ?)`,
			`DELETE FROM group_members WHERE user_id IN (SELECT id FROM users WHERE domain_id = ?)`,
			`DELETE FROM group_members WHERE group_id IN (SELECT id FROM identity_groups WHERE domain_id = ?)`,
			`DELETE FROM tokens WHERE domain_id = ?`,
			`DELETE FROM tokens WHERE project_id IN (SELECT id FROM projects WHERE domain_id = ?)`,
			`DELETE FROM tokens WHERE user_id IN (SELECT id FROM users WHERE domain_id = ?)`,
			`DELETE FROM limits WHERE domain_id = ?`,
			`DELETE FROM limits WHERE project_id IN (SELECT id FROM projects WHERE domain_id = ?)`,
			`DELETE FROM users WHERE domain_id = ?`,
			`DELETE FROM identity_groups WHERE domain_id = ?`,
			`DELETE FROM projects WHERE domain_id = ?`,
			`DELETE FROM implied_roles WHERE prior_role_id IN (SELECT id FROM roles WHERE domain_id = ?)`,
			`DELETE FROM implied_roles WHERE implied_role_id IN (SELECT id FROM roles WHERE domain_id = ?)`,
			`DELETE FROM role_assignments WHERE role_id IN (SELECT id FROM roles WHERE domain_id = ?)`,
			`DELETE FROM roles WHERE domain_id = ?`,
			`DELETE FROM domains WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete domain %s: %w", id, err)
			}
		}
		return nil
	})
}
