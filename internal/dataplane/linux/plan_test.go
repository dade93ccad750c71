package linux

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/virt/netns"
)

func TestPlanFor(t *testing.T) {
	sub := func(id, net, cidr, gw string) dataplane.Subnet {
		return dataplane.Subnet{ID: id, NetworkID: net, CIDR: cidr, GatewayIP: gw, DHCP: true}
	}
	port := func(id, net, dev, mac, subnet, addr string) dataplane.Port {
		return dataplane.Port{ID: id, NetworkID: net, DeviceID: dev, MAC: mac, SecurityEnabled: true,
			FixedIPs: []dataplane.FixedIP{{SubnetID: subnet, Address: addr}}}
	}
	router := dataplane.Router{ID: "r1",
		Interfaces: []dataplane.Interface{
			{PortID: "rp-a", NetworkID: "net-a", SubnetID: "sub-a", MAC: "fa:16:3e:00:01:01", Address: "10.0.1.1", CIDR: "10.0.1.0/24"},
			{PortID: "rp-b", NetworkID: "net-b", SubnetID: "sub-b", MAC: "fa:16:3e:00:01:02", Address: "10.0.2.1", CIDR: "10.0.2.0/24"},
		},
		Gateway: &dataplane.Gateway{PortID: "gw", NetworkID: "public", MAC: "fa:16:3e:00:02:01", Address: "172.24.4.10",
			CIDR: "172.24.4.0/24", NextHop: "172.24.4.1", SNAT: true},
		FloatingIPs: []dataplane.FloatingIP{
			{ID: "f1", Address: "172.24.4.20", FixedIP: "10.0.1.5", PortID: "pa"},
			{ID: "f2", Address: "172.24.4.21", FixedIP: "10.0.2.9", PortID: "elsewhere"}, // a port of another host
		},
	}
	h := dataplane.Host{
		Networks: []dataplane.Network{
			{ID: "net-a", Subnets: []dataplane.Subnet{sub("sub-a", "net-a", "10.0.1.0/24", "10.0.1.1")}},
			{ID: "net-b", Subnets: []dataplane.Subnet{sub("sub-b", "net-b", "10.0.2.0/24", "10.0.2.1")}},
			{ID: "net-c", Subnets: []dataplane.Subnet{sub("sub-c", "net-c", "10.0.1.0/24", "10.0.1.1")}}, // another project's, same range
			{ID: "public", External: true, Subnets: []dataplane.Subnet{sub("sub-pub", "public", "172.24.4.0/24", "172.24.4.1")}},
		},
		Ports: []dataplane.Port{
			port("pa", "net-a", "server-a", "fa:16:3e:00:00:0a", "sub-a", "10.0.1.5"),
			port("pc", "net-c", "server-c", "fa:16:3e:00:00:0c", "sub-c", "10.0.1.5"),
		},
		Routers:  []dataplane.Router{router},
		External: "public",
	}
	p := planFor("kumo-x", h, "ext0")

	wantBridges := map[string]bool{netns.BridgeName("net-a"): true, netns.BridgeName("net-b"): true,
		netns.BridgeName("net-c"): true, netns.BridgeName("public"): true}
	if !reflect.DeepEqual(p.bridges, wantBridges) {
		t.Errorf("bridges %v, want %v", p.bridges, wantBridges)
	}
	if len(p.domains) != 2 {
		t.Fatalf("%d domains, want the router's and net-c's: %+v", len(p.domains), p.domains)
	}
	var r, lone domain
	for _, d := range p.domains {
		if d.router != nil {
			r = d
		} else {
			lone = d
		}
	}
	if !strings.HasPrefix(r.ns, "kumo-x-r-") || !strings.HasPrefix(lone.ns, "kumo-x-n-") {
		t.Errorf("namespaces %q and %q", r.ns, lone.ns)
	}
	// The router serves both its subnets (DHCP only where a port of this
	// host is), its gateway with the floating IP of this host's port.
	if len(r.links) != 2 {
		t.Fatalf("router links %+v", r.links)
	}
	for _, l := range r.links {
		switch l.addr {
		case "10.0.1.1/24":
			if l.dhcp == nil || !reflect.DeepEqual(l.dhcp.leases, [][2]string{{"fa:16:3e:00:00:0a", "10.0.1.5"}}) ||
				l.dhcp.gateway != "10.0.1.1" || l.mac != "fa:16:3e:00:01:01" || l.bridge != netns.BridgeName("net-a") {
				t.Errorf("subnet a's link %+v (dhcp %+v)", l, l.dhcp)
			}
		case "10.0.2.1/24":
			if l.dhcp != nil {
				t.Errorf("subnet b has no port here but a DHCP server: %+v", l.dhcp)
			}
		default:
			t.Errorf("unexpected link %+v", l)
		}
		if len(l.dev) > 15 || len(l.peer) > 15 || !strings.HasPrefix(l.dev, "qr-") || !strings.HasPrefix(l.peer, "kv-") {
			t.Errorf("link names %q %q", l.dev, l.peer)
		}
	}
	if r.gateway == nil || r.gateway.addr != "172.24.4.10/24" || r.gateway.bridge != netns.BridgeName("public") ||
		!strings.HasPrefix(r.gateway.dev, "qg-") || r.nextHop != "172.24.4.1" {
		t.Errorf("gateway %+v via %q", r.gateway, r.nextHop)
	}
	if !reflect.DeepEqual(r.fips, []string{"172.24.4.20"}) {
		t.Errorf("floating IPs on this host %v, want only 172.24.4.20", r.fips)
	}
	if got := r.guests[netip.MustParseAddr("10.0.1.5")]; got != "server-a" {
		t.Errorf("router's guest 10.0.1.5 is %q", got)
	}
	// The other project's network of the same range: its own namespace,
	// bridge and guest of the same address.
	if len(lone.links) != 1 || lone.links[0].addr != "10.0.1.1/24" || lone.links[0].bridge != netns.BridgeName("net-c") ||
		lone.gateway != nil || lone.links[0].dhcp == nil {
		t.Errorf("lone network's domain %+v", lone)
	}
	if got := lone.guests[netip.MustParseAddr("10.0.1.5")]; got != "server-c" {
		t.Errorf("lone network's guest 10.0.1.5 is %q", got)
	}
	if r.links[0].peer == lone.links[0].peer {
		t.Errorf("two domains share the switch-side name %q", r.links[0].peer)
	}

	// Without an external interface the external network's bridge is
	// made only for a router's gateway.
	h.Routers = nil
	if p := planFor("kumo-x", h, ""); p.bridges[netns.BridgeName("public")] {
		t.Errorf("the external network's bridge is wanted with no gateway and no external interface")
	}
}

