package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

const projectColumns = `id, name, domain_id, parent_id, description, enabled, tags, extra`

func scanProject(row interface{ Scan(...any) error }) (*Project, error) {
	var p Project
	var parent sql.NullString
	var tags, extra string
	if err := row.Scan(&p.ID, &p.Name, &p.DomainID, &parent, &p.Description, &p.Enabled, &tags, &extra); err != nil {
		return nil, err
	}
	var err error
	if p.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("project %s: %w", p.ID, err)
	}
	p.ParentID = parent.String
	if err := json.Unmarshal([]byte(tags), &p.Tags); err != nil {
		return nil, fmt.Errorf("project %s tags: %w", p.ID, err)
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	return &p, nil
}

func getProject(ctx context.Context, q store.Querier, id string) (*Project, error) {
	p, err := scanProject(q.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("project", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get project %s: %w", id, err)
	}
	return p, nil
}

func getProjectByName(ctx context.Context, q store.Querier, domainID, name string) (*Project, error) {
	p, err := scanProject(q.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE domain_id = ? AND name = ?`, domainID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("project", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get project %s: %w", name, err)
	}
	return p, nil
}

// GetProject returns a project by id.
func (s *Service) GetProject(ctx context.Context, id string) (*Project, error) {
	return getProject(ctx, s.db, id)
}

// ListProjects lists projects matching f, ordered by name.
func (s *Service) ListProjects(ctx context.Context, f ProjectFilter) ([]Project, error) {
	var c conds
	if f.Name != "" {
		c.add("name = ?", f.Name)
	}
	if f.DomainID != "" {
		c.add("domain_id = ?", f.DomainID)
	}
	if f.ParentID != "" {
		// A top-level project's parent is its domain.
		c.add("(parent_id = ? OR (parent_id IS NULL AND domain_id = ?))", f.ParentID, f.ParentID)
	}
	if f.Enabled != nil {
		c.add("enabled = ?", *f.Enabled)
	}
	if f.IDs != nil {
		c.in("id", f.IDs)
	}
	ps, err := queryProjects(ctx, s.db, `SELECT `+projectColumns+` FROM projects`+c.where()+` ORDER BY name, id`, c.args...)
	if err != nil {
		return nil, err
	}
	// Tags live in a JSON column, so their filters run here.
	ps = slices.DeleteFunc(ps, func(p Project) bool { return !f.matchesTags(p.Tags) })
	return keepInexact(ps, f.Inexact, projectAttr), nil
}

func queryProjects(ctx context.Context, db store.Querier, q string, args ...any) ([]Project, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// UserProjects lists the projects where the user holds any role,
// through a group or inherited as well (Keystone's effective
// assignments).
func (s *Service) UserProjects(ctx context.Context, userID string, f ProjectFilter) ([]Project, error) {
	if _, err := getUser(ctx, s.db, userID); err != nil {
		return nil, err
	}
	as, err := s.ListAssignments(ctx, AssignmentFilter{UserID: userID, Effective: true})
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, a := range as {
		if a.ProjectID != "" {
			ids[a.ProjectID] = true
		}
	}
	var c conds
	c.in("id", sortedKeys(ids))
	if f.Name != "" {
		c.add("name = ?", f.Name)
	}
	if f.DomainID != "" {
		c.add("domain_id = ?", f.DomainID)
	}
	if f.Enabled != nil {
		c.add("enabled = ?", *f.Enabled)
	}
	ps, err := queryProjects(ctx, s.db, `SELECT `+projectColumns+` FROM projects`+c.where()+` ORDER BY name, id`, c.args...)
	if err != nil {
		return nil, err
	}
	return keepInexact(ps, f.Inexact, projectAttr), nil
}

// CreateProject stores a new project. A parent, when given, must exist
// and sets the domain; otherwise the domain must exist. The branch must be
// enabled and not too deep, as Keystone checks.
func (s *Service) CreateProject(ctx context.Context, p Project) (*Project, error) {
	if err := requireName(p.Name, resourceNameMax); err != nil {
		return nil, err
	}
	if p.ID == "" {
		p.ID = newID()
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if err := validateTags(p.Tags); err != nil {
		return nil, err
	}
	tags, err := encodeTags(p.Tags)
	if err != nil {
		return nil, err
	}
	extra, err := encodeExtra(p.Extra)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := resolveParent(ctx, tx, &p); err != nil {
			return err
		}
		if p.DomainID == "" {
			p.DomainID = DefaultDomainID
		}
		d, err := getDomain(ctx, tx, p.DomainID)
		if err != nil {
			return err
		}
		parent := domainProject(d)
		if p.ParentID != "" {
			if parent, err = getProject(ctx, tx, p.ParentID); err != nil {
				return err
			}
		}
		if err := checkNewProjectBranch(ctx, tx, parent); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO projects (id, name, domain_id, parent_id, description, enabled, tags, extra, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.DomainID, nullString(p.ParentID), p.Description, p.Enabled, tags, extra, s.nowMicros())
		if store.IsUniqueViolation(err) {
			return projectConflict(p.Name, p.ID)
		}
		if err != nil {
			return fmt.Errorf("create project: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateProject changes a project. Disabling it revokes its tokens; as in
// Keystone, a project is disabled after its subtree and enabled after its
// parents.
func (s *Service) UpdateProject(ctx context.Context, id string, patch ProjectPatch) (*Project, error) {
	defer s.tokensChanged()
	var out *Project
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := getProject(ctx, tx, id)
		if err != nil {
			return err
		}
		if patch.Name != nil {
			if err := requireName(*patch.Name, resourceNameMax); err != nil {
				return err
			}
			p.Name = *patch.Name
		}
		if patch.Description != nil {
			p.Description = *patch.Description
		}
		disabling := patch.Enabled != nil && p.Enabled && !*patch.Enabled
		if patch.Enabled != nil {
			if err := checkEnabledChange(ctx, tx, p, *patch.Enabled); err != nil {
				return err
			}
			p.Enabled = *patch.Enabled
		}
		if patch.Tags != nil {
			if err := validateTags(*patch.Tags); err != nil {
				return err
			}
			p.Tags = *patch.Tags
		}
		tags, err := encodeTags(p.Tags)
		if err != nil {
			return err
		}
		p.Extra = mergeExtra(p.Extra, patch.Extra)
		extra, err := encodeExtra(p.Extra)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE projects SET name = ?, description = ?, enabled = ?, tags = ?, extra = ? WHERE id = ?`,
			p.Name, p.Description, p.Enabled, tags, extra, id)
		if store.IsUniqueViolation(err) {
			return duplicate("project", p.Name, p.DomainID)
		}
		if err != nil {
			return fmt.Errorf("update project %s: %w", id, err)
		}
		if disabling {
			if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = TRUE WHERE project_id = ?`, id); err != nil {
				return fmt.Errorf("revoke project tokens: %w", err)
			}
		}
		out = p
		return nil
	})
	return out, err
}

// DeleteProject deletes a leaf project with its role assignments and the
// tokens scoped to it.
func (s *Service) DeleteProject(ctx context.Context, id string) error {
	defer s.tokensChanged()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getProject(ctx, tx, id); err != nil {
			return err
		}
		hasChildren, err := exists(ctx, tx, `SELECT 1 FROM projects WHERE parent_id = ?`, id)
		if err != nil {
			return err
		}
		if hasChildren {
			return errs.Forbidden("Cannot delete the project %s since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.", id)
		}
		for _, q := range []string{
			`DELETE FROM role_assignments WHERE target_type = 'project' AND target_id = ?`,
			`DELETE FROM tokens WHERE project_id = ?`,
			`DELETE FROM credentials WHERE project_id = ?`, // as Keystone's delete_credentials_for_project
			`DELETE FROM limits WHERE project_id = ?`,      // as Keystone's delete_limits_for_project
			`DELETE FROM project_endpoints WHERE project_id = ?`,
			`DELETE FROM project_endpoint_groups WHERE project_id = ?`,
			`DELETE FROM projects WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete project %s: %w", id, err)
			}
		}
		return nil
	})
}

// resolveParent checks a new project's parent and takes its domain from
// it. A parent that is a domain makes a top-level project in that domain.
func resolveParent(ctx context.Context, q store.Querier, p *Project) error {
	if p.ParentID == "" || p.ParentID == p.DomainID {
		p.ParentID = ""
		return nil
	}
	parent, err := getProject(ctx, q, p.ParentID)
	if errs.Is(err, errs.KindNotFound) {
		if d, derr := getDomain(ctx, q, p.ParentID); derr == nil && (p.DomainID == "" || p.DomainID == d.ID) {
			p.DomainID, p.ParentID = d.ID, ""
			return nil
		}
	}
	if err != nil {
		return err
	}
	if p.DomainID != "" && p.DomainID != parent.DomainID {
		return errs.Invalid("Cannot create project, since it specifies its domain_id %s, but specifies a parent in a different domain (%s).", p.DomainID, parent.DomainID)
	}
	p.DomainID = parent.DomainID
	return nil
}

func encodeTags(tags []string) (string, error) {
	if tags == nil {
		tags = []string{}
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return "", fmt.Errorf("encode tags: %w", err)
	}
	return string(b), nil
}
