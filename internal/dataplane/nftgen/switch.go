package nftgen

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/virt/netns"
)

// SwitchPort is one guest port's tap in the switch namespace.
type SwitchPort struct {
	Tap    string // the tap device (bridge port) name
	Bridge string // the bridge the tap is on
	Port   dataplane.Port
}

// maxPorts is how many port indexes fit in 16 bits of the mark (0: none).
const maxPorts = 0xffff

// Switch is the script for the switch namespace. It replaces the tables
// `bridge kumo` and `inet kumo` in one transaction:
//
//   - bridge kumo: chain pre_mark (prerouting, priority -300) sets the
//     mark to the in-port's index (1.. in the order of the taps' names) and
//     jumps to the port's anti-spoofing chain spoof_N; chain fwd_mark
//     (forward, priority -300) puts the out-port's index in the mark's
//     high 16 bits.
//   - inet kumo: chain zone (prerouting, priority -300) sets the conntrack
//     zone by bridge (1.. in the order of bridges; under br_netfilter
//     iifname is the bridge); chain filter (forward, priority 0) accepts
//     established/related, then jumps to the in-port's egress_N chain
//     (matching rules return, the rest is dropped) and the out-port's
//     ingress_N chain (matching rules accept, the rest is dropped).
//
// Ports with SecurityEnabled false get a mark only: no chains. Frames of
// other bridge ports (routers', DHCP servers') pass unless a guest
// port's chain drops them.
func Switch(ports []SwitchPort, groups []dataplane.Group, bridges []string) (string, error) {
	zones := map[string]int{}
	var zoneElems []string
	for i, b := range bridges {
		q, err := ifName(b)
		if err != nil {
			return "", fmt.Errorf("bridge: %w", err)
		}
		if zones[b] != 0 {
			return "", fmt.Errorf("bridge %s listed twice", b)
		}
		zones[b] = i + 1
		zoneElems = append(zoneElems, fmt.Sprintf("%s : %d", q, i+1))
	}
	if len(ports) > maxPorts {
		return "", fmt.Errorf("%d ports: at most %d fit in the mark", len(ports), maxPorts)
	}
	byID := map[string]dataplane.Group{}
	for _, g := range groups {
		byID[g.ID] = g
	}
	ports = slices.Clone(ports)
	slices.SortFunc(ports, func(a, b SwitchPort) int { return cmp.Compare(a.Tap, b.Tap) })

	var pre, fwd, egressMap, ingressMap []string
	var bridgeChains, inetChains script
	for i, sp := range ports {
		n := i + 1
		tap, err := ifName(sp.Tap)
		if err != nil {
			return "", fmt.Errorf("port %s: tap: %w", sp.Port.ID, err)
		}
		if i > 0 && ports[i-1].Tap == sp.Tap {
			return "", fmt.Errorf("tap %s given for two ports", sp.Tap)
		}
		if zones[sp.Bridge] == 0 {
			return "", fmt.Errorf("port %s: bridge %q not among the bridges", sp.Port.ID, sp.Bridge)
		}
		fwd = append(fwd, fmt.Sprintf("oifname %s meta mark set meta mark & 0x0000ffff | 0x%08x accept", tap, n<<16))
		if !sp.Port.SecurityEnabled {
			pre = append(pre, fmt.Sprintf("iifname %s meta mark set 0x%08x accept", tap, n))
			continue
		}
		pre = append(pre, fmt.Sprintf("iifname %s meta mark set 0x%08x goto spoof_%d", tap, n, n))
		if err := spoofChain(&bridgeChains, n, sp.Port); err != nil {
			return "", fmt.Errorf("port %s: %w", sp.Port.ID, err)
		}
		if err := groupChains(&inetChains, n, sp.Port, byID); err != nil {
			return "", fmt.Errorf("port %s: %w", sp.Port.ID, err)
		}
		egressMap = append(egressMap, fmt.Sprintf("0x%08x : jump egress_%d", n, n))
		ingressMap = append(ingressMap, fmt.Sprintf("0x%08x : jump ingress_%d", n<<16, n))
	}

	var s script
	s.replace("bridge", "kumo")
	s.replace("inet", "kumo")
	s.line(0, "table bridge kumo {")
	s.line(1, "chain pre_mark {")
	s.line(2, "type filter hook prerouting priority -300; policy accept;")
	for _, l := range pre {
		s.line(2, "%s", l)
	}
	// A guest's tap the model does not know yet (just plugged) is dark
	// until it does: it never passes unfiltered.
	s.line(2, "iifname %q drop", netns.TapPrefix+"*")
	s.line(1, "}")
	s.line(1, "chain fwd_mark {")
	s.line(2, "type filter hook forward priority -300; policy accept;")
	for _, l := range fwd {
		s.line(2, "%s", l)
	}
	s.line(2, "oifname %q drop", netns.TapPrefix+"*")
	s.line(1, "}")
	s.b.WriteString(bridgeChains.b.String())
	s.line(0, "}")
	s.line(0, "table inet kumo {")
	s.line(1, "chain zone {")
	s.line(2, "type filter hook prerouting priority -300; policy accept;")
	if len(zoneElems) > 0 {
		s.line(2, "ct zone set iifname map { %s }", strings.Join(zoneElems, ", "))
	}
	s.line(1, "}")
	s.line(1, "chain filter {")
	s.line(2, "type filter hook forward priority 0; policy accept;")
	s.line(2, "ct state established,related accept")
	if len(egressMap) > 0 {
		s.line(2, "meta mark & 0x0000ffff vmap { %s }", strings.Join(egressMap, ", "))
		s.line(2, "meta mark & 0xffff0000 vmap { %s }", strings.Join(ingressMap, ", "))
	}
	s.line(1, "}")
	s.b.WriteString(inetChains.b.String())
	s.line(0, "}")
	return s.b.String(), nil
}

