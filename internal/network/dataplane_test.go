package network_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/router"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// dpCloud is a cloud built through the domain services for Dataplane:
// project p1's networks A (two IPv4 subnets and an IPv6 one), B (IPv4,
// no DHCP) and C (no router), router R joining A's first subnet and B to
// the external network with an extra route and a floating IP of s1's
// port, router Q on network D and A's second subnet (where no guest has
// an address), and servers s1 (ports on A and B) and s2 (on C, no port
// security) on the host, s9 (on A) elsewhere.
type dpCloud struct {
	nets                         *network.Service
	ext, extSubnet               string
	a, a4, a4b, a6, b, b4, c, c4 string
	web, db, far                 *secgroup.Group
	webSSH, webHTTP, dbFromFar   string
	p1, p2, p3, p9               network.Port
	r                            router.Router
	rIfaceA, rIfaceB, rGateway   network.Port
	fip                          floatingip.Record
}

// netQuotas are the networking quotas counted as the app wires them.
func netQuotas(db *store.DB) *netquota.Service {
	return netquota.New(db, netquota.Counters{netquota.Network: network.CountNetworks, netquota.Subnet: network.CountSubnets,
		netquota.Port: network.CountPorts, netquota.Router: router.CountRouters, netquota.FloatingIP: floatingip.CountFloatingIPs,
		netquota.SecurityGroup: secgroup.CountGroups, netquota.SecurityGroupRule: secgroup.CountRules})
}

