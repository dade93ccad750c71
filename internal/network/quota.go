package network

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// CountNetworks counts a project's networks for its network quota (the
// network made on first need counts, as Neutron's auto-allocated one).
func CountNetworks(ctx context.Context, q store.Querier, projectID string) (int, error) {
	return countOwned(ctx, q, "networks", projectID)
}

// CountSubnets counts a project's subnets for its subnet quota.
func CountSubnets(ctx context.Context, q store.Querier, projectID string) (int, error) {
	return countOwned(ctx, q, "subnets", projectID)
}

// CountPorts counts a project's ports for its port quota: the ports Nova
// makes for its servers and those made through the networking API.
func CountPorts(ctx context.Context, q store.Querier, projectID string) (int, error) {
	return countOwned(ctx, q, "network_ports", projectID)
}

// countOwned counts the rows of table that projectID owns.
func countOwned(ctx context.Context, q store.Querier, table, projectID string) (int, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE project_id = ?`, projectID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s of project %s: %w", table, projectID, err)
	}
	return int(n), nil
}
