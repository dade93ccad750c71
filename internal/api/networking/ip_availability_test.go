package networking_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// The keys of network-ip-availability-show.json: a network's, one
// subnet's, and their ip_availability_details.
var (
	ipAvailabilityKeys = []string{"network_id", "network_name", "project_id", "tenant_id", "subnet_ip_availability",
		"total_ips", "used_ips", "ip_availability_details"}
	subnetIPAvailabilityKeys = []string{"subnet_id", "subnet_name", "cidr", "ip_version", "total_ips", "used_ips",
		"ip_availability_details"}
	ipDetailKeys = []string{"total_ips_in_subnet", "total_ips_in_allocation_pool", "used_ips_in_subnet", "used_ips_in_allocation_pool"}
)

// numbers decodes an answer keeping numbers exact (IPv6 totals pass
// 2^64).
func numbers(t *testing.T, r *apitest.Response) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("answer: %v: %s", err, r.Body)
	}
	return v
}

func TestNetworkIPAvailability(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		net := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "avail"})
		netID := net["id"].(string)
		v4 := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4,
			"cidr": "10.9.0.0/24", "name": "v4", "allocation_pools": []map[string]any{{"start": "10.9.0.10", "end": "10.9.0.19"},
				{"start": "10.9.0.100", "end": "10.9.0.109"}}})
		create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 6,
			"cidr": "2001:db8:9::/64", "name": "v6"})

		// A server on the member's private network holds its addresses
		// there.
		server := c.CreateServer(c.member, "s1", nil)
		c.Step()
		addrs := obj(t, c.member.Do("GET", "/v2.1/servers/"+server+"/ips", nil).Expect(t, http.StatusOK), "addresses")
		held, _ := addrs["private"].([]any)
		if len(held) == 0 {
			t.Fatalf("server addresses %v", addrs)
		}
		private := list(t, c.member.Do("GET", "/networking/v2.0/networks?name=private", nil).Expect(t, http.StatusOK), "networks")[0]

		show := numbers(t, c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities/"+netID, nil).Expect(t, http.StatusOK))
		a, _ := show["network_ip_availability"].(map[string]any)
		wantKeys(t, "network ip availability", a, ipAvailabilityKeys)
		if a["network_id"] != netID || a["network_name"] != "avail" || a["project_id"] != c.MemberProject || a["tenant_id"] != c.MemberProject {
			t.Errorf("network ip availability %v", a)
		}
		// IPv4: 20 addresses in the pools of 254 hosts; IPv6: the /64
		// without the subnet-router address and the gateway in the pools.
		wantNumbers(t, "network", a, map[string]string{"total_ips": "18446744073709551634", "used_ips": "0"})
		wantNumbers(t, "network details", a["ip_availability_details"].(map[string]any), map[string]string{
			"total_ips_in_subnet": "18446744073709551870", "total_ips_in_allocation_pool": "18446744073709551634",
			"used_ips_in_subnet": "0", "used_ips_in_allocation_pool": "0"})
		subnets, _ := a["subnet_ip_availability"].([]any)
		if len(subnets) != 2 {
			t.Fatalf("subnet ip availability %v", a["subnet_ip_availability"])
		}
		for _, s := range subnets {
			sub := s.(map[string]any)
			wantKeys(t, "subnet ip availability", sub, subnetIPAvailabilityKeys)
			wantKeys(t, "subnet ip availability details", sub["ip_availability_details"].(map[string]any), ipDetailKeys)
			switch sub["subnet_name"] {
			case "v4":
				if sub["subnet_id"] != v4["id"] || sub["cidr"] != "10.9.0.0/24" || sub["ip_version"] != json.Number("4") {
					t.Errorf("IPv4 subnet's availability %v", sub)
				}
				wantNumbers(t, "IPv4 subnet", sub, map[string]string{"total_ips": "20", "used_ips": "0"})
				wantNumbers(t, "IPv4 subnet details", sub["ip_availability_details"].(map[string]any),
					map[string]string{"total_ips_in_subnet": "254", "total_ips_in_allocation_pool": "20"})
			case "v6":
				wantNumbers(t, "IPv6 subnet", sub, map[string]string{"total_ips": "18446744073709551614", "used_ips": "0"})
				wantNumbers(t, "IPv6 subnet details", sub["ip_availability_details"].(map[string]any),
					map[string]string{"total_ips_in_subnet": "18446744073709551616", "total_ips_in_allocation_pool": "18446744073709551614"})
			default:
				t.Errorf("subnet ip availability %v", sub)
			}
		}

		used := numbers(t, c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities/"+private["id"].(string), nil).Expect(t, http.StatusOK))
		wantNumbers(t, "private network", used["network_ip_availability"].(map[string]any), map[string]string{"used_ips": fmt.Sprint(len(held))})

		// A floating IP holds an address of the external network.
		c.member.Do("POST", "/v2.1/os-floating-ips", nil).Expect(t, http.StatusOK)
		public := list(t, c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities?network_name=public", nil).Expect(t, http.StatusOK), "network_ip_availabilities")
		if len(public) != 1 || public[0]["used_ips"] != float64(1) || public[0]["total_ips"] != float64(253) {
			t.Errorf("external network's ip availability %v", public)
		}

		all := list(t, c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities", nil).Expect(t, http.StatusOK), "network_ip_availabilities")
		if len(all) < 3 {
			t.Errorf("network ip availabilities %v", all)
		}
		for query, want := range map[string][]string{
			"?network_name=avail":                     {netID},
			"?network_id=" + netID:                    {netID},
			"?project_id=" + c.MemberProject:          {private["id"].(string), netID},
			"?network_name=avail&ip_version=6":        {netID},
			"?network_name=public&ip_version=6":       {},
			"?project_id=" + c.otherProject:           {},
			"?network_name=avail&fields=network_name": {""},
		} {
			got := list(t, c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities"+query, nil).Expect(t, http.StatusOK), "network_ip_availabilities")
			ids := make([]string, 0, len(got))
			for _, g := range got {
				id, _ := g["network_id"].(string)
				ids = append(ids, id)
			}
			// Sorted by network_id, the collection's primary key.
			if want = slices.Sorted(slices.Values(want)); !slices.Equal(ids, want) {
				t.Errorf("network ip availabilities%s: %v, want %v", query, ids, want)
			}
		}
		// Pages are marked by network_id, the primary key.
		page := c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities?limit=1", nil).Expect(t, http.StatusOK)
		first := list(t, page, "network_ip_availabilities")
		links, _ := page.JSON(t)["network_ip_availabilities_links"].([]any)
		if len(first) != 1 || len(links) == 0 || links[0].(map[string]any)["rel"] != "next" ||
			!strings.Contains(links[0].(map[string]any)["href"].(string), "marker="+first[0]["network_id"].(string)) {
			t.Errorf("first page %v, links %v", first, links)
		}
		second := list(t, c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities?limit=1&marker="+first[0]["network_id"].(string), nil).Expect(t, http.StatusOK), "network_ip_availabilities")
		if len(second) != 1 || second[0]["network_id"] != all[1]["network_id"] {
			t.Errorf("second page %v, want %v", second, all[1]["network_id"])
		}

		v6only := list(t, c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities?network_id="+netID+"&ip_version=6", nil).Expect(t, http.StatusOK), "network_ip_availabilities")
		if subs := v6only[0]["subnet_ip_availability"].([]any); len(subs) != 1 || subs[0].(map[string]any)["ip_version"] != float64(6) {
			t.Errorf("IPv6 subnets only: %v", subs)
		}

		// Neutron checks the rule on each network: a member's list is
		// empty, and a network it may not see the availability of is
		// missing, its own as another project's.
		if got := list(t, c.member.Do("GET", "/networking/v2.0/network-ip-availabilities", nil).Expect(t, http.StatusOK), "network_ip_availabilities"); len(got) != 0 {
			t.Errorf("member's availabilities %v, want none", got)
		}
		wantError(t, c.member.Do("GET", "/networking/v2.0/network-ip-availabilities/"+netID, nil), 404, "HTTPNotFound",
			"The resource could not be found.")
		wantError(t, c.other.Do("GET", "/networking/v2.0/network-ip-availabilities/"+netID, nil), 404, "HTTPNotFound",
			"The resource could not be found.")
		wantError(t, c.member.Do("GET", "/networking/v2.0/network-ip-availabilities/f0b6e2d4-0000-4000-8000-000000000000", nil),
			404, "NetworkNotFound", "")
		wantError(t, c.Admin.Do("GET", "/networking/v2.0/network-ip-availabilities/f0b6e2d4-0000-4000-8000-000000000000", nil),
			404, "NetworkNotFound", "Network f0b6e2d4-0000-4000-8000-000000000000 could not be found.")
	})
}

// wantNumbers checks numbers of v by their exact text.
func wantNumbers(t *testing.T, what string, v map[string]any, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got, ok := v[k].(json.Number); !ok || got.String() != w {
			t.Errorf("%s %s = %v, want %s", what, k, v[k], w)
		}
	}
}
