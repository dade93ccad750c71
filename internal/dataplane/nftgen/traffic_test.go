package nftgen

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/dataplane"
)

// probe is one connection a test makes and what must come of it.
type probe struct {
	name  string
	from  string // namespace
	local string // source address ("": the kernel's choice)
	to    string // host:port
	want  string // the client address the server saw; "": no connection
}

// checkAll makes the probes side by side (each blocked one waits for its
// timeout) and checks them.
func checkAll(t *testing.T, probes []probe) {
	t.Helper()
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Go(func() { p.check(t) })
	}
	wg.Wait()
}

func (p probe) check(t *testing.T) {
	t.Helper()
	got, err := dial(p.from, p.local, p.to)
	switch {
	case p.want == "" && err == nil:
		t.Errorf("%s: %s -> %s connected (server saw %q); want it blocked", p.name, p.from, p.to, got)
	case p.want != "" && err != nil:
		t.Errorf("%s: %s -> %s: %v; want a connection", p.name, p.from, p.to, err)
	case p.want != "" && got != p.want:
		t.Errorf("%s: %s -> %s: server saw %s, want %s", p.name, p.from, p.to, got, p.want)
	}
}

// TestSwitchTraffic builds a switch namespace with one bridge and three
// guests (namespaces on veths: a and b with port security, c without),
// loads Switch's script and checks what passes: security group rules by
// port, remote group and remote prefix, both directions, stateful
// replies, ICMP type, IPv6 (with neighbour discovery), anti-spoofing of IP
// and MAC with allowed address pairs, and an unfiltered port.
func TestSwitchTraffic(t *testing.T) {
	needNet(t)
	pre := fmt.Sprintf("nftgen-%d-", os.Getpid())
	sw := newNS(t, pre+"sw")
	if err := sysctl(sw, "net.bridge.bridge-nf-call-iptables", "1"); err != nil {
		_ = exec.Command("modprobe", "br_netfilter").Run()
		if err := sysctl(sw, "net.bridge.bridge-nf-call-iptables", "1"); err != nil {
			t.Fatalf("br_netfilter: %v", err)
		}
	}
	if err := sysctl(sw, "net.bridge.bridge-nf-call-ip6tables", "1"); err != nil {
		t.Fatal(err)
	}
	run(t, "ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	run(t, "ip", "-n", sw, "link", "set", "br0", "up")
	guests := []struct{ name, mac, v4, v6 string }{
		{"a", "fa:16:3e:00:00:0a", "10.9.0.2", "fd00::2"},
		{"b", "fa:16:3e:00:00:0b", "10.9.0.3", "fd00::3"},
		{"c", "fa:16:3e:00:00:0c", "10.9.0.4", "fd00::4"},
		{"d", "fa:16:3e:00:00:0d", "10.9.0.9", "fd00::9"}, // not a guest port: a DHCP server's, a router's
		{"e", "fa:16:3e:00:00:0e", "10.9.0.5", "fd00::5"}, // a guest's tap the model does not know (yet)
	}
	ns := map[string]string{}
	for _, g := range guests {
		n := newNS(t, pre+g.name)
		ns[g.name] = n
		// Made in the switch namespace with the peer straight in the guest's:
		// nothing touches the host's interfaces.
		port := "kt-" + g.name // a guest's tap, as netns names them
		if g.name == "d" {
			port = "kv-d" // a router's or DHCP server's veth
		}
		run(t, "ip", "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", n)
		run(t, "ip", "-n", sw, "link", "set", port, "master", "br0", "up")
		run(t, "ip", "-n", n, "link", "set", "eth0", "address", g.mac, "up")
		run(t, "ip", "-n", n, "addr", "add", g.v4+"/24", "dev", "eth0")
		run(t, "ip", "-n", n, "addr", "add", g.v6+"/64", "dev", "eth0", "nodad")
	}
	a, b, c, d, e := ns["a"], ns["b"], ns["c"], ns["d"], ns["e"]

	groups := []dataplane.Group{
		{ID: "ga", Members: []string{"10.9.0.2", "fd00::2"}, Rules: []dataplane.Rule{
			{Direction: "egress", EtherType: "IPv4", Protocol: "tcp", PortMin: 8080, PortMax: 8083},
			{Direction: "egress", EtherType: "IPv6", Protocol: "6", PortMin: 8080, PortMax: 8083},
			{Direction: "egress", EtherType: "IPv4", Protocol: "icmp"},
			// Lets a send what a DHCP server does, for anti-spoofing to stop.
			{Direction: "egress", EtherType: "IPv4", Protocol: "udp", PortMin: 68, PortMax: 68},
		}},
		{ID: "gb", Members: []string{"10.9.0.3", "fd00::3"}, Rules: []dataplane.Rule{
			{Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 8080, PortMax: 8080},
			{Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 8081, PortMax: 8081, RemoteGroup: "ga"},
			{Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 8082, PortMax: 8082, RemoteCIDR: "10.9.0.4/32"},
			{Direction: "ingress", EtherType: "IPv4", Protocol: "1", PortMin: 8},
			{Direction: "ingress", EtherType: "IPv6", Protocol: "tcp", PortMin: 8080, PortMax: 8080},
			// No egress rule: b answers only what was asked of it.
		}},
	}
	ports := []SwitchPort{
		{Tap: "kt-a", Bridge: "br0", Port: dataplane.Port{ID: "pa", MAC: guests[0].mac, SecurityEnabled: true, Groups: []string{"ga"},
			FixedIPs:     []dataplane.FixedIP{{Address: "10.9.0.2"}, {Address: "fd00::2"}},
			AddressPairs: []dataplane.AddressPair{{IP: "10.9.0.64/28"}}}},
		{Tap: "kt-b", Bridge: "br0", Port: dataplane.Port{ID: "pb", MAC: guests[1].mac, SecurityEnabled: true, Groups: []string{"gb"},
			FixedIPs: []dataplane.FixedIP{{Address: "10.9.0.3"}, {Address: "fd00::3"}}}},
		{Tap: "kt-c", Bridge: "br0", Port: dataplane.Port{ID: "pc", MAC: guests[2].mac, Groups: []string{"gb"},
			FixedIPs: []dataplane.FixedIP{{Address: "10.9.0.4"}}}},
	}
	text, err := Switch(ports, groups, []string{"br0"})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, sw, text)
	apply(t, sw, text) // replacing an existing table works too
	// A table of the test's own counts forwarded packets by conntrack zone:
	// the zone set by bridge must be there when conntrack sees them.
	apply(t, sw, "table inet probe {\n\tchain count {\n\t\ttype filter hook forward priority 10; policy accept;\n"+
		"\t\tct zone 1 counter\n\t\tct zone != 1 counter\n\t}\n}\n")

	for _, port := range []string{"8080", "8081", "8082", "8083"} {
		listen(t, b, "10.9.0.3:"+port)
	}
	listen(t, b, "[fd00::3]:8080")
	listen(t, b, "[fd00::3]:8083")
	listen(t, c, "10.9.0.4:8080")
	listen(t, c, "10.9.0.4:9090")
	listen(t, a, "10.9.0.2:7070")
	listen(t, e, "10.9.0.5:8080")

	checkAll(t, []probe{
		{name: "ingress rule for any source; reply passes though b has no egress rule", from: a, to: "10.9.0.3:8080", want: "10.9.0.2"},
		{name: "no ingress rule", from: a, to: "10.9.0.3:8083"},
		{name: "remote group member", from: a, to: "10.9.0.3:8081", want: "10.9.0.2"},
		{name: "not a remote group member", from: c, to: "10.9.0.3:8081"},
		{name: "remote prefix", from: c, to: "10.9.0.3:8082", want: "10.9.0.4"},
		{name: "outside the remote prefix", from: a, to: "10.9.0.3:8082"},
		{name: "unfiltered port to a filtered one, by its ingress rule", from: c, to: "10.9.0.3:8080", want: "10.9.0.4"},
		{name: "egress rule to an unfiltered port", from: a, to: "10.9.0.4:8080", want: "10.9.0.2"},
		{name: "no egress rule for the port", from: a, to: "10.9.0.4:9090"},
		{name: "no egress rule at all", from: b, to: "10.9.0.4:9090"},
		{name: "no ingress rule at all", from: c, to: "10.9.0.2:7070"},
		{name: "IPv6 ingress rule (neighbour discovery passes)", from: a, to: "[fd00::3]:8080", want: "fd00::2"},
		{name: "IPv6 without an ingress rule", from: a, to: "[fd00::3]:8083"},
		{name: "to a tap the model does not know", from: c, to: "10.9.0.5:8080"},
		{name: "from a tap the model does not know", from: e, to: "10.9.0.4:8080"},
	})
	var wg sync.WaitGroup
	for i, tc := range []struct {
		from, to string
		want     bool
	}{
		{a, "10.9.0.3", true},  // a's egress icmp, b's ingress icmp type 8
		{c, "10.9.0.3", true},  // unfiltered c, b's ingress
		{b, "10.9.0.2", false}, // b has no egress rule
		{c, "10.9.0.2", false}, // a has no ingress rule
	} {
		wg.Go(func() {
			if got, err := ping(tc.from, tc.to, uint16(i+1)); err != nil || got != tc.want {
				t.Errorf("ping %s -> %s: %v, %v; want %v", tc.from, tc.to, got, err, tc.want)
			}
		})
	}
	wg.Wait()

	out, err := exec.Command("ip", "netns", "exec", sw, "nft", "list", "table", "inet", "probe").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list: %v: %s", err, out)
	}
	zoned := regexp.MustCompile(`ct zone 1 counter packets ([0-9]+)`).FindSubmatch(out)
	other := regexp.MustCompile(`ct zone != 1 counter packets ([0-9]+)`).FindSubmatch(out)
	if zoned == nil || other == nil || string(zoned[1]) == "0" || string(other[1]) != "0" {
		t.Errorf("forwarded packets by conntrack zone, want all in zone 1:\n%s", out)
	}

	// DHCP passes whatever the groups say, but only from a server on a port
	// that is not a guest's (or one without port security).
	run(t, "ip", "-n", d, "addr", "add", "10.9.0.10/24", "dev", "eth0") // a server on .10, one sending from .9
	toA, toB, toD := listenUDP(t, a, "10.9.0.2:68"), listenUDP(t, b, "10.9.0.3:68"), listenUDP(t, d, "10.9.0.10:67")
	for _, tc := range []struct {
		name, from, local, to string
		got                   <-chan string
		want                  bool
	}{
		{"DHCP server to a guest without ingress rules", d, "10.9.0.9:67", "10.9.0.2:68", toA, true},
		{"DHCP client without egress rules for it", a, "10.9.0.2:68", "10.9.0.10:67", toD, true},
		{"DHCP server on a guest port", a, "10.9.0.2:67", "10.9.0.3:68", toB, false},
		{"DHCP server on a port without security", c, "10.9.0.4:67", "10.9.0.3:68", toB, true},
	} {
		if err := sendUDP(tc.from, tc.local, tc.to); err != nil {
			t.Fatal(err)
		}
		select {
		case from := <-tc.got:
			switch {
			case !tc.want:
				t.Errorf("%s: %s -> %s came (from %s); want it dropped", tc.name, tc.local, tc.to, from)
			case from != tc.local:
				t.Errorf("%s: %s -> %s came from %s", tc.name, tc.local, tc.to, from)
			}
		case <-time.After(time.Second):
			if tc.want {
				t.Errorf("%s: %s -> %s did not come", tc.name, tc.local, tc.to)
			}
		}
	}

	// Anti-spoofing: another address of the subnet is refused, one of an
	// allowed address pair passes; a port without security may use any.
	run(t, "ip", "-n", a, "addr", "add", "10.9.0.50/24", "dev", "eth0")
	run(t, "ip", "-n", a, "addr", "add", "10.9.0.66/24", "dev", "eth0")
	run(t, "ip", "-n", a, "addr", "add", "fd00::50/64", "dev", "eth0", "nodad")
	run(t, "ip", "-n", c, "addr", "add", "10.9.0.51/24", "dev", "eth0")
	checkAll(t, []probe{
		{name: "spoofed source address", from: a, local: "10.9.0.50", to: "10.9.0.3:8080"},
		{name: "spoofed IPv6 source address", from: a, local: "fd00::50", to: "[fd00::3]:8080"},
		{name: "allowed address pair", from: a, local: "10.9.0.66", to: "10.9.0.3:8080", want: "10.9.0.66"},
		{name: "port without security, any address", from: c, local: "10.9.0.51", to: "10.9.0.3:8080", want: "10.9.0.51"},
	})
	// And another MAC: b forgets the old ones, so it must ask again.
	run(t, "ip", "-n", a, "link", "set", "eth0", "address", "fa:16:3e:00:01:0a")
	run(t, "ip", "-n", c, "link", "set", "eth0", "address", "fa:16:3e:00:01:0c")
	run(t, "ip", "-n", b, "neigh", "flush", "all")
	checkAll(t, []probe{
		{name: "spoofed MAC", from: a, to: "10.9.0.3:8080"},
		{name: "port without security, any MAC", from: c, to: "10.9.0.3:8080", want: "10.9.0.4"},
	})

	// Port security off for a: no chains, so anything goes.
	ports[0].Port.SecurityEnabled = false
	text, err = Switch(ports, groups, []string{"br0"})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, sw, text)
	checkAll(t, []probe{
		{name: "port security off: spoofed address and MAC", from: a, local: "10.9.0.50", to: "10.9.0.3:8080", want: "10.9.0.50"},
		{name: "port security off: ingress", from: c, to: "10.9.0.2:7070", want: "10.9.0.4"},
		{name: "port security off: egress (b's ingress still filters)", from: a, to: "10.9.0.3:8083"},
	})
}

