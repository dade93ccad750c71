package identity

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Target is what a role is granted on: a project or a domain.
type Target struct {
	Project string
	Domain  string
}

func (t Target) kind() (typ, id string) {
	if t.Project != "" {
		return "project", t.Project
	}
	return "domain", t.Domain
}

// checkGrantParts makes sure the target, user and role exist, reporting
// the first missing one with Keystone's 404.
func checkGrantParts(ctx context.Context, q store.Querier, t Target, userID, roleID string) error {
	if t.Project != "" {
		if _, err := getProject(ctx, q, t.Project); err != nil {
			return err
		}
	} else if _, err := getDomain(ctx, q, t.Domain); err != nil {
		return err
	}
	if _, err := getUser(ctx, q, userID); err != nil {
		return err
	}
	if roleID != "" {
		if _, err := getRole(ctx, q, roleID); err != nil {
			return err
		}
	}
	return nil
}

// Grant gives a user a role on a target; granting twice is a no-op.
func (s *Service) Grant(ctx context.Context, t Target, userID, roleID string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkGrantParts(ctx, tx, t, userID, roleID); err != nil {
			return err
		}
		typ, id := t.kind()
		// Granting twice, even concurrently, is a no-op.
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (actor_id, target_type, target_id, role_id) VALUES (?, ?, ?, ?)
			ON CONFLICT (actor_id, target_type, target_id, role_id) DO NOTHING`, userID, typ, id, roleID); err != nil {
			return fmt.Errorf("grant role %s: %w", roleID, err)
		}
		return nil
	})
}

func assignmentNotFound(t Target, userID, roleID string) error {
	_, id := t.kind()
	return errs.NotFound("Could not find role assignment with role: %s, user or group: %s, project, domain, or system: %s.", roleID, userID, id)
}

// CheckGrant reports (as a nil error) that the user holds the role on the
// target, or a 404.
func (s *Service) CheckGrant(ctx context.Context, t Target, userID, roleID string) error {
	if err := checkGrantParts(ctx, s.db, t, userID, roleID); err != nil {
		return err
	}
	typ, id := t.kind()
	has, err := exists(ctx, s.db, `SELECT 1 FROM role_assignments WHERE actor_id = ? AND target_type = ? AND target_id = ? AND role_id = ?`, userID, typ, id, roleID)
	if err != nil {
		return err
	}
	if !has {
		return assignmentNotFound(t, userID, roleID)
	}
	return nil
}

// RevokeGrant removes a role assignment.
func (s *Service) RevokeGrant(ctx context.Context, t Target, userID, roleID string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkGrantParts(ctx, tx, t, userID, roleID); err != nil {
			return err
		}
		typ, id := t.kind()
		res, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE actor_id = ? AND target_type = ? AND target_id = ? AND role_id = ?`, userID, typ, id, roleID)
		if err != nil {
			return fmt.Errorf("revoke role %s: %w", roleID, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return assignmentNotFound(t, userID, roleID)
		}
		return nil
	})
}

// GrantedRoles lists the roles a user holds on a target.
func (s *Service) GrantedRoles(ctx context.Context, t Target, userID string) ([]Role, error) {
	if err := checkGrantParts(ctx, s.db, t, userID, ""); err != nil {
		return nil, err
	}
	typ, id := t.kind()
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.name, r.domain_id, r.description, r.extra FROM role_assignments a
		JOIN roles r ON r.id = a.role_id
		WHERE a.actor_id = ? AND a.target_type = ? AND a.target_id = ? ORDER BY r.name, r.id`, userID, typ, id)
	if err != nil {
		return nil, fmt.Errorf("list granted roles: %w", err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, fmt.Errorf("list granted roles: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// ListAssignments lists role assignments matching f.
func (s *Service) ListAssignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error) {
	var c conds
	if f.UserID != "" {
		c.add("a.actor_id = ?", f.UserID)
	}
	if f.ProjectID != "" && f.IncludeSubtree {
		sub, err := s.ProjectSubtree(ctx, f.ProjectID)
		if err != nil {
			return nil, err
		}
		ids := []string{f.ProjectID}
		for _, p := range sub {
			ids = append(ids, p.ID)
		}
		c.add("a.target_type = 'project'")
		c.in("a.target_id", ids)
	} else if f.ProjectID != "" {
		c.add("a.target_type = 'project' AND a.target_id = ?", f.ProjectID)
	}
	if f.DomainID != "" {
		c.add("a.target_type = 'domain' AND a.target_id = ?", f.DomainID)
	}
	if f.RoleID != "" {
		c.add("a.role_id = ?", f.RoleID)
	}
	q := `SELECT a.actor_id, a.target_type, a.target_id, a.role_id,
		COALESCE(u.name, ''), COALESCE(u.domain_id, ''), COALESCE(ud.name, ''),
		COALESCE(r.name, ''), COALESCE(r.domain_id, ''),
		COALESCE(p.name, d.name, ''), COALESCE(p.domain_id, ''), COALESCE(pd.name, '')
		FROM role_assignments a
		LEFT JOIN users u ON u.id = a.actor_id
		LEFT JOIN domains ud ON ud.id = u.domain_id
		LEFT JOIN roles r ON r.id = a.role_id
		LEFT JOIN projects p ON a.target_type = 'project' AND p.id = a.target_id
		LEFT JOIN domains pd ON pd.id = p.domain_id
		LEFT JOIN domains d ON a.target_type = 'domain' AND d.id = a.target_id` +
		c.where() + ` ORDER BY a.actor_id, a.target_type, a.target_id, a.role_id`
	rows, err := s.db.QueryContext(ctx, q, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list role assignments: %w", err)
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		var typ, target string
		if err := rows.Scan(&a.UserID, &typ, &target, &a.RoleID,
			&a.UserName, &a.UserDomainID, &a.UserDomainName,
			&a.RoleName, &a.RoleDomainID,
			&a.ScopeName, &a.ScopeDomainID, &a.ScopeDomainName); err != nil {
			return nil, fmt.Errorf("list role assignments: %w", err)
		}
		if typ == "project" {
			a.ProjectID = target
		} else {
			a.DomainID = target
		}
		if !f.Names {
			a.UserName, a.UserDomainID, a.UserDomainName = "", "", ""
			a.RoleName, a.RoleDomainID, a.ScopeName, a.ScopeDomainID, a.ScopeDomainName = "", "", "", "", ""
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
