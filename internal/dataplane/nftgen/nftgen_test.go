package nftgen

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/dataplane"
)

func TestRuleMatch(t *testing.T) {
	groups := map[string]dataplane.Group{
		"web":   {ID: "web", Members: []string{"10.0.0.7", "fd00::7", "10.0.0.5", "10.0.0.0/30"}},
		"v6":    {ID: "v6", Members: []string{"fd00::9"}},
		"empty": {ID: "empty"},
		"bad":   {ID: "bad", Members: []string{"10.0.0.1; drop"}},
	}
	in4 := dataplane.Rule{Direction: "ingress", EtherType: "IPv4"}
	with := func(r dataplane.Rule, f func(*dataplane.Rule)) dataplane.Rule { f(&r); return r }
	tests := []struct {
		name string
		rule dataplane.Rule
		want string // "": left out; "error": an error
	}{
		{"any IPv4", in4, "meta nfproto ipv4"},
		{"any by name", with(in4, func(r *dataplane.Rule) { r.Protocol = "any" }), "meta nfproto ipv4"},
		{"any IPv6", with(in4, func(r *dataplane.Rule) { r.EtherType = "IPv6" }), "meta nfproto ipv6"},
		{"tcp port", with(in4, func(r *dataplane.Rule) { r.Protocol = "tcp"; r.PortMin, r.PortMax = 22, 22 }),
			"meta nfproto ipv4 meta l4proto 6 th dport 22"},
		{"tcp by number, range", with(in4, func(r *dataplane.Rule) { r.Protocol = "6"; r.PortMin, r.PortMax = 8000, 8080 }),
			"meta nfproto ipv4 meta l4proto 6 th dport 8000-8080"},
		{"TCP upper case, min only", with(in4, func(r *dataplane.Rule) { r.Protocol = "TCP"; r.PortMin = 443 }),
			"meta nfproto ipv4 meta l4proto 6 th dport 443"},
		{"udp every port", with(in4, func(r *dataplane.Rule) { r.Protocol = "udp"; r.PortMin, r.PortMax = 1, 65535 }),
			"meta nfproto ipv4 meta l4proto 17"},
		{"udp 17 no ports", with(in4, func(r *dataplane.Rule) { r.Protocol = "17" }), "meta nfproto ipv4 meta l4proto 17"},
		{"sctp port", with(in4, func(r *dataplane.Rule) { r.Protocol = "sctp"; r.PortMin, r.PortMax = 9, 9 }),
			"meta nfproto ipv4 meta l4proto 132 th dport 9"},
		{"gre ignores ports", with(in4, func(r *dataplane.Rule) { r.Protocol = "gre"; r.PortMin = 5 }), "meta nfproto ipv4 meta l4proto 47"},
		{"number 112", with(in4, func(r *dataplane.Rule) { r.Protocol = "112" }), "meta nfproto ipv4 meta l4proto 112"},
		{"icmp any", with(in4, func(r *dataplane.Rule) { r.Protocol = "icmp" }), "meta nfproto ipv4 meta l4proto 1"},
		{"icmp type", with(in4, func(r *dataplane.Rule) { r.Protocol = "1"; r.PortMin = 8 }),
			"meta nfproto ipv4 meta l4proto 1 icmp type 8"},
		{"icmp type and code", with(in4, func(r *dataplane.Rule) { r.Protocol = "icmp"; r.PortMin, r.PortMax = 3, 4 }),
			"meta nfproto ipv4 meta l4proto 1 icmp type 3 icmp code 4"},
		{"icmp in IPv6 is icmpv6", with(in4, func(r *dataplane.Rule) { r.EtherType = "IPv6"; r.Protocol = "icmp"; r.PortMin = 128 }),
			"meta nfproto ipv6 meta l4proto 58 icmpv6 type 128"},
		{"ipv6-icmp", with(in4, func(r *dataplane.Rule) { r.EtherType = "IPv6"; r.Protocol = "ipv6-icmp" }),
			"meta nfproto ipv6 meta l4proto 58"},
		{"icmpv6 58 type code", with(in4, func(r *dataplane.Rule) { r.EtherType = "IPv6"; r.Protocol = "58"; r.PortMin, r.PortMax = 1, 3 }),
			"meta nfproto ipv6 meta l4proto 58 icmpv6 type 1 icmpv6 code 3"},
		{"ingress remote prefix is the source", with(in4, func(r *dataplane.Rule) { r.RemoteCIDR = "192.168.1.9/24" }),
			"meta nfproto ipv4 ip saddr 192.168.1.0/24"},
		{"egress remote prefix is the destination", with(in4, func(r *dataplane.Rule) { r.Direction = "egress"; r.RemoteCIDR = "192.168.1.9" }),
			"meta nfproto ipv4 ip daddr 192.168.1.9"},
		{"remote 0.0.0.0/0", with(in4, func(r *dataplane.Rule) { r.RemoteCIDR = "0.0.0.0/0" }), "meta nfproto ipv4"},
		{"remote IPv6 prefix", with(in4, func(r *dataplane.Rule) { r.EtherType = "IPv6"; r.RemoteCIDR = "fd00:1::/48" }),
			"meta nfproto ipv6 ip6 saddr fd00:1::/48"},
		{"remote prefix of the other family", with(in4, func(r *dataplane.Rule) { r.RemoteCIDR = "fd00::/64" }), ""},
		{"remote group IPv4 members, overlaps merged", with(in4, func(r *dataplane.Rule) { r.Protocol = "tcp"; r.PortMin, r.PortMax = 80, 80; r.RemoteGroup = "web" }),
			"meta nfproto ipv4 meta l4proto 6 th dport 80 ip saddr { 10.0.0.0/30, 10.0.0.5, 10.0.0.7 }"},
		{"remote group egress IPv6", with(in4, func(r *dataplane.Rule) { r.Direction = "egress"; r.EtherType = "IPv6"; r.RemoteGroup = "web" }),
			"meta nfproto ipv6 ip6 daddr fd00::7"},
		{"remote group without IPv4 members", with(in4, func(r *dataplane.Rule) { r.RemoteGroup = "v6" }), ""},
		{"remote group without members", with(in4, func(r *dataplane.Rule) { r.RemoteGroup = "empty" }), ""},
		{"unknown remote group", with(in4, func(r *dataplane.Rule) { r.RemoteGroup = "nope" }), "error"},
		{"bad member", with(in4, func(r *dataplane.Rule) { r.RemoteGroup = "bad" }), "error"},
		{"bad prefix", with(in4, func(r *dataplane.Rule) { r.RemoteCIDR = "10.0.0.0/8 accept" }), "error"},
		{"bad direction", with(in4, func(r *dataplane.Rule) { r.Direction = "in" }), "error"},
		{"bad ethertype", with(in4, func(r *dataplane.Rule) { r.EtherType = "ipv4" }), "error"},
		{"bad protocol", with(in4, func(r *dataplane.Rule) { r.Protocol = "tcp accept" }), "error"},
		{"protocol 256", with(in4, func(r *dataplane.Rule) { r.Protocol = "256" }), "error"},
		{"reversed ports", with(in4, func(r *dataplane.Rule) { r.Protocol = "tcp"; r.PortMin, r.PortMax = 90, 80 }), "error"},
		{"port 65536", with(in4, func(r *dataplane.Rule) { r.Protocol = "udp"; r.PortMin, r.PortMax = 1, 65536 }), "error"},
		{"icmp type 256", with(in4, func(r *dataplane.Rule) { r.Protocol = "icmp"; r.PortMin = 256 }), "error"},
	}
	// Every match made is also checked by nft, in one chain.
	var chain strings.Builder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := ruleMatch(tc.rule, groups)
			if ok && err == nil {
				chain.WriteString("\t\t" + got + " accept\n")
			}
			switch {
			case tc.want == "error":
				if err == nil {
					t.Errorf("got %q, %v; want an error", got, ok)
				}
			case err != nil:
				t.Errorf("error %v; want %q", err, tc.want)
			case tc.want == "" && ok:
				t.Errorf("got %q; want the rule left out", got)
			case tc.want != "" && (!ok || got != tc.want):
				t.Errorf("got %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
	checkScript(t, "table inet t {\n\tchain c {\n"+chain.String()+"\t}\n}\n")
}

func TestCover(t *testing.T) {
	var in []netip.Prefix
	for _, s := range []string{"10.0.0.5/32", "10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/16", "11.0.0.1/32", "11.0.0.1/32", "fd00::/64", "fd00::1/128", "::/0"} {
		in = append(in, netip.MustParsePrefix(s))
	}
	var got []string
	for _, p := range cover(in) {
		got = append(got, p.String())
	}
	if want := []string{"10.0.0.0/16", "11.0.0.1/32", "::/0"}; !slices.Equal(got, want) {
		t.Errorf("cover = %v, want %v", got, want)
	}
}

func TestLinkLocal(t *testing.T) {
	if got := linkLocal("fa:16:3e:12:34:56").String(); got != "fe80::f816:3eff:fe12:3456" {
		t.Errorf("linkLocal = %s", got)
	}
}

// sample is a switch with a port in two groups (one naming the other as
// remote group), a port with allowed address pairs and a port without
// port security.
func sample() ([]SwitchPort, []dataplane.Group, []string) {
	groups := []dataplane.Group{
		{ID: "g-web", Members: []string{"10.0.0.5", "10.0.0.6", "fd00::5"}, Rules: []dataplane.Rule{
			{ID: "r1", Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 80, PortMax: 80},
			{ID: "r2", Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 22, PortMax: 22, RemoteCIDR: "192.168.0.0/16"},
			{ID: "r3", Direction: "egress", EtherType: "IPv4"},
			{ID: "r4", Direction: "egress", EtherType: "IPv6"},
		}},
		{ID: "g-db", Members: []string{"10.0.0.6"}, Rules: []dataplane.Rule{
			{ID: "r5", Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 5432, PortMax: 5432, RemoteGroup: "g-web"},
			{ID: "r6", Direction: "ingress", EtherType: "IPv6", Protocol: "icmp", RemoteGroup: "g-web"},
			{ID: "r7", Direction: "ingress", EtherType: "IPv4", RemoteGroup: "g-empty"},
			{ID: "r8", Direction: "egress", EtherType: "IPv4"},
		}},
		{ID: "g-empty"},
	}
	ports := []SwitchPort{
		{Tap: "kt-bbbb", Bridge: "kb-1", Port: dataplane.Port{ID: "p-db", MAC: "fa:16:3e:00:00:06", SecurityEnabled: true,
			FixedIPs: []dataplane.FixedIP{{Address: "10.0.0.6"}}, Groups: []string{"g-db", "g-web"},
			AddressPairs: []dataplane.AddressPair{{IP: "10.0.0.64/28"}, {IP: "10.0.0.70", MAC: "FA:16:3E:00:00:99"}, {IP: "fd00::/64"}}}},
		{Tap: "kt-aaaa", Bridge: "kb-1", Port: dataplane.Port{ID: "p-web", MAC: "fa:16:3e:00:00:05", SecurityEnabled: true,
			FixedIPs: []dataplane.FixedIP{{Address: "10.0.0.5"}, {Address: "fd00::5"}}, Groups: []string{"g-web"}}},
		{Tap: "kt-cccc", Bridge: "kb-2", Port: dataplane.Port{ID: "p-open", MAC: "fa:16:3e:00:00:07",
			FixedIPs: []dataplane.FixedIP{{Address: "10.1.0.7"}}, Groups: []string{"g-web"}}},
	}
	return ports, groups, []string{"kb-1", "kb-2"}
}

const sampleScript = `table bridge kumo {}
delete table bridge kumo
table inet kumo {}
delete table inet kumo
table bridge kumo {
	chain pre_mark {
		type filter hook prerouting priority -300; policy accept;
		iifname "kt-aaaa" meta mark set 0x00000001 goto spoof_1
		iifname "kt-bbbb" meta mark set 0x00000002 goto spoof_2
		iifname "kt-cccc" meta mark set 0x00000003 accept
		iifname "kt-*" drop
	}
	chain fwd_mark {
		type filter hook forward priority -300; policy accept;
		oifname "kt-aaaa" meta mark set meta mark & 0x0000ffff | 0x00010000 accept
		oifname "kt-bbbb" meta mark set meta mark & 0x0000ffff | 0x00020000 accept
		oifname "kt-cccc" meta mark set meta mark & 0x0000ffff | 0x00030000 accept
		oifname "kt-*" drop
	}
	chain spoof_1 {
		udp sport . udp dport { 67 . 68, 547 . 546 } drop
		icmpv6 type nd-router-advert drop
		ether saddr != { fa:16:3e:00:00:05 } drop
		ether type arp arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether . arp saddr ip { fa:16:3e:00:00:05 . 0.0.0.0, fa:16:3e:00:00:05 . 10.0.0.5 } return
		ether type ip ether saddr . ip saddr { fa:16:3e:00:00:05 . 10.0.0.5 } return
		ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return
		ether type ip6 ether saddr . ip6 saddr { fa:16:3e:00:00:05 . fd00::5, fa:16:3e:00:00:05 . fe80::f816:3eff:fe00:5 } return
		ether type ip6 ip6 saddr :: icmpv6 type { nd-router-solicit, nd-neighbor-solicit, mld-listener-report, mld2-listener-report } return
		drop
	}
	chain spoof_2 {
		udp sport . udp dport { 67 . 68, 547 . 546 } drop
		icmpv6 type nd-router-advert drop
		ether saddr != { fa:16:3e:00:00:06, fa:16:3e:00:00:99 } drop
		ether type arp arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether . arp saddr ip { fa:16:3e:00:00:06 . 0.0.0.0, fa:16:3e:00:00:06 . 10.0.0.6, fa:16:3e:00:00:06 . 10.0.0.64/28, fa:16:3e:00:00:99 . 10.0.0.70 } return
		ether type ip ether saddr . ip saddr { fa:16:3e:00:00:06 . 10.0.0.6, fa:16:3e:00:00:06 . 10.0.0.64/28, fa:16:3e:00:00:99 . 10.0.0.70 } return
		ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return
		ether type ip6 ether saddr . ip6 saddr { fa:16:3e:00:00:06 . fd00::/64, fa:16:3e:00:00:06 . fe80::f816:3eff:fe00:6, fa:16:3e:00:00:99 . fe80::f816:3eff:fe00:99 } return
		ether type ip6 ip6 saddr :: icmpv6 type { nd-router-solicit, nd-neighbor-solicit, mld-listener-report, mld2-listener-report } return
		drop
	}
}
table inet kumo {
	chain zone {
		type filter hook prerouting priority -300; policy accept;
		ct zone set iifname map { "kb-1" : 1, "kb-2" : 2 }
	}
	chain filter {
		type filter hook forward priority 0; policy accept;
		ct state established,related accept
		meta mark & 0x0000ffff vmap { 0x00000001 : jump egress_1, 0x00000002 : jump egress_2 }
		meta mark & 0xffff0000 vmap { 0x00010000 : jump ingress_1, 0x00020000 : jump ingress_2 }
	}
	chain egress_1 {
		ct state invalid drop
		meta nfproto ipv4 udp sport 68 udp dport 67 return
		meta nfproto ipv6 udp sport 546 udp dport 547 return
		icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } return
		meta nfproto ipv4 return
		meta nfproto ipv6 return
		drop
	}
	chain ingress_1 {
		ct state invalid drop
		meta nfproto ipv4 udp sport 67 udp dport 68 accept
		meta nfproto ipv6 udp sport 547 udp dport 546 accept
		icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept
		meta nfproto ipv4 meta l4proto 6 th dport 22 ip saddr 192.168.0.0/16 accept
		meta nfproto ipv4 meta l4proto 6 th dport 80 accept
		drop
	}
	chain egress_2 {
		ct state invalid drop
		meta nfproto ipv4 udp sport 68 udp dport 67 return
		meta nfproto ipv6 udp sport 546 udp dport 547 return
		icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } return
		meta nfproto ipv4 return
		meta nfproto ipv6 return
		drop
	}
	chain ingress_2 {
		ct state invalid drop
		meta nfproto ipv4 udp sport 67 udp dport 68 accept
		meta nfproto ipv6 udp sport 547 udp dport 546 accept
		icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept
		meta nfproto ipv4 meta l4proto 6 th dport 22 ip saddr 192.168.0.0/16 accept
		meta nfproto ipv4 meta l4proto 6 th dport 5432 ip saddr { 10.0.0.5, 10.0.0.6 } accept
		meta nfproto ipv4 meta l4proto 6 th dport 80 accept
		meta nfproto ipv6 meta l4proto 58 ip6 saddr fd00::5 accept
		drop
	}
}
`

func TestSwitch(t *testing.T) {
	ports, groups, bridges := sample()
	got, err := Switch(ports, groups, bridges)
	if err != nil {
		t.Fatal(err)
	}
	if got != sampleScript {
		t.Errorf("Switch:\n%s\nwant:\n%s", got, sampleScript)
	}
	checkScript(t, got)
}

// TestSwitchDeterministic shuffles everything whose order means nothing
// (ports, groups, rules, members, a port's groups): the text stays.
func TestSwitchDeterministic(t *testing.T) {
	ports, groups, bridges := sample()
	want, err := Switch(ports, groups, bridges)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		ports, groups, bridges := sample()
		r.Shuffle(len(ports), func(i, j int) { ports[i], ports[j] = ports[j], ports[i] })
		r.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
		for _, g := range groups {
			r.Shuffle(len(g.Rules), func(i, j int) { g.Rules[i], g.Rules[j] = g.Rules[j], g.Rules[i] })
			r.Shuffle(len(g.Members), func(i, j int) { g.Members[i], g.Members[j] = g.Members[j], g.Members[i] })
		}
		for _, p := range ports {
			gs := p.Port.Groups
			r.Shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
			ap := p.Port.AddressPairs
			r.Shuffle(len(ap), func(i, j int) { ap[i], ap[j] = ap[j], ap[i] })
		}
		got, err := Switch(ports, groups, bridges)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("shuffled input, other text:\n%s\nwant:\n%s", got, want)
		}
	}
}

