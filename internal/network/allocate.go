package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// randomTries is how many random free-looking addresses allocation tries
// before walking the gaps in order. Picking at random, as Neutron does,
// keeps concurrent transactions off each other's addresses; the walk only
// matters when a network is nearly full.
const randomTries = 16

// portPlan is one port to create, validated before anything is written.
type portPlan struct {
	net    Network
	v4, v6 netip.Prefix
	fixed  netip.Addr // valid when the request names a fixed IP
	tag    string
	// given is the user's port the server boots on, when the request
	// names one; nothing is allocated then.
	given *givenPort
}

// Allocate gives instanceID the ports and fixed IPs req asks for, inside
// the caller's transaction, and returns the new addresses in allocation
// order. Errors carry Nova's messages (see errors.go); after a domain
// error nothing of this call is left in the transaction.
func (m *Manager) Allocate(ctx context.Context, tx *store.Tx, projectID, instanceID string, req Request) ([]Address, error) {
	if req.None {
		return nil, nil
	}
	plans, err := m.plan(ctx, tx, projectID, req)
	if err != nil {
		return nil, err
	}
	now := store.Now()
	owner := deviceOwner(req.Zone)
	var out []Address
	var created []string
	for i, p := range plans {
		var portID string
		var addrs []Address
		var err error
		if p.given != nil {
			addrs, err = bindPort(ctx, tx, *p.given, instanceID, owner, p.tag, i)
		} else {
			portID, addrs, err = m.allocatePort(ctx, tx, projectID, instanceID, owner, i, now, p)
		}
		if portID != "" {
			created = append(created, portID)
		}
		if err != nil {
			// A domain error leaves the transaction usable (conflicts
			// are ON CONFLICT DO NOTHING), so undo this call's ports for
			// callers that carry on, e.g. to record a failed instance.
			if errs.KindOf(err) != errs.KindInternal {
				if derr := deletePorts(ctx, tx, created); derr != nil {
					return nil, derr
				}
				if derr := unbindPorts(ctx, tx, instanceID); derr != nil {
					return nil, derr
				}
			}
			return nil, err
		}
		out = append(out, addrs...)
	}
	return out, nil
}

// deviceOwner is Nova's device_owner for a server's ports in zone.
func deviceOwner(zone string) string {
	if zone == "" {
		zone = "nova"
	}
	return "compute:" + zone
}

// plan resolves and validates req in Nova's order: ports, then networks,
// then fixed IPs.
func (m *Manager) plan(ctx context.Context, tx *store.Tx, projectID string, req Request) ([]portPlan, error) {
	if len(req.Networks) == 0 {
		n, err := m.EnsureDefault(ctx, tx, projectID)
		if err != nil {
			return nil, err
		}
		p, err := planFor(n, NetworkRequest{})
		if err != nil {
			return nil, err
		}
		return []portPlan{p}, nil
	}
	given := make(map[string]givenPort)
	for _, r := range req.Networks {
		if r.PortID != "" {
			p, err := checkGivenPort(ctx, tx, projectID, r.PortID)
			if err != nil {
				return nil, err
			}
			given[r.PortID] = p
		}
	}
	owned, err := m.Networks(ctx, tx, projectID)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Network, len(owned))
	for _, n := range owned {
		byID[n.ID] = n
	}
	var missing []string
	for _, r := range req.Networks {
		if _, ok := byID[r.NetworkID]; !ok && r.PortID == "" && r.NetworkID != "" && !slices.Contains(missing, r.NetworkID) {
			missing = append(missing, r.NetworkID)
		}
	}
	if len(missing) > 0 {
		return nil, networkNotFound(strings.Join(missing, ", "))
	}
	plans := make([]portPlan, 0, len(req.Networks))
	for _, r := range req.Networks {
		if p, ok := given[r.PortID]; ok {
			plans = append(plans, portPlan{given: &p, tag: r.Tag})
			continue
		}
		n, ok := byID[r.NetworkID]
		if !ok {
			if n, err = m.EnsureDefault(ctx, tx, projectID); err != nil {
				return nil, err
			}
		}
		p, err := planFor(n, r)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// planFor checks a requested fixed IP against network n.
func planFor(n Network, r NetworkRequest) (portPlan, error) {
	v4, v6, err := n.prefixes()
	if err != nil {
		return portPlan{}, err
	}
	p := portPlan{net: n, v4: v4, v6: v6, tag: r.Tag}
	if r.FixedIP == "" {
		return p, nil
	}
	a, err := netip.ParseAddr(r.FixedIP)
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return portPlan{}, invalidFixedIP(r.FixedIP, n.ID)
	}
	var subnet netip.Prefix
	switch {
	case v4.Contains(a):
		subnet = v4
		if _, last := hostRange4(v4); ordinal4(v4, a) == 0 || ordinal4(v4, a) > last {
			return portPlan{}, invalidFixedIP(r.FixedIP, n.ID) // network or broadcast address
		}
	case v6.IsValid() && v6.Contains(a):
		subnet = v6
		if a == v6.Addr() {
			return portPlan{}, invalidFixedIP(r.FixedIP, n.ID) // subnet-router anycast
		}
	default:
		return portPlan{}, invalidFixedIP(r.FixedIP, n.ID)
	}
	if a == gateway(subnet) {
		return portPlan{}, reservedFixedIP(a.String())
	}
	p.fixed = a
	return p, nil
}

