package floatingip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// fixedIP is one fixed address of a server with its port.
type fixedIP struct {
	networkID, address, portID string
	version                    int
}

// fixedIPsOf returns the server's fixed IPs in the order Nova's network
// info lists them (ports in creation order, IPv4 before IPv6).
func fixedIPsOf(ctx context.Context, tx *store.Tx, instanceID string) ([]fixedIP, error) {
	rows, err := tx.QueryContext(ctx, `SELECT f.network_id, f.address, f.port_id, f.version
		FROM fixed_ips f JOIN network_ports p ON p.id = f.port_id
		WHERE f.instance_id = ?
		ORDER BY p.created_at, p.position, f.version, f.address`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("read fixed IPs of instance %s: %w", instanceID, err)
	}
	defer rows.Close()
	var out []fixedIP
	for rows.Next() {
		var f fixedIP
		if err := rows.Scan(&f.networkID, &f.address, &f.portID, &f.version); err != nil {
			return nil, fmt.Errorf("scan fixed IP: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read fixed IPs of instance %s: %w", instanceID, err)
	}
	return out, nil
}

// chooseFixed picks the fixed IP to bind as Nova's addFloatingIp does:
// the one named, else the server's first IPv4 address.
func chooseFixed(fixed []fixedIP, instanceID, address, fixedAddress string) (fixedIP, error) {
	if len(fixed) == 0 {
		return fixedIP{}, errs.Invalid("Instance network is not ready yet")
	}
	for _, f := range fixed {
		if fixedAddress != "" && sameAddr(f.address, fixedAddress) {
			return f, nil
		}
		if fixedAddress == "" && f.version == 4 {
			return f, nil
		}
	}
	if fixedAddress != "" {
		return fixedIP{}, errs.Invalid("Specified fixed address not assigned to instance")
	}
	return fixedIP{}, errs.Invalid("Unable to associate floating IP %s to any fixed IPs for instance %s. "+
		"Instance has no fixed IPv4 addresses to associate.", address, instanceID)
}

// sameAddr compares addresses by value (IPv6 has many spellings).
func sameAddr(a, b string) bool {
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return x == y
}

// Associate binds the floating IP address (which p must see) to a fixed
// IP of instanceID: fixedAddress, or the server's first IPv4 address when
// "". A floating IP bound elsewhere moves, as with Neutron. The caller
// has checked that p may act on the server.
func (s *Service) Associate(ctx context.Context, p *auth.Principal, instanceID, address, fixedAddress string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		fixed, err := fixedIPsOf(ctx, tx, instanceID)
		if err != nil {
			return err
		}
		target, err := chooseFixed(fixed, instanceID, address, fixedAddress)
		if err != nil {
			return err
		}
		fip, err := getOne(ctx, tx, p, `fl.address = ?`, canonical(address))
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errs.NotFound("floating IP not found")
			}
			return err
		}
		if fip.FixedNetworkID == target.networkID && fip.FixedAddress == target.address {
			return nil
		}
		if target.version != 4 {
			return associateFailed(address, target.address, instanceID,
				fmt.Sprintf("Bad floatingip request: Cannot process floating IP association with %s, since that is not an IPv4 address.", target.address))
		}
		var holder string
		err = tx.QueryRowContext(ctx, `SELECT id FROM floating_ips WHERE fixed_network_id = ? AND fixed_address = ? AND network_id = ?`,
			target.networkID, target.address, fip.NetworkID).Scan(&holder)
		if err == nil {
			// Neutron's FloatingIPPortAlreadyAssociated, a 409 Nova turns
			// into FloatingIpAssociateFailed (400 with Neutron's message).
			return errs.Invalid("Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP "+
				"already has a floating IP on external network %s.", fip.Address, fip.ID, target.portID, target.address, fip.NetworkID)
		}
		if !isNoRows(err) {
			return fmt.Errorf("find the floating IP of %s: %w", target.address, err)
		}
		// As Neutron checks the association Nova asks for: a router must
		// connect the fixed IP's subnet to the external network.
		routerID, err := s.routerFor(ctx, tx, External{NetworkID: fip.NetworkID}, target.networkID, target.address, target.portID)
		if errs.Is(err, errs.KindNotFound) {
			return associateFailed(address, target.address, instanceID, errs.Message(err))
		}
		if err != nil {
			return err
		}
		return setFixed(ctx, tx, fip.ID, &portFixedIP{networkID: target.networkID, address: target.address}, routerID)
	})
}

// associateFailed is the 400 Nova answers when Neutron refuses an
// association for a reason it has no special case for.
func associateFailed(address, fixedAddress, instanceID, reason string) error {
	return errs.Invalid("Unable to associate floating IP %s to fixed IP %s for instance %s. Error: %s",
		address, fixedAddress, instanceID, reason)
}

// Disassociate unbinds the floating IP address from instanceID; an
// address bound to no server or another one is a conflict, as in Nova.
func (s *Service) Disassociate(ctx context.Context, p *auth.Principal, instanceID, address string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		fip, err := getByAddress(ctx, tx, p, canonical(address))
		if err != nil {
			return err
		}
		if fip.InstanceID == "" || fip.InstanceID != instanceID {
			return notAssociated(address, instanceID)
		}
		return setFixed(ctx, tx, fip.ID, nil, "")
	})
}

// canonical is an address in the form stored (Go's, for IPv4 the dotted
// quad); an unparsable one is returned as is and matches nothing.
func canonical(address string) string {
	if a, err := netip.ParseAddr(address); err == nil {
		return a.String()
	}
	return address
}
