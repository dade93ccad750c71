package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// The addresses of ports, as Neutron's IPAM gives them
// (neutron/db/ipam_pluggable_backend.py): IPv4 and stateful IPv6
// addresses come from a subnet's allocation pools, and every port but a
// router's interface has its EUI-64 address on each auto-address subnet
// of its network, asked for or not.

// autoAddress reports whether sn is an auto-address subnet (Neutron's
// is_auto_address_subnet): SLAAC or DHCPv6-stateless in either mode.
func (sn Subnet) autoAddress() bool {
	auto := []string{"slaac", "dhcpv6-stateless"}
	return sn.IPVersion == 6 && (slices.Contains(auto, sn.IPv6AddressMode) || slices.Contains(auto, sn.IPv6RAMode))
}

// routerInterfaceOwners are Neutron's ROUTER_INTERFACE_OWNERS_SNAT: the
// ports that take no automatic addresses.
var routerInterfaceOwners = []string{RouterInterfaceOwner, "network:router_interface_distributed",
	"network:ha_router_replicated_interface", "network:router_centralized_snat"}

func allocationOnAutoAddressSubnet(ip, subnetID string) error {
	return errs.Named("AllocationOnAutoAddressSubnet", errs.Invalid("IPv6 address %s cannot be directly assigned to a port "+
		"on subnet %s as the subnet is configured for automatic addresses", ip, subnetID))
}

// claimDefault gives port p, made without fixed_ips, Neutron's
// addresses: one of the first IPv4 subnet with a free address in its
// pools, likewise one of the stateful IPv6 subnets (those of no mode or
// DHCPv6-stateful), and its EUI-64 address on each auto-address subnet.
func claimDefault(ctx context.Context, tx *store.Tx, networkID string, p Port) error {
	subnets, err := subnetsOf(ctx, tx, "s.network_id = ?", networkID)
	if err != nil {
		return err
	}
	var v4, v6 []Subnet
	for _, sn := range subnets {
		switch {
		case sn.IPVersion == 4:
			v4 = append(v4, sn)
		case !sn.autoAddress():
			v6 = append(v6, sn)
		}
	}
	for _, group := range [][]Subnet{v4, v6} {
		if len(group) > 0 {
			if err := claimAnyOf(ctx, tx, networkID, group, p); err != nil {
				return err
			}
		}
	}
	return claimAutoAddresses(ctx, tx, networkID, subnets, p, nil)
}

// claimAnyOf claims an address of the first of subnets with one free.
func claimAnyOf(ctx context.Context, tx *store.Tx, networkID string, subnets []Subnet, p Port) error {
	for _, sn := range subnets {
		err := claimInSubnet(ctx, tx, networkID, sn, p)
		if !errors.Is(err, ErrNoMoreFixedIPs) {
			return err
		}
	}
	return noMoreFixedIPs(networkID)
}

// claimInSubnet claims a free address of sn's allocation pools.
func claimInSubnet(ctx context.Context, tx *store.Tx, networkID string, sn Subnet, p Port) error {
	if sn.IPVersion == 4 {
		_, err := claimInPools(ctx, tx, networkID, sn, p)
		return err
	}
	return claimInPools6(ctx, tx, networkID, sn, p)
}

