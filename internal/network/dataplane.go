package network

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Dataplane is what the guest network of compute host host must be:
// servers are the ids of the servers placed there (the compute domain
// knows them). It runs every half second on each compute host, so it
// reads with a fixed handful of queries whatever the number of ports,
// outside a transaction: a read torn by a concurrent change is corrected
// by the next one. Every list is sorted (by id where there is one) so
// two Hosts compare with reflect.DeepEqual; empty lists are nil.
func (s *Service) Dataplane(ctx context.Context, host string, servers []string) (dataplane.Host, error) {
	if s.Groups == nil {
		// Ports without groups drop everything: say so rather than cut
		// every guest off for want of wiring.
		return dataplane.Host{}, errors.New("dataplane: no security group reader wired (network.Service.Groups)")
	}
	q := store.Querier(s.db)
	h := dataplane.Host{Name: host}
	ports, err := guestPorts(ctx, q, servers)
	if err != nil {
		return dataplane.Host{}, err
	}
	portNets := map[string]bool{}
	portIDs := make([]string, len(ports))
	for i, p := range ports {
		portNets[p.NetworkID], portIDs[i] = true, p.ID
	}
	groups, err := s.Groups.PortGroupIDs(ctx, q, portIDs)
	if err != nil {
		return dataplane.Host{}, err
	}
	cands, err := candidateRouters(ctx, q, sortedKeys(portNets))
	if err != nil {
		return dataplane.Host{}, err
	}
	// The subnets of every network a port, router interface or gateway
	// is on, in one read: the routers' parts need their CIDRs.
	nets := maps.Clone(portNets)
	for _, r := range cands {
		for _, rp := range r.ports {
			nets[rp.networkID] = true
		}
	}
	netRows, subnets, err := networksAndSubnets(ctx, q, sortedKeys(nets))
	if err != nil {
		return dataplane.Host{}, err
	}
	ranges := map[string][]subnetRange{}
	for id, sns := range subnets {
		for _, sn := range sns {
			if p, err := netip.ParsePrefix(sn.CIDR); err == nil {
				ranges[id] = append(ranges[id], subnetRange{id: sn.ID, cidr: p})
			}
		}
	}
	guestSubnets := map[string]bool{} // IPv4 subnets a guest port has an address on
	for i := range ports {
		p := &ports[i]
		p.Groups = groups[p.ID]
		for k := range p.FixedIPs {
			f := &p.FixedIPs[k]
			f.SubnetID = subnetHolding(ranges[p.NetworkID], f.Address)
			if is4(f.Address) && f.SubnetID != "" {
				guestSubnets[f.SubnetID] = true
			}
		}
	}
	byID := subnetsByID(subnets)
	var routerIDs []string
	outNets := maps.Clone(portNets)
	for _, c := range cands {
		r, ok := c.build(ranges, byID, guestSubnets)
		if !ok {
			continue
		}
		if r.Gateway != nil {
			outNets[r.Gateway.NetworkID] = true
		}
		h.Routers = append(h.Routers, r)
		routerIDs = append(routerIDs, r.ID)
	}
	if err := floatingIPsOf(ctx, q, h.Routers, routerIDs); err != nil {
		return dataplane.Host{}, err
	}
	for _, id := range sortedKeys(outNets) {
		n, ok := netRows[id]
		if !ok {
			continue // deleted since the ports were read
		}
		for _, sn := range subnets[id] {
			if sn.IPVersion == 4 {
				n.Subnets = append(n.Subnets, dataplaneSubnet(sn))
			}
		}
		slices.SortFunc(n.Subnets, func(a, b dataplane.Subnet) int { return cmp.Compare(a.ID, b.ID) })
		h.Networks = append(h.Networks, n)
	}
	h.Ports = ports
	if h.Groups, err = groupsOf(ctx, q, groups); err != nil {
		return dataplane.Host{}, err
	}
	ext, _, err := ExternalNetworkIn(ctx, q)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return dataplane.Host{}, err
	}
	h.External = ext
	return h, nil
}

