package networking_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// subnetKeys are the keys of a subnet in Neutron's api-ref
// (subnet-show-response.json).
var subnetKeys = []string{"allocation_pools", "cidr", "created_at", "description", "dns_nameservers", "dns_publish_fixed_ip",
	"enable_dhcp", "gateway_ip", "host_routes", "id", "ip_version", "ipv6_address_mode", "ipv6_ra_mode", "name",
	"network_id", "project_id", "revision_number", "router:external", "segment_id", "service_types", "subnetpool_id",
	"tags", "tenant_id", "updated_at"}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSubnetCreate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		cases := []struct {
			name                  string
			body                  map[string]any
			gateway, pools, extra string // gateway and pools as JSON; extra: a key=JSON check
		}{
			{"defaults", map[string]any{"cidr": "10.1.0.0/24"}, `"10.1.0.1"`, `[{"end":"10.1.0.254","start":"10.1.0.2"}]`, ""},
			{"no gateway", map[string]any{"cidr": "10.2.0.0/29", "gateway_ip": nil}, `null`, `[{"end":"10.2.0.6","start":"10.2.0.1"}]`, ""},
			{"gateway in the middle", map[string]any{"cidr": "10.3.0.0/29", "gateway_ip": "10.3.0.4"}, `"10.3.0.4"`,
				`[{"end":"10.3.0.3","start":"10.3.0.1"},{"end":"10.3.0.6","start":"10.3.0.5"}]`, ""},
			{"given pools", map[string]any{"cidr": "10.4.0.0/24", "allocation_pools": []any{map[string]any{"start": "10.4.0.100", "end": "10.4.0.150"}}},
				`"10.4.0.1"`, `[{"end":"10.4.0.150","start":"10.4.0.100"}]`, ""},
			{"dns and routes", map[string]any{"cidr": "10.5.0.0/24", "dns_nameservers": []any{"8.8.8.8"},
				"host_routes": []any{map[string]any{"destination": "10.9.0.0/16", "nexthop": "10.5.0.9"}}},
				`"10.5.0.1"`, `[{"end":"10.5.0.254","start":"10.5.0.2"}]`, `host_routes=[{"destination":"10.9.0.0/16","nexthop":"10.5.0.9"}]`},
			{"ipv6 slaac", map[string]any{"ip_version": 6, "cidr": "fd00:1::/64", "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"},
				`"fd00:1::1"`, `[{"end":"fd00:1::ffff:ffff:ffff:ffff","start":"fd00:1::2"}]`, `ipv6_address_mode="slaac"`},
		}
		for _, tc := range cases {
			body := map[string]any{"network_id": netID, "ip_version": 4}
			for k, v := range tc.body {
				body[k] = v
			}
			s := create(t, c.member, "/networking/v2.0/subnets", "subnet", body)
			wantKeys(t, tc.name, s, subnetKeys)
			if got := jsonText(t, s["gateway_ip"]); got != tc.gateway {
				t.Errorf("%s: gateway %s, want %s", tc.name, got, tc.gateway)
			}
			if got := jsonText(t, s["allocation_pools"]); got != tc.pools {
				t.Errorf("%s: pools %s, want %s", tc.name, got, tc.pools)
			}
			if tc.extra != "" {
				key, want, _ := cut(tc.extra)
				if got := jsonText(t, s[key]); got != want {
					t.Errorf("%s: %s %s, want %s", tc.name, key, got, want)
				}
			}
			if s["project_id"] != c.MemberProject || s["network_id"] != netID || s["revision_number"] != float64(1) {
				t.Errorf("%s: subnet %v", tc.name, s)
			}
		}
		n := obj(t, c.member.Do("GET", "/networking/v2.0/networks/"+netID, nil).Expect(t, http.StatusOK), "network")
		if len(n["subnets"].([]any)) != len(cases) || n["revision_number"] != float64(1+len(cases)) {
			t.Errorf("network after %d subnets: %v", len(cases), n)
		}
	})
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestSubnetErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		s := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4, "cidr": "10.1.0.0/24"})
		id := s["id"].(string)
		with := func(kv ...any) map[string]any {
			b := map[string]any{"network_id": netID, "ip_version": 4, "cidr": "10.7.0.0/24"}
			for i := 0; i+1 < len(kv); i += 2 {
				b[kv[i].(string)] = kv[i+1]
			}
			return map[string]any{"subnet": b}
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
			{"overlap", "member", "POST", "/networking/v2.0/subnets", with("cidr", "10.1.0.128/25"), 400, "InvalidInput",
				"Invalid input for operation: Requested subnet with cidr: 10.1.0.128/25 for network: " + netID + " overlaps with another subnet."},
			{"host bits", "member", "POST", "/networking/v2.0/subnets", with("cidr", "10.7.0.1/24"), 400, "InvalidInput",
				"Invalid input for operation: '10.7.0.1/24' isn't a recommended CIDR, use '10.7.0.0/24' instead."},
			{"version mismatch", "member", "POST", "/networking/v2.0/subnets", with("ip_version", 6), 400, "InvalidInput", ""},
			{"bad version", "member", "POST", "/networking/v2.0/subnets", with("ip_version", 5), 400, "HTTPBadRequest",
				"Invalid input for ip_version. Reason: '5' is not in [4, 6]."},
			{"no network", "member", "POST", "/networking/v2.0/subnets", map[string]any{"subnet": map[string]any{"ip_version": 4, "cidr": "10.8.0.0/24"}},
				400, "HTTPBadRequest", "Failed to parse request. Required attribute 'network_id' not specified"},
			{"missing network", "member", "POST", "/networking/v2.0/subnets", with("network_id", "f0b6e2d4-0000-4000-8000-000000000000"),
				404, "NetworkNotFound", "Network f0b6e2d4-0000-4000-8000-000000000000 could not be found."},
			{"another project's network", "other", "POST", "/networking/v2.0/subnets", with(), 404, "NetworkNotFound",
				"Network " + netID + " could not be found."},
			{"gateway outside", "member", "POST", "/networking/v2.0/subnets", with("gateway_ip", "10.9.0.1"), 400, "InvalidInput",
				"Invalid input for operation: Gateway is not valid on subnet."},
			{"gateway in the pool", "member", "POST", "/networking/v2.0/subnets",
				with("gateway_ip", "10.7.0.10", "allocation_pools", []any{map[string]any{"start": "10.7.0.2", "end": "10.7.0.20"}}),
				409, "GatewayConflictWithAllocationPools", "Gateway ip 10.7.0.10 conflicts with allocation pool 10.7.0.2-10.7.0.20"},
			{"pool outside", "member", "POST", "/networking/v2.0/subnets",
				with("allocation_pools", []any{map[string]any{"start": "10.7.0.2", "end": "10.7.1.20"}}), 400, "InvalidInput",
				"Invalid input for operation: The allocation pool 10.7.0.2-10.7.1.20 spans beyond the subnet cidr 10.7.0.0/24."},
			{"pools overlap", "member", "POST", "/networking/v2.0/subnets",
				with("allocation_pools", []any{map[string]any{"start": "10.7.0.2", "end": "10.7.0.20"}, map[string]any{"start": "10.7.0.20", "end": "10.7.0.30"}}),
				400, "InvalidInput", "Invalid input for operation: Found overlapping allocation pools: 10.7.0.2-10.7.0.20 and 10.7.0.20-10.7.0.30."},
			{"ipv6 mode on ipv4", "member", "POST", "/networking/v2.0/subnets", with("ipv6_address_mode", "slaac"), 400, "InvalidInput", ""},
			{"bad nameserver", "member", "POST", "/networking/v2.0/subnets", with("dns_nameservers", []any{"dns.example"}), 400, "InvalidInput", ""},
			{"subnet pools", "member", "POST", "/networking/v2.0/subnets", with("subnetpool_id", "x"), 400, "HTTPBadRequest", ""},
			{"cidr is read-only", "member", "PUT", "/networking/v2.0/subnets/" + id, map[string]any{"subnet": map[string]any{"cidr": "10.1.0.0/16"}},
				400, "HTTPBadRequest", "Cannot update read-only attribute cidr"},
			{"reader cannot update", "reader", "PUT", "/networking/v2.0/subnets/" + id, map[string]any{"subnet": map[string]any{"name": "x"}},
				403, "PolicyNotAuthorized", "(rule:update_subnet) is disallowed by policy"},
			{"another project's subnet", "other", "GET", "/networking/v2.0/subnets/" + id, nil, 404, "SubnetNotFound",
				"Subnet " + id + " could not be found."},
			{"another project's delete", "other", "DELETE", "/networking/v2.0/subnets/" + id, nil, 404, "SubnetNotFound", ""},
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

		up := obj(t, c.member.Do("PUT", "/networking/v2.0/subnets/"+id, map[string]any{"subnet": map[string]any{
			"name": "s2", "gateway_ip": nil, "dns_nameservers": []any{"1.1.1.1", "8.8.8.8"}, "enable_dhcp": false}}).Expect(t, http.StatusOK), "subnet")
		if up["name"] != "s2" || up["gateway_ip"] != nil || jsonText(t, up["dns_nameservers"]) != `["1.1.1.1","8.8.8.8"]` ||
			up["enable_dhcp"] != false || up["revision_number"] != float64(2) ||
			jsonText(t, up["allocation_pools"]) != `[{"end":"10.1.0.254","start":"10.1.0.2"}]` {
			t.Errorf("updated subnet %v", up)
		}
		c.member.Do("DELETE", "/networking/v2.0/subnets/"+id, nil).Expect(t, http.StatusNoContent)
		wantError(t, c.member.Do("GET", "/networking/v2.0/subnets/"+id, nil), 404, "SubnetNotFound", "")
	})
}
