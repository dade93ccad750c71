package secgroup

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
)

// ipProtocols are neutron-lib's IP_PROTOCOL_MAP, in its order (the order
// SecurityGroupRuleInvalidProtocol lists them in).
var ipProtocols = []struct {
	name string
	num  int
}{
	{"ah", 51}, {"dccp", 33}, {"egp", 8}, {"esp", 50}, {"gre", 47}, {"hopopt", 0}, {"icmp", 1}, {"igmp", 2},
	{"ip", 0}, {"ipip", 4}, {"ipv6-encap", 41}, {"ipv6-frag", 44}, {"ipv6-icmp", 58}, {"icmpv6", 58},
	{"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"ipv6-route", 43}, {"ospf", 89}, {"pgm", 113}, {"rsvp", 46},
	{"sctp", 132}, {"tcp", 6}, {"udp", 17}, {"udplite", 136}, {"vrrp", 112},
}

// Protocol numbers of Neutron's port checks (neutron/common/_constants.py).
const (
	protoICMP   = 1
	protoICMPv6 = 58
)

// portProtocols are SG_PORT_PROTO_NUMS: the protocols with ports.
var portProtocols = []int{33, 132, 6, 17, 136}

// ipv6Only are the protocols an IPv4 rule may not name
// (_validate_ethertype_and_protocol).
var ipv6Only = []string{"ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route",
	"41", "44", "58", "59", "60", "43"}

// protocolNumber is _get_ip_proto_number of a converted protocol.
func protocolNumber(p string) int {
	for _, ip := range ipProtocols {
		if ip.name == p {
			return ip.num
		}
	}
	n, _ := strconv.Atoi(strings.TrimSpace(p))
	return n
}

// protocolKey is _get_ip_proto_name_and_num: a protocol's name and
// number, so that "tcp" and "6" are the same rule.
func protocolKey(p, ethertype string) string {
	if ethertype == "IPv6" {
		switch p {
		case "icmp", "icmpv6":
			p = "ipv6-icmp"
		case "1":
			p = "58"
		}
	}
	for _, ip := range ipProtocols {
		if ip.name == p {
			return ip.name + "/" + strconv.Itoa(ip.num)
		}
	}
	for _, ip := range ipProtocols {
		if strconv.Itoa(ip.num) == p && ip.name != "icmpv6" && ip.name != "hopopt" {
			return ip.name + "/" + p
		}
	}
	return p + "/" + p
}

// supportedProtocols is sg_supported_protocols as Python prints it.
func supportedProtocols() string {
	names := []string{"None", "'any'"}
	for _, ip := range ipProtocols {
		names = append(names, "'"+ip.name+"'")
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// ConvertProtocol is the protocol attribute's convert_protocol: nil or
// "any" is any protocol (nil), a number 0-255 is kept as given, a name
// is lower-cased and must be one of Neutron's.
func ConvertProtocol(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	text := pyStr(v)
	switch x := v.(type) {
	case json.Number:
		if n, ok := pyInt(x); ok && n >= 0 && n <= 255 {
			return &text, nil
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			if n >= 0 && n <= 255 {
				return &text, nil
			}
			break
		}
		lower := strings.ToLower(x)
		if lower == "any" {
			return nil, nil
		}
		for _, ip := range ipProtocols {
			if ip.name == lower {
				return &lower, nil
			}
		}
	}
	return nil, invalidProtocol(text)
}

func invalidProtocol(p string) error {
	return invalid("SecurityGroupRuleInvalidProtocol",
		"Security group rule protocol %s not supported. Only protocol values %s and integer representations [0 to 255] are supported.",
		p, supportedProtocols())
}

// ConvertEthertype is convert_ethertype_to_case_insensitive.
func ConvertEthertype(v any) (string, error) {
	if s, ok := v.(string); ok {
		for _, e := range []string{"IPv4", "IPv6"} {
			if strings.EqualFold(s, e) {
				return e, nil
			}
		}
	}
	return "", invalid("SecurityGroupRuleInvalidEtherType",
		"Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].", pyStr(v))
}

// ConvertPort is convert_validate_port_value: nil, or an integer (or its
// text) from 0 to 65535.
func ConvertPort(v any) (*int, error) {
	if v == nil {
		return nil, nil
	}
	if _, isBool := v.(bool); !isBool {
		if n, ok := pyInt(v); ok && n >= 0 && n <= 65535 {
			return &n, nil
		}
	}
	return nil, invalid("SecurityGroupInvalidPortValue", "Invalid value for port %s", pyStr(v))
}

// ConvertIPPrefix is convert_ip_prefix_to_cidr: an address or a network,
// kept with its host bits and given its mask (10.0.0.5 is 10.0.0.5/32);
// an empty one is none.
func ConvertIPPrefix(v any) (*string, error) {
	if v == nil || v == "" {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, invalidCIDR(pyStr(v))
	}
	var p netip.Prefix
	if addr, err := netip.ParseAddr(s); err == nil && addr.Zone() == "" {
		p = netip.PrefixFrom(addr, addr.BitLen())
	} else if p, err = netip.ParsePrefix(s); err != nil {
		return nil, invalidCIDR(s)
	}
	out := p.String()
	return &out, nil
}

func invalidCIDR(s string) error {
	return errs.Named("InvalidCIDR", errs.Invalid("Invalid CIDR %s given as IP prefix.", s))
}

// NormalizedCIDR is a rule's remote_ip_prefix without host bits
// (security-groups-normalized-cidr), nil without one.
func NormalizedCIDR(prefix *string) *string {
	if prefix == nil {
		return nil
	}
	p, err := netip.ParsePrefix(*prefix)
	if err != nil {
		return nil
	}
	out := p.Masked().String()
	return &out
}

// validateNeutronRule is _validate_base_security_group_rule_attributes
// on a rule whose attributes are converted: legacy IPv6 ICMP names and
// the whole port range made canonical, then the port range, the remote
// prefix's IP version, the protocol's and the single remote checked.
func validateNeutronRule(r *NewRule) error {
	if r.Ethertype == "IPv6" && r.Protocol != nil {
		switch *r.Protocol {
		case "icmp", "icmpv6":
			r.Protocol = ptrStr("ipv6-icmp")
		case "1":
			r.Protocol = ptrStr("58")
		}
	}
	if r.PortMin != nil && r.PortMax != nil && *r.PortMin == 1 && *r.PortMax == 65535 {
		r.PortMin, r.PortMax = nil, nil
	}
	if err := validatePortRange(r); err != nil {
		return err
	}
	if r.RemoteIPPrefix != nil {
		p, err := netip.ParsePrefix(*r.RemoteIPPrefix)
		if err != nil {
			return invalidCIDR(*r.RemoteIPPrefix)
		}
		if version := map[bool]string{true: "IPv4", false: "IPv6"}[p.Addr().Is4()]; version != r.Ethertype {
			return invalid("SecurityGroupRuleParameterConflict", "Conflicting value ethertype %s for CIDR %s",
				r.Ethertype, *r.RemoteIPPrefix)
		}
	}
	if r.Protocol != nil && r.Ethertype == "IPv4" && contains(ipv6Only, *r.Protocol) {
		return invalid("SecurityGroupEthertypeConflictWithProtocol", "Invalid ethertype %s for protocol %s.",
			r.Ethertype, *r.Protocol)
	}
	remotes := 0
	for _, set := range []bool{r.RemoteIPPrefix != nil, r.RemoteGroupID != nil && *r.RemoteGroupID != "",
		r.RemoteAddressGroupID != nil && *r.RemoteAddressGroupID != ""} {
		if set {
			remotes++
		}
	}
	if remotes > 1 {
		return invalid("SecurityGroupMultipleRemoteEntites",
			"Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.")
	}
	return nil
}

// validatePortRange is _validate_port_range: ports need a protocol; TCP,
// UDP and the other port protocols take a range from 1 with min <= max;
// ICMP takes a type (min) and a code (max) of 0-255, a code only with a
// type; other protocols take none.
func validatePortRange(r *NewRule) error {
	if r.PortMin == nil && r.PortMax == nil {
		return nil
	}
	if r.Protocol == nil {
		return invalid("SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
	}
	proto := protocolNumber(*r.Protocol)
	switch {
	case containsInt(portProtocols, proto):
		if (r.PortMin != nil && *r.PortMin == 0) || (r.PortMax != nil && *r.PortMax == 0) {
			return invalid("SecurityGroupInvalidPortValue", "Invalid value for port 0")
		}
		if r.PortMin == nil || r.PortMax == nil || *r.PortMin > *r.PortMax {
			return invalid("SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max")
		}
	case proto == protoICMP || proto == protoICMPv6:
		for _, f := range []struct {
			v           *int
			field, attr string
		}{{r.PortMin, "type", "port_range_min"}, {r.PortMax, "code", "port_range_max"}} {
			if f.v != nil && (*f.v < 0 || *f.v > 255) {
				return invalid("SecurityGroupInvalidIcmpValue", "Invalid value for ICMP %s (%s) %d. It must be 0 to 255.",
					f.field, f.attr, *f.v)
			}
		}
		if r.PortMin == nil && r.PortMax != nil {
			return invalid("SecurityGroupMissingIcmpType",
				"ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *r.PortMax)
		}
	default:
		return invalid("SecurityGroupInvalidProtocolForPort",
			"Ports cannot be specified for protocol %d. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.", proto)
	}
	return nil
}

// ruleKey is _rule_to_key: what makes two rules of a group the same. A
// prefix for everyone is no prefix; protocols compare by name and
// number.
func ruleKey(r Rule) string {
	part := func(s *string) string {
		if s == nil {
			return "+"
		}
		return *s
	}
	num := func(n *int) string {
		if n == nil {
			return "+"
		}
		return strconv.Itoa(*n)
	}
	proto := "+"
	if r.Protocol != nil {
		proto = protocolKey(*r.Protocol, r.Ethertype)
	}
	prefix := part(r.RemoteCIDR)
	if prefix == "0.0.0.0/0" || prefix == "::/0" {
		prefix = "+"
	}
	return strings.Join([]string{r.Direction, r.Ethertype, num(r.PortMax), num(r.PortMin), proto,
		part(r.RemoteGroupID), prefix, r.GroupID}, "_")
}

func ptrStr(s string) *string { return &s }

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}
