package identity

// OS-EP-FILTER: endpoints associated with projects, directly or through
// endpoint groups, as Keystone's catalog SQL backend keeps them. A
// project with associations sees only those endpoints in its tokens'
// catalogs (Catalog).

import (
	"context"
	"encoding/json"
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