func newDPCloud(t testing.TB, db *store.DB) *dpCloud {
	t.Helper()
	ctx := context.Background()
	m, err := network.New(network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	quotas := netQuotas(db)
	c := &dpCloud{nets: network.NewService(db, m, quotas)}
	groups := secgroup.New(db, quotas)
	c.nets.Groups = groups
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.nets.EnsureExternal(ctx, "admin", "public", "203.0.113.0/24"))
	c.ext, c.extSubnet, err = c.nets.ExternalNetwork(ctx)
	must(err)
	fips := floatingip.New(db, c.nets, floatingip.Options{Range: "203.0.113.0/24", Pool: "public"}, quotas)
	routers := router.New(db, c.nets, fips, quotas)

	newNet := func(name string) string {
		t.Helper()
		n, err := c.nets.CreateNetwork(ctx, "p1", network.NetworkFields{Name: &name})
		must(err)
		return n.ID
	}
	subnet := func(netID string, version int, cidr string, f network.SubnetFields) string {
		t.Helper()
		sn, err := c.nets.CreateSubnet(ctx, network.SubnetCreate{NetworkID: netID, ProjectID: "p1", IPVersion: version,
			CIDR: cidr, SubnetFields: f})
		must(err)
		return sn.ID
	}
	off := false
	c.a, c.b, c.c = newNet("a"), newNet("b"), newNet("c")
	c.a4 = subnet(c.a, 4, "10.1.0.0/24", network.SubnetFields{DNS: &[]string{"192.0.2.53", "192.0.2.35"},
		HostRoutes: &[]network.HostRoute{{Destination: "198.51.100.0/24", NextHop: "10.1.0.254"}}})
	c.a6 = subnet(c.a, 6, "fd00:a::/64", network.SubnetFields{})
	c.a4b = subnet(c.a, 4, "10.1.1.0/24", network.SubnetFields{})
	c.b4 = subnet(c.b, 4, "10.2.0.0/24", network.SubnetFields{EnableDHCP: &off})
	c.c4 = subnet(c.c, 4, "10.3.0.0/24", network.SubnetFields{})
	d := newNet("d")
	d4 := subnet(d, 4, "10.4.0.0/24", network.SubnetFields{})

	group := func(name string) *secgroup.Group {
		t.Helper()
		g, err := groups.CreateGroup(ctx, "p1", secgroup.GroupFields{Name: &name})
		must(err)
		return g
	}
	c.web, c.db, c.far = group("web"), group("db"), group("far")
	rule := func(g *secgroup.Group, proto string, port int, cidr, remote *string) string {
		t.Helper()
		r, err := groups.AddRule(ctx, secgroup.NewRule{ProjectID: "p1", GroupID: g.ID, Direction: "ingress",
			Ethertype: "IPv4", Protocol: &proto, PortMin: &port, PortMax: &port, RemoteIPPrefix: cidr,
			RemoteGroupID: remote}, false)
		must(err)
		return r.ID
	}
	anywhere := "0.0.0.0/0"
	c.webSSH = rule(c.web, "tcp", 22, &anywhere, nil)
	c.webHTTP = rule(c.web, "tcp", 80, nil, &c.db.ID)
	c.dbFromFar = rule(c.db, "tcp", 5432, nil, &c.far.ID)
	for _, g := range []**secgroup.Group{&c.web, &c.db, &c.far} {
		(*g), err = groups.GetGroup(ctx, (*g).ID)
		must(err)
	}

	port := func(device, netID, mac string, f network.PortFields) network.Port {
		t.Helper()
		owner := "compute:nova"
		f.DeviceID, f.DeviceOwner = &device, &owner
		p, err := c.nets.CreatePort(ctx, network.PortCreate{NetworkID: netID, ProjectID: "p1", MAC: mac, PortFields: f})
		must(err)
		return p
	}
	c.p1 = port("s1", c.a, "FA:16:3E:00:00:01", network.PortFields{
		FixedIPs:       &[]network.FixedIPRequest{{SubnetID: c.a4, IPAddress: "10.1.0.10"}, {SubnetID: c.a6}},
		SecurityGroups: &[]string{c.web.ID},
		AddressPairs: &[]network.AddressPair{{IPAddress: "10.1.0.128/28", MACAddress: "FA:16:3E:00:00:99"},
			{IPAddress: "10.1.0.100"}}})
	c.p2 = port("s1", c.b, "fa:16:3e:00:00:02", network.PortFields{
		FixedIPs: &[]network.FixedIPRequest{{SubnetID: c.b4, IPAddress: "10.2.0.10"}}, SecurityGroups: &[]string{}})
	c.p3 = port("s2", c.c, "fa:16:3e:00:00:03", network.PortFields{
		FixedIPs: &[]network.FixedIPRequest{{SubnetID: c.c4, IPAddress: "10.3.0.10"}}, PortSecurity: &off})
	c.p9 = port("s9", c.a, "fa:16:3e:00:00:09", network.PortFields{
		FixedIPs:       &[]network.FixedIPRequest{{SubnetID: c.a4, IPAddress: "10.1.0.90"}},
		SecurityGroups: &[]string{c.db.ID}})
	// A port of another project in group far (on no host here).
	port("s8", d, "fa:16:3e:00:00:08", network.PortFields{
		FixedIPs: &[]network.FixedIPRequest{{SubnetID: d4, IPAddress: "10.4.0.8"}}, SecurityGroups: &[]string{c.far.ID}})

	gw := &router.GatewayRequest{NetworkID: c.ext}
	c.r, err = routers.Create(ctx, "p1", router.Fields{Gateway: &gw})
	must(err)
	ia, err := routers.AddInterface(ctx, c.r.ID, c.a4, "")
	must(err)
	ib, err := routers.AddInterface(ctx, c.r.ID, c.b4, "")
	must(err)
	_, err = routers.AddInterface(ctx, c.r.ID, c.a6, "") // IPv6: not routed, not shown
	must(err)
	routes := []router.Route{{Destination: "192.168.9.0/24", NextHop: "10.2.0.50"}}
	c.r, err = routers.Update(ctx, c.r.ID, router.Fields{Routes: &routes})
	must(err)
	q, err := routers.Create(ctx, "p1", router.Fields{})
	must(err)
	_, err = routers.AddInterface(ctx, q.ID, d4, "")
	must(err)
	_, err = routers.AddInterface(ctx, q.ID, c.a4b, "") // on a guest's network, not on its subnet
	must(err)

	c.fip, err = fips.CreateRecord(ctx, floatingip.Create{ProjectID: "p1", NetworkID: c.ext,
		Bind: &floatingip.Binding{PortID: c.p1.ID}})
	must(err)
	_, err = fips.CreateRecord(ctx, floatingip.Create{ProjectID: "p1", NetworkID: c.ext}) // not associated
	must(err)

	for _, id := range []string{c.p1.ID, c.p2.ID, c.p3.ID, c.p9.ID, ia.PortID, ib.PortID} {
		p, err := c.nets.GetPort(ctx, id)
		must(err)
		switch id {
		case c.p1.ID:
			c.p1 = p
		case c.p2.ID:
			c.p2 = p
		case c.p3.ID:
			c.p3 = p
		case c.p9.ID:
			c.p9 = p
		case ia.PortID:
			c.rIfaceA = p
		case ib.PortID:
			c.rIfaceB = p
		}
	}
	all, err := c.nets.ListPorts(ctx, network.Scope{All: true})
	must(err)
	for _, p := range all {
		if p.DeviceID == c.r.ID && p.DeviceOwner == network.RouterGatewayOwner {
			c.rGateway = p
		}
	}
	if c.rGateway.ID == "" || c.fip.RouterID != c.r.ID {
		t.Fatalf("router %s: gateway port %q, floating IP's router %q", c.r.ID, c.rGateway.ID, c.fip.RouterID)
	}
	return c
}