func TestDnsmasqArgs(t *testing.T) {
	c := dhcpConf{cidr: "10.0.0.0/24", gateway: "10.0.0.1", dns: []string{"10.0.0.53", "not an address"},
		routes: [][2]string{{"192.168.0.0/16", "10.0.0.254"}},
		leases: [][2]string{{"fa:16:3e:00:00:02", "10.0.0.6"}, {"FA:16:3E:00:00:01", "10.0.0.5"}, {"fa:16:3e:00:00:03", "10.9.9.9"}}}
	args, err := dnsmasqArgs("qr-a", c, "/s/a.pid", "/s/a.log")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(args, " ")
	for _, want := range []string{"--conf-file=/dev/null", "--port=0", "--interface=qr-a --bind-interfaces",
		"--dhcp-range=10.0.0.0,static,255.255.255.0,1h", "--dhcp-option=3,10.0.0.1", "--dhcp-option=6,10.0.0.53 ",
		"--dhcp-option=121,192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1", "--leasefile-ro", "--pid-file=/s/a.pid",
		"--dhcp-host=fa:16:3e:00:00:01,10.0.0.5 --dhcp-host=fa:16:3e:00:00:02,10.0.0.6"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %s", want, got)
		}
	}
	if strings.Contains(got, "10.9.9.9") {
		t.Errorf("a lease outside the subnet is served: %s", got)
	}
	if _, err := dnsmasqArgs("qr-a", dhcpConf{cidr: "fd00::/64"}, "p", "l"); err == nil {
		t.Errorf("an IPv6 subnet is served")
	}
}
