package network

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// SubnetFields are a subnet's attributes a create or an update sets; nil
// leaves one at its default (create) or as it is (update). GatewayIP
// pointing at "" is a subnet without a gateway (JSON null).
type SubnetFields struct {
	Name, Description *string
	GatewayIP         *string
	Pools             *[]Pool
	DNS               *[]string
	HostRoutes        *[]HostRoute
	EnableDHCP        *bool
	IPv6RAMode        *string
	IPv6AddressMode   *string
}

// SubnetCreate is a new subnet: its network, version and range, and its
// other attributes.
type SubnetCreate struct {
	NetworkID string
	ProjectID string
	IPVersion int
	CIDR      string
	SubnetFields
}

// ipv6Modes are the values of ipv6_ra_mode and ipv6_address_mode.
var ipv6Modes = []string{"slaac", "dhcpv6-stateful", "dhcpv6-stateless"}

// ListSubnets lists the subnets of sc: a project's own and those of its
// and shared networks; oldest first, with tags. An external network is
// everyone's to see, its subnets not (Neutron's subnets follow their
// network's access_as_shared entries only).
func (s *Service) ListSubnets(ctx context.Context, sc Scope) ([]Subnet, error) {
	where, args := "1 = 1", []any{}
	if !sc.All {
		where, args = "s.project_id = ? OR n.project_id = ? OR n.shared", []any{sc.ProjectID, sc.ProjectID}
	}
	out, err := subnetsOf(ctx, s.db, where, args...)
	if err != nil {
		return nil, err
	}
	return out, s.fillSubnetTags(ctx, out)
}

func (s *Service) fillSubnetTags(ctx context.Context, subnets []Subnet) error {
	if len(subnets) == 0 {
		return nil
	}
	ids := make([]string, len(subnets))
	for i, sn := range subnets {
		ids[i] = sn.ID
	}
	tags, err := tagsOf(ctx, s.db, KindSubnets, ids)
	for i := range subnets {
		subnets[i].Tags = nonNilStrings(tags[subnets[i].ID])
	}
	return err
}

// InScope reports whether the subnet is one ListSubnets lists for sc.
func (sn Subnet) InScope(sc Scope) bool {
	return sc.All || sn.ProjectID == sc.ProjectID || sn.NetworkProjectID == sc.ProjectID || sn.Shared
}

// GetSubnet returns subnet id, whoever owns it.
func (s *Service) GetSubnet(ctx context.Context, id string) (Subnet, error) {
	sn, err := getSubnet(ctx, s.db, id)
	if err != nil {
		return Subnet{}, err
	}
	out := []Subnet{sn}
	if err := s.fillSubnetTags(ctx, out); err != nil {
		return Subnet{}, err
	}
	return out[0], nil
}

// CreateSubnet adds a subnet to a network, checked as Neutron checks it:
// a CIDR of its IP version given by its network address, a gateway and
// pools inside it that do not overlap, no overlap with the network's
// other subnets, within the project's subnet quota. The network's
// revision goes up.
func (s *Service) CreateSubnet(ctx context.Context, c SubnetCreate) (Subnet, error) {
	p, err := parseCIDR(c.CIDR, c.IPVersion)
	if err != nil {
		return Subnet{}, err
	}
	now := store.Now()
	sn := newSubnet(c.NetworkID, c.ProjectID, p, now)
	gatewaySet := c.GatewayIP != nil
	if err := s.applySubnet(&sn, p, c.SubnetFields, c.Pools == nil); err != nil {
		return Subnet{}, err
	}
	if (sn.IPv6RAMode != "" || sn.IPv6AddressMode != "") && !sn.EnableDHCP {
		return Subnet{}, invalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.")
	}
	if !gatewaySet && c.Pools != nil && len(*c.Pools) > 0 && sn.GatewayIP != "" && inPools(sn.Pools, netip.MustParseAddr(sn.GatewayIP)) {
		// Neutron picks the first address outside the pools' way only
		// when asked; a default gateway inside given pools is a conflict.
		return Subnet{}, gatewayConflict(sn.GatewayIP, sn.Pools)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.getNetwork(ctx, tx, c.NetworkID); err != nil {
			return err
		}
		if err := s.quota.Check(ctx, tx, c.ProjectID, netquota.Subnet, 1); err != nil {
			return err
		}
		others, err := subnetsOf(ctx, tx, "s.network_id = ?", c.NetworkID)
		if err != nil {
			return err
		}
		for _, o := range others {
			if op, err := netip.ParsePrefix(o.CIDR); err == nil && op.Overlaps(p) {
				return invalidInput("Requested subnet with cidr: %s for network: %s overlaps with another subnet", p, c.NetworkID)
			}
		}
		if _, err := insertSubnet(ctx, tx, sn); err != nil {
			return err
		}
		return touchNetwork(ctx, tx, c.NetworkID)
	})
	if err != nil {
		return Subnet{}, err
	}
	return s.GetSubnet(ctx, sn.ID)
}