// allocatePort creates one port of instanceID with its addresses. It
// returns the port's id once the port row exists, even on error.
func (m *Manager) allocatePort(ctx context.Context, tx *store.Tx, projectID, instanceID, owner string, position int, now int64, p portPlan) (string, []Address, error) {
	portID := uuid.NewString()
	mac, err := insertPort(ctx, tx, portID, projectID, p.net, instanceID, owner, p.tag, position, now)
	if err != nil {
		return "", nil, err
	}
	base := Address{NetworkID: p.net.ID, Network: p.net.Name, PortID: portID, MAC: formatMAC(mac), Type: "fixed", Tag: p.tag}
	claim := func(a netip.Addr) Address {
		out := base
		out.Addr = a.String()
		out.Version = version(a)
		return out
	}
	if p.fixed.IsValid() {
		if err := claimFixed(ctx, tx, p, portID, instanceID); err != nil {
			return portID, nil, err
		}
		return portID, []Address{claim(p.fixed)}, nil
	}
	// Nova makes a server's port without fixed_ips: Neutron's addresses.
	port := Port{ID: portID, NetworkID: p.net.ID, DeviceID: instanceID, DeviceOwner: owner}
	if err := claimDefault(ctx, tx, p.net.ID, port); err != nil {
		return portID, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT address FROM fixed_ips WHERE port_id = ? ORDER BY version, address`, portID)
	if err != nil {
		return portID, nil, fmt.Errorf("addresses of port %s: %w", portID, err)
	}
	defer rows.Close()
	var addrs []Address
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return portID, nil, fmt.Errorf("addresses of port %s: %w", portID, err)
		}
		a, err := netip.ParseAddr(text)
		if err != nil {
			return portID, nil, fmt.Errorf("port %s has a bad address %q", portID, text)
		}
		addrs = append(addrs, claim(a))
	}
	return portID, addrs, rows.Err()
}

// insertPort stores a port of projectID's server on network n with a
// fresh random MAC, drawing again when the MAC is taken. It has its
// network's port security, as a port Neutron makes without asking.
func insertPort(ctx context.Context, tx *store.Tx, id, projectID string, n Network, instanceID, owner, tag string, position int, now int64) ([6]byte, error) {
	networkID := n.ID
	var tagArg any
	if tag != "" {
		tagArg = tag
	}
	for range 8 {
		mac, err := randomMAC()
		if err != nil {
			return mac, err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO network_ports (id, project_id, network_id, instance_id, mac, tag, position,
			device_owner, port_security_enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			id, projectID, networkID, instanceID, formatMAC(mac), tagArg, position, owner, n.PortSecurity, now, now)
		if err != nil {
			return mac, fmt.Errorf("create port on network %s: %w", networkID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return mac, fmt.Errorf("create port on network %s: %w", networkID, err)
		} else if n == 1 {
			return mac, nil
		}
	}
	return [6]byte{}, fmt.Errorf("create port on network %s: no unused MAC address found", networkID)
}

// insertFixedIP claims a for the port; false means someone holds it.
func insertFixedIP(ctx context.Context, tx *store.Tx, networkID string, a netip.Addr, ordinal sql.NullInt64, portID, instanceID string) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO fixed_ips (network_id, address, version, ordinal, port_id, instance_id, type)
		VALUES (?, ?, ?, ?, ?, ?, 'fixed') ON CONFLICT DO NOTHING`,
		networkID, a.String(), version(a), ordinal, portID, instanceID)
	if err != nil {
		return false, fmt.Errorf("claim %s on network %s: %w", a, networkID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim %s on network %s: %w", a, networkID, err)
	}
	return n == 1, nil
}

// claimFixed claims the address the request named.
func claimFixed(ctx context.Context, tx *store.Tx, p portPlan, portID, instanceID string) error {
	var ordinal sql.NullInt64
	if p.fixed.Is4() {
		ordinal = sql.NullInt64{Int64: ordinal4(p.v4, p.fixed), Valid: true}
	}
	ok, err := insertFixedIP(ctx, tx, p.net.ID, p.fixed, ordinal, portID, instanceID)
	if err != nil || ok {
		return err
	}
	var holder string
	err = tx.QueryRowContext(ctx, `SELECT instance_id FROM fixed_ips WHERE network_id = ? AND address = ?`,
		p.net.ID, p.fixed.String()).Scan(&holder)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find the holder of %s: %w", p.fixed, err)
	}
	return fixedIPInUse(p.fixed.String(), holder)
}