// egress are a group's default egress rules (Neutron's: any IPv4, any
// IPv6).
func egress(g *secgroup.Group) []dataplane.Rule {
	var out []dataplane.Rule
	for _, r := range g.Rules {
		if r.Direction == "egress" {
			out = append(out, dataplane.Rule{ID: r.ID, Direction: "egress", EtherType: r.Ethertype})
		}
	}
	return out
}

func tcpIn(id string, port int, cidr, remote string) dataplane.Rule {
	return dataplane.Rule{ID: id, Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: port, PortMax: port,
		RemoteCIDR: cidr, RemoteGroup: remote}
}

// sortedRules is rules in id order, as Dataplane gives them.
func sortedRules(rules ...[]dataplane.Rule) []dataplane.Rule {
	var out []dataplane.Rule
	for _, rs := range rules {
		out = append(out, rs...)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].ID < out[i].ID {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// sortedBy orders items by key (the ids the cloud drew at random).
func sortedBy[T any](key func(T) string, items ...T) []T {
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			if key(items[j]) < key(items[i]) {
				items[i], items[j] = items[j], items[i]
			}
		}
	}
	return items
}

func TestDataplane(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newDPCloud(t, db)
		p1v6 := c.p1.FixedIPs[1].IPAddress
		if c.p1.FixedIPs[0].IPAddress != "10.1.0.10" || c.p1.FixedIPs[1].SubnetID != c.a6 {
			t.Fatalf("port p1's addresses %+v", c.p1.FixedIPs)
		}
		netA := dataplane.Network{ID: c.a, ProjectID: "p1", Subnets: []dataplane.Subnet{{ID: c.a4, NetworkID: c.a,
			CIDR: "10.1.0.0/24", GatewayIP: "10.1.0.1", DHCP: true, DNS: []string{"192.0.2.53", "192.0.2.35"},
			Routes: []dataplane.Route{{Destination: "198.51.100.0/24", NextHop: "10.1.0.254"}}}}}
		netA.Subnets = sortedBy(func(s dataplane.Subnet) string { return s.ID }, netA.Subnets[0],
			dataplane.Subnet{ID: c.a4b, NetworkID: c.a, CIDR: "10.1.1.0/24", GatewayIP: "10.1.1.1", DHCP: true})
		netB := dataplane.Network{ID: c.b, ProjectID: "p1", Subnets: []dataplane.Subnet{{ID: c.b4, NetworkID: c.b,
			CIDR: "10.2.0.0/24", GatewayIP: "10.2.0.1"}}}
		netC := dataplane.Network{ID: c.c, ProjectID: "p1", Subnets: []dataplane.Subnet{{ID: c.c4, NetworkID: c.c,
			CIDR: "10.3.0.0/24", GatewayIP: "10.3.0.1", DHCP: true}}}
		netExt := dataplane.Network{ID: c.ext, ProjectID: "admin", External: true, Subnets: []dataplane.Subnet{{
			ID: c.extSubnet, NetworkID: c.ext, CIDR: "203.0.113.0/24", GatewayIP: "203.0.113.1"}}}
		port1 := dataplane.Port{ID: c.p1.ID, ProjectID: "p1", NetworkID: c.a, DeviceID: "s1", MAC: "fa:16:3e:00:00:01",
			FixedIPs:        []dataplane.FixedIP{{SubnetID: c.a4, Address: "10.1.0.10"}, {SubnetID: c.a6, Address: p1v6}},
			SecurityEnabled: true, Groups: []string{c.web.ID},
			AddressPairs: []dataplane.AddressPair{{IP: "10.1.0.100", MAC: "fa:16:3e:00:00:01"},
				{IP: "10.1.0.128/28", MAC: "fa:16:3e:00:00:99"}}}
		port2 := dataplane.Port{ID: c.p2.ID, ProjectID: "p1", NetworkID: c.b, DeviceID: "s1", MAC: "fa:16:3e:00:00:02",
			FixedIPs: []dataplane.FixedIP{{SubnetID: c.b4, Address: "10.2.0.10"}}, SecurityEnabled: true}
		port3 := dataplane.Port{ID: c.p3.ID, ProjectID: "p1", NetworkID: c.c, DeviceID: "s2", MAC: "fa:16:3e:00:00:03",
			FixedIPs: []dataplane.FixedIP{{SubnetID: c.c4, Address: "10.3.0.10"}}}
		// web's rules name db, whose rules name far: far is no group of
		// a port here nor a remote group of one's, so it is left out.
		web := dataplane.Group{ID: c.web.ID, Rules: sortedRules(egress(c.web), []dataplane.Rule{
			tcpIn(c.webSSH, 22, "0.0.0.0/0", ""), tcpIn(c.webHTTP, 80, "", c.db.ID)}),
			Members: []string{"10.1.0.10", p1v6}}
		dbGroup := dataplane.Group{ID: c.db.ID, Rules: sortedRules(egress(c.db), []dataplane.Rule{
			tcpIn(c.dbFromFar, 5432, "", c.far.ID)}), Members: []string{"10.1.0.90"}}
		iface := func(p network.Port, netID, subnetID, cidr string) dataplane.Interface {
			return dataplane.Interface{PortID: p.ID, NetworkID: netID, SubnetID: subnetID, MAC: p.MAC,
				Address: p.FixedIPs[0].IPAddress, CIDR: cidr}
		}
		r := dataplane.Router{ID: c.r.ID, ProjectID: "p1",
			Interfaces: sortedBy(func(i dataplane.Interface) string { return i.PortID },
				iface(c.rIfaceA, c.a, c.a4, "10.1.0.0/24"), iface(c.rIfaceB, c.b, c.b4, "10.2.0.0/24")),
			Gateway: &dataplane.Gateway{PortID: c.rGateway.ID, NetworkID: c.ext, MAC: c.rGateway.MAC,
				Address: c.rGateway.FixedIPs[0].IPAddress, CIDR: "203.0.113.0/24", NextHop: "203.0.113.1", SNAT: true},
			Routes:      []dataplane.Route{{Destination: "192.168.9.0/24", NextHop: "10.2.0.50"}},
			FloatingIPs: []dataplane.FloatingIP{{ID: c.fip.ID, Address: c.fip.Address, FixedIP: "10.1.0.10", PortID: c.p1.ID}}}
		if r.Interfaces[0].Address == r.Interfaces[1].Address || c.rIfaceA.FixedIPs[0].IPAddress != "10.1.0.1" {
			t.Fatalf("router interfaces %+v", r.Interfaces)
		}
		byID := func(n dataplane.Network) string { return n.ID }
		portID := func(p dataplane.Port) string { return p.ID }
		groupID := func(g dataplane.Group) string { return g.ID }

		for _, tc := range []struct {
			name    string
			servers []string
			want    dataplane.Host
		}{{
			name:    "no servers",
			servers: nil,
			want:    dataplane.Host{Name: "h1", External: c.ext},
		}, {
			name:    "a server on a lone network without port security",
			servers: []string{"s2"},
			want: dataplane.Host{Name: "h1", External: c.ext, Networks: []dataplane.Network{netC},
				Ports: []dataplane.Port{port3}},
		}, {
			name:    "routed ports with groups, pairs and a floating IP",
			servers: []string{"s1", "s2", "gone"},
			want: dataplane.Host{Name: "h1", External: c.ext,
				Networks: sortedBy(byID, netA, netB, netC, netExt),
				Ports:    sortedBy(portID, port1, port2, port3),
				Groups:   sortedBy(groupID, web, dbGroup),
				Routers:  []dataplane.Router{r}},
		}, {
			// s9's port on A is in group db and behind router R too; its
			// group's remote group far comes along.
			name:    "a server whose group names a remote group",
			servers: []string{"s9"},
			want: dataplane.Host{Name: "h1", External: c.ext,
				Networks: sortedBy(byID, netA, netExt),
				Ports: []dataplane.Port{{ID: c.p9.ID, ProjectID: "p1", NetworkID: c.a, DeviceID: "s9",
					MAC: "fa:16:3e:00:00:09", FixedIPs: []dataplane.FixedIP{{SubnetID: c.a4, Address: "10.1.0.90"}},
					SecurityEnabled: true, Groups: []string{c.db.ID}}},
				Groups: sortedBy(groupID, dbGroup, dataplane.Group{ID: c.far.ID, Rules: sortedRules(egress(c.far)),
					Members: []string{"10.4.0.8"}}),
				Routers: []dataplane.Router{r}},
		}} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := c.nets.Dataplane(ctx, "h1", tc.servers)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Dataplane(%v) =\n%+v\nwant\n%+v", tc.servers, got, tc.want)
					diffHost(t, got, tc.want)
				}
				again, err := c.nets.Dataplane(ctx, "h1", tc.servers)
				if err != nil || !reflect.DeepEqual(again, got) {
					t.Errorf("a second read differs: %+v, %v", again, err)
				}
			})
		}
	})
}

