package identity

// OS-EP-FILTER: endpoints associated with projects, directly or through
// endpoint groups, as Keystone's catalog SQL backend keeps them. A
// project with associations sees only those endpoints in its tokens'
// catalogs (Catalog).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// AddEndpointToProject associates an endpoint with a project; both must
// exist (404). Associating twice is Keystone's 409.
func (s *Service) AddEndpointToProject(ctx context.Context, projectID, endpointID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getEndpoint(ctx, tx, endpointID); err != nil {
			return err
		}
		if _, err := getProject(ctx, tx, projectID); err != nil {
			return err
		}
		dup, err := exists(ctx, tx, `SELECT 1 FROM project_endpoints WHERE endpoint_id = ? AND project_id = ?`, endpointID, projectID)
		if err != nil {
			return err
		}
		if dup {
			return errs.Conflict("Conflict occurred attempting to store project_endpoint - Duplicate entry.")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO project_endpoints (endpoint_id, project_id) VALUES (?, ?)`, endpointID, projectID); err != nil {
			return fmt.Errorf("associate endpoint %s with project %s: %w", endpointID, projectID, err)
		}
		return nil
	})
}

func endpointNotInProject(endpointID, projectID string) error {
	return errs.NotFound("Endpoint %s not found in project %s", endpointID, projectID)
}

// CheckEndpointInProject is nil when the endpoint is associated with the
// project; Keystone checks both exist first.
func (s *Service) CheckEndpointInProject(ctx context.Context, projectID, endpointID string) error {
	if _, err := getEndpoint(ctx, s.db, endpointID); err != nil {
		return err
	}
	if _, err := getProject(ctx, s.db, projectID); err != nil {
		return err
	}
	ok, err := exists(ctx, s.db, `SELECT 1 FROM project_endpoints WHERE endpoint_id = ? AND project_id = ?`, endpointID, projectID)
	if err != nil {
		return err
	}
	if !ok {
		return endpointNotInProject(endpointID, projectID)
	}
	return nil
}

// RemoveEndpointFromProject removes an association.
func (s *Service) RemoveEndpointFromProject(ctx context.Context, projectID, endpointID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM project_endpoints WHERE endpoint_id = ? AND project_id = ?`, endpointID, projectID)
	if err != nil {
		return fmt.Errorf("remove endpoint %s from project %s: %w", endpointID, projectID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("remove endpoint %s from project %s: %w", endpointID, projectID, err)
	} else if n == 0 {
		return endpointNotInProject(endpointID, projectID)
	}
	return nil
}

// ListEndpointsForProject lists the endpoints associated with a project,
// directly or through its endpoint groups.
func (s *Service) ListEndpointsForProject(ctx context.Context, projectID string) ([]Endpoint, error) {
	if _, err := getProject(ctx, s.db, projectID); err != nil {
		return nil, err
	}
	ids, err := s.projectEndpointIDs(ctx, projectID)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	all, err := s.ListEndpoints(ctx, EndpointFilter{})
	if err != nil {
		return nil, err
	}
	var out []Endpoint
	for _, e := range all {
		if want[e.ID] {
			out = append(out, e)
		}
	}
	return out, nil
}

// ListProjectsForEndpoint lists the projects an endpoint is associated
// with directly.
func (s *Service) ListProjectsForEndpoint(ctx context.Context, endpointID string) ([]Project, error) {
	if _, err := getEndpoint(ctx, s.db, endpointID); err != nil {
		return nil, err
	}
	return listRows(ctx, s.db, "projects of endpoint", `SELECT `+projectColumns+` FROM projects
		WHERE id IN (SELECT project_id FROM project_endpoints WHERE endpoint_id = ?) ORDER BY name, id`, []any{endpointID}, scanProject)
}

// projectEndpointIDs are the ids of the endpoints associated with a
// project, directly or through endpoint groups.
func (s *Service) projectEndpointIDs(ctx context.Context, projectID string) ([]string, error) {
	var ids []string
	rows, err := s.db.QueryContext(ctx, `SELECT endpoint_id FROM project_endpoints WHERE project_id = ?`, projectID)
	if err != nil {
		return nil, fmt.Errorf("endpoints of project %s: %w", projectID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("endpoints of project %s: %w", projectID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("endpoints of project %s: %w", projectID, err)
	}
	groups, err := listRows(ctx, s.db, "endpoint groups of project", `SELECT `+endpointGroupColumns+` FROM endpoint_groups
		WHERE id IN (SELECT endpoint_group_id FROM project_endpoint_groups WHERE project_id = ?)`, []any{projectID}, scanEndpointGroup)
	if err != nil || len(groups) == 0 {
		return ids, err
	}
	all, err := s.ListEndpoints(ctx, EndpointFilter{})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, e := range all {
			if g.Matches(&e) {
				ids = append(ids, e.ID)
			}
		}
	}
	return ids, nil
}

// EndpointGroup is a named filter on endpoint attributes.
type EndpointGroup struct {
	ID          string
	Name        string
	Description string
	Filters     map[string]any
}

// Matches reports whether an endpoint has every attribute of the
// group's filters, as Keystone's get_endpoints_filtered_by_endpoint_group.
func (g *EndpointGroup) Matches(e *Endpoint) bool {
	for k, v := range g.Filters {
		var have any
		switch k {
		case "interface":
			have = e.Interface
		case "service_id":
			have = e.ServiceID
		case "region_id":
			have = e.RegionID
		case "enabled":
			have = e.Enabled
		case "url":
			have = e.URL
		default:
			have = e.Extra[k]
		}
		if have != v {
			return false
		}
	}
	return true
}

const endpointGroupColumns = `id, name, description, filters`

func scanEndpointGroup(row interface{ Scan(...any) error }) (*EndpointGroup, error) {
	var g EndpointGroup
	var desc *string
	var filters string
	if err := row.Scan(&g.ID, &g.Name, &desc, &filters); err != nil {
		return nil, err
	}
	if desc != nil {
		g.Description = *desc
	}
	if err := json.Unmarshal([]byte(filters), &g.Filters); err != nil {
		return nil, fmt.Errorf("endpoint group %s: %w", g.ID, err)
	}
	return &g, nil
}

func endpointGroupNotFound(id string) error { return notFound("endpoint group", id) }

func getEndpointGroup(ctx context.Context, q store.Querier, id string) (*EndpointGroup, error) {
	g, err := scanEndpointGroup(q.QueryRowContext(ctx, `SELECT `+endpointGroupColumns+` FROM endpoint_groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, endpointGroupNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get endpoint group %s: %w", id, err)
	}
	return g, nil
}

// GetEndpointGroup returns an endpoint group.
func (s *Service) GetEndpointGroup(ctx context.Context, id string) (*EndpointGroup, error) {
	return getEndpointGroup(ctx, s.db, id)
}

// ListEndpointGroups lists endpoint groups, oldest first, named name when
// not empty.
func (s *Service) ListEndpointGroups(ctx context.Context, name string) ([]EndpointGroup, error) {
	q, args := `SELECT `+endpointGroupColumns+` FROM endpoint_groups`, []any{}
	if name != "" {
		q, args = q+` WHERE name = ?`, append(args, name)
	}
	return listRows(ctx, s.db, "endpoint groups", q+` ORDER BY created_at, id`, args, scanEndpointGroup)
}

// CreateEndpointGroup creates an endpoint group.
func (s *Service) CreateEndpointGroup(ctx context.Context, g EndpointGroup) (*EndpointGroup, error) {
	g.ID = newID()
	filters, err := json.Marshal(g.Filters)
	if err != nil {
		return nil, fmt.Errorf("encode endpoint group filters: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO endpoint_groups (id, name, description, filters, created_at) VALUES (?, ?, ?, ?, ?)`,
		g.ID, g.Name, g.Description, string(filters), s.nowMicros()); err != nil {
		return nil, fmt.Errorf("create endpoint group: %w", err)
	}
	return s.GetEndpointGroup(ctx, g.ID)
}

// EndpointGroupPatch is an update of an endpoint group; nil fields are
// left alone.
type EndpointGroupPatch struct {
	Name, Description *string
	Filters           map[string]any
}

// UpdateEndpointGroup updates an endpoint group.
func (s *Service) UpdateEndpointGroup(ctx context.Context, id string, p EndpointGroupPatch) (*EndpointGroup, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		g, err := getEndpointGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			g.Name = *p.Name
		}
		if p.Description != nil {
			g.Description = *p.Description
		}
		if p.Filters != nil {
			g.Filters = p.Filters
		}
		filters, err := json.Marshal(g.Filters)
		if err != nil {
			return fmt.Errorf("encode endpoint group filters: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE endpoint_groups SET name = ?, description = ?, filters = ? WHERE id = ?`,
			g.Name, g.Description, string(filters), id); err != nil {
			return fmt.Errorf("update endpoint group %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetEndpointGroup(ctx, id)
}

// DeleteEndpointGroup deletes an endpoint group and its project
// associations.
func (s *Service) DeleteEndpointGroup(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getEndpointGroup(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM project_endpoint_groups WHERE endpoint_group_id = ?`, `DELETE FROM endpoint_groups WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete endpoint group %s: %w", id, err)
			}
		}
		return nil
	})
}

// EndpointsInGroup lists the endpoints an endpoint group's filters select.
func (s *Service) EndpointsInGroup(ctx context.Context, id string) ([]Endpoint, error) {
	g, err := s.GetEndpointGroup(ctx, id)
	if err != nil {
		return nil, err
	}
	all, err := s.ListEndpoints(ctx, EndpointFilter{})
	if err != nil {
		return nil, err
	}
	var out []Endpoint
	for _, e := range all {
		if g.Matches(&e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// groupAndProject checks, in Keystone's order, that both exist.
func (s *Service) groupAndProject(ctx context.Context, q store.Querier, groupID, projectID string) error {
	if _, err := getProject(ctx, q, projectID); err != nil {
		return err
	}
	_, err := getEndpointGroup(ctx, q, groupID)
	return err
}

// AddEndpointGroupToProject associates an endpoint group with a project.
func (s *Service) AddEndpointGroupToProject(ctx context.Context, groupID, projectID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.groupAndProject(ctx, tx, groupID, projectID); err != nil {
			return err
		}
		dup, err := exists(ctx, tx, `SELECT 1 FROM project_endpoint_groups WHERE endpoint_group_id = ? AND project_id = ?`, groupID, projectID)
		if err != nil {
			return err
		}
		if dup {
			return errs.Conflict("Conflict occurred attempting to store project_endpoint_group - Duplicate entry.")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO project_endpoint_groups (endpoint_group_id, project_id) VALUES (?, ?)`, groupID, projectID); err != nil {
			return fmt.Errorf("associate endpoint group %s with project %s: %w", groupID, projectID, err)
		}
		return nil
	})
}

var errGroupNotInProject = errs.NotFound("Endpoint Group Project Association not found")

// CheckEndpointGroupInProject is nil when the group is associated with
// the project.
func (s *Service) CheckEndpointGroupInProject(ctx context.Context, groupID, projectID string) error {
	if err := s.groupAndProject(ctx, s.db, groupID, projectID); err != nil {
		return err
	}
	ok, err := exists(ctx, s.db, `SELECT 1 FROM project_endpoint_groups WHERE endpoint_group_id = ? AND project_id = ?`, groupID, projectID)
	if err != nil {
		return err
	}
	if !ok {
		return errGroupNotInProject
	}
	return nil
}

// RemoveEndpointGroupFromProject removes an association.
func (s *Service) RemoveEndpointGroupFromProject(ctx context.Context, groupID, projectID string) error {
	if err := s.groupAndProject(ctx, s.db, groupID, projectID); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM project_endpoint_groups WHERE endpoint_group_id = ? AND project_id = ?`, groupID, projectID)
	if err != nil {
		return fmt.Errorf("remove endpoint group %s from project %s: %w", groupID, projectID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("remove endpoint group %s from project %s: %w", groupID, projectID, err)
	} else if n == 0 {
		return errGroupNotInProject
	}
	return nil
}

// ListProjectsForEndpointGroup lists the projects a group is associated with.
func (s *Service) ListProjectsForEndpointGroup(ctx context.Context, groupID string) ([]Project, error) {
	if _, err := getEndpointGroup(ctx, s.db, groupID); err != nil {
		return nil, err
	}
	return listRows(ctx, s.db, "projects of endpoint group", `SELECT `+projectColumns+` FROM projects
		WHERE id IN (SELECT project_id FROM project_endpoint_groups WHERE endpoint_group_id = ?) ORDER BY name, id`, []any{groupID}, scanProject)
}

// ListEndpointGroupsForProject lists the groups associated with a project.
func (s *Service) ListEndpointGroupsForProject(ctx context.Context, projectID string) ([]EndpointGroup, error) {
	if _, err := getProject(ctx, s.db, projectID); err != nil {
		return nil, err
	}
	return listRows(ctx, s.db, "endpoint groups of project", `SELECT `+endpointGroupColumns+` FROM endpoint_groups
		WHERE id IN (SELECT endpoint_group_id FROM project_endpoint_groups WHERE project_id = ?) ORDER BY created_at, id`, []any{projectID}, scanEndpointGroup)
}
