package quota

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// readLimits loads the rows of one scope: a project's own limits (user ""),
// one user's limits in a project, or a quota class (table quota_classes).
func readLimits(ctx context.Context, q store.Querier, query string, args ...any) (Limits, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := Limits{}
	for rows.Next() {
		var res string
		var limit int64
		if err := rows.Scan(&res, &limit); err != nil {
			return nil, err
		}
		out[res] = int(limit)
	}
	return out, rows.Err()
}

func projectRows(ctx context.Context, q store.Querier, projectID string) (Limits, error) {
	l, err := readLimits(ctx, q, `SELECT resource, hard_limit FROM quotas WHERE project_id = ? AND user_id = ''`, projectID)
	if err != nil {
		return nil, fmt.Errorf("read quotas of project %s: %w", projectID, err)
	}
	return l, nil
}

func userRows(ctx context.Context, q store.Querier, projectID, userID string) (Limits, error) {
	l, err := readLimits(ctx, q, `SELECT resource, hard_limit FROM quotas WHERE project_id = ? AND user_id = ?`, projectID, userID)
	if err != nil {
		return nil, fmt.Errorf("read quotas of user %s in project %s: %w", userID, projectID, err)
	}
	return l, nil
}

func classRows(ctx context.Context, q store.Querier, class string) (Limits, error) {
	l, err := readLimits(ctx, q, `SELECT resource, hard_limit FROM quota_classes WHERE class_name = ?`, class)
	if err != nil {
		return nil, fmt.Errorf("read quota class %s: %w", class, err)
	}
	return l, nil
}

// scopeRows reads, in one query, the rows a check of a user's limits in
// a project needs: the default quota class's, the project's own and the
// user's own (none when userID is ""). A create checks its quota in its
// transaction, and on PostgreSQL each query there is a round trip.
func scopeRows(ctx context.Context, q store.Querier, projectID, userID string) (class, project, user Limits, err error) {
	rows, err := q.QueryContext(ctx, `SELECT 0, resource, hard_limit FROM quota_classes WHERE class_name = ?
		UNION ALL SELECT 1, resource, hard_limit FROM quotas WHERE project_id = ? AND user_id = ''
		UNION ALL SELECT 2, resource, hard_limit FROM quotas WHERE project_id = ? AND user_id = ? AND user_id <> ''`,
		DefaultClass, projectID, projectID, userID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read quotas of project %s: %w", projectID, err)
	}
	defer rows.Close()
	scopes := [3]Limits{{}, {}, {}}
	for rows.Next() {
		var scope int
		var res string
		var limit int64
		if err := rows.Scan(&scope, &res, &limit); err != nil {
			return nil, nil, nil, fmt.Errorf("read quotas of project %s: %w", projectID, err)
		}
		scopes[scope][res] = int(limit)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("read quotas of project %s: %w", projectID, err)
	}
	return scopes[0], scopes[1], scopes[2], nil
}

// sumUserLimits adds up, per resource, the limits set for individual users
// of a project (Nova's "remains" arithmetic subtracts them).
func sumUserLimits(ctx context.Context, q store.Querier, projectID string) (Limits, error) {
	l, err := readLimits(ctx, q, `SELECT resource, SUM(hard_limit) FROM quotas WHERE project_id = ? AND user_id <> '' GROUP BY resource`, projectID)
	if err != nil {
		return nil, fmt.Errorf("sum user quotas of project %s: %w", projectID, err)
	}
	return l, nil
}

func upsertLimit(ctx context.Context, tx *store.Tx, projectID, userID, resource string, limit int) error {
	now := store.Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO quotas (project_id, user_id, resource, hard_limit, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (project_id, user_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit, updated_at = excluded.updated_at`,
		projectID, userID, resource, limit, now, now)
	if err != nil {
		return fmt.Errorf("set quota %s of project %s: %w", resource, projectID, err)
	}
	return nil
}

func upsertClassLimit(ctx context.Context, tx *store.Tx, class, resource string, limit int) error {
	now := store.Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO quota_classes (class_name, resource, hard_limit, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (class_name, resource) DO UPDATE SET hard_limit = excluded.hard_limit, updated_at = excluded.updated_at`,
		class, resource, limit, now, now)
	if err != nil {
		return fmt.Errorf("set quota class %s %s: %w", class, resource, err)
	}
	return nil
}
