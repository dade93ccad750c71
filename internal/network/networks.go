package network

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/store"
)

// Network is a Neutron network: a project's network made on first need
// (Default), one made through the networking API, or the external
// network of the floating range.
type Network struct {
	ID          string
	ProjectID   string
	Name        string
	Description string
	// CIDR and CIDRv6 are the subnets server ports get their addresses
	// from: the network's first IPv4 subnet and its first IPv6 /64 ("":
	// none).
	CIDR, CIDRv6 string
	// Default marks a project's network made on first need, External the
	// network of the floating range.
	Default, External bool
	AdminStateUp      bool
	Shared            bool
	MTU               int
	PortSecurity      bool
	// The provider attributes: kumo's networks are "local" (a bridge on
	// the host), the external one "flat".
	NetworkType     string
	PhysicalNetwork string // "": none
	SegmentationID  int    // 0: none
	// AvailabilityZoneHints are the zones asked for at creation.
	AvailabilityZoneHints []string
	Revision              int
	CreatedAt             time.Time
	UpdatedAt             time.Time
	// Subnets and Tags are filled by the networking API's reads.
	Subnets []string
	Tags    []string
}

// networkColumns select a Network from networks n; CIDR and CIDRv6 come
// from its subnets.
const networkColumns = `n.id, n.project_id, n.name, n.description, n.default_for, n.external, n.admin_state_up, n.shared,
	n.mtu, n.port_security_enabled, n.network_type, n.physical_network, n.segmentation_id, n.revision_number,
	n.created_at, n.updated_at, n.availability_zone_hints,
	COALESCE((SELECT s.cidr FROM subnets s WHERE s.network_id = n.id AND s.ip_version = 4
		ORDER BY s.created_at, s.id LIMIT 1), ''),
	COALESCE((SELECT s.cidr FROM subnets s WHERE s.network_id = n.id AND s.ip_version = 6 AND s.cidr LIKE '%/64'
		ORDER BY s.created_at, s.id LIMIT 1), '')`

func scanNetwork(row interface{ Scan(...any) error }) (Network, error) {
	var n Network
	var created, updated int64
	var defaultFor, physnet sql.NullString
	var segID sql.NullInt64
	var hints string
	if err := row.Scan(&n.ID, &n.ProjectID, &n.Name, &n.Description, &defaultFor, &n.External, &n.AdminStateUp, &n.Shared,
		&n.MTU, &n.PortSecurity, &n.NetworkType, &physnet, &segID, &n.Revision, &created, &updated, &hints,
		&n.CIDR, &n.CIDRv6); err != nil {
		return Network{}, err
	}
	if err := json.Unmarshal([]byte(hints), &n.AvailabilityZoneHints); err != nil {
		return Network{}, fmt.Errorf("network %s: availability zone hints: %w", n.ID, err)
	}
	n.Default = defaultFor.Valid && defaultFor.String != externalMarker
	n.PhysicalNetwork, n.SegmentationID = physnet.String, int(segID.Int64)
	n.CreatedAt, n.UpdatedAt = store.Time(created), store.Time(updated)
	return n, nil
}

// externalMarker is default_for of the floating range's network: one
// per cloud, found again by it whatever its name becomes.
const externalMarker = "@external"

