package router

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/store"
)

// iface is one address of a router's interface port.
type iface struct {
	portID, networkID, subnetID string
	address                     netip.Addr
	prefix                      netip.Prefix
}

// interfaces lists the addresses of routerID's interface ports.
func interfaces(ctx context.Context, q store.Querier, routerID string) ([]iface, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.network_id, f.address FROM network_ports p
		JOIN fixed_ips f ON f.port_id = p.id
		WHERE p.instance_id = ? AND p.device_owner = ? ORDER BY p.created_at, p.id, f.address`,
		routerID, network.RouterInterfaceOwner)
	if err != nil {
		return nil, fmt.Errorf("list interfaces of router %s: %w", routerID, err)
	}
	var out []iface
	for rows.Next() {
		var i iface
		var a string
		if err := rows.Scan(&i.portID, &i.networkID, &a); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan router interface: %w", err)
		}
		if i.address, err = netip.ParseAddr(a); err != nil {
			rows.Close()
			return nil, fmt.Errorf("router interface address %q: %w", a, err)
		}
		out = append(out, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list interfaces of router %s: %w", routerID, err)
	}
	for k := range out {
		if out[k].subnetID, out[k].prefix, err = network.SubnetOf(ctx, q, out[k].networkID, out[k].address.String()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Interface is add/remove_router_interface's answer.
type Interface struct {
	RouterID, ProjectID, NetworkID, PortID, SubnetID string
	SubnetIDs                                        []string
}

// AddInterface attaches router id to a subnet (a new port on the
// subnet's gateway address) or to a port (one with no device), as
// Neutron's add_router_interface.
func (s *Service) AddInterface(ctx context.Context, id, subnetID, portID string) (Interface, error) {
	var out Interface
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := getIn(ctx, tx, id)
		if err != nil {
			return err
		}
		existing, err := interfaces(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case subnetID != "" && portID != "":
			return BadRequest("Cannot specify both subnet-id and port-id")
		case subnetID != "":
			portID, err = s.interfaceOnSubnet(ctx, tx, r, subnetID, existing)
		case portID != "":
			err = s.takePort(ctx, tx, r, portID, existing)
		default:
			return BadRequest("Either subnet_id or port_id must be specified")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE routers SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
			store.Now(), id); err != nil {
			return fmt.Errorf("revise router %s: %w", id, err)
		}
		out, err = interfaceOf(ctx, tx, r, portID)
		return err
	})
	return out, err
}

// interfaceOf describes routerID's interface port portID.
func interfaceOf(ctx context.Context, q store.Querier, r Router, portID string) (Interface, error) {
	all, err := interfaces(ctx, q, r.ID)
	if err != nil {
		return Interface{}, err
	}
	out := Interface{RouterID: r.ID, ProjectID: r.ProjectID, PortID: portID, SubnetIDs: []string{}}
	for _, i := range all {
		if i.portID == portID {
			out.NetworkID = i.networkID
			out.SubnetIDs = append(out.SubnetIDs, i.subnetID)
		}
	}
	if len(out.SubnetIDs) > 0 {
		out.SubnetID = out.SubnetIDs[0]
	}
	return out, nil
}

// alreadyOn refuses a second interface of a router on a subnet.
func alreadyOn(existing []iface, subnetID string) error {
	for _, i := range existing {
		if i.subnetID == subnetID {
			return BadRequest("Router already has a port on subnet %s", subnetID)
		}
	}
	return nil
}

// noOverlap refuses new interfaces on subnets (of networkID) whose CIDRs
// overlap those of the router's interfaces or of its gateway's network,
// as Neutron's _check_for_dup_router_subnets.
func noOverlap(ctx context.Context, tx *store.Tx, r Router, existing []iface, networkID string, subnets []string) error {
	type cidr struct {
		id     string
		prefix netip.Prefix
	}
	var attached []cidr
	for _, i := range existing {
		attached = append(attached, cidr{i.subnetID, i.prefix})
	}
	if r.Gateway != nil {
		ext, err := network.SubnetsCIDRsIn(ctx, tx, r.Gateway.NetworkID)
		if err != nil {
			return err
		}
		for id, p := range ext {
			attached = append(attached, cidr{id, p})
		}
	}
	all, err := network.SubnetsCIDRsIn(ctx, tx, networkID)
	if err != nil {
		return err
	}
	for _, id := range subnets {
		p, ok := all[id]
		if !ok {
			continue
		}
		for _, a := range attached {
			if a.prefix.Overlaps(p) {
				return BadRequest("Cidr %s of subnet %s overlaps with cidr %s of subnet %s", p, id, a.prefix, a.id)
			}
		}
	}
	return nil
}

// interfaceOnSubnet makes the router's port on subnetID's gateway
// address.
func (s *Service) interfaceOnSubnet(ctx context.Context, tx *store.Tx, r Router, subnetID string, existing []iface) (string, error) {
	var netID string
	var gateway sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT network_id, gateway_ip FROM subnets WHERE id = ?`, subnetID).Scan(&netID, &gateway)
	if errors.Is(err, sql.ErrNoRows) {
		return "", network.SubnetNotFound(subnetID)
	}
	if err != nil {
		return "", fmt.Errorf("read subnet %s: %w", subnetID, err)
	}
	if !gateway.Valid || gateway.String == "" {
		return "", BadRequest("Subnet for router interface must have a gateway IP")
	}
	if err := alreadyOn(existing, subnetID); err != nil {
		return "", err
	}
	if r.Gateway != nil && netID == r.Gateway.NetworkID {
		return "", BadRequest("Router already has a port on subnet %s", subnetID)
	}
	if err := noOverlap(ctx, tx, r, existing, netID, []string{subnetID}); err != nil {
		return "", err
	}
	owner, name := network.RouterInterfaceOwner, ""
	fixed := []network.FixedIPRequest{{SubnetID: subnetID, IPAddress: gateway.String}}
	return s.nets.CreatePortIn(ctx, tx, network.PortCreate{NetworkID: netID, ProjectID: r.ProjectID,
		PortFields: network.PortFields{Name: &name, DeviceID: &r.ID, DeviceOwner: &owner, FixedIPs: &fixed}})
}