// claimNext4In claims a free IPv4 address of subnet between the
// ordinals first and last (an allocation pool).
func claimNext4In(ctx context.Context, tx *store.Tx, networkID string, subnet netip.Prefix, first, last int64, portID, instanceID string) (netip.Addr, error) {
	try := func(o int64) (netip.Addr, bool, error) {
		a := at4(subnet, o)
		ok, err := insertFixedIP(ctx, tx, networkID, a, sql.NullInt64{Int64: o, Valid: true}, portID, instanceID)
		return a, ok, err
	}
	for range randomTries {
		a, ok, err := try(first + rand.Int64N(last-first+1))
		if err != nil || ok {
			return a, err
		}
	}
	// Nearly full: take the first gap after a random point (so that
	// concurrent transactions spread out), else the lowest one. In one
	// snapshot a gap is free unless a concurrent transaction takes it,
	// which store.InTx retries.
	for range 4 {
		o, err := firstFreeOrdinal(ctx, tx, networkID, first+rand.Int64N(last-first+1))
		if err == nil && o > last {
			o, err = firstFreeOrdinal(ctx, tx, networkID, first)
		}
		if err != nil {
			return netip.Addr{}, err
		}
		if o > last {
			return netip.Addr{}, noMoreFixedIPs(networkID)
		}
		a, ok, err := try(o)
		if err != nil || ok {
			return a, err
		}
	}
	return netip.Addr{}, noMoreFixedIPs(networkID)
}

// firstFreeOrdinal is the lowest IPv4 ordinal >= from not in use: from
// itself, or the successor of the first used ordinal whose successor is
// free.
func firstFreeOrdinal(ctx context.Context, tx *store.Tx, networkID string, from int64) (int64, error) {
	var used int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM fixed_ips WHERE network_id = ? AND version = 4 AND ordinal = ?`,
		networkID, from).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("find a free address on network %s: %w", networkID, err)
	}
	if used == 0 {
		return from, nil
	}
	// One ordered pass over the ordinal index with LEAD, stopping at the
	// first gap; a correlated NOT EXISTS can turn quadratic on PostgreSQL
	// when its statistics are stale.
	var o int64
	err = tx.QueryRowContext(ctx, `SELECT ordinal + 1 FROM (
			SELECT ordinal, LEAD(ordinal) OVER (ORDER BY ordinal) AS next_ordinal
			FROM fixed_ips WHERE network_id = ? AND version = 4 AND ordinal >= ?) used
		WHERE next_ordinal IS NULL OR next_ordinal > ordinal + 1
		ORDER BY ordinal LIMIT 1`, networkID, from).Scan(&o)
	if err != nil {
		return 0, fmt.Errorf("find a free address on network %s: %w", networkID, err)
	}
	return o, nil
}

// Release frees every address and port of instanceID; the addresses may
// be handed out again once the transaction commits. The ports the user
// booted the server on survive unbound (Nova's preserve_on_delete).
func (m *Manager) Release(ctx context.Context, tx *store.Tx, instanceID string) error {
	if err := unbindPorts(ctx, tx, instanceID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM fixed_ips WHERE instance_id = ?`, instanceID); err != nil {
		return fmt.Errorf("release fixed IPs of instance %s: %w", instanceID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM network_ports WHERE instance_id = ?`, instanceID); err != nil {
		return fmt.Errorf("release ports of instance %s: %w", instanceID, err)
	}
	return nil
}

// deletePorts removes ports (and their addresses) by id.
func deletePorts(ctx context.Context, tx *store.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := placeholders(len(ids))
	if _, err := tx.ExecContext(ctx, `DELETE FROM fixed_ips WHERE port_id IN (`+in+`)`, args...); err != nil {
		return fmt.Errorf("undo port addresses: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM network_ports WHERE id IN (`+in+`)`, args...); err != nil {
		return fmt.Errorf("undo ports: %w", err)
	}
	return nil
}

func version(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