// TestRouterTraffic builds a router namespace between an external
// namespace and two internal subnets (one guest namespace each), loads
// Router's script and checks floating IP DNAT and SNAT, gateway SNAT, the
// gateway's forward filter and hairpin traffic to a floating IP.
func TestRouterTraffic(t *testing.T) {
	needNet(t)
	pre := fmt.Sprintf("nftgen-%d-", os.Getpid())
	r, ext, v1, v2 := newNS(t, pre+"r"), newNS(t, pre+"ext"), newNS(t, pre+"v1"), newNS(t, pre+"v2")
	if err := sysctl(r, "net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	link := func(dev, addr, peerNS, peerAddr, peerGW string) {
		run(t, "ip", "-n", r, "link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", peerNS)
		run(t, "ip", "-n", r, "link", "set", dev, "up")
		run(t, "ip", "-n", r, "addr", "add", addr, "dev", dev)
		run(t, "ip", "-n", peerNS, "link", "set", "eth0", "up")
		run(t, "ip", "-n", peerNS, "addr", "add", peerAddr, "dev", "eth0")
		if peerGW != "" {
			run(t, "ip", "-n", peerNS, "route", "add", "default", "via", peerGW)
		}
	}
	link("qg-t", "10.99.0.2/24", ext, "10.99.0.1/24", "")
	run(t, "ip", "-n", r, "addr", "add", "10.99.0.10/32", "dev", "qg-t") // the floating IP
	run(t, "ip", "-n", r, "route", "add", "default", "via", "10.99.0.1")
	link("qr-a", "10.10.0.1/24", v1, "10.10.0.5/24", "10.10.0.1")
	link("qr-b", "10.20.0.1/24", v2, "10.20.0.6/24", "10.20.0.1")
	// The external side knows the way in, as a hostile neighbour could.
	run(t, "ip", "-n", ext, "route", "add", "10.10.0.0/24", "via", "10.99.0.2")
	run(t, "ip", "-n", ext, "route", "add", "10.20.0.0/24", "via", "10.99.0.2")
	listen(t, ext, "10.99.0.1:8000")
	listen(t, v1, "10.10.0.5:8000")
	listen(t, v2, "10.20.0.6:8000")

	router := dataplane.Router{ID: "r1",
		Interfaces:  []dataplane.Interface{{PortID: "i1", CIDR: "10.10.0.0/24", Address: "10.10.0.1"}, {PortID: "i2", CIDR: "10.20.0.0/24", Address: "10.20.0.1"}},
		Gateway:     &dataplane.Gateway{PortID: "gw", Address: "10.99.0.2", CIDR: "10.99.0.0/24", NextHop: "10.99.0.1", SNAT: true},
		FloatingIPs: []dataplane.FloatingIP{{ID: "f1", Address: "10.99.0.10", FixedIP: "10.10.0.5"}},
	}
	devs := RouterDevs{Gateway: "qg-t", Internal: []string{"qr-a", "qr-b"}}
	text, err := Router(router, devs)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, r, text)
	checkAll(t, []probe{
		{name: "out with a floating IP", from: v1, to: "10.99.0.1:8000", want: "10.99.0.10"},
		{name: "out by gateway SNAT", from: v2, to: "10.99.0.1:8000", want: "10.99.0.2"},
		{name: "in to the floating IP", from: ext, to: "10.99.0.10:8000", want: "10.99.0.1"},
		{name: "in to a fixed IP with a floating IP", from: ext, to: "10.10.0.5:8000"},
		{name: "in to a fixed IP", from: ext, to: "10.20.0.6:8000"},
		{name: "between internal subnets, no NAT", from: v2, to: "10.10.0.5:8000", want: "10.20.0.6"},
		{name: "hairpin to a floating IP", from: v2, to: "10.99.0.10:8000", want: "10.99.0.2"},
		{name: "hairpin to its own floating IP", from: v1, to: "10.99.0.10:8000", want: "10.99.0.10"},
	})

	// enable_snat off and the floating IP gone: guests leave with their
	// own addresses, the external side still cannot come in.
	router.Gateway.SNAT = false
	router.FloatingIPs = nil
	if text, err = Router(router, devs); err != nil {
		t.Fatal(err)
	}
	apply(t, r, text)
	checkAll(t, []probe{
		{name: "out without SNAT", from: v2, to: "10.99.0.1:8000", want: "10.20.0.6"},
		{name: "out without SNAT nor floating IP", from: v1, to: "10.99.0.1:8000", want: "10.10.0.5"},
		{name: "in to a former floating IP", from: ext, to: "10.99.0.10:8000"},
		{name: "in to a fixed IP, without SNAT", from: ext, to: "10.10.0.5:8000"},
	})

	// Without a gateway the table is empty: plain routing.
	if text, err = Router(dataplane.Router{ID: "r1", Interfaces: router.Interfaces}, RouterDevs{Internal: devs.Internal}); err != nil {
		t.Fatal(err)
	}
	apply(t, r, text)
	(probe{name: "no gateway: external routed in", from: ext, to: "10.10.0.5:8000", want: "10.99.0.1"}).check(t)
}