// takePort makes an unbound port the router's interface.
func (s *Service) takePort(ctx context.Context, tx *store.Tx, r Router, portID string, existing []iface) error {
	var netID, device string
	err := tx.QueryRowContext(ctx, `SELECT network_id, instance_id FROM network_ports WHERE id = ?`, portID).Scan(&netID, &device)
	if errors.Is(err, sql.ErrNoRows) {
		return network.PortNotFound(portID)
	}
	if err != nil {
		return fmt.Errorf("read port %s: %w", portID, err)
	}
	if device != "" {
		return errs.Named("PortInUse", errs.Conflict("Unable to complete operation on port %s for network %s. "+
			"Port already has an attached device %s.", portID, netID, device))
	}
	rows, err := tx.QueryContext(ctx, `SELECT address FROM fixed_ips WHERE port_id = ?`, portID)
	if err != nil {
		return fmt.Errorf("read addresses of port %s: %w", portID, err)
	}
	var addrs []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return err
		}
		addrs = append(addrs, a)
	}
	rows.Close()
	if len(addrs) == 0 {
		return BadRequest("Router port must have at least one fixed IP")
	}
	var subnets []string
	for _, a := range addrs {
		sub, _, err := network.SubnetOf(ctx, tx, netID, a)
		if err != nil {
			return err
		}
		if err := alreadyOn(existing, sub); err != nil {
			return err
		}
		subnets = append(subnets, sub)
	}
	if err := noOverlap(ctx, tx, r, existing, netID, subnets); err != nil {
		return err
	}
	return network.AttachPortIn(ctx, tx, portID, r.ID, network.RouterInterfaceOwner)
}

