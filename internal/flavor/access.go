package flavor

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Projects lists the projects with access to a flavor, oldest grant
// first.
func (s *Service) Projects(ctx context.Context, flavorID string) ([]string, error) {
	return projects(ctx, s.db, flavorID)
}

func projects(ctx context.Context, q store.Querier, flavorID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT project_id FROM flavor_projects WHERE flavor_id = ? ORDER BY created_at, project_id`, flavorID)
	if err != nil {
		return nil, fmt.Errorf("list access of flavor %s: %w", flavorID, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("scan flavor access: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AddAccess grants project the use of a flavor and returns the new access
// list. Granting twice is a conflict.
func (s *Service) AddAccess(ctx context.Context, flavorID, project string) ([]string, error) {
	var out []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getFlavor(ctx, tx, flavorID); err != nil {
			return err
		}
		ok, err := hasAccess(ctx, tx, flavorID, project)
		if err != nil {
			return err
		}
		if ok {
			return accessExists(flavorID, project)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO flavor_projects (flavor_id, project_id, created_at) VALUES (?, ?, ?)`,
			flavorID, project, store.Now())
		if store.IsUniqueViolation(err) {
			return accessExists(flavorID, project)
		}
		if err != nil {
			return fmt.Errorf("add access to flavor %s: %w", flavorID, err)
		}
		out, err = projects(ctx, tx, flavorID)
		return err
	})
	return out, err
}

func accessExists(flavorID, project string) error {
	return errs.Conflict("Flavor access already exists for flavor %s and project %s combination.", flavorID, project)
}

// RemoveAccess revokes project's access and returns the new access list.
func (s *Service) RemoveAccess(ctx context.Context, flavorID, project string) ([]string, error) {
	var out []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getFlavor(ctx, tx, flavorID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM flavor_projects WHERE flavor_id = ? AND project_id = ?`, flavorID, project)
		if err != nil {
			return fmt.Errorf("remove access to flavor %s: %w", flavorID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("remove access to flavor %s: %w", flavorID, err)
		} else if n == 0 {
			return errs.NotFound("Flavor access not found for %s / %s combination.", flavorID, project)
		}
		out, err = projects(ctx, tx, flavorID)
		return err
	})
	return out, err
}