// touchNetwork bumps a network's revision when its subnets change.
func touchNetwork(ctx context.Context, tx *store.Tx, id string) error {
	_, err := tx.ExecContext(ctx, `UPDATE networks SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?`, store.Now(), id)
	return err
}

// parseCIDR checks a subnet's CIDR as neutron-lib's validate_subnet
// does: a network address of the subnet's IP version.
func parseCIDR(cidr string, ipVersion int) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return p, invalidInput("'%s' is not a valid IP subnet", cidr)
	}
	if p.Masked() != p {
		return p, invalidInput("'%s' isn't a recommended CIDR, use '%s' instead", cidr, p.Masked())
	}
	if version(p.Addr()) != ipVersion {
		return p, invalidInput("Cidr %s does not support IPv%d", cidr, ipVersion)
	}
	if p.Addr().Is4() && p.Bits() > 30 || p.Addr().Is6() && p.Bits() > 126 {
		return p, invalidInput("Invalid CIDR %s for IPv%d address mode", cidr, ipVersion)
	}
	return p, nil
}

// applySubnet sets f on sn (of range p) and checks the result; with
// defaultPools the pools follow the gateway.
func (s *Service) applySubnet(sn *Subnet, p netip.Prefix, f SubnetFields, defaultPoolsFollow bool) error {
	for _, v := range []struct {
		dst *string
		v   *string
	}{{&sn.Name, f.Name}, {&sn.Description, f.Description}, {&sn.IPv6RAMode, f.IPv6RAMode}, {&sn.IPv6AddressMode, f.IPv6AddressMode}} {
		if v.v != nil {
			*v.dst = *v.v
		}
	}
	if f.EnableDHCP != nil {
		sn.EnableDHCP = *f.EnableDHCP
	}
	if f.GatewayIP != nil {
		sn.GatewayIP = *f.GatewayIP
		if sn.GatewayIP != "" {
			gw, err := netip.ParseAddr(sn.GatewayIP)
			if err != nil || gw.Zone() != "" {
				return invalidInput("'%s' is not a valid IP address", sn.GatewayIP)
			}
			first, last := hostBounds(p)
			if !p.Contains(gw) || gw.Compare(first) < 0 || gw.Compare(last) > 0 {
				return invalidInput("Gateway is not valid on subnet")
			}
			sn.GatewayIP = gw.String()
		}
		if defaultPoolsFollow {
			sn.Pools = defaultPools(p, addrOrZero(sn.GatewayIP))
		}
	}
	if f.Pools != nil {
		pools, err := checkPools(p, *f.Pools)
		if err != nil {
			return err
		}
		sn.Pools = pools
	}
	if gw := addrOrZero(sn.GatewayIP); gw.IsValid() && inPools(sn.Pools, gw) {
		return gatewayConflict(sn.GatewayIP, sn.Pools)
	}
	if f.DNS != nil {
		dns, err := checkNameservers(*f.DNS)
		if err != nil {
			return err
		}
		sn.DNS = dns
	}
	if f.HostRoutes != nil {
		routes, err := checkHostRoutes(*f.HostRoutes, sn.IPVersion)
		if err != nil {
			return err
		}
		sn.HostRoutes = routes
	}
	return checkIPv6Modes(sn)
}

