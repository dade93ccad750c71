// Package nftgen turns the dataplane model into nftables scripts (text for
// `nft -f`): Switch for a compute host's switch namespace (marks by tap,
// anti-spoofing, conntrack zones and the security groups' stateful
// chains) and Router for a router namespace (floating IP DNAT/SNAT,
// gateway SNAT, the gateway's forward filter). Both are pure functions:
// every value they write into a script is parsed and re-printed first (so
// nothing from the database can add nft syntax), and the output is sorted
// so equal models give equal texts and the applier can skip unchanged
// ones.
package nftgen

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// ifName checks an interface name and returns it quoted for nft. Linux
// allows almost any byte in a name; kumo's own names (kt-, kb-, qg-, qr-)
// use far fewer, and a name outside them is refused rather than escaped.
func ifName(name string) (string, error) {
	if name == "" || len(name) > 15 || name == "." || name == ".." {
		return "", fmt.Errorf("interface name %q: empty, longer than 15 bytes or reserved", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", fmt.Errorf("interface name %q: character %q not allowed", name, c)
		}
	}
	return `"` + name + `"`, nil
}

// macAddr parses an Ethernet address and prints it lower case.
func macAddr(s string) (string, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return "", fmt.Errorf("MAC address %q: not a 6-byte Ethernet address", s)
	}
	return hw.String(), nil
}

// addr parses an IP address (no zone, no IPv4-mapped IPv6).
func addr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("address %q: %w", s, err)
	}
	if a.Zone() != "" || a.Is4In6() {
		return netip.Addr{}, fmt.Errorf("address %q: zoned or IPv4-mapped", s)
	}
	return a, nil
}

// prefix parses an address or a CIDR (as allowed address pairs and
// remote_ip_prefix give them) into its masked prefix.
func prefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := addr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("prefix %q: %w", s, err)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("prefix %q: IPv4-mapped", s)
	}
	return p.Masked(), nil
}

// prefixText prints a prefix as nft wants it: a single address without
// its /32 or /128.
func prefixText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// cover sorts prefixes and drops those inside another one: nft refuses an
// interval set whose elements overlap.
func cover(ps []netip.Prefix) []netip.Prefix {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	var out []netip.Prefix
	for _, p := range ps {
		// Sorted by address then length: a prefix holding p sorts before it,
		// and only the last kept one can (kept ones do not overlap).
		if n := len(out); n > 0 && out[n-1].Bits() <= p.Bits() && out[n-1].Contains(p.Addr()) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// setOf prints prefixes as one nft value: a bare one, or an anonymous set.
// It must not be called with none (an empty anonymous set is not nft).
func setOf(ps []netip.Prefix) string {
	ps = cover(ps)
	if len(ps) == 1 {
		return prefixText(ps[0])
	}
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = prefixText(p)
	}
	return "{ " + strings.Join(texts, ", ") + " }"
}

// ipKey is the nft payload keyword of an address family.
func ipKey(a netip.Addr) string {
	if a.Is4() {
		return "ip"
	}
	return "ip6"
}

// script collects the lines of an nft script with tab indentation.
type script struct{ b strings.Builder }

func (s *script) line(depth int, format string, args ...any) {
	s.b.WriteString(strings.Repeat("\t", depth))
	fmt.Fprintf(&s.b, format, args...)
	s.b.WriteByte('\n')
}

// replace starts the atomic replacement of a table: creating it first
// makes the delete valid when it does not exist yet, and nft -f runs the
// whole script as one transaction.
func (s *script) replace(family, table string) {
	s.line(0, "table %s %s {}", family, table)
	s.line(0, "delete table %s %s", family, table)
}