// diffHost names the parts of two Hosts that differ.
func diffHost(t *testing.T, got, want dataplane.Host) {
	t.Helper()
	for _, part := range []struct {
		name      string
		got, want any
	}{{"Networks", got.Networks, want.Networks}, {"Ports", got.Ports, want.Ports}, {"Groups", got.Groups, want.Groups},
		{"Routers", got.Routers, want.Routers}, {"External", got.External, want.External}} {
		if !reflect.DeepEqual(part.got, part.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", part.name, part.got, part.want)
		}
	}
}

// Dataplane needs the security group reader; a router leaves with its
// last interface on a guest's subnet; MACs read in lower case; a cloud
// without an external network reads "" as External.
func TestDataplaneFollowsChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, err := network.New(network.Options{})
		if err != nil {
			t.Fatal(err)
		}
		quotas := netQuotas(db)
		nets := network.NewService(db, m, quotas)
		if _, err := nets.Dataplane(ctx, "h1", nil); err == nil {
			t.Fatal("Dataplane without a security group reader: no error")
		}
		nets.Groups = secgroup.New(db, quotas)
		fips := floatingip.New(db, nets, floatingip.Options{}, quotas)
		routers := router.New(db, nets, fips, quotas)
		name := "a"
		n, err := nets.CreateNetwork(ctx, "p1", network.NetworkFields{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		sn, err := nets.CreateSubnet(ctx, network.SubnetCreate{NetworkID: n.ID, ProjectID: "p1", IPVersion: 4, CIDR: "10.9.0.0/24"})
		if err != nil {
			t.Fatal(err)
		}
		device, owner := "s1", "compute:nova"
		p, err := nets.CreatePort(ctx, network.PortCreate{NetworkID: n.ID, ProjectID: "p1",
			PortFields: network.PortFields{DeviceID: &device, DeviceOwner: &owner}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := routers.Create(ctx, "p1", router.Fields{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := routers.AddInterface(ctx, r.ID, sn.ID, ""); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			name    string
			change  func() error
			routers int
			mac     string
		}{
			{"a router on the guest's subnet", func() error { return nil }, 1, p.MAC},
			{"its interface removed", func() error { _, err := routers.RemoveInterface(ctx, r.ID, sn.ID, ""); return err }, 0, p.MAC},
			{"a MAC stored in upper case", func() error {
				_, err := db.ExecContext(ctx, `UPDATE network_ports SET mac = ? WHERE id = ?`, "FA:16:3E:0A:0B:0C", p.ID)
				return err
			}, 0, "fa:16:3e:0a:0b:0c"},
		} {
			if err := step.change(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			h, err := nets.Dataplane(ctx, "h1", []string{"s1"})
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if len(h.Routers) != step.routers || h.External != "" || len(h.Ports) != 1 || h.Ports[0].ID != p.ID ||
				h.Ports[0].MAC != step.mac {
				t.Errorf("%s: %+v", step.name, h)
			}
			// The port got its project's default group (made on first
			// need), whose rules name it as remote group: one group.
			if len(h.Groups) != 1 || len(h.Ports[0].Groups) != 1 || h.Groups[0].ID != h.Ports[0].Groups[0] ||
				!reflect.DeepEqual(h.Groups[0].Members, []string{p.FixedIPs[0].IPAddress}) {
				t.Errorf("%s: groups %+v of port groups %v", step.name, h.Groups, h.Ports[0].Groups)
			}
		}
	})
}

// BenchmarkDataplane is the read every compute host on bridge networking
// makes twice a second: a host of 50 servers (the dpCloud's, and 48 more
// on network a in group web) on each engine. Figures in bench/RESULTS.md.
func BenchmarkDataplane(b *testing.B) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(engine.name, func(b *testing.B) {
			ctx := context.Background()
			c := newDPCloud(b, engine.open(b))
			servers := []string{"s1", "s2"}
			owner := "compute:nova"
			for i := range 48 {
				device := fmt.Sprintf("b%02d", i)
				_, err := c.nets.CreatePort(ctx, network.PortCreate{NetworkID: c.a, ProjectID: "p1", PortFields: network.PortFields{
					DeviceID: &device, DeviceOwner: &owner, SecurityGroups: &[]string{c.web.ID}}})
				if err != nil {
					b.Fatal(err)
				}
				servers = append(servers, device)
			}
			h, err := c.nets.Dataplane(ctx, "h1", servers)
			if err != nil || len(h.Ports) != 51 {
				b.Fatalf("%d ports, %v", len(h.Ports), err)
			}
			for b.Loop() {
				if _, err := c.nets.Dataplane(ctx, "h1", servers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
