package floatingip

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/store"
)

// AdoptPorts is the upgrade step of clouds from before floating IPs and
// gateways had ports (schema 32): the floating IPs, all of the built-in
// external network, get that network and their port holding their
// address; the routers' gateway addresses kept with them become gateway
// ports. kumo runs it at start, after the external network is ensured.
// A row whose address a port took meanwhile (nothing kept ports off
// pool addresses then) stays as it is.
func (s *Service) AdoptPorts(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, address, COALESCE(gateway_of, '') FROM floating_ips
		WHERE port_id IS NULL ORDER BY created_at, id`)
	if err != nil {
		return fmt.Errorf("find floating IPs without port: %w", err)
	}
	type legacy struct{ id, address, gatewayOf string }
	var todo []legacy
	for rows.Next() {
		var l legacy
		if err := rows.Scan(&l.id, &l.address, &l.gatewayOf); err != nil {
			rows.Close()
			return fmt.Errorf("scan floating IP: %w", err)
		}
		todo = append(todo, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find floating IPs without port: %w", err)
	}
	for _, l := range todo {
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			extID, _, err := network.ExternalNetworkIn(ctx, tx)
			if err != nil {
				return err
			}
			fixed := []network.FixedIPRequest{{IPAddress: l.address}}
			sp := network.ServicePort{NetworkID: extID, DeviceID: l.id, DeviceOwner: network.FloatingIPOwner, FixedIPs: &fixed}
			if l.gatewayOf != "" {
				sp.DeviceID, sp.DeviceOwner = l.gatewayOf, network.RouterGatewayOwner
			}
			portID, _, err := s.nets.CreateServicePortIn(ctx, tx, sp)
			if err != nil {
				return err
			}
			if l.gatewayOf != "" {
				_, err = tx.ExecContext(ctx, `DELETE FROM floating_ips WHERE id = ?`, l.id)
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE floating_ips SET network_id = ?, port_id = ? WHERE id = ?`, extID, portID, l.id)
			}
			return err
		})
		if err != nil && errs.KindOf(err) == errs.KindInternal {
			return fmt.Errorf("give floating IP %s its port: %w", l.address, err)
		}
	}
	return nil
}
