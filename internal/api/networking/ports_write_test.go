package networking_test

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

func fixedAddrs(t *testing.T, port map[string]any) []string {
	t.Helper()
	var out []string
	for _, f := range port["fixed_ips"].([]any) {
		out = append(out, f.(map[string]any)["ip_address"].(string))
	}
	return out
}

func TestPortWrites(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		subnet := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4,
			"cidr": "10.9.0.0/24"})["id"].(string)
		otherNet := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n2"})["id"].(string)
		otherSubnet := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": otherNet,
			"ip_version": 4, "cidr": "10.8.0.0/24"})["id"].(string)

		p := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "name": "p1"})
		wantKeys(t, "created port", p, portKeys)
		fixed := p["fixed_ips"].([]any)
		if len(fixed) != 1 || fixed[0].(map[string]any)["subnet_id"] != subnet || p["status"] != "DOWN" ||
			p["device_owner"] != "" || p["device_id"] != "" || !strings.HasPrefix(p["mac_address"].(string), "fa:16:3e:") ||
			p["revision_number"] != float64(1) || p["project_id"] != c.MemberProject {
			t.Errorf("created port %v", p)
		}
		id := p["id"].(string)
		// Ports get their addresses at random in the pool (as Neutron's):
		// the addresses the test gives are ones no port holds yet.
		freeAddr := func(t *testing.T, want string) string {
			t.Helper()
			taken := map[string]bool{}
			for _, port := range list(t, c.member.Do("GET", "/networking/v2.0/ports?network_id="+netID, nil).Expect(t, http.StatusOK), "ports") {
				for _, a := range fixedAddrs(t, port) {
					taken[a] = true
				}
			}
			for taken[want] {
				want = netip.MustParseAddr(want).Next().String()
			}
			return want
		}
		givenAddr := freeAddr(t, "10.9.0.50")

		given := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID,
			"fixed_ips": []any{map[string]any{"ip_address": givenAddr}}, "mac_address": "fa:16:3e:aa:bb:cc"})
		if got := fixedAddrs(t, given); len(got) != 1 || got[0] != givenAddr || given["mac_address"] != "fa:16:3e:aa:bb:cc" {
			t.Errorf("port with a given address and MAC: %v", given)
		}
		none := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "fixed_ips": []any{}})
		if got := fixedAddrs(t, none); len(got) != 0 {
			t.Errorf("port asked for no addresses has %v", got)
		}

		// Shared by the admin, the network takes other projects' ports,
		// on addresses it picks.
		c.Admin.Do("PUT", "/networking/v2.0/networks/"+otherNet, map[string]any{"network": map[string]any{"shared": true}}).Expect(t, http.StatusOK)
		create(t, c.other, "/networking/v2.0/ports", "port", map[string]any{"network_id": otherNet})

		post := func(body map[string]any) map[string]any {
			body["network_id"] = netID
			return map[string]any{"port": body}
		}
		cases := []struct {
			name     string
			who      string
			method   string
			path     string
			body     any
			status   int
			typ, msg string
		}{
			{"address taken", "member", "POST", "/networking/v2.0/ports", post(map[string]any{"fixed_ips": []any{map[string]any{"ip_address": givenAddr}}}),
				409, "IpAddressAlreadyAllocated", "IP address " + givenAddr + " already allocated in subnet " + subnet},
			{"the gateway", "member", "POST", "/networking/v2.0/ports", post(map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "10.9.0.1"}}}),
				409, "IpAddressAlreadyAllocated", "IP address 10.9.0.1 already allocated in subnet " + subnet},
			{"address of no subnet", "member", "POST", "/networking/v2.0/ports", post(map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "10.7.0.5"}}}),
				400, "InvalidIpForNetwork", "IP address 10.7.0.5 is not a valid IP for any of the subnets on the specified network."},
			{"address outside its subnet", "member", "POST", "/networking/v2.0/ports",
				post(map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "10.7.0.5", "subnet_id": subnet}}}),
				400, "InvalidIpForSubnet", "IP address 10.7.0.5 is not a valid IP for the specified subnet."},
			{"another network's subnet", "member", "POST", "/networking/v2.0/ports", post(map[string]any{"fixed_ips": []any{map[string]any{"subnet_id": otherSubnet}}}),
				400, "InvalidInput", "Invalid input for operation: Failed to create port on network " + netID + ", because fixed_ips included invalid subnet " + otherSubnet + "."},
			{"MAC taken", "member", "POST", "/networking/v2.0/ports", post(map[string]any{"mac_address": "fa:16:3e:aa:bb:cc"}),
				409, "MacAddressInUse", "Unable to complete operation for network " + netID + ". The mac address fa:16:3e:aa:bb:cc is in use."},
			{"no network", "member", "POST", "/networking/v2.0/ports", map[string]any{"port": map[string]any{}},
				400, "HTTPBadRequest", "Failed to parse request. Required attribute 'network_id' not specified"},
			{"another project's network", "other", "POST", "/networking/v2.0/ports", post(map[string]any{}),
				404, "NetworkNotFound", "Network " + netID + " could not be found."},
			{"a given address on a shared network", "other", "POST", "/networking/v2.0/ports",
				map[string]any{"port": map[string]any{"network_id": otherNet, "fixed_ips": []any{map[string]any{"ip_address": "10.8.0.9"}}}},
				403, "PolicyNotAuthorized", "(rule:create_port:fixed_ips:ip_address) is disallowed by policy"},
			{"a network device on a shared network", "other", "POST", "/networking/v2.0/ports",
				map[string]any{"port": map[string]any{"network_id": otherNet, "device_owner": "network:dhcp"}},
				403, "PolicyNotAuthorized", "(rule:create_port:device_owner) is disallowed by policy"},
			{"reader", "reader", "PUT", "/networking/v2.0/ports/" + id, map[string]any{"port": map[string]any{"name": "x"}},
				403, "PolicyNotAuthorized", "(rule:update_port) is disallowed by policy"},
			{"another project's port", "other", "PUT", "/networking/v2.0/ports/" + id, map[string]any{"port": map[string]any{"name": "x"}},
				404, "PortNotFound", "Port " + id + " could not be found."},
			{"MAC is read-only", "member", "PUT", "/networking/v2.0/ports/" + id, map[string]any{"port": map[string]any{"mac_address": "fa:16:3e:00:00:01"}},
				400, "HTTPBadRequest", "Cannot update read-only attribute mac_address"},
			{"network in use", "member", "DELETE", "/networking/v2.0/networks/" + netID, nil,
				409, "NetworkInUse", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				client := c.member
				switch tc.who {
				case "reader":
					client = c.reader
				case "other":
					client = c.other
				}
				wantError(t, client.Do(tc.method, tc.path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}

		movedAddr := freeAddr(t, "10.9.0.60")
		up := obj(t, c.member.Do("PUT", "/networking/v2.0/ports/"+id, map[string]any{"port": map[string]any{
			"name": "p2", "fixed_ips": []any{map[string]any{"ip_address": movedAddr}}, "device_owner": "compute:nova"}}).Expect(t, http.StatusOK), "port")
		if got := fixedAddrs(t, up); len(got) != 1 || got[0] != movedAddr || up["name"] != "p2" ||
			up["device_owner"] != "compute:nova" || up["revision_number"] != float64(2) {
			t.Errorf("updated port %v", up)
		}
		// The address the port gave up is free again.
		create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID,
			"fixed_ips": []any{map[string]any{"ip_address": fixedAddrs(t, p)[0]}}})

		c.member.Do("DELETE", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusNoContent)
		wantError(t, c.member.Do("GET", "/networking/v2.0/ports/"+id, nil), 404, "PortNotFound", "")
		create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID,
			"fixed_ips": []any{map[string]any{"ip_address": movedAddr}}})
	})
}

// Ports get addresses from their subnet's allocation pools only, and a
// full subnet is Neutron's IpAddressGenerationFailure.
func TestPortAddressesComeFromPools(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4,
			"cidr": "10.9.0.0/28", "gateway_ip": "10.9.0.7", "allocation_pools": []any{
				map[string]any{"start": "10.9.0.5", "end": "10.9.0.6"}, map[string]any{"start": "10.9.0.9", "end": "10.9.0.9"}}})
		var got []string
		for range 3 {
			got = append(got, fixedAddrs(t, create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID}))...)
		}
		slices.Sort(got)
		if want := []string{"10.9.0.5", "10.9.0.6", "10.9.0.9"}; !slices.Equal(got, want) {
			t.Errorf("addresses %v, want %v", got, want)
		}
		wantError(t, c.member.Do("POST", "/networking/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}}),
			409, "IpAddressGenerationFailure", "No more IP addresses available on network "+netID+".")
	})
}
