package floatingip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// poolFor resolves the pool a Nova request names to its external
// network: "" (or the configured pool's name or id) is the built-in
// external network, another name or id any router:external network's.
func (s *Service) poolFor(ctx context.Context, q store.Querier, requested string) (networkID, name string, err error) {
	if s.poolErr != nil {
		return "", "", fmt.Errorf("floating IP pool: %w", s.poolErr)
	}
	if requested == "" || (s.pool != nil && (requested == s.pool.Name || requested == s.pool.ID)) {
		if s.pool == nil {
			return "", "", poolNotFound()
		}
		id, _, err := network.ExternalNetworkIn(ctx, q)
		if errs.Is(err, errs.KindNotFound) {
			return "", "", poolNotFound()
		}
		return id, s.pool.Name, err
	}
	id, name, err := network.ExternalNamed(ctx, q, requested)
	if err == nil && id == "" {
		err = poolNotFound()
	}
	return id, name, err
}

// Allocate gives projectID a free address of the pool requested ("" for
// the default pool), Nova's os-floating-ips create: within the project's
// floatingip quota (Neutron's, checked in the same transaction), whose
// refusal Nova turns into its 403 with Neutron's message.
func (s *Service) Allocate(ctx context.Context, projectID, requested string) (*FloatingIP, error) {
	f := &FloatingIP{ID: uuid.NewString(), ProjectID: projectID}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if f.NetworkID, f.Pool, err = s.poolFor(ctx, tx, requested); err != nil {
			return err
		}
		if err := s.quota.Check(ctx, tx, projectID, netquota.FloatingIP, 1); err != nil {
			if errs.NameOf(err) == "OverQuota" {
				return errs.Forbidden("%s", errs.Message(err))
			}
			return err
		}
		err = s.claim(ctx, tx, f, nil)
		if errors.Is(err, network.ErrNoMoreFixedIPs) || errs.NameOf(err) == "IpAddressGenerationFailure" ||
			errs.NameOf(err) == "ExternalIpAddressExhausted" {
			return noMoreFloatingIPs(requested)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// claim gives f (its id, project and network set) its port on its
// network with the address req asks for (nil: any of the network's
// first IPv4 subnet), and stores it.
func (s *Service) claim(ctx context.Context, tx *store.Tx, f *FloatingIP, req *network.FixedIPRequest) error {
	var fixed []network.FixedIPRequest
	if req != nil {
		fixed = []network.FixedIPRequest{*req}
	} else {
		subnets, err := network.IPv4SubnetsIn(ctx, tx, f.NetworkID)
		if err != nil {
			return err
		}
		if len(subnets) == 0 {
			return BadRequest("Network %s does not contain any IPv4 subnet", f.NetworkID)
		}
		fixed = []network.FixedIPRequest{{SubnetID: subnets[0]}}
	}
	portID, ips, err := s.nets.CreateServicePortIn(ctx, tx, network.ServicePort{NetworkID: f.NetworkID, DeviceID: f.ID,
		DeviceOwner: network.FloatingIPOwner, FixedIPs: &fixed})
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip.IPAddress); err == nil && a.Is4() {
			f.Address = a.String()
			break
		}
	}
	if f.Address == "" {
		return errs.Named("ExternalIpAddressExhausted", errs.Invalid("Unable to find any IP address on external network %s.", f.NetworkID))
	}
	f.port = portID
	now := store.Now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO floating_ips (id, network_id, port_id, pool, address, project_id,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.NetworkID, portID, f.Pool, f.Address, f.ProjectID, now, now); err != nil {
		return fmt.Errorf("claim floating IP %s: %w", f.Address, err)
	}
	return nil
}

// remove deletes floating IP id with its port and tags.
func remove(ctx context.Context, tx *store.Tx, id, portID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM floating_ips WHERE id = ?`, id); err != nil {
		return fmt.Errorf("release floating IP %s: %w", id, err)
	}
	if portID != "" {
		if err := network.DeletePortIn(ctx, tx, portID); err != nil {
			return err
		}
	}
	return network.DeleteTags(ctx, tx, KindFloatingIPs, id)
}

// Release deallocates the floating IP id, disassociating it first if
// bound (Nova's disassociate_and_release_floating_ip).
func (s *Service) Release(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		f, err := getByID(ctx, tx, p, id)
		if err != nil {
			return err
		}
		return remove(ctx, tx, f.ID, f.port)
	})
}

// DeleteDisassociated deletes the unbound floating IPs of networkID
// (network.FloatingIPs: a network delete takes them along, as Neutron's).
func (s *Service) DeleteDisassociated(ctx context.Context, tx *store.Tx, networkID string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, COALESCE(port_id, '') FROM floating_ips
		WHERE network_id = ? AND fixed_address IS NULL AND gateway_of IS NULL`, networkID)
	if err != nil {
		return fmt.Errorf("floating IPs of network %s: %w", networkID, err)
	}
	var ids, ports []string
	for rows.Next() {
		var id, port string
		if err := rows.Scan(&id, &port); err != nil {
			rows.Close()
			return fmt.Errorf("scan floating IP: %w", err)
		}
		ids, ports = append(ids, id), append(ports, port)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("floating IPs of network %s: %w", networkID, err)
	}
	for i := range ids {
		if err := remove(ctx, tx, ids[i], ports[i]); err != nil {
			return err
		}
	}
	return nil
}
