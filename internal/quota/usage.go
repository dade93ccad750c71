package quota

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// counts is the usage of the counted resources in one scope.
type counts map[string]int

// countInstances counts live instances, their vCPUs and RAM in a project,
// or of one user in it when userID is not empty. Every usage query lives
// in this file so new counted resources are added in one place. As in
// Nova, soft-deleted servers do not count (restore checks the quota).
func countInstances(ctx context.Context, q store.Querier, projectID, userID string) (counts, error) {
	query, args := instanceCountQuery(projectID, userID)
	var n, cores, ram int64
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n, &cores, &ram); err != nil {
		return nil, fmt.Errorf("count instances of project %s: %w", projectID, err)
	}
	return counts{Instances: int(n), Cores: int(cores), RAM: int(ram)}, nil
}

// instanceCountQuery counts what countInstances does, off the covering
// index instances_usage.
func instanceCountQuery(projectID, userID string) (string, []any) {
	query := `SELECT COUNT(*), COALESCE(SUM(vcpus), 0), COALESCE(SUM(memory_mb), 0) FROM instances WHERE project_id = ? AND deleted = FALSE
		AND (vm_state IS NULL OR vm_state <> 'soft-delete')`
	args := []any{projectID}
	if userID != "" {
		query += ` AND user_id = ?`
		args = append(args, userID)
	}
	return query, args
}

// countServerGroups counts the server groups of a project, or of one user
// in it when userID is not empty.
func countServerGroups(ctx context.Context, q store.Querier, projectID, userID string) (int, error) {
	query, args := `SELECT COUNT(*) FROM server_groups WHERE project_id = ?`, []any{projectID}
	if userID != "" {
		query += ` AND user_id = ?`
		args = append(args, userID)
	}
	var n int64
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count server groups of project %s: %w", projectID, err)
	}
	return int(n), nil
}

// CountKeyPairs counts a user's key pairs.
func CountKeyPairs(ctx context.Context, q store.Querier, userID string) (int, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_pairs WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count key pairs of user %s: %w", userID, err)
	}
	return int(n), nil
}

// usage counts what the quota-set and limits views report as in use.
// Like Nova, key pairs and server group members are not reported (they are
// per-user and per-group counts) and show 0; the nova-network resources
// are not counted.
func usage(ctx context.Context, q store.Querier, projectID, userID string) (counts, error) {
	c, err := countInstances(ctx, q, projectID, userID)
	if err != nil {
		return nil, err
	}
	groups, err := countServerGroups(ctx, q, projectID, userID)
	if err != nil {
		return nil, err
	}
	c[ServerGroups] = groups
	return c, nil
}

// countGroupMembers counts the live servers of userID in a server group
// (Nova's _server_group_count_members_by_user).
func countGroupMembers(ctx context.Context, q store.Querier, groupID, userID string) (int, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM server_group_members m
		JOIN instances i ON i.id = m.instance_id AND i.deleted = FALSE
		WHERE m.group_id = ? AND i.user_id = ?`, groupID, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count members of server group %s: %w", groupID, err)
	}
	return int(n), nil
}