func TestSwitchEmpty(t *testing.T) {
	for _, bridges := range [][]string{nil, {"kb-1"}} {
		got, err := Switch(nil, nil, bridges)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "table inet kumo {\n\tchain zone {") || strings.Contains(got, "vmap") {
			t.Errorf("Switch of nothing:\n%s", got)
		}
		checkScript(t, got)
	}
}

func TestSwitchErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(ports []SwitchPort, groups []dataplane.Group, bridges []string) ([]SwitchPort, []dataplane.Group, []string)
	}{
		{"tap with a quote", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Tap = `kt-a" accept`
			return p, g, b
		}},
		{"tap too long", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Tap = "kt-0123456789abc"
			return p, g, b
		}},
		{"empty tap", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Tap = ""
			return p, g, b
		}},
		{"two ports on one tap", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[1].Tap = p[0].Tap
			return p, g, b
		}},
		{"bridge with a brace", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			return p, g, append(b, "kb-}")
		}},
		{"bridge twice", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			return p, g, append(b, b[0])
		}},
		{"port on an unlisted bridge", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Bridge = "kb-9"
			return p, g, b
		}},
		{"bad MAC", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Port.MAC = "fa:16:3e:00:00:06 } accept"
			return p, g, b
		}},
		{"long MAC", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Port.MAC = "00:00:00:00:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01"
			return p, g, b
		}},
		{"bad fixed IP", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Port.FixedIPs[0].Address = "10.0.0.6/24"
			return p, g, b
		}},
		{"zoned fixed IP", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Port.FixedIPs[0].Address = "fe80::1%eth0"
			return p, g, b
		}},
		{"bad pair IP", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Port.AddressPairs[0].IP = "10.0.0.0/33"
			return p, g, b
		}},
		{"bad pair MAC", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Port.AddressPairs[1].MAC = "zz"
			return p, g, b
		}},
		{"unknown group", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			p[0].Port.Groups = append(p[0].Port.Groups, "g-nope")
			return p, g, b
		}},
		{"bad rule", func(p []SwitchPort, g []dataplane.Group, b []string) ([]SwitchPort, []dataplane.Group, []string) {
			g[0].Rules[0].Protocol = "tcp; flush ruleset"
			return p, g, b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Switch(tc.change(sample()))
			if err == nil {
				t.Errorf("want an error, got\n%s", got)
			}
		})
	}
	// A port without security is not checked beyond its tap and bridge.
	ports, groups, bridges := sample()
	ports[2].Port.MAC = "junk"
	if _, err := Switch(ports, groups, bridges); err != nil {
		t.Errorf("port without security: %v", err)
	}
}

