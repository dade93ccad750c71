package hosts

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// aggregateZone returns the availability zone a host gets from the host
// aggregates it is in (their availability_zone metadata); found is false
// when no aggregate gives it one. Nova allows only one zone per host, so
// any one aggregate's zone is the zone.
func aggregateZone(ctx context.Context, q store.Querier, hostname string) (zone string, found bool, err error) {
	rows, err := q.QueryContext(ctx, `SELECT m.value FROM aggregate_metadata m
		JOIN aggregate_hosts h ON h.aggregate_id = m.aggregate_id
		WHERE h.host = ? AND m.key = 'availability_zone' ORDER BY m.aggregate_id`, hostname)
	if err != nil {
		return "", false, fmt.Errorf("aggregate zone of host %s: %w", hostname, err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&zone); err != nil {
			return "", false, fmt.Errorf("aggregate zone of host %s: %w", hostname, err)
		}
		return zone, true, nil
	}
	return "", false, rows.Err()
}

// SyncZone sets a host's availability zone to the one its aggregates give
// it, or to defaultZone when none does. Aggregate changes call it for the
// hosts they touch, in their transaction.
func SyncZone(ctx context.Context, tx *store.Tx, hostname, defaultZone string) error {
	zone, found, err := aggregateZone(ctx, tx, hostname)
	if err != nil {
		return err
	}
	if !found {
		zone = defaultZone
	}
	if _, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET availability_zone = ? WHERE hostname = ?`, zone, hostname); err != nil {
		return fmt.Errorf("set zone of host %s: %w", hostname, err)
	}
	return nil
}
