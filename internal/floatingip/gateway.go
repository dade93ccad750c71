package floatingip

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/store"
)

// Topology makes the router a project's network made on first need
// lacks, as DevStack's router1 serves its private network (so floating
// IPs bind on a fresh cloud, and on clouds from before routers).
type Topology interface {
	// DefaultRouter returns the router it made for networkID's subnet
	// subnetID, in the caller's transaction, or "" when networkID is no
	// network made on first need.
	DefaultRouter(ctx context.Context, tx *store.Tx, networkID, subnetID string) (string, error)
}

// UseTopology sets the maker of default routers (wiring time, before
// the service serves).
func (s *Service) UseTopology(t Topology) { s.topology = t }

// ExternalGatewayNotFound is Neutron's 404 when no router connects the
// port's subnet to the external network.
func ExternalGatewayNotFound(extNetworkID, subnetID, portID string) error {
	return errs.Named("ExternalGatewayForFloatingIPNotFound", errs.NotFound("External network %s is not reachable "+
		"from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.", extNetworkID, subnetID, portID))
}

// routerFor finds the router that serves a floating IP of ext bound to
// address on networkID (Neutron's _get_router_for_floatingip): one with
// its gateway on ext and an interface on the address's subnet, made on
// the spot for a network made on first need.
func (s *Service) routerFor(ctx context.Context, tx *store.Tx, ext External, networkID, address, portID string) (string, error) {
	subnetID, prefix, err := network.SubnetOf(ctx, tx, networkID, address)
	if err != nil {
		return "", err
	}
	found, err := connectingRouter(ctx, tx, ext, networkID, prefix)
	if err != nil || found != "" {
		return found, err
	}
	if s.topology != nil && subnetID != "" {
		if found, err = s.topology.DefaultRouter(ctx, tx, networkID, subnetID); err != nil || found != "" {
			return found, err
		}
		// A concurrent association may have made it first.
		if found, err = connectingRouter(ctx, tx, ext, networkID, prefix); err != nil || found != "" {
			return found, err
		}
	}
	return "", ExternalGatewayNotFound(ext.NetworkID, subnetID, portID)
}

// connectingRouter is the oldest router with its gateway on ext and an
// interface on networkID within prefix ("": none).
func connectingRouter(ctx context.Context, tx *store.Tx, ext External, networkID string, prefix netip.Prefix) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.id, f.address FROM routers r
		JOIN network_ports p ON p.instance_id = r.id AND p.device_owner = ?
		JOIN fixed_ips f ON f.port_id = p.id
		WHERE r.gateway_network_id = ? AND f.network_id = ? ORDER BY r.created_at, r.id`,
		network.RouterInterfaceOwner, ext.NetworkID, networkID)
	if err != nil {
		return "", fmt.Errorf("find the router of network %s: %w", networkID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, a string
		if err := rows.Scan(&id, &a); err != nil {
			return "", fmt.Errorf("scan router interface: %w", err)
		}
		if ip, err := netip.ParseAddr(a); err == nil && prefix.Contains(ip) {
			return id, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("find the router of network %s: %w", networkID, err)
	}
	return "", nil
}

// RouteBound gives the floating IPs bound before routers existed
// (router_id unset) the router that serves them, made as for a new
// association (the upgrade step of clouds from before routers); those
// no router serves stay as they are.
func (s *Service) RouteBound(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT fl.id, COALESCE(fl.network_id, ''), fl.fixed_network_id, fl.fixed_address, f.port_id FROM floating_ips fl
		JOIN fixed_ips f ON f.network_id = fl.fixed_network_id AND f.address = fl.fixed_address
		WHERE fl.router_id IS NULL AND fl.gateway_of IS NULL ORDER BY fl.created_at, fl.id`)
	if err != nil {
		return fmt.Errorf("find floating IPs without router: %w", err)
	}
	type bound struct{ id, extID, networkID, address, portID string }
	var todo []bound
	for rows.Next() {
		var b bound
		if err := rows.Scan(&b.id, &b.extID, &b.networkID, &b.address, &b.portID); err != nil {
			rows.Close()
			return fmt.Errorf("scan floating IP: %w", err)
		}
		todo = append(todo, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find floating IPs without router: %w", err)
	}
	for _, b := range todo {
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			routerID, err := s.routerFor(ctx, tx, External{NetworkID: b.extID}, b.networkID, b.address, b.portID)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE floating_ips SET router_id = ? WHERE id = ? AND router_id IS NULL`, routerID, b.id)
			return err
		})
		if err != nil && !errs.Is(err, errs.KindNotFound) {
			return fmt.Errorf("route floating IP %s: %w", b.id, err)
		}
	}
	return nil
}