// macPrefix is one (MAC, source prefix) pair anti-spoofing lets through.
type macPrefix struct {
	mac string
	p   netip.Prefix
}

// spoofChain writes chain spoof_N: what port n may send, by Ethernet
// source, ARP sender and IP source (its fixed IPs, its allowed address
// pairs, the IPv6 link-local address of each of its MACs), and never DHCP
// server replies nor router advertisements.
func spoofChain(s *script, n int, p dataplane.Port) error {
	own, err := macAddr(p.MAC)
	if err != nil {
		return err
	}
	macs := []string{own}
	var allowed []macPrefix
	for _, f := range p.FixedIPs {
		a, err := addr(f.Address)
		if err != nil {
			return fmt.Errorf("fixed IP: %w", err)
		}
		allowed = append(allowed, macPrefix{own, netip.PrefixFrom(a, a.BitLen())})
	}
	for _, ap := range p.AddressPairs {
		mac := own
		if ap.MAC != "" {
			if mac, err = macAddr(ap.MAC); err != nil {
				return fmt.Errorf("allowed address pair: %w", err)
			}
		}
		pf, err := prefix(ap.IP)
		if err != nil {
			return fmt.Errorf("allowed address pair: %w", err)
		}
		if !slices.Contains(macs, mac) {
			macs = append(macs, mac)
		}
		allowed = append(allowed, macPrefix{mac, pf})
	}
	slices.Sort(macs)
	for _, mac := range macs {
		allowed = append(allowed, macPrefix{mac, netip.PrefixFrom(linkLocal(mac), 128)})
	}
	var arp, v4, v6 []string
	for _, mac := range macs {
		var ps []netip.Prefix
		for _, a := range allowed {
			if a.mac == mac {
				ps = append(ps, a.p)
			}
		}
		for _, pf := range cover(ps) {
			e := mac + " . " + prefixText(pf)
			if pf.Addr().Is4() {
				v4 = append(v4, e)
			} else {
				v6 = append(v6, e)
			}
		}
		// ARP: the IPv4 sources, and for the port's own MAC 0.0.0.0, the
		// sender of an ARP probe (RFC 5227).
		if mac == own {
			ps = append(ps, netip.PrefixFrom(netip.IPv4Unspecified(), 32))
		}
		for _, pf := range cover(ps) {
			if pf.Addr().Is4() {
				arp = append(arp, mac+" . "+prefixText(pf))
			}
		}
	}

	s.line(1, "chain spoof_%d {", n)
	s.line(2, "udp sport . udp dport { 67 . 68, 547 . 546 } drop")
	s.line(2, "icmpv6 type nd-router-advert drop")
	s.line(2, "ether saddr != { %s } drop", strings.Join(macs, ", "))
	s.line(2, "ether type arp arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether . arp saddr ip { %s } return", strings.Join(arp, ", "))
	if len(v4) > 0 {
		s.line(2, "ether type ip ether saddr . ip saddr { %s } return", strings.Join(v4, ", "))
	}
	s.line(2, "ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return")
	s.line(2, "ether type ip6 ether saddr . ip6 saddr { %s } return", strings.Join(v6, ", "))
	// Duplicate address detection and MLD before an address is up.
	s.line(2, "ether type ip6 ip6 saddr :: icmpv6 type { nd-router-solicit, nd-neighbor-solicit, mld-listener-report, mld2-listener-report } return")
	s.line(2, "drop")
	s.line(1, "}")
	return nil
}

