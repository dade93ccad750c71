package compute

import "net/netip"

// CanonicalIP is how Nova stores accessIPv4/accessIPv6 (its IPAddress
// column type prints the parsed address): "0:0:0:0:0:babe:220.12.22.2"
// reads back as "::babe:dc0c:1602". Values that do not parse (the API
// validates them first) and "" are kept as they are.
func CanonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return a.String()
}
