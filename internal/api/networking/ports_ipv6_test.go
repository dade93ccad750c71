package networking_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// Ports take IPv6 addresses as Neutron's IPAM gives them: their EUI-64
// address on each SLAAC or DHCPv6-stateless subnet, whatever fixed_ips
// asks for, and an address of the pools of a subnet of no mode or
// DHCPv6-stateful; deleting an auto-address subnet takes its addresses
// off the ports.
func TestPortIPv6AddressModes(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		n, macs := 0, 0
		// MACs are the cloud's to give once; eui is the EUI-64 address
		// of the last one drawn in the /64 prefix.
		mac := func() string {
			macs++
			return fmt.Sprintf("fa:16:3e:11:22:%02x", macs)
		}
		eui := func(prefix string) string {
			b := netip.MustParsePrefix(prefix).Addr().As16()
			copy(b[8:], []byte{0xf8, 0x16, 0x3e, 0xff, 0xfe, 0x11, 0x22, byte(macs)})
			return netip.AddrFrom16(b).String()
		}
		network := func(subnets ...map[string]any) (string, []string) {
			n++
			netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": fmt.Sprint("n", n)})["id"].(string)
			var ids []string
			for _, sn := range subnets {
				body := map[string]any{"network_id": netID}
				for k, v := range sn {
					body[k] = v
				}
				ids = append(ids, create(t, c.member, "/networking/v2.0/subnets", "subnet", body)["id"].(string))
			}
			return netID, ids
		}
		v6 := func(cidr string, modes ...string) map[string]any {
			sn := map[string]any{"ip_version": 6, "cidr": cidr}
			if len(modes) > 0 && modes[0] != "" {
				sn["ipv6_ra_mode"] = modes[0]
			}
			if len(modes) > 1 {
				sn["ipv6_address_mode"] = modes[1]
			}
			return sn
		}
		bySubnet := func(port map[string]any) map[string]string {
			out := map[string]string{}
			for _, f := range port["fixed_ips"].([]any) {
				out[f.(map[string]any)["subnet_id"].(string)] = f.(map[string]any)["ip_address"].(string)
			}
			return out
		}

		for _, tc := range []struct {
			name  string
			modes []string
			eui   bool
		}{
			{"slaac", []string{"slaac", "slaac"}, true},
			{"dhcpv6-stateless", []string{"dhcpv6-stateless", "dhcpv6-stateless"}, true},
			{"slaac without RAs", []string{"", "slaac"}, true},
			{"RAs only", []string{"slaac"}, true},
			{"no modes", nil, false},
			{"dhcpv6-stateful", []string{"", "dhcpv6-stateful"}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				netID, subnets := network(v6("2001:db8:1::/64", tc.modes...))
				port := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "mac_address": mac()})
				got := bySubnet(port)[subnets[0]]
				if (got == eui("2001:db8:1::/64")) != tc.eui || !netip.MustParsePrefix("2001:db8:1::/64").Contains(netip.MustParseAddr(got)) {
					t.Errorf("address %s; EUI-64 (%s) %v", got, eui("2001:db8:1::/64"), tc.eui)
				}
				c.member.Do("DELETE", "/networking/v2.0/ports/"+port["id"].(string), nil).Expect(t, http.StatusNoContent)
			})
		}

		// Two IPv6 subnets in either order: the EUI-64 address on the
		// auto-address one, a pool address on the stateful one.
		for _, order := range []string{"slaac first", "stateful first"} {
			t.Run(order, func(t *testing.T) {
				slaac, stateful := v6("2001:db8:2::/64", "slaac", "slaac"), v6("2001:db8:3::/64", "", "dhcpv6-stateful")
				subnets := []map[string]any{slaac, stateful}
				if order == "stateful first" {
					subnets = []map[string]any{stateful, slaac}
				}
				netID, ids := network(subnets...)
				if order == "stateful first" {
					ids = []string{ids[1], ids[0]}
				}
				got := bySubnet(create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "mac_address": mac()}))
				if len(got) != 2 || got[ids[0]] != eui("2001:db8:2::/64") || got[ids[1]] == "" || got[ids[1]] == eui("2001:db8:3::/64") {
					t.Errorf("addresses %v", got)
				}
			})
		}

		// fixed_ips naming the IPv4 subnet still gives the EUI-64 address;
		// an update that leaves it out keeps it; another address on the
		// auto-address subnet is refused.
		netID, ids := network(map[string]any{"ip_version": 4, "cidr": "10.5.0.0/24"}, v6("2001:db8:4::/64", "dhcpv6-stateless", "dhcpv6-stateless"),
			v6("2001:db8:5::/64"))
		v4, slaac, stateful := ids[0], ids[1], ids[2]
		port := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "mac_address": mac(),
			"fixed_ips": []any{map[string]any{"subnet_id": v4}}})
		id := port["id"].(string)
		if got := bySubnet(port); len(got) != 2 || got[slaac] != eui("2001:db8:4::/64") || got[v4] == "" {
			t.Errorf("port asking for its IPv4 subnet has %v", got)
		}
		up := obj(t, c.member.Do("PUT", "/networking/v2.0/ports/"+id, map[string]any{"port": map[string]any{
			"fixed_ips": []any{map[string]any{"subnet_id": v4}, map[string]any{"subnet_id": stateful}}}}).Expect(t, http.StatusOK), "port")
		if got := bySubnet(up); len(got) != 3 || got[v4] != bySubnet(port)[v4] || got[slaac] != eui("2001:db8:4::/64") || got[stateful] == "" {
			t.Errorf("updated port has %v; want its IPv4 address kept, its EUI-64 address and one of %s", got, stateful)
		}
		empty := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "fixed_ips": []any{}})
		if got := bySubnet(empty); len(got) != 1 || got[slaac] == "" {
			t.Errorf("port asking for no address has %v; want its EUI-64 address only", got)
		}
		wantError(t, c.member.Do("POST", "/networking/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID,
			"fixed_ips": []any{map[string]any{"ip_address": "2001:db8:4::99"}}}}), 400, "AllocationOnAutoAddressSubnet",
			"IPv6 address 2001:db8:4::99 cannot be directly assigned to a port on subnet "+slaac+" as the subnet is configured for automatic addresses")

		// The stateful subnet holds an address: in use. The auto-address
		// one goes, with its addresses.
		wantError(t, c.member.Do("DELETE", "/networking/v2.0/subnets/"+stateful, nil), 409, "SubnetInUse", "")
		c.member.Do("DELETE", "/networking/v2.0/subnets/"+slaac, nil).Expect(t, http.StatusNoContent)
		after := obj(t, c.member.Do("GET", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusOK), "port")
		if got := bySubnet(after); len(got) != 2 || got[slaac] != "" || after["revision_number"].(float64) <= up["revision_number"].(float64) {
			t.Errorf("port after its auto-address subnet's delete: %v", after)
		}
		if got := bySubnet(obj(t, c.member.Do("GET", "/networking/v2.0/ports/"+empty["id"].(string), nil).Expect(t, http.StatusOK), "port")); len(got) != 0 {
			t.Errorf("port of the EUI-64 address only still has %v", got)
		}

		for _, tc := range []struct {
			name string
			body map[string]any
			msg  string
		}{
			{"SLAAC needs a /64", v6("2001:db8:6::/80", "slaac", "slaac"),
				"Invalid input for operation: Invalid CIDR 2001:db8:6::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64."},
			{"modes need DHCP", map[string]any{"ip_version": 6, "cidr": "2001:db8:7::/64", "ipv6_address_mode": "dhcpv6-stateful", "enable_dhcp": false},
				"Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.body["network_id"] = netID
				wantError(t, c.member.Do("POST", "/networking/v2.0/subnets", map[string]any{"subnet": tc.body}), 400, "InvalidInput", tc.msg)
			})
		}
	})
}
