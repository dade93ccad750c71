package nftgen

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/kumocloud/kumo/internal/dataplane"
)

// RouterDevs names a router namespace's devices.
type RouterDevs struct {
	Gateway  string   // the qg device, "" without a gateway
	Internal []string // the qr devices
}

// Router is the script for one router namespace. It replaces `table ip
// kumo` in one transaction; without a gateway the table is empty (the
// router only joins its subnets). With one:
//
//   - pre_nat (prerouting dstnat): a floating IP's address is DNATed to
//     its fixed IP, whatever the interface (so internal hosts reach it too).
//   - post_nat (postrouting srcnat): out of the gateway device, a fixed IP
//     with a floating IP is SNATed to it, then (Gateway.SNAT) the internal
//     subnets to the gateway address. DNATed traffic that goes back inside
//     (an internal host reaching a floating IP) gets the same SNAT, so the
//     replies come back through the router (Neutron's hairpin).
//   - filter (forward): from the gateway device only established/related
//     or DNATed connections pass; the external network cannot reach the
//     internal subnets by their own addresses.
func Router(r dataplane.Router, devs RouterDevs) (string, error) {
	for _, d := range devs.Internal {
		if _, err := ifName(d); err != nil {
			return "", fmt.Errorf("router %s: internal device: %w", r.ID, err)
		}
	}
	var s script
	s.replace("ip", "kumo")
	if r.Gateway == nil || devs.Gateway == "" {
		if r.Gateway != nil || devs.Gateway != "" {
			return "", fmt.Errorf("router %s: gateway %v but gateway device %q", r.ID, r.Gateway != nil, devs.Gateway)
		}
		s.line(0, "table ip kumo {")
		s.line(0, "}")
		return s.b.String(), nil
	}
	qg, err := ifName(devs.Gateway)
	if err != nil {
		return "", fmt.Errorf("router %s: gateway device: %w", r.ID, err)
	}
	gw, err := addr(r.Gateway.Address)
	if err != nil || !gw.Is4() {
		return "", fmt.Errorf("router %s: gateway address %q: not IPv4", r.ID, r.Gateway.Address)
	}
	// Only IPv4 is NATed: other subnets are routed as they are.
	var internal []netip.Prefix
	for _, in := range r.Interfaces {
		p, err := prefix(in.CIDR)
		if err != nil {
			return "", fmt.Errorf("router %s interface %s: %w", r.ID, in.PortID, err)
		}
		if p.Addr().Is4() {
			internal = append(internal, p)
		}
	}
	type fip struct{ float, fixed netip.Addr }
	var fips []fip
	for _, f := range r.FloatingIPs {
		fl, err := addr(f.Address)
		if err != nil || !fl.Is4() {
			return "", fmt.Errorf("router %s floating IP %s: address %q: not IPv4", r.ID, f.ID, f.Address)
		}
		fx, err := addr(f.FixedIP)
		if err != nil || !fx.Is4() {
			return "", fmt.Errorf("router %s floating IP %s: fixed IP %q: not IPv4", r.ID, f.ID, f.FixedIP)
		}
		fips = append(fips, fip{fl, fx})
	}
	slices.SortFunc(fips, func(a, b fip) int { return a.float.Compare(b.float) })
	for i := 1; i < len(fips); i++ {
		if fips[i].float == fips[i-1].float {
			return "", fmt.Errorf("router %s: floating IP %s associated twice", r.ID, fips[i].float)
		}
	}

	s.line(0, "table ip kumo {")
	s.line(1, "chain pre_nat {")
	s.line(2, "type nat hook prerouting priority dstnat; policy accept;")
	for _, f := range fips {
		s.line(2, "ip daddr %s dnat to %s", f.float, f.fixed)
	}
	s.line(1, "}")
	s.line(1, "chain post_nat {")
	s.line(2, "type nat hook postrouting priority srcnat; policy accept;")
	// The first SNAT that matches is the one: floating IPs before the
	// gateway address. A fixed IP with two floating IPs leaves by the
	// lowest one.
	seen := map[netip.Addr]bool{}
	for _, f := range fips {
		if seen[f.fixed] {
			continue
		}
		seen[f.fixed] = true
		s.line(2, "oifname %s ip saddr %s snat to %s", qg, f.fixed, f.float)
		s.line(2, "oifname != %s ct status dnat ip saddr %s snat to %s", qg, f.fixed, f.float)
	}
	if r.Gateway.SNAT && len(internal) > 0 {
		set := setOf(internal)
		s.line(2, "oifname %s ip saddr %s snat to %s", qg, set, gw)
		s.line(2, "oifname != %s ct status dnat ip saddr %s snat to %s", qg, set, gw)
	}
	s.line(1, "}")
	s.line(1, "chain filter {")
	s.line(2, "type filter hook forward priority 0; policy accept;")
	s.line(2, "iifname %s ct state established,related accept", qg)
	s.line(2, "iifname %s ct status dnat accept", qg)
	s.line(2, "iifname %s drop", qg)
	s.line(1, "}")
	s.line(0, "}")
	return s.b.String(), nil
}