// RemoveInterface detaches router id from a subnet or a port (both:
// the port must be on the subnet) and deletes the interface port, as
// Neutron's remove_router_interface; one that floating IPs or routes go
// through stays (409).
func (s *Service) RemoveInterface(ctx context.Context, id, subnetID, portID string) (Interface, error) {
	var out Interface
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := getIn(ctx, tx, id)
		if err != nil {
			return err
		}
		if subnetID == "" && portID == "" {
			return BadRequest("Either subnet_id or port_id must be specified")
		}
		existing, err := interfaces(ctx, tx, id)
		if err != nil {
			return err
		}
		var found []iface
		for _, i := range existing {
			if (portID == "" || i.portID == portID) && (subnetID == "" || i.subnetID == subnetID) {
				found = append(found, i)
			}
		}
		if len(found) == 0 {
			if portID != "" {
				return errs.Named("RouterInterfaceNotFound", errs.NotFound("Router %s does not have an interface with id %s", id, portID))
			}
			return errs.Named("RouterInterfaceNotFoundForSubnet", errs.NotFound("Router %s has no interface on subnet %s", id, subnetID))
		}
		for _, i := range found {
			if err := interfaceUnused(ctx, tx, r, i); err != nil {
				return err
			}
		}
		if out, err = interfaceOf(ctx, tx, r, found[0].portID); err != nil {
			return err
		}
		if err := network.DeletePortIn(ctx, tx, found[0].portID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE routers SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
			store.Now(), id)
		return err
	})
	return out, err
}

// interfaceUnused refuses to remove an interface that floating IPs or
// routes of the router go through.
func interfaceUnused(ctx context.Context, tx *store.Tx, r Router, i iface) error {
	rows, err := tx.QueryContext(ctx, `SELECT fixed_address FROM floating_ips WHERE router_id = ? AND fixed_network_id = ?`,
		r.ID, i.networkID)
	if err != nil {
		return fmt.Errorf("floating IPs of router %s: %w", r.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return err
		}
		if ip, err := netip.ParseAddr(a); err == nil && i.prefix.Contains(ip) {
			return errs.Named("RouterInterfaceInUseByFloatingIP", errs.Conflict("Router interface for subnet %s on router %s "+
				"cannot be deleted, as it is required by one or more floating IPs.", i.subnetID, r.ID))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, route := range r.Routes {
		if hop, err := netip.ParseAddr(route.NextHop); err == nil && i.prefix.Contains(hop) {
			return errs.Named("RouterInterfaceInUseByRoute", errs.Conflict("Router interface for subnet %s on router %s "+
				"cannot be deleted, as it is required by one or more routes.", i.subnetID, r.ID))
		}
	}
	return nil
}

// DefaultRouter makes the router of a project's network made on first
// need (floatingip.Topology), as DevStack's router1: its gateway on the
// external network, an interface on subnetID. "" for other networks, or
// when the project has its default router already (the project changed
// it since: kumo leaves it be).
func (s *Service) DefaultRouter(ctx context.Context, tx *store.Tx, networkID, subnetID string) (string, error) {
	project, err := network.DefaultNetworkOf(ctx, tx, networkID)
	if err != nil || project == "" {
		return "", err
	}
	extID, _, err := network.ExternalNetworkIn(ctx, tx)
	if err != nil {
		return "", err
	}
	id, now := newID(), store.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO routers (id, project_id, name, default_for, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, project, DefaultRouterName, project, now, now)
	if err != nil {
		return "", fmt.Errorf("create the default router of project %s: %w", project, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return "", err
	}
	if err := s.setGateway(ctx, tx, id, &GatewayRequest{NetworkID: extID}); err != nil {
		return "", err
	}
	r, err := getIn(ctx, tx, id)
	if err != nil {
		return "", err
	}
	if _, err := s.interfaceOnSubnet(ctx, tx, r, subnetID, nil); err != nil {
		return "", err
	}
	return id, nil
}

// DefaultRouterName is the name of the routers kumo makes for projects'
// networks made on first need (DevStack's).
const DefaultRouterName = "router1"