func TestRouter(t *testing.T) {
	router := func() dataplane.Router {
		return dataplane.Router{ID: "r1",
			Interfaces: []dataplane.Interface{{PortID: "i1", CIDR: "10.1.0.0/24"}, {PortID: "i2", CIDR: "10.0.0.0/24"}, {PortID: "i3", CIDR: "fd00::/64"}},
			Gateway:    &dataplane.Gateway{PortID: "gw", Address: "203.0.113.2", CIDR: "203.0.113.0/24", NextHop: "203.0.113.1", SNAT: true},
			FloatingIPs: []dataplane.FloatingIP{
				{ID: "f2", Address: "203.0.113.20", FixedIP: "10.1.0.5"},
				{ID: "f1", Address: "203.0.113.10", FixedIP: "10.0.0.5"},
			},
		}
	}
	devs := RouterDevs{Gateway: "qg-0123456789a", Internal: []string{"qr-1", "qr-2"}}
	const full = `table ip kumo {}
delete table ip kumo
table ip kumo {
	chain pre_nat {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 203.0.113.10 dnat to 10.0.0.5
		ip daddr 203.0.113.20 dnat to 10.1.0.5
	}
	chain post_nat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "qg-0123456789a" ip saddr 10.0.0.5 snat to 203.0.113.10
		oifname != "qg-0123456789a" ct status dnat ip saddr 10.0.0.5 snat to 203.0.113.10
		oifname "qg-0123456789a" ip saddr 10.1.0.5 snat to 203.0.113.20
		oifname != "qg-0123456789a" ct status dnat ip saddr 10.1.0.5 snat to 203.0.113.20
		oifname "qg-0123456789a" ip saddr { 10.0.0.0/24, 10.1.0.0/24 } snat to 203.0.113.2
		oifname != "qg-0123456789a" ct status dnat ip saddr { 10.0.0.0/24, 10.1.0.0/24 } snat to 203.0.113.2
	}
	chain filter {
		type filter hook forward priority 0; policy accept;
		iifname "qg-0123456789a" ct state established,related accept
		iifname "qg-0123456789a" ct status dnat accept
		iifname "qg-0123456789a" drop
	}
}
`
	const empty = "table ip kumo {}\ndelete table ip kumo\ntable ip kumo {\n}\n"
	tests := []struct {
		name   string
		change func(r *dataplane.Router, d *RouterDevs)
		want   string // "": an error; else the whole text, or a line it must hold without a "table" prefix
		absent string // a line it must not hold
	}{
		{"gateway, floating IPs, SNAT", func(*dataplane.Router, *RouterDevs) {}, full, ""},
		{"no gateway", func(r *dataplane.Router, d *RouterDevs) { r.Gateway, d.Gateway = nil, "" }, empty, ""},
		{"no SNAT", func(r *dataplane.Router, d *RouterDevs) { r.Gateway.SNAT = false },
			"\t\toifname \"qg-0123456789a\" ip saddr 10.0.0.5 snat to 203.0.113.10\n", "snat to 203.0.113.2\n"},
		{"no floating IPs", func(r *dataplane.Router, d *RouterDevs) { r.FloatingIPs = nil },
			"\t\toifname \"qg-0123456789a\" ip saddr { 10.0.0.0/24, 10.1.0.0/24 } snat to 203.0.113.2\n", "dnat to"},
		{"one interface", func(r *dataplane.Router, d *RouterDevs) { r.Interfaces = r.Interfaces[:1] },
			"\t\toifname \"qg-0123456789a\" ip saddr 10.1.0.0/24 snat to 203.0.113.2\n", ""},
		{"two floating IPs of one fixed IP", func(r *dataplane.Router, d *RouterDevs) { r.FloatingIPs[0].FixedIP = "10.0.0.5" },
			"\t\tip daddr 203.0.113.20 dnat to 10.0.0.5\n", "snat to 203.0.113.20\n"},
		{"gateway without its device", func(r *dataplane.Router, d *RouterDevs) { d.Gateway = "" }, "", ""},
		{"device without a gateway", func(r *dataplane.Router, d *RouterDevs) { r.Gateway = nil }, "", ""},
		{"bad gateway device", func(r *dataplane.Router, d *RouterDevs) { d.Gateway = "qg 1" }, "", ""},
		{"bad internal device", func(r *dataplane.Router, d *RouterDevs) { d.Internal[0] = "qr/1" }, "", ""},
		{"IPv6 gateway address", func(r *dataplane.Router, d *RouterDevs) { r.Gateway.Address = "2001:db8::2" }, "", ""},
		{"bad interface CIDR", func(r *dataplane.Router, d *RouterDevs) { r.Interfaces[0].CIDR = "10.1.0.0/24 drop" }, "", ""},
		{"bad floating IP", func(r *dataplane.Router, d *RouterDevs) { r.FloatingIPs[0].Address = "203.0.113.300" }, "", ""},
		{"bad fixed IP", func(r *dataplane.Router, d *RouterDevs) { r.FloatingIPs[0].FixedIP = "fd00::5" }, "", ""},
		{"floating IP twice", func(r *dataplane.Router, d *RouterDevs) { r.FloatingIPs[1].Address = r.FloatingIPs[0].Address }, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, d := router(), devs
			d.Internal = slices.Clone(devs.Internal)
			tc.change(&r, &d)
			got, err := Router(r, d)
			switch {
			case tc.want == "":
				if err == nil {
					t.Errorf("want an error, got\n%s", got)
				}
				return
			case err != nil:
				t.Fatal(err)
			case strings.HasPrefix(tc.want, "table"):
				if got != tc.want {
					t.Errorf("Router:\n%s\nwant:\n%s", got, tc.want)
				}
			case !strings.Contains(got, tc.want) || tc.absent != "" && strings.Contains(got, tc.absent):
				t.Errorf("Router:\n%s\nwant it with %q, without %q", got, tc.want, tc.absent)
			}
			checkScript(t, got)
		})
	}
}