func addrOrZero(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

func inPools(pools []Pool, a netip.Addr) bool {
	for _, p := range pools {
		if a.Compare(netip.MustParseAddr(p.Start)) >= 0 && a.Compare(netip.MustParseAddr(p.End)) <= 0 {
			return true
		}
	}
	return false
}

// gatewayConflict is Neutron's GatewayConflictWithAllocationPools.
func gatewayConflict(gw string, pools []Pool) error {
	return errs.Named("GatewayConflictWithAllocationPools",
		errs.Conflict("Gateway ip %s conflicts with allocation pool %s", gw, poolsText(pools)))
}

func poolsText(pools []Pool) string {
	out := ""
	for i, p := range pools {
		if i > 0 {
			out += ", "
		}
		out += p.Start + "-" + p.End
	}
	return out
}

// checkPools validates allocation pools: addresses of the subnet's
// hosts, start not after end, no two overlapping.
func checkPools(p netip.Prefix, pools []Pool) ([]Pool, error) {
	first, last := hostBounds(p)
	type span struct{ a, b netip.Addr }
	var spans []span
	out := make([]Pool, 0, len(pools))
	for _, pool := range pools {
		a, errA := netip.ParseAddr(pool.Start)
		b, errB := netip.ParseAddr(pool.End)
		if errA != nil || errB != nil || version(a) != version(p.Addr()) || version(b) != version(p.Addr()) {
			return nil, invalidInput("Invalid allocation pool %s-%s", pool.Start, pool.End)
		}
		if a.Compare(b) > 0 {
			return nil, invalidInput("Invalid allocation pool %s-%s", a, b)
		}
		if a.Compare(first) < 0 || b.Compare(last) > 0 {
			return nil, invalidInput("The allocation pool %s-%s spans beyond the subnet cidr %s", a, b, p)
		}
		for _, s := range spans {
			if a.Compare(s.b) <= 0 && s.a.Compare(b) <= 0 {
				return nil, invalidInput("Found overlapping allocation pools: %s-%s and %s-%s", s.a, s.b, a, b)
			}
		}
		spans = append(spans, span{a, b})
		out = append(out, Pool{Start: a.String(), End: b.String()})
	}
	return out, nil
}

// checkNameservers validates dns_nameservers: unique IP addresses.
func checkNameservers(dns []string) ([]string, error) {
	out := make([]string, 0, len(dns))
	for _, d := range dns {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return nil, invalidInput("'%s' is not a valid nameserver. '%s' is not a valid IP address", d, d)
		}
		if slices.Contains(out, a.String()) {
			return nil, invalidInput("Duplicate nameserver '%s'", d)
		}
		out = append(out, a.String())
	}
	return out, nil
}

// checkHostRoutes validates host_routes: a CIDR and a next hop of the
// subnet's IP version each, no route twice.
func checkHostRoutes(routes []HostRoute, ipVersion int) ([]HostRoute, error) {
	out := make([]HostRoute, 0, len(routes))
	for _, r := range routes {
		dst, err := netip.ParsePrefix(r.Destination)
		hop, err2 := netip.ParseAddr(r.NextHop)
		if err != nil || err2 != nil {
			return nil, invalidInput("Invalid data format for hostroute: '%s'", fmt.Sprintf("{'destination': '%s', 'nexthop': '%s'}", r.Destination, r.NextHop))
		}
		if version(dst.Addr()) != ipVersion || version(hop) != ipVersion {
			return nil, invalidInput("Invalid route %s via %s for an IPv%d subnet", r.Destination, r.NextHop, ipVersion)
		}
		hr := HostRoute{Destination: dst.Masked().String(), NextHop: hop.String()}
		if slices.Contains(out, hr) {
			return nil, invalidInput("Duplicate hostroute '%s'", r.Destination)
		}
		out = append(out, hr)
	}
	return out, nil
}

