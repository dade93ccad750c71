package networking

import (
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
)

// maxAddressPairs is Neutron's max_allowed_address_pair default.
const maxAddressPairs = 10

// securityGroups reads security_groups: a list of distinct UUIDs (null
// is the empty list, as neutron-lib's convert_none_to_empty_list).
func (a attrs) securityGroups() (*[]string, error) {
	v, ok := a["security_groups"]
	if !ok {
		return nil, nil
	}
	if v == nil {
		return &[]string{}, nil
	}
	ids, err := a.strings("security_groups")
	if err != nil {
		return nil, err
	}
	if dups := duplicates(*ids); len(dups) > 0 {
		return nil, invalidAttr("security_groups", "Duplicate items in the list: '"+strings.Join(dups, ", ")+"'")
	}
	for _, id := range *ids {
		if _, err := uuid.Parse(id); err != nil {
			return nil, invalidAttr("security_groups", "'"+id+"' is not a valid UUID")
		}
	}
	return ids, nil
}

func duplicates(list []string) []string {
	var seen, dups []string
	for _, s := range list {
		if slices.Contains(seen, s) && !slices.Contains(dups, s) {
			dups = append(dups, s)
		}
		seen = append(seen, s)
	}
	return dups
}

// addressPairs reads allowed_address_pairs as neutron-lib's
// _validate_allowed_address_pairs does: at most ten objects, each with an
// IP address or CIDR and an optional unicast MAC, no pair twice.
func (a attrs) addressPairs() (*[]network.AddressPair, error) {
	v, ok := a["allowed_address_pairs"]
	if !ok {
		return nil, nil
	}
	if v == nil {
		return &[]network.AddressPair{}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, badRequest("Allowed address pairs must be a list.")
	}
	if len(list) > maxAddressPairs {
		return nil, errs.Named("AllowedAddressPairExhausted",
			badRequest("The number of allowed address pair exceeds the maximum %d.", maxAddressPairs))
	}
	out := make([]network.AddressPair, 0, len(list))
	seen := map[[2]string]bool{}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, invalidAttr("allowed_address_pairs", "'"+stringOf(e)+"' is not a dictionary")
		}
		pair, err := addressPair(m)
		if err != nil {
			return nil, err
		}
		mac := "None"
		if _, given := m["mac_address"]; given {
			mac = pair.MACAddress
		}
		if seen[[2]string{mac, pair.IPAddress}] {
			return nil, errs.Named("DuplicateAddressPairInRequest", badRequest(
				"Request contains duplicate address pair: mac_address %s ip_address %s.", mac, pair.IPAddress))
		}
		seen[[2]string{mac, pair.IPAddress}] = true
		out = append(out, pair)
	}
	return &out, nil
}

// addressPair checks one pair: its MAC first, then its IP, as neutron-lib.
func addressPair(m map[string]any) (network.AddressPair, error) {
	var p network.AddressPair
	if v, ok := m["mac_address"]; ok {
		s, _ := v.(string)
		hw, err := net.ParseMAC(s)
		if err != nil || len(hw) != 6 || s != strings.TrimSpace(s) {
			return p, badRequest("'%s' is not a valid MAC address", stringOf(v))
		}
		p.MACAddress = s
	}
	v, ok := m["ip_address"]
	if !ok {
		return p, errs.Named("AllowedAddressPairsMissingIP", badRequest("AllowedAddressPair must contain ip_address"))
	}
	var extra []string
	for k := range m {
		if k != "mac_address" && k != "ip_address" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return p, badRequest("Unrecognized attribute(s) '%s'", strings.Join(extra, ", "))
	}
	s, _ := v.(string)
	if err := validPairAddress(s, stringOf(v)); err != nil {
		return p, err
	}
	if p.MACAddress != "" {
		if hw, _ := net.ParseMAC(p.MACAddress); hw[0]&1 == 1 {
			return p, badRequest("MAC address %s is a multicast address, which is not supported.", p.MACAddress)
		}
	}
	p.IPAddress = s
	return p, nil
}

// validPairAddress checks an address pair's ip_address: an IP address,
// or a CIDR when it has a '/', not multicast.
func validPairAddress(s, shown string) error {
	if strings.Contains(s, "/") {
		prefix, err := netip.ParsePrefix(s)
		if err != nil || (prefix.Addr().Is4() && prefix.String() != s) {
			return badRequest("'%s' is not a valid IP subnet", shown)
		}
		if prefix.Bits() > 0 && prefix.Addr().IsMulticast() {
			return badRequest("IP subnet %s overlaps with the multicast range, which is not supported.", s)
		}
		return nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" || (addr.Is4() && addr.String() != s) {
		return badRequest("'%s' is not a valid IP address", shown)
	}
	if addr.IsMulticast() {
		return badRequest("IP %s is a multicast address, which is not supported.", s)
	}
	return nil
}

// addressPairViews shows a port's allowed address pairs.
func addressPairViews(pairs []network.AddressPair) []map[string]string {
	out := make([]map[string]string, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, map[string]string{"ip_address": p.IPAddress, "mac_address": p.MACAddress})
	}
	return out
}

// securityRules are the attribute rules the port security attributes of
// a body call for (create_port:allowed_address_pairs:mac_address, ...).
func securityRules(a attrs, action string, pairs *[]network.AddressPair) []string {
	var rules []string
	if _, ok := a["port_security_enabled"]; ok {
		rules = append(rules, action+"_port:port_security_enabled")
	}
	if pairs == nil {
		return rules
	}
	rules = append(rules, action+"_port:allowed_address_pairs")
	for _, p := range *pairs {
		if p.MACAddress != "" {
			rules = append(rules, action+"_port:allowed_address_pairs:mac_address")
		}
		rules = append(rules, action+"_port:allowed_address_pairs:ip_address")
	}
	return rules
}