// claimAutoAddresses claims p's EUI-64 address on each auto-address
// subnet of subnets that handled does not name; router interfaces take
// none.
func claimAutoAddresses(ctx context.Context, tx *store.Tx, networkID string, subnets []Subnet, p Port, handled map[string]bool) error {
	if slices.Contains(routerInterfaceOwners, p.DeviceOwner) {
		return nil
	}
	for _, sn := range subnets {
		if !sn.autoAddress() || handled[sn.ID] {
			continue
		}
		prefix, err := netip.ParsePrefix(sn.CIDR)
		if err != nil {
			return fmt.Errorf("subnet %s: %w", sn.ID, err)
		}
		mac, err := portMAC(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		a := eui64(prefix.Masked(), mac)
		ok, err := insertFixedIP(ctx, tx, networkID, a, sql.NullInt64{}, p.ID, p.DeviceID)
		if err != nil {
			return err
		}
		if !ok {
			return ipAllocated(a.String(), sn.ID)
		}
	}
	return nil
}

// claimRequested gives port p the addresses reqs ask for, as Neutron's
// _test_fixed_ips_for_port takes them: a given address (on an
// auto-address subnet only the port's EUI-64 one), else one of the
// subnet's pools, except that an auto-address subnet gives its EUI-64
// address whether asked for or not. handled are the subnets an update
// keeps or drops addresses on, which get no automatic address.
func claimRequested(ctx context.Context, tx *store.Tx, networkID string, p Port, reqs []FixedIPRequest, handled map[string]bool) error {
	subnets, err := subnetsOf(ctx, tx, "s.network_id = ?", networkID)
	if err != nil {
		return err
	}
	if handled == nil {
		handled = map[string]bool{}
	}
	router := slices.Contains(routerInterfaceOwners, p.DeviceOwner)
	for _, r := range reqs {
		sn, addr, err := resolveRequest(networkID, subnets, r)
		if err != nil {
			return err
		}
		prefix, err := netip.ParsePrefix(sn.CIDR)
		if err != nil {
			return fmt.Errorf("subnet %s: %w", sn.ID, err)
		}
		auto := sn.autoAddress() && !router
		switch {
		case addr.IsValid():
			if auto {
				mac, err := portMAC(ctx, tx, p.ID)
				if err != nil {
					return err
				}
				if addr != eui64(prefix.Masked(), mac) {
					return allocationOnAutoAddressSubnet(r.IPAddress, sn.ID)
				}
			}
			if err := claimAddress(ctx, tx, networkID, sn, prefix, addr, p); err != nil {
				return err
			}
		case auto:
			continue // the automatic address below
		default:
			if err := claimInSubnet(ctx, tx, networkID, sn, p); err != nil {
				return err
			}
		}
		handled[sn.ID] = true
	}
	return claimAutoAddresses(ctx, tx, networkID, subnets, p, handled)
}

// replaceAddresses gives port p the addresses reqs ask for on an update,
// as Neutron's _get_changed_ips_for_port: an address asked for that it
// holds stays, a subnet asked for keeps the port's address there, and of
// the others those on auto-address subnets stay (for all but router
// interfaces) while the rest are released. New addresses are claimed
// after.
func (s *Service) replaceAddresses(ctx context.Context, tx *store.Tx, p Port, reqs []FixedIPRequest) error {
	kept := map[string]bool{}
	var adds []FixedIPRequest
	for _, r := range reqs {
		if r.IPAddress == "" {
			continue
		}
		if slices.ContainsFunc(p.FixedIPs, func(f FixedIP) bool { return f.IPAddress == r.IPAddress }) && !kept[r.IPAddress] {
			kept[r.IPAddress] = true
		} else {
			adds = append(adds, r)
		}
	}
	for _, r := range reqs {
		if r.IPAddress != "" {
			continue
		}
		i := slices.IndexFunc(p.FixedIPs, func(f FixedIP) bool { return f.SubnetID == r.SubnetID && !kept[f.IPAddress] })
		if i >= 0 {
			kept[p.FixedIPs[i].IPAddress] = true
		} else {
			adds = append(adds, r)
		}
	}
	subnets, err := subnetsOf(ctx, tx, "s.network_id = ?", p.NetworkID)
	if err != nil {
		return err
	}
	router := slices.Contains(routerInterfaceOwners, p.DeviceOwner)
	handled := map[string]bool{}
	for _, f := range p.FixedIPs {
		handled[f.SubnetID] = true
		i := slices.IndexFunc(subnets, func(sn Subnet) bool { return sn.ID == f.SubnetID })
		if kept[f.IPAddress] || (i >= 0 && subnets[i].autoAddress() && !router) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM fixed_ips WHERE port_id = ? AND address = ?`, p.ID, f.IPAddress); err != nil {
			return fmt.Errorf("update port %s: %w", p.ID, err)
		}
	}
	return claimRequested(ctx, tx, p.NetworkID, p, adds, handled)
}

// claimInPools6 claims a free address of an IPv6 subnet's allocation
// pools: a random one (pools are mostly too large to walk), else, in a
// small pool, the first free one.
func claimInPools6(ctx context.Context, tx *store.Tx, networkID string, sn Subnet, p Port) error {
	const walk = 4096
	try := func(a netip.Addr) (bool, error) {
		return insertFixedIP(ctx, tx, networkID, a, sql.NullInt64{}, p.ID, p.DeviceID)
	}
	for _, pool := range sn.Pools {
		start, errS := netip.ParseAddr(pool.Start)
		end, errE := netip.ParseAddr(pool.End)
		if errS != nil || errE != nil {
			return fmt.Errorf("subnet %s has a bad pool %v", sn.ID, pool)
		}
		first := new(big.Int).SetBytes(start.AsSlice())
		span := new(big.Int).Sub(new(big.Int).SetBytes(end.AsSlice()), first)
		span.Add(span, big.NewInt(1))
		for range randomTries {
			r := new(big.Int).Lsh(new(big.Int).SetUint64(rand.Uint64()), 64)
			r.Or(r, new(big.Int).SetUint64(rand.Uint64()))
			r.Mod(r, span).Add(r, first)
			var b [16]byte
			r.FillBytes(b[:])
			if ok, err := try(netip.AddrFrom16(b)); err != nil || ok {
				return err
			}
		}
		for a, i := start, 0; i < walk && a.Compare(end) <= 0; a, i = a.Next(), i+1 {
			if ok, err := try(a); err != nil || ok {
				return err
			}
		}
	}
	return noMoreFixedIPs(networkID)
}
