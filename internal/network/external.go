package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// ExternalNetwork returns the ids of the floating range's network and of
// its (first IPv4) subnet; a cloud without a floating range has none
// (errs.NotFound).
func (s *Service) ExternalNetwork(ctx context.Context) (networkID, subnetID string, err error) {
	return ExternalNetworkIn(ctx, s.db)
}

// ExternalNetworkIn is ExternalNetwork in the caller's transaction (for
// other domains).
func ExternalNetworkIn(ctx context.Context, q store.Querier) (networkID, subnetID string, err error) {
	err = q.QueryRowContext(ctx, `SELECT n.id, COALESCE((SELECT s.id FROM subnets s WHERE s.network_id = n.id
		AND s.ip_version = 4 ORDER BY s.created_at, s.id LIMIT 1), '')
		FROM networks n WHERE n.default_for = ?`, externalMarker).Scan(&networkID, &subnetID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", errs.NotFound("This cloud has no external network")
	}
	if err != nil {
		return "", "", fmt.Errorf("find the external network: %w", err)
	}
	return networkID, subnetID, nil
}

// RouterInterfaceOwner is the device_owner of a router's interface
// ports, the only ports that may hold a subnet's gateway address.
const RouterInterfaceOwner = "network:router_interface"

// DefaultNetworkOf returns the project whose network made on first need
// networkID is ("" for any other network), in the caller's transaction.
func DefaultNetworkOf(ctx context.Context, q store.Querier, networkID string) (string, error) {
	var project string
	err := q.QueryRowContext(ctx, `SELECT default_for FROM networks WHERE id = ? AND default_for IS NOT NULL
		AND default_for <> ?`, networkID, externalMarker).Scan(&project)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read network %s: %w", networkID, err)
	}
	return project, nil
}