// guestPorts reads the ports of servers with their addresses (subnets
// not yet known), sorted by id.
func guestPorts(ctx context.Context, q store.Querier, servers []string) ([]dataplane.Port, error) {
	if len(servers) == 0 {
		return nil, nil
	}
	from, arg := store.StringsTable(q, "i", servers)
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.project_id, p.network_id, p.instance_id, p.mac,
		p.port_security_enabled, p.allowed_address_pairs, COALESCE(f.address, '')
		FROM `+from+` JOIN network_ports p ON p.instance_id = i.value
		LEFT JOIN fixed_ips f ON f.port_id = p.id ORDER BY p.id`, arg)
	if err != nil {
		return nil, fmt.Errorf("dataplane: ports of %d servers: %w", len(servers), err)
	}
	defer rows.Close()
	var out []dataplane.Port
	for rows.Next() {
		var p dataplane.Port
		var pairs, addr string
		if err := rows.Scan(&p.ID, &p.ProjectID, &p.NetworkID, &p.DeviceID, &p.MAC, &p.SecurityEnabled, &pairs,
			&addr); err != nil {
			return nil, fmt.Errorf("dataplane: scan port: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ID != p.ID {
			p.MAC = strings.ToLower(p.MAC)
			var stored []AddressPair
			if err := json.Unmarshal([]byte(pairs), &stored); err != nil {
				return nil, fmt.Errorf("dataplane: allowed address pairs of port %s: %w", p.ID, err)
			}
			for _, pr := range stored {
				p.AddressPairs = append(p.AddressPairs, dataplane.AddressPair{IP: pr.IPAddress, MAC: strings.ToLower(pr.MACAddress)})
			}
			slices.SortFunc(p.AddressPairs, func(a, b dataplane.AddressPair) int {
				return cmp.Or(cmp.Compare(a.IP, b.IP), cmp.Compare(a.MAC, b.MAC))
			})
			out = append(out, p)
		}
		if addr != "" {
			last := &out[len(out)-1]
			last.FixedIPs = append(last.FixedIPs, dataplane.FixedIP{Address: addr})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dataplane: ports of %d servers: %w", len(servers), err)
	}
	for i := range out {
		slices.SortFunc(out[i].FixedIPs, func(a, b dataplane.FixedIP) int { return compareAddr(a.Address, b.Address) })
	}
	return out, nil
}

// routerPort is one address of a router's interface or gateway port.
type routerPort struct {
	id, owner, networkID, mac, address string
}

// candidate is a router with an interface on a network of a guest port,
// and the addresses of all its ports.
type candidate struct {
	id, projectID string
	snat          bool
	routes        []dataplane.Route
	ports         []routerPort
}

// candidateRouters reads the routers with an interface port on one of
// networks, with their interface and gateway ports' addresses, sorted by
// id: which of them join a guest's subnet is known once the subnets are.
func candidateRouters(ctx context.Context, q store.Querier, networks []string) ([]*candidate, error) {
	if len(networks) == 0 {
		return nil, nil
	}
	from, arg := store.StringsTable(q, "i", networks)
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.project_id, r.enable_snat, r.routes,
		p.id, p.device_owner, p.network_id, p.mac, f.address
		FROM routers r
		JOIN network_ports p ON p.instance_id = r.id AND p.device_owner IN (?, ?)
		JOIN fixed_ips f ON f.port_id = p.id
		WHERE r.id IN (SELECT x.instance_id FROM `+from+` JOIN network_ports x ON x.network_id = i.value
			AND x.device_owner = ?)
		ORDER BY r.id, p.id`, RouterInterfaceOwner, RouterGatewayOwner, arg, RouterInterfaceOwner)
	if err != nil {
		return nil, fmt.Errorf("dataplane: routers of %d networks: %w", len(networks), err)
	}
	defer rows.Close()
	var out []*candidate
	for rows.Next() {
		var c candidate
		var routes string
		var rp routerPort
		if err := rows.Scan(&c.id, &c.projectID, &c.snat, &routes, &rp.id, &rp.owner, &rp.networkID, &rp.mac,
			&rp.address); err != nil {
			return nil, fmt.Errorf("dataplane: scan router port: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].id != c.id {
			var stored []HostRoute
			if err := json.Unmarshal([]byte(routes), &stored); err != nil {
				return nil, fmt.Errorf("dataplane: routes of router %s: %w", c.id, err)
			}
			for _, r := range stored {
				c.routes = append(c.routes, dataplane.Route{Destination: r.Destination, NextHop: r.NextHop})
			}
			out = append(out, &c)
		}
		last := out[len(out)-1]
		rp.mac = strings.ToLower(rp.mac)
		last.ports = append(last.ports, rp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dataplane: routers of %d networks: %w", len(networks), err)
	}
	return out, nil
}

// build is the router c as the host needs it, if one of its interfaces
// is on a subnet of guestSubnets: its IPv4 interfaces, and its gateway
// on its first IPv4 address.
func (c *candidate) build(ranges map[string][]subnetRange, subnets map[string]Subnet, guestSubnets map[string]bool) (dataplane.Router, bool) {
	r := dataplane.Router{ID: c.id, ProjectID: c.projectID, Routes: c.routes}
	joins := false
	slices.SortFunc(c.ports, func(a, b routerPort) int {
		return cmp.Or(cmp.Compare(a.id, b.id), compareAddr(a.address, b.address))
	})
	for _, rp := range c.ports {
		if !is4(rp.address) {
			continue
		}
		sid := subnetHolding(ranges[rp.networkID], rp.address)
		sn, ok := subnets[sid]
		if !ok {
			continue
		}
		switch rp.owner {
		case RouterInterfaceOwner:
			joins = joins || guestSubnets[sid]
			r.Interfaces = append(r.Interfaces, dataplane.Interface{PortID: rp.id, NetworkID: rp.networkID,
				SubnetID: sid, MAC: rp.mac, Address: rp.address, CIDR: sn.CIDR})
		case RouterGatewayOwner:
			if r.Gateway == nil {
				r.Gateway = &dataplane.Gateway{PortID: rp.id, NetworkID: rp.networkID, MAC: rp.mac, Address: rp.address,
					CIDR: sn.CIDR, NextHop: sn.GatewayIP, SNAT: c.snat}
			}
		}
	}
	return r, joins
}

// floatingIPsOf gives routers (whose ids are ids) the floating IPs
// associated through them: kumo records the router serving an
// association (the one joining the fixed IP's subnet to the floating
// IP's network) in floating_ips.router_id.
func floatingIPsOf(ctx context.Context, q store.Querier, routers []dataplane.Router, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	from, arg := store.StringsTable(q, "i", ids)
	rows, err := q.QueryContext(ctx, `SELECT fl.router_id, fl.id, fl.address, fl.fixed_address, f.port_id
		FROM `+from+` JOIN floating_ips fl ON fl.router_id = i.value
		JOIN fixed_ips f ON f.network_id = fl.fixed_network_id AND f.address = fl.fixed_address
		WHERE fl.gateway_of IS NULL ORDER BY fl.id`, arg)
	if err != nil {
		return fmt.Errorf("dataplane: floating IPs of %d routers: %w", len(ids), err)
	}
	defer rows.Close()
	at := make(map[string]int, len(routers))
	for i, r := range routers {
		at[r.ID] = i
	}
	for rows.Next() {
		var router string
		var f dataplane.FloatingIP
		if err := rows.Scan(&router, &f.ID, &f.Address, &f.FixedIP, &f.PortID); err != nil {
			return fmt.Errorf("dataplane: scan floating IP: %w", err)
		}
		if i, ok := at[router]; ok && is4(f.Address) && is4(f.FixedIP) {
			routers[i].FloatingIPs = append(routers[i].FloatingIPs, f)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dataplane: floating IPs of %d routers: %w", len(ids), err)
	}
	return nil
}

// networksAndSubnets reads networks ids (without their subnets) and all
// their subnets, by network.
func networksAndSubnets(ctx context.Context, q store.Querier, ids []string) (map[string]dataplane.Network, map[string][]Subnet, error) {
	nets, subnets := map[string]dataplane.Network{}, map[string][]Subnet{}
	if len(ids) == 0 {
		return nets, subnets, nil
	}
	from, arg := store.StringsTable(q, "i", ids)
	rows, err := q.QueryContext(ctx, `SELECT n.id, n.project_id, n.external FROM `+from+`
		JOIN networks n ON n.id = i.value`, arg)
	if err != nil {
		return nil, nil, fmt.Errorf("dataplane: %d networks: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var n dataplane.Network
		if err := rows.Scan(&n.ID, &n.ProjectID, &n.External); err != nil {
			return nil, nil, fmt.Errorf("dataplane: scan network: %w", err)
		}
		nets[n.ID] = n
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("dataplane: %d networks: %w", len(ids), err)
	}
	all, err := subnetsOf(ctx, q, `s.network_id IN (SELECT i.value FROM `+from+`)`, arg)
	if err != nil {
		return nil, nil, fmt.Errorf("dataplane: %w", err)
	}
	for _, sn := range all {
		subnets[sn.NetworkID] = append(subnets[sn.NetworkID], sn)
	}
	return nets, subnets, nil
}

// dataplaneSubnet is sn as the model has it.
func dataplaneSubnet(sn Subnet) dataplane.Subnet {
	out := dataplane.Subnet{ID: sn.ID, NetworkID: sn.NetworkID, CIDR: sn.CIDR, GatewayIP: sn.GatewayIP, DHCP: sn.EnableDHCP}
	if len(sn.DNS) > 0 {
		out.DNS = slices.Clone(sn.DNS) // in the order given: the first is the primary
	}
	for _, r := range sn.HostRoutes {
		out.Routes = append(out.Routes, dataplane.Route{Destination: r.Destination, NextHop: r.NextHop})
	}
	return out
}

// groupsOf reads the groups of the ports (portGroups) and those their
// rules name as remote groups, each with all its rules and the
// addresses of every port in it, sorted by id.
func groupsOf(ctx context.Context, q store.Querier, portGroups map[string][]string) ([]dataplane.Group, error) {
	set := map[string]bool{}
	for _, ids := range portGroups {
		for _, id := range ids {
			set[id] = true
		}
	}
	if len(set) == 0 {
		return nil, nil
	}
	own := sortedKeys(set)
	from, arg := store.StringsTable(q, "i", own)
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.group_id, r.direction, r.ethertype, COALESCE(r.protocol, ''),
		COALESCE(r.port_min, 0), COALESCE(r.port_max, 0), COALESCE(r.remote_cidr, ''), COALESCE(r.remote_group_id, '')
		FROM security_group_rules r WHERE r.group_id IN (SELECT i.value FROM `+from+`)
		OR r.group_id IN (SELECT x.remote_group_id FROM security_group_rules x
			WHERE x.group_id IN (SELECT i.value FROM `+from+`))
		ORDER BY r.group_id, r.id`, arg, arg)
	if err != nil {
		return nil, fmt.Errorf("dataplane: rules of %d security groups: %w", len(set), err)
	}
	defer rows.Close()
	rules := map[string][]dataplane.Rule{}
	for rows.Next() {
		var r dataplane.Rule
		var group string
		if err := rows.Scan(&r.ID, &group, &r.Direction, &r.EtherType, &r.Protocol, &r.PortMin, &r.PortMax,
			&r.RemoteCIDR, &r.RemoteGroup); err != nil {
			return nil, fmt.Errorf("dataplane: scan security group rule: %w", err)
		}
		rules[group] = append(rules[group], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dataplane: rules of %d security groups: %w", len(set), err)
	}
	// The remote groups of the ports' groups' rules (one level: a remote
	// group's own remote groups filter no port here).
	for _, id := range own {
		for _, r := range rules[id] {
			if r.RemoteGroup != "" {
				set[r.RemoteGroup] = true
			}
		}
	}
	ids := sortedKeys(set)
	members, err := groupMembers(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make([]dataplane.Group, len(ids))
	for i, id := range ids {
		out[i] = dataplane.Group{ID: id, Rules: rules[id], Members: members[id]}
	}
	return out, nil
}

// groupMembers returns the addresses of the ports in each group (on any
// host), sorted, without repeats.
func groupMembers(ctx context.Context, q store.Querier, groups []string) (map[string][]string, error) {
	from, arg := store.StringsTable(q, "i", groups)
	rows, err := q.QueryContext(ctx, `SELECT b.group_id, f.address FROM `+from+`
		JOIN security_group_port_bindings b ON b.group_id = i.value
		JOIN fixed_ips f ON f.port_id = b.port_id`, arg)
	if err != nil {
		return nil, fmt.Errorf("dataplane: members of %d security groups: %w", len(groups), err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var group, addr string
		if err := rows.Scan(&group, &addr); err != nil {
			return nil, fmt.Errorf("dataplane: scan security group member: %w", err)
		}
		out[group] = append(out[group], addr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dataplane: members of %d security groups: %w", len(groups), err)
	}
	for g, addrs := range out {
		slices.SortFunc(addrs, compareAddr)
		out[g] = slices.Compact(addrs)
	}
	return out, nil
}

// subnetsByID indexes subnets by id.
func subnetsByID(byNetwork map[string][]Subnet) map[string]Subnet {
	out := map[string]Subnet{}
	for _, sns := range byNetwork {
		for _, sn := range sns {
			out[sn.ID] = sn
		}
	}
	return out
}

// compareAddr orders addresses as netip does (IPv4 first), unparsable
// ones last by text.
func compareAddr(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	switch {
	case errX == nil && errY == nil:
		return x.Compare(y)
	case errX == nil:
		return -1
	case errY == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

func is4(addr string) bool {
	a, err := netip.ParseAddr(addr)
	return err == nil && a.Is4()
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }
