package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
)

// ExternalNetwork returns the ids of the floating range's network and of
// its (first IPv4) subnet; a cloud without a floating range has none
// (errs.NotFound).
func (s *Service) ExternalNetwork(ctx context.Context) (networkID, subnetID string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT n.id, COALESCE((SELECT s.id FROM subnets s WHERE s.network_id = n.id
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
