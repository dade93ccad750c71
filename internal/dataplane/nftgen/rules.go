package nftgen

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/dataplane"
)

// protocols are the names Neutron accepts for a rule's protocol
// (neutron_lib.constants.IP_PROTOCOL_MAP), by number.
var protocols = map[string]int{
	"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "icmpv6": 58,
	"igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "ipv6-nonxt": 59,
	"ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
	"udp": 17, "udplite": 136, "vrrp": 112,
}

// protocol numbers with ports (nft's th dport reads the same two bytes of
// each).
var portProtocols = map[int]bool{6: true, 17: true, 33: true, 132: true, 136: true}

// protocolNumber is a rule's protocol as a number, -1 for any.
func protocolNumber(p string) (int, error) {
	p = strings.ToLower(strings.TrimSpace(p))
	if p == "" || p == "any" {
		return -1, nil
	}
	if n, ok := protocols[p]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("protocol %q: not a name Neutron knows nor a number 0-255", p)
	}
	return n, nil
}

// ruleMatch is the nft match of one security group rule, in the direction
// the rule names, without its verdict. ok is false for a rule that can
// match nothing (a remote group without members of the rule's family, a
// remote prefix of the other family): it is left out.
func ruleMatch(r dataplane.Rule, groups map[string]dataplane.Group) (match string, ok bool, err error) {
	var m []string
	var v6 bool
	switch r.EtherType {
	case "IPv4":
		m = append(m, "meta nfproto ipv4")
	case "IPv6":
		m = append(m, "meta nfproto ipv6")
		v6 = true
	default:
		return "", false, fmt.Errorf("ethertype %q: want IPv4 or IPv6", r.EtherType)
	}
	// The remote side is the source of what comes in, the destination of
	// what goes out.
	var side string
	switch r.Direction {
	case "ingress":
		side = "saddr"
	case "egress":
		side = "daddr"
	default:
		return "", false, fmt.Errorf("direction %q: want ingress or egress", r.Direction)
	}
	proto, err := protocolNumber(r.Protocol)
	if err != nil {
		return "", false, err
	}
	// Neutron takes icmp in an IPv6 rule for ipv6-icmp.
	if v6 && proto == 1 {
		proto = 58
	}
	if r.PortMin < 0 || r.PortMax < 0 {
		return "", false, fmt.Errorf("port range %d-%d: negative", r.PortMin, r.PortMax)
	}
	switch {
	case proto == 1 || proto == 58:
		icmp := "icmp"
		if proto == 58 {
			icmp = "icmpv6"
		}
		m = append(m, "meta l4proto "+strconv.Itoa(proto))
		// port_range_min is the type, port_range_max the code; 0 is "none"
		// in the model (so type 0, echo reply, cannot be asked alone).
		if r.PortMin > 255 || r.PortMax > 255 {
			return "", false, fmt.Errorf("icmp type/code %d/%d: above 255", r.PortMin, r.PortMax)
		}
		if r.PortMin > 0 {
			m = append(m, fmt.Sprintf("%s type %d", icmp, r.PortMin))
			if r.PortMax > 0 {
				m = append(m, fmt.Sprintf("%s code %d", icmp, r.PortMax))
			}
		}
	case proto >= 0:
		m = append(m, "meta l4proto "+strconv.Itoa(proto))
		if portProtocols[proto] && (r.PortMin > 0 || r.PortMax > 0) {
			lo, hi := r.PortMin, r.PortMax
			if lo == 0 {
				lo = 1
			}
			if hi == 0 {
				hi = lo
			}
			if hi > 65535 || lo > hi {
				return "", false, fmt.Errorf("port range %d-%d: not within 1-65535 or reversed", r.PortMin, r.PortMax)
			}
			switch {
			case lo == 1 && hi == 65535: // every port: no match needed
			case lo == hi:
				m = append(m, fmt.Sprintf("th dport %d", lo))
			default:
				m = append(m, fmt.Sprintf("th dport %d-%d", lo, hi))
			}
		}
	}
	if r.RemoteCIDR != "" {
		p, err := prefix(r.RemoteCIDR)
		if err != nil {
			return "", false, fmt.Errorf("remote_ip_prefix: %w", err)
		}
		if p.Addr().Is6() != v6 {
			return "", false, nil
		}
		if p.Bits() > 0 {
			m = append(m, fmt.Sprintf("%s %s %s", ipKey(p.Addr()), side, prefixText(p)))
		}
	}
	if r.RemoteGroup != "" {
		g, found := groups[r.RemoteGroup]
		if !found {
			return "", false, fmt.Errorf("remote group %q: not among the groups", r.RemoteGroup)
		}
		var members []netip.Prefix
		for _, s := range g.Members {
			p, err := prefix(s)
			if err != nil {
				return "", false, fmt.Errorf("remote group %s member: %w", g.ID, err)
			}
			if p.Addr().Is6() == v6 {
				members = append(members, p)
			}
		}
		if len(members) == 0 {
			return "", false, nil
		}
		key := "ip"
		if v6 {
			key = "ip6"
		}
		m = append(m, fmt.Sprintf("%s %s %s", key, side, setOf(members)))
	}
	return strings.Join(m, " "), true, nil
}