// checkIPv6Modes checks ipv6_ra_mode and ipv6_address_mode: IPv6 only,
// known values, equal when both are set.
func checkIPv6Modes(sn *Subnet) error {
	for _, m := range []string{sn.IPv6RAMode, sn.IPv6AddressMode} {
		if m == "" {
			continue
		}
		if sn.IPVersion != 6 {
			return invalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False or ip_version is 4")
		}
		if !slices.Contains(ipv6Modes, m) {
			return invalidInput("'%s' is not in %v", m, ipv6Modes)
		}
	}
	if sn.IPv6RAMode != "" && sn.IPv6AddressMode != "" && sn.IPv6RAMode != sn.IPv6AddressMode {
		return invalidInput("ipv6_ra_mode set to '%s' with ipv6_address_mode set to '%s' is not valid. If both attributes are set, they must be the same value",
			sn.IPv6RAMode, sn.IPv6AddressMode)
	}
	// Neutron's EUI-64 addresses need a /64.
	if p, err := netip.ParsePrefix(sn.CIDR); err == nil && sn.autoAddress() && p.Bits() != 64 {
		return invalidInput("Invalid CIDR %s for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64", sn.CIDR)
	}
	return nil
}

// UpdateSubnet changes subnet id and bumps its revision.
func (s *Service) UpdateSubnet(ctx context.Context, id string, f SubnetFields) (Subnet, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		sn, err := getSubnet(ctx, tx, id)
		if err != nil {
			return err
		}
		if f.IPv6RAMode != nil || f.IPv6AddressMode != nil {
			return invalidInput("Cannot update read-only attribute ipv6_ra_mode or ipv6_address_mode")
		}
		p, err := netip.ParsePrefix(sn.CIDR)
		if err != nil {
			return fmt.Errorf("subnet %s: %w", id, err)
		}
		if err := s.applySubnet(&sn, p, f, false); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subnets SET name = ?, description = ?, gateway_ip = ?, allocation_pools = ?,
			dns_nameservers = ?, host_routes = ?, enable_dhcp = ?, revision_number = revision_number + 1, updated_at = ?
			WHERE id = ?`, sn.Name, sn.Description, nullIfEmpty(sn.GatewayIP), mustJSON(sn.Pools), mustJSON(sn.DNS),
			mustJSON(sn.HostRoutes), sn.EnableDHCP, store.Now(), id)
		return err
	})
	if err != nil {
		return Subnet{}, err
	}
	return s.GetSubnet(ctx, id)
}

// DeleteSubnet deletes subnet id with its tags, as Neutron's
// delete_subnet: a router interface on it, or on a subnet that is not
// auto-address any port's address, is SubnetInUse; the EUI-64 addresses
// ports hold on an auto-address subnet go with it.
func (s *Service) DeleteSubnet(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		sn, err := getSubnet(ctx, tx, id)
		if err != nil {
			return err
		}
		p, err := netip.ParsePrefix(sn.CIDR)
		if err != nil {
			return fmt.Errorf("subnet %s: %w", id, err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT f.address, f.port_id, COALESCE(p.device_owner, '') FROM fixed_ips f
			LEFT JOIN network_ports p ON p.id = f.port_id WHERE f.network_id = ? AND f.version = ?`, sn.NetworkID, sn.IPVersion)
		if err != nil {
			return fmt.Errorf("addresses of subnet %s: %w", id, err)
		}
		type held struct{ addr, port string }
		var on []held
		inUse := false
		for rows.Next() {
			var h held
			var owner string
			if err := rows.Scan(&h.addr, &h.port, &owner); err != nil {
				rows.Close()
				return err
			}
			if a, err := netip.ParseAddr(h.addr); err == nil && p.Contains(a) {
				on = append(on, h)
				inUse = inUse || !sn.autoAddress() || slices.Contains(routerInterfaceOwners, owner)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if inUse {
			return subnetInUse(id)
		}
		for _, h := range on {
			if _, err := tx.ExecContext(ctx, `DELETE FROM fixed_ips WHERE network_id = ? AND address = ?`, sn.NetworkID, h.addr); err != nil {
				return fmt.Errorf("release %s of subnet %s: %w", h.addr, id, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE network_ports SET revision_number = revision_number + 1, updated_at = ?
				WHERE id = ?`, store.Now(), h.port); err != nil {
				return fmt.Errorf("release %s of subnet %s: %w", h.addr, id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM subnets WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete subnet %s: %w", id, err)
		}
		if err := deleteTags(ctx, tx, KindSubnets, id); err != nil {
			return err
		}
		return touchNetwork(ctx, tx, sn.NetworkID)
	})
}
