package network

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/kumocloud/kumo/internal/store"
)

// Router interfaces are ports that the router domain makes, takes and
// removes in its own transactions.

// DeletePortIn removes port id with its addresses and tags in the
// caller's transaction.
func DeletePortIn(ctx context.Context, tx *store.Tx, id string) error {
	if err := deletePorts(ctx, tx, []string{id}); err != nil {
		return err
	}
	return deleteTags(ctx, tx, KindPorts, id)
}

// AttachPortIn gives port id to a device (device_id, device_owner) in
// the caller's transaction, revising it.
func AttachPortIn(ctx context.Context, tx *store.Tx, id, deviceID, deviceOwner string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE network_ports SET instance_id = ?, device_owner = ?,
		revision_number = revision_number + 1, updated_at = ? WHERE id = ?`, deviceID, deviceOwner, store.Now(), id); err != nil {
		return fmt.Errorf("attach port %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fixed_ips SET instance_id = ? WHERE port_id = ?`, deviceID, id); err != nil {
		return fmt.Errorf("attach the addresses of port %s: %w", id, err)
	}
	return nil
}

// SubnetOf finds the subnet of networkID whose range holds address ("":
// none), with that range.
func SubnetOf(ctx context.Context, q store.Querier, networkID, address string) (string, netip.Prefix, error) {
	ranges, err := subnetRanges(ctx, q, []string{networkID})
	if err != nil {
		return "", netip.Prefix{}, err
	}
	id := subnetHolding(ranges[networkID], address)
	for _, r := range ranges[networkID] {
		if r.id == id {
			return id, r.cidr, nil
		}
	}
	return "", netip.Prefix{}, nil
}