// linkLocal is the EUI-64 IPv6 link-local address of a MAC (the one
// Neutron lets a port use).
func linkLocal(mac string) netip.Addr {
	hw, _ := net.ParseMAC(mac) // checked by the caller
	var b [16]byte
	b[0], b[1] = 0xfe, 0x80
	b[8], b[9], b[10] = hw[0]^0x02, hw[1], hw[2]
	b[11], b[12] = 0xff, 0xfe
	b[13], b[14], b[15] = hw[3], hw[4], hw[5]
	return netip.AddrFrom16(b)
}

// groupChains writes chains egress_N and ingress_N of port n from the
// rules of its security groups.
func groupChains(s *script, n int, p dataplane.Port, groups map[string]dataplane.Group) error {
	var egress, ingress []string
	for _, id := range p.Groups {
		g, ok := groups[id]
		if !ok {
			return fmt.Errorf("security group %q: not among the groups", id)
		}
		for _, r := range g.Rules {
			m, ok, err := ruleMatch(r, groups)
			if err != nil {
				return fmt.Errorf("security group %s rule %s: %w", g.ID, r.ID, err)
			}
			if !ok {
				continue
			}
			if r.Direction == "egress" {
				egress = append(egress, m)
			} else {
				ingress = append(ingress, m)
			}
		}
	}
	// The rules only let through, so their order does not matter: sorted,
	// equal models give equal scripts.
	slices.Sort(egress)
	egress = slices.Compact(egress)
	slices.Sort(ingress)
	ingress = slices.Compact(ingress)

	s.line(1, "chain egress_%d {", n)
	s.line(2, "ct state invalid drop")
	s.line(2, "meta nfproto ipv4 udp sport 68 udp dport 67 return")
	s.line(2, "meta nfproto ipv6 udp sport 546 udp dport 547 return")
	s.line(2, "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } return")
	for _, m := range egress {
		s.line(2, "%s return", m)
	}
	s.line(2, "drop")
	s.line(1, "}")
	s.line(1, "chain ingress_%d {", n)
	s.line(2, "ct state invalid drop")
	s.line(2, "meta nfproto ipv4 udp sport 67 udp dport 68 accept")
	s.line(2, "meta nfproto ipv6 udp sport 547 udp dport 546 accept")
	s.line(2, "icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept")
	for _, m := range ingress {
		s.line(2, "%s accept", m)
	}
	s.line(2, "drop")
	s.line(1, "}")
	return nil
}
