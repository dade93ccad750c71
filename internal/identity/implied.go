package identity

import (
	"context"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// prohibitedImpliedRoles is Keystone's [assignment]
// prohibited_implied_role default: no rule may imply these.
var prohibitedImpliedRoles = []string{"admin"}

// RoleInference is a prior role with the roles it implies.
type RoleInference struct {
	Prior   Role
	Implies []Role
}

// impliedRules maps each prior role to the roles it implies.
func impliedRules(ctx context.Context, q store.Querier) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT prior_role_id, implied_role_id FROM implied_roles ORDER BY prior_role_id, implied_role_id`)
	if err != nil {
		return nil, fmt.Errorf("list implied roles: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var prior, implied string
		if err := rows.Scan(&prior, &implied); err != nil {
			return nil, fmt.Errorf("list implied roles: %w", err)
		}
		out[prior] = append(out[prior], implied)
	}
	return out, rows.Err()
}

func impliedRoleNotFound(prior, implied string) error {
	return errs.NotFound("%s does not imply %s.", prior, implied)
}

// CreateImpliedRole makes prior imply implied. As Keystone: the roles must
// exist, the implied role may not be a prohibited one (admin), a global
// role may not imply a domain-specific one, and the rule must be new.
// Cycles are allowed: expansion stops where a role comes back.
func (s *Service) CreateImpliedRole(ctx context.Context, priorID, impliedID string) (*RoleInference, error) {
	defer s.tokensChanged()
	var out *RoleInference
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		implied, err := getRole(ctx, tx, impliedID)
		if err != nil {
			return err
		}
		prior, err := getRole(ctx, tx, priorID)
		if err != nil {
			return err
		}
		if slices.Contains(prohibitedImpliedRoles, implied.Name) {
			return errs.Forbidden("%s cannot be an implied roles.", impliedID)
		}
		if prior.DomainID == "" && implied.DomainID != "" {
			return errs.Forbidden("Global role cannot imply a domain-specific role")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO implied_roles (prior_role_id, implied_role_id) VALUES (?, ?)`, priorID, impliedID)
		if store.IsUniqueViolation(err) {
			return errs.Conflict("Conflict occurred attempting to store implied_role - Duplicate entry.")
		}
		if err != nil {
			return fmt.Errorf("create implied role: %w", err)
		}
		out = &RoleInference{Prior: *prior, Implies: []Role{*implied}}
		return nil
	})
	return out, err
}

// GetImpliedRole returns one rule, or Keystone's 404s for a missing role
// or rule.
func (s *Service) GetImpliedRole(ctx context.Context, priorID, impliedID string) (*RoleInference, error) {
	prior, err := getRole(ctx, s.db, priorID)
	if err != nil {
		return nil, err
	}
	implied, err := getRole(ctx, s.db, impliedID)
	if err != nil {
		return nil, err
	}
	has, err := exists(ctx, s.db, `SELECT 1 FROM implied_roles WHERE prior_role_id = ? AND implied_role_id = ?`, priorID, impliedID)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, impliedRoleNotFound(priorID, impliedID)
	}
	return &RoleInference{Prior: *prior, Implies: []Role{*implied}}, nil
}

// DeleteImpliedRole removes a rule.
func (s *Service) DeleteImpliedRole(ctx context.Context, priorID, impliedID string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, id := range []string{priorID, impliedID} {
			if _, err := getRole(ctx, tx, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM implied_roles WHERE prior_role_id = ? AND implied_role_id = ?`, priorID, impliedID)
		if err != nil {
			return fmt.Errorf("delete implied role: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return impliedRoleNotFound(priorID, impliedID)
		}
		return nil
	})
}

// ListImpliedRoles returns the roles prior implies directly.
func (s *Service) ListImpliedRoles(ctx context.Context, priorID string) (*RoleInference, error) {
	prior, err := getRole(ctx, s.db, priorID)
	if err != nil {
		return nil, err
	}
	all, err := s.RoleInferences(ctx, priorID)
	if err != nil {
		return nil, err
	}
	out := &RoleInference{Prior: *prior, Implies: []Role{}}
	if len(all) == 1 {
		out.Implies = all[0].Implies
	}
	return out, nil
}

// RoleInferences lists every rule grouped by prior role, or only those of
// one prior role.
func (s *Service) RoleInferences(ctx context.Context, priorID string) ([]RoleInference, error) {
	q := `SELECT p.id, p.name, i.id, i.name FROM implied_roles ir
		JOIN roles p ON p.id = ir.prior_role_id JOIN roles i ON i.id = ir.implied_role_id`
	var args []any
	if priorID != "" {
		q += ` WHERE ir.prior_role_id = ?`
		args = append(args, priorID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY p.name, p.id, i.name, i.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list role inferences: %w", err)
	}
	defer rows.Close()
	var out []RoleInference
	for rows.Next() {
		var p, i Role
		if err := rows.Scan(&p.ID, &p.Name, &i.ID, &i.Name); err != nil {
			return nil, fmt.Errorf("list role inferences: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].Prior.ID != p.ID {
			out = append(out, RoleInference{Prior: p})
		}
		out[len(out)-1].Implies = append(out[len(out)-1].Implies, i)
	}
	return out, rows.Err()
}
