package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Router gateways and floating IPs own ports on their external network,
// as in Neutron: of no project (hidden from projects, counted against no
// quota), device_owner network:router_gateway or network:floatingip,
// device_id the router or the floating IP. So their addresses cannot
// collide with other ports', IP availability counts them, and the
// network is in use while they exist.
const (
	RouterGatewayOwner = "network:router_gateway"
	FloatingIPOwner    = "network:floatingip"
)

// ServicePort is a port an L3 object owns: FixedIPs nil takes the
// network's default addresses.
type ServicePort struct {
	NetworkID, DeviceID, DeviceOwner string
	FixedIPs                         *[]FixedIPRequest
}

// CreateServicePortIn makes sp in the caller's transaction and returns
// its id and fixed IPs.
func (s *Service) CreateServicePortIn(ctx context.Context, tx *store.Tx, sp ServicePort) (string, []FixedIP, error) {
	name := ""
	id, err := s.CreatePortIn(ctx, tx, PortCreate{NetworkID: sp.NetworkID, PortFields: PortFields{Name: &name,
		DeviceID: &sp.DeviceID, DeviceOwner: &sp.DeviceOwner, FixedIPs: sp.FixedIPs}})
	if err != nil {
		return "", nil, err
	}
	fixed, err := PortFixedIPsIn(ctx, tx, id)
	return id, fixed, err
}

// PortFixedIPsIn lists the fixed IPs of port id (IPv4 first) with their
// subnets.
func PortFixedIPsIn(ctx context.Context, q store.Querier, id string) ([]FixedIP, error) {
	rows, err := q.QueryContext(ctx, `SELECT network_id, address FROM fixed_ips WHERE port_id = ? ORDER BY version, address`, id)
	if err != nil {
		return nil, fmt.Errorf("fixed IPs of port %s: %w", id, err)
	}
	type held struct{ networkID, address string }
	var all []held
	for rows.Next() {
		var h held
		if err := rows.Scan(&h.networkID, &h.address); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan fixed IP: %w", err)
		}
		all = append(all, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fixed IPs of port %s: %w", id, err)
	}
	out := make([]FixedIP, 0, len(all))
	for _, h := range all {
		sub, _, err := SubnetOf(ctx, q, h.networkID, h.address)
		if err != nil {
			return nil, err
		}
		out = append(out, FixedIP{SubnetID: sub, IPAddress: h.address})
	}
	return out, nil
}

// DevicePortIn is the port deviceID owns as owner ("": none).
func DevicePortIn(ctx context.Context, q store.Querier, deviceID, owner string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM network_ports WHERE instance_id = ? AND device_owner = ?
		ORDER BY created_at, id LIMIT 1`, deviceID, owner).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("port of %s: %w", deviceID, err)
	}
	return id, nil
}

// ExternalIn reports whether network id is router:external; a missing
// network is NetworkNotFound.
func ExternalIn(ctx context.Context, q store.Querier, id string) (bool, error) {
	var external bool
	err := q.QueryRowContext(ctx, `SELECT external FROM networks WHERE id = ?`, id).Scan(&external)
	if errors.Is(err, sql.ErrNoRows) {
		return false, NetworkNotFound(id)
	}
	if err != nil {
		return false, fmt.Errorf("read network %s: %w", id, err)
	}
	return external, nil
}

// ExternalNamed finds the router:external network named or with id
// nameOrID (Nova's floating IP pools), the oldest first; "" when none.
func ExternalNamed(ctx context.Context, q store.Querier, nameOrID string) (id, name string, err error) {
	err = q.QueryRowContext(ctx, `SELECT id, name FROM networks WHERE external AND (id = ? OR name = ?)
		ORDER BY created_at, id LIMIT 1`, nameOrID, nameOrID).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("find external network %s: %w", nameOrID, err)
	}
	return id, name, nil
}

// IPv4SubnetsIn lists the ids of networkID's IPv4 subnets, oldest first.
func IPv4SubnetsIn(ctx context.Context, q store.Querier, networkID string) ([]string, error) {
	subnets, err := subnetsOf(ctx, q, "s.network_id = ?", networkID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sn := range subnets {
		if p, err := netip.ParsePrefix(sn.CIDR); err == nil && p.Addr().Is4() {
			out = append(out, sn.ID)
		}
	}
	return out, nil
}

// SubnetsCIDRsIn maps the subnets of networkID to their CIDRs.
func SubnetsCIDRsIn(ctx context.Context, q store.Querier, networkID string) (map[string]netip.Prefix, error) {
	subnets, err := subnetsOf(ctx, q, "s.network_id = ?", networkID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]netip.Prefix, len(subnets))
	for _, sn := range subnets {
		if p, err := netip.ParsePrefix(sn.CIDR); err == nil {
			out[sn.ID] = p
		}
	}
	return out, nil
}

// notServicePort refuses to delete an L3 object's port through the port
// API (Neutron's prevent_l3_port_deletion): it goes with its router
// interface, gateway or floating IP. One whose object is gone may go.
func notServicePort(ctx context.Context, q store.Querier, id string) error {
	var owner string
	err := q.QueryRowContext(ctx, `SELECT p.device_owner FROM network_ports p WHERE p.id = ? AND (
		(p.device_owner IN (?, ?) AND EXISTS (SELECT 1 FROM routers r WHERE r.id = p.instance_id))
		OR (p.device_owner = ? AND EXISTS (SELECT 1 FROM floating_ips f WHERE f.id = p.instance_id)))`,
		id, RouterInterfaceOwner, RouterGatewayOwner, FloatingIPOwner).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read port %s: %w", id, err)
	}
	return errs.Named("ServicePortInUse", errs.Conflict("Port %s cannot be deleted directly via the port API: "+
		"has device owner %s.", id, owner))
}

// FloatingIPs releases the floating IPs a network delete takes along
// (floatingip.Service implements it).
type FloatingIPs interface {
	// DeleteDisassociated deletes the unbound floating IPs of external
	// network networkID in the caller's transaction, as Neutron's
	// delete_disassociated_floatingips before a network delete.
	DeleteDisassociated(ctx context.Context, tx *store.Tx, networkID string) error
}

// ExternalNetworksIn lists the router:external networks, oldest first:
// their ids and names.
func ExternalNetworksIn(ctx context.Context, q store.Querier) (ids, names []string, err error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM networks WHERE external ORDER BY created_at, id`)
	if err != nil {
		return nil, nil, fmt.Errorf("list external networks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, nil, fmt.Errorf("scan network: %w", err)
		}
		ids, names = append(ids, id), append(names, name)
	}
	return ids, names, rows.Err()
}
