package router

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/store"
)

// setGateway sets router id's external gateway to g (nil: removes it),
// with Neutron's checks (l3_db._validate_gw_info and
// _check_router_gw_port_in_use).
func (s *Service) setGateway(ctx context.Context, tx *store.Tx, id string, g *GatewayRequest) error {
	extID, extSubnet, err := network.ExternalNetworkIn(ctx, tx)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return err
	}
	var current string
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(gateway_network_id, '') FROM routers WHERE id = ?`, id).Scan(&current); err != nil {
		return fmt.Errorf("read router %s: %w", id, err)
	}
	if g != nil {
		if err := s.checkExternal(ctx, tx, g.NetworkID, extID); err != nil {
			return err
		}
	}
	address, err := floatingip.GatewayAddress(ctx, tx, id)
	if err != nil {
		return err
	}
	changes := g == nil || g.NetworkID != current || (g.Address != "" && !sameAddress(g.Address, address))
	if current != "" && changes {
		if err := gatewayUnused(ctx, tx, id, current); err != nil {
			return err
		}
		if err := floatingip.ReleaseGateway(ctx, tx, id); err != nil {
			return err
		}
	}
	if g == nil {
		_, err := tx.ExecContext(ctx, `UPDATE routers SET gateway_network_id = NULL, enable_snat = TRUE WHERE id = ?`, id)
		return err
	}
	if changes {
		ext := floatingip.External{NetworkID: extID, SubnetID: extSubnet}
		if _, err := s.fips.ClaimGateway(ctx, tx, ext, id, g.Address); err != nil {
			return err
		}
	}
	snat := true
	if g.EnableSNAT != nil {
		snat = *g.EnableSNAT
	}
	_, err = tx.ExecContext(ctx, `UPDATE routers SET gateway_network_id = ?, enable_snat = ? WHERE id = ?`, g.NetworkID, snat, id)
	return err
}

// checkExternal checks that a gateway's network is the external network
// (the floating range's, the only one kumo has addresses of).
func (s *Service) checkExternal(ctx context.Context, tx *store.Tx, networkID, extID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM networks WHERE id = ?`, networkID).Scan(&n); err != nil {
		return fmt.Errorf("read network %s: %w", networkID, err)
	}
	if n == 0 {
		return network.NetworkNotFound(networkID)
	}
	if networkID != extID {
		return BadRequest("Network %s is not an external network", networkID)
	}
	return nil
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