// Networks lists projectID's networks, oldest first.
func (m *Manager) Networks(ctx context.Context, q store.Querier, projectID string) ([]Network, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+networkColumns+` FROM networks n
		WHERE n.project_id = ? ORDER BY n.created_at, n.id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list networks of project %s: %w", projectID, err)
	}
	defer rows.Close()
	var out []Network
	for rows.Next() {
		n, err := scanNetwork(rows)
		if err != nil {
			return nil, fmt.Errorf("scan network: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list networks of project %s: %w", projectID, err)
	}
	return out, nil
}

// Network returns projectID's network id; another project's network is
// store.ErrNotFound like a missing one.
func (m *Manager) Network(ctx context.Context, q store.Querier, projectID, id string) (Network, error) {
	n, err := scanNetwork(q.QueryRowContext(ctx, `SELECT `+networkColumns+` FROM networks n
		WHERE n.id = ? AND n.project_id = ?`, id, projectID))
	if errors.Is(err, sql.ErrNoRows) {
		return Network{}, store.ErrNotFound
	}
	if err != nil {
		return Network{}, fmt.Errorf("get network %s: %w", id, err)
	}
	return n, nil
}

// NetworksWithDefault lists projectID's networks after creating its
// default network the way its first server would (EnsureDefault), so the
// network proxy APIs show a project its network before it has a server,
// under the id that server's addresses will then use. A full pool leaves
// the list as it is: listing is no place to fail, and the server create
// reports it.
func (m *Manager) NetworksWithDefault(ctx context.Context, db *store.DB, projectID string) ([]Network, error) {
	nets, err := m.Networks(ctx, db, projectID)
	if err != nil || projectID == "" || slices.ContainsFunc(nets, func(n Network) bool { return n.Default }) {
		return nets, err
	}
	// Only the first listing of a project writes; later ones stop above.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := m.EnsureDefault(ctx, tx, projectID)
		return err
	})
	if err != nil && !errors.Is(err, ErrNoMoreNetworks) {
		return nil, err
	}
	return m.Networks(ctx, db, projectID)
}

func (m *Manager) defaultNetwork(ctx context.Context, q store.Querier, projectID string) (Network, error) {
	n, err := scanNetwork(q.QueryRowContext(ctx, `SELECT `+networkColumns+` FROM networks n
		WHERE n.default_for = ?`, projectID))
	if errors.Is(err, sql.ErrNoRows) {
		return Network{}, store.ErrNotFound
	}
	if err != nil {
		return Network{}, fmt.Errorf("get the default network of project %s: %w", projectID, err)
	}
	return n, nil
}

// EnsureDefault returns projectID's network made on first need
// ("private"), creating it with subnets in the lowest free slot of the
// pools, as Neutron's auto-allocated topology gives a project its
// network.
func (m *Manager) EnsureDefault(ctx context.Context, tx *store.Tx, projectID string) (Network, error) {
	n, err := m.defaultNetwork(ctx, tx, projectID)
	if !errors.Is(err, store.ErrNotFound) {
		return n, err
	}
	// Each round either creates the network, finds the one a concurrent
	// transaction created, or loses a slot to another project and looks
	// for the next free one.
	for range 8 {
		idx, err := m.firstFreePoolIndex(ctx, tx)
		if err != nil {
			return Network{}, err
		}
		if idx >= m.capacity {
			return Network{}, noMoreNetworks()
		}
		made, err := m.insertDefault(ctx, tx, projectID, idx)
		if err != nil || made {
			if err != nil {
				return Network{}, err
			}
			return m.defaultNetwork(ctx, tx, projectID)
		}
		existing, err := m.defaultNetwork(ctx, tx, projectID)
		if !errors.Is(err, store.ErrNotFound) {
			return existing, err
		}
	}
	return Network{}, fmt.Errorf("create network of project %s: no free subnet after retries", projectID)
}

// insertDefault creates projectID's default network with its subnets
// at pool slot idx; false when a concurrent transaction took the
// project's default or the slot first (nothing is left written then).
func (m *Manager) insertDefault(ctx context.Context, tx *store.Tx, projectID string, idx int64) (bool, error) {
	id, now := uuid.NewString(), store.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO networks (id, project_id, name, default_for, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, projectID, DefaultName, projectID, now, now)
	if err != nil {
		return false, fmt.Errorf("create network of project %s: %w", projectID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	v4 := newSubnet(id, projectID, m.subnet4(idx), now)
	v4.poolIndex = &idx
	inserted, err := insertSubnet(ctx, tx, v4)
	if err != nil || !inserted {
		if err == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM networks WHERE id = ?`, id)
		}
		return false, err
	}
	if p := m.subnet6(idx); p.IsValid() {
		v6 := newSubnet(id, projectID, p, now)
		v6.IPv6RAMode, v6.IPv6AddressMode = "slaac", "slaac"
		if _, err := insertSubnet(ctx, tx, v6); err != nil {
			return false, err
		}
	}
	return true, nil
}

// firstFreePoolIndex finds the lowest pool slot no subnet holds, in one
// ordered pass over the pool_index index (see firstFreeOrdinal).
func (m *Manager) firstFreePoolIndex(ctx context.Context, q store.Querier) (int64, error) {
	var used int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM subnets WHERE pool_index = 0`).Scan(&used); err != nil {
		return 0, fmt.Errorf("find a free subnet: %w", err)
	}
	if used == 0 {
		return 0, nil
	}
	var idx int64
	err := q.QueryRowContext(ctx, `SELECT pool_index + 1 FROM (
			SELECT pool_index, LEAD(pool_index) OVER (ORDER BY pool_index) AS next_index
			FROM subnets WHERE pool_index IS NOT NULL) used
		WHERE next_index IS NULL OR next_index > pool_index + 1
		ORDER BY pool_index LIMIT 1`).Scan(&idx)
	if err != nil {
		return 0, fmt.Errorf("find a free subnet: %w", err)
	}
	return idx, nil
}

// prefixes parses the CIDRs server ports get addresses from; a network
// without an IPv4 subnet is Nova's NetworkRequiresSubnet.
func (n Network) prefixes() (v4, v6 netip.Prefix, err error) {
	if n.CIDR == "" {
		return v4, v6, networkRequiresSubnet(n.ID)
	}
	if v4, err = netip.ParsePrefix(n.CIDR); err != nil {
		return v4, v6, fmt.Errorf("network %s has a bad CIDR %q: %w", n.ID, n.CIDR, err)
	}
	if n.CIDRv6 != "" {
		if v6, err = netip.ParsePrefix(n.CIDRv6); err != nil {
			return v4, v6, fmt.Errorf("network %s has a bad IPv6 CIDR %q: %w", n.ID, n.CIDRv6, err)
		}
	}
	return v4, v6, nil
}
