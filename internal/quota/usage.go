package quota

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// counts is the usage of the counted resources in one scope.
type counts map[string]int

// InstanceCounter is what quotas need to know about servers; the compute
// package answers it (compute.Inventory), so SQL on the instances table
// stays there. Every call runs in the caller's transaction q.
type InstanceCounter interface {
	// CountInstances counts the live servers of a project, or of one user
	// in it when userID is not empty, with their vCPUs and RAM.
	CountInstances(ctx context.Context, q store.Querier, projectID, userID string) (n, cores, ramMB int64, err error)
	// CountGroupMembers counts the live servers of userID in a server group.
	CountGroupMembers(ctx context.Context, q store.Querier, groupID, userID string) (int64, error)
}

// countInstances counts live instances, their vCPUs and RAM in a project,
// or of one user in it when userID is not empty. Every usage query lives
// in this file so new counted resources are added in one place.
func (s *Service) countInstances(ctx context.Context, q store.Querier, projectID, userID string) (counts, error) {
	n, cores, ram, err := s.opts.Instances.CountInstances(ctx, q, projectID, userID)
	if err != nil {
		return nil, err
	}
	return counts{Instances: int(n), Cores: int(cores), RAM: int(ram)}, nil
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
func (s *Service) usage(ctx context.Context, q store.Querier, projectID, userID string) (counts, error) {
	c, err := s.countInstances(ctx, q, projectID, userID)
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
func (s *Service) countGroupMembers(ctx context.Context, q store.Querier, groupID, userID string) (int, error) {
	n, err := s.opts.Instances.CountGroupMembers(ctx, q, groupID, userID)
	return int(n), err
}
