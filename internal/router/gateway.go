package router

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/store"
)

// setGateway sets router id's external gateway to g (nil: removes it),
// with Neutron's checks (l3_db._validate_gw_info and
// _check_router_gw_port_in_use): its port on the external network holds
// its addresses.
func (s *Service) setGateway(ctx context.Context, tx *store.Tx, id string, g *GatewayRequest) error {
	var current string
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(gateway_network_id, '') FROM routers WHERE id = ?`, id).Scan(&current); err != nil {
		return fmt.Errorf("read router %s: %w", id, err)
	}
	if g != nil {
		external, err := network.ExternalIn(ctx, tx, g.NetworkID)
		if err != nil {
			return err
		}
		if !external {
			return BadRequest("Network %s is not an external network", g.NetworkID)
		}
	}
	changes := g == nil || g.NetworkID != current
	if !changes && g.FixedIPs != nil {
		var err error
		if changes, err = addressesChange(ctx, tx, id, *g.FixedIPs); err != nil {
			return err
		}
	}
	if current != "" && changes {
		if err := gatewayUnused(ctx, tx, id, current); err != nil {
			return err
		}
		if err := releaseGateway(ctx, tx, id); err != nil {
			return err
		}
	}
	if g == nil {
		_, err := tx.ExecContext(ctx, `UPDATE routers SET gateway_network_id = NULL, enable_snat = TRUE WHERE id = ?`, id)
		return err
	}
	if changes {
		if _, _, err := s.nets.CreateServicePortIn(ctx, tx, network.ServicePort{NetworkID: g.NetworkID, DeviceID: id,
			DeviceOwner: network.RouterGatewayOwner, FixedIPs: g.FixedIPs}); err != nil {
			return err
		}
	}
	snat := true
	if g.EnableSNAT != nil {
		snat = *g.EnableSNAT
	}
	_, err := tx.ExecContext(ctx, `UPDATE routers SET gateway_network_id = ?, enable_snat = ? WHERE id = ?`, g.NetworkID, snat, id)
	return err
}

// addressesChange reports whether the external fixed IPs asked for
// differ from those router id's gateway port holds (Neutron's
// _check_for_external_ip_change): the addresses named must be its own.
func addressesChange(ctx context.Context, tx *store.Tx, id string, asked []network.FixedIPRequest) (bool, error) {
	port, err := network.DevicePortIn(ctx, tx, id, network.RouterGatewayOwner)
	if err != nil || port == "" {
		return true, err
	}
	held, err := network.PortFixedIPsIn(ctx, tx, port)
	if err != nil {
		return false, err
	}
	for _, a := range asked {
		found := false
		for _, h := range held {
			if (a.IPAddress == "" || sameAddress(a.IPAddress, h.IPAddress)) && (a.SubnetID == "" || a.SubnetID == h.SubnetID) {
				found = true
			}
		}
		if !found {
			return true, nil
		}
	}
	return len(asked) != len(held), nil
}

// releaseGateway deletes router id's gateway port.
func releaseGateway(ctx context.Context, tx *store.Tx, id string) error {
	port, err := network.DevicePortIn(ctx, tx, id, network.RouterGatewayOwner)
	if err != nil || port == "" {
		return err
	}
	return network.DeletePortIn(ctx, tx, port)
}

// gatewayUnused refuses to move a gateway floating IPs go through.
func gatewayUnused(ctx context.Context, tx *store.Tx, id, netID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM floating_ips WHERE router_id = ? AND fixed_address IS NOT NULL`,
		id).Scan(&n); err != nil {
		return fmt.Errorf("floating IPs of router %s: %w", id, err)
	}
	if n > 0 {
		return errs.Named("RouterExternalGatewayInUseByFloatingIp", errs.Conflict("Gateway cannot be updated for router %s, "+
			"since a gateway to external network %s is required by one or more floating IPs.", id, netID))
	}
	return nil
}

// validateRoutes checks extra routes as extraroute_db does: each
// destination a CIDR, each nexthop an address on a subnet of the
// router's interfaces but none of theirs.
func validateRoutes(ctx context.Context, tx *store.Tx, id string, routes []Route) error {
	ifaces, err := interfaces(ctx, tx, id)
	if err != nil {
		return err
	}
	invalid := func(reason string) error {
		return errs.Named("InvalidRoutes", errs.Invalid("Invalid format for routes: %s, %s", routesRepr(routes), reason))
	}
	for _, r := range routes {
		if _, err := netip.ParsePrefix(r.Destination); err != nil {
			return invalid("'" + r.Destination + "' is not a valid IP subnet")
		}
		hop, err := netip.ParseAddr(r.NextHop)
		if err != nil {
			return invalid("'" + r.NextHop + "' is not a valid IP address")
		}
		connected := false
		for _, i := range ifaces {
			if i.prefix.Contains(hop) {
				connected = true
			}
			if i.address == hop {
				return invalid("the nexthop is used by router")
			}
		}
		if !connected {
			return invalid("the nexthop is not connected with router")
		}
	}
	return nil
}

// routesRepr is a routes list as Neutron's messages print it.
func routesRepr(routes []Route) string {
	parts := make([]string, 0, len(routes))
	for _, r := range routes {
		parts = append(parts, fmt.Sprintf("{'destination': '%s', 'nexthop': '%s'}", r.Destination, r.NextHop))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// sameAddress compares addresses by value.
func sameAddress(a, b string) bool {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	return errA == nil && errB == nil && x == y
}
