package hosts

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// The zone lookups are functions on a store.Querier for the domains that
// need them inside their own transaction (compute's unshelve, aggregate
// changes); the Directory's methods are the same lookups for the APIs.

// ZoneAvailable reports whether an enabled compute host is in zone
// (Nova's get_availability_zones with get_only_available).
func ZoneAvailable(ctx context.Context, q store.Querier, zone string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM compute_hosts WHERE availability_zone = ? AND disabled = FALSE`, zone).Scan(&n); err != nil {
		return false, fmt.Errorf("look up availability zone %s: %w", zone, err)
	}
	return n > 0, nil
}

// ZoneAvailable reports whether an enabled compute host is in zone.
func (d *Directory) ZoneAvailable(ctx context.Context, zone string) (bool, error) {
	return ZoneAvailable(ctx, d.db, zone)
}

// ZoneOf returns the zone of the compute host named name; found is false
// when there is none.
func (d *Directory) ZoneOf(ctx context.Context, name string) (zone string, found bool, err error) {
	return ZoneOf(ctx, d.db, name)
}

// ZoneOf returns the zone of the compute host named name; found is false
// when there is no such host. kumo's nodes are named after their hosts,
// so this also answers whether a hypervisor_hostname exists.
func ZoneOf(ctx context.Context, q store.Querier, name string) (zone string, found bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT availability_zone FROM compute_hosts WHERE hostname = ?`, name).Scan(&zone)
	if isNoRows(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up compute host %s: %w", name, err)
	}
	return zone, true, nil
}

// KnownHosts tells which of names are registered compute hosts (where
// the networking API can bind a port).
func (d *Directory) KnownHosts(ctx context.Context, names []string) (map[string]bool, error) {
	out := make(map[string]bool, len(names))
	if len(names) == 0 {
		return out, nil
	}
	from, arg := store.StringsTable(d.db, "i", names)
	rows, err := d.db.QueryContext(ctx, `SELECT h.hostname FROM `+from+` JOIN compute_hosts h ON h.hostname = i.value`, arg)
	if err != nil {
		return nil, fmt.Errorf("look up hosts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("look up hosts: %w", err)
		}
		out[name] = true
	}
	return out, rows.Err()
}

// Endpoint is the URL of compute host name's host endpoint (see
// Registration.Endpoint); an error when the host is unknown or serves
// none.
func (d *Directory) Endpoint(ctx context.Context, name string) (string, error) {
	var url string
	err := d.db.QueryRowContext(ctx, `SELECT endpoint_url FROM compute_hosts WHERE hostname = ?`, name).Scan(&url)
	if isNoRows(err) {
		return "", fmt.Errorf("compute host %s is not registered", name)
	}
	if err != nil {
		return "", fmt.Errorf("look up endpoint of %s: %w", name, err)
	}
	if url == "" {
		return "", fmt.Errorf("compute host %s serves no host endpoint", name)
	}
	return url, nil
}
