package networking_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// quotaKeys are the resources of a quota in Neutron's api-ref
// (quotas-list-for-project-response.json) without rbac_policy and
// subnetpool: kumo has neither RBAC policies nor subnet pools.
var quotaKeys = []string{"floatingip", "network", "port", "router", "security_group", "security_group_rule", "subnet"}

// quotaDetailKeys are the keys of one resource's details
// (quota-details-show-for-project-response.json).
var quotaDetailKeys = []string{"limit", "reserved", "used"}

func TestQuotas(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		own := "/networking/v2.0/quotas/" + c.MemberProject
		other := "/networking/v2.0/quotas/" + c.otherProject

		// A member and a reader read their own project's quota without a
		// policy check: Neutron's defaults.
		for name, client := range map[string]*apitest.Client{"member": c.member, "reader": c.reader} {
			q := obj(t, client.Do("GET", own, nil).Expect(t, http.StatusOK), "quota")
			wantKeys(t, name+"'s quota", q, quotaKeys)
			want := map[string]float64{"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
				"security_group": 10, "security_group_rule": 100}
			for res, limit := range want {
				if q[res] != limit {
					t.Errorf("%s's %s quota %v, want %v", name, res, q[res], limit)
				}
			}
			def := obj(t, client.Do("GET", own+"/default", nil).Expect(t, http.StatusOK), "quota")
			wantKeys(t, name+"'s default quota", def, quotaKeys)
		}

		// The admin sets another project's limits; it is then listed, and
		// its members read them.
		set := obj(t, c.Admin.Do("PUT", other, map[string]any{"quota": map[string]any{"network": 5, "port": "7", "router": -1,
			"force": "False", "check_limit": "True"}}).Expect(t, http.StatusOK), "quota")
		wantKeys(t, "updated quota", set, quotaKeys)
		if set["network"] != float64(5) || set["port"] != float64(7) || set["router"] != float64(-1) || set["subnet"] != float64(100) {
			t.Errorf("updated quota %v", set)
		}
		if got := obj(t, c.other.Do("GET", other, nil).Expect(t, http.StatusOK), "quota"); got["network"] != float64(5) {
			t.Errorf("quota as its project sees it: %v", got)
		}
		if got := obj(t, c.other.Do("GET", other+"/default", nil).Expect(t, http.StatusOK), "quota"); got["network"] != float64(100) {
			t.Errorf("default quota: %v", got)
		}
		all := list(t, c.Admin.Do("GET", "/networking/v2.0/quotas", nil).Expect(t, http.StatusOK), "quotas")
		if len(all) != 1 || all[0]["project_id"] != c.otherProject || all[0]["tenant_id"] != c.otherProject || all[0]["network"] != float64(5) {
			t.Fatalf("quotas %v", all)
		}
		wantKeys(t, "listed quota", all[0], append(slices.Clone(quotaKeys), "project_id", "tenant_id"))

		cases := []struct {
			name     string
			client   *apitest.Client
			method   string
			path     string
			body     any
			status   int
			typ, msg string
		}{
			{"member lists", c.member, "GET", "/networking/v2.0/quotas", nil, 403, "PolicyNotAuthorized", "(rule:get_quota) is disallowed by policy"},
			{"member reads another project's", c.member, "GET", other, nil, 403, "PolicyNotAuthorized", "(rule:get_quota) is disallowed by policy"},
			{"member reads another project's defaults", c.member, "GET", other + "/default", nil, 403, "PolicyNotAuthorized", "(rule:get_quota) is disallowed by policy"},
			{"member reads another project's usage", c.member, "GET", other + "/details", nil, 403, "AdminRequired",
				"User does not have admin privileges: Only admin is authorized to access quotas for another project."},
			{"member sets", c.member, "PUT", own, map[string]any{"quota": map[string]any{"network": 5}}, 403, "PolicyNotAuthorized", "(rule:update_quota) is disallowed by policy"},
			{"member deletes", c.member, "DELETE", own, nil, 403, "PolicyNotAuthorized", "(rule:delete_quota) is disallowed by policy"},
			{"not an integer", c.Admin, "PUT", own, map[string]any{"quota": map[string]any{"network": "abc"}}, 400, "InvalidInput",
				"Invalid input for operation: 'abc' is not an integer."},
			{"null", c.Admin, "PUT", own, map[string]any{"quota": map[string]any{"subnet": nil}}, 400, "InvalidInput",
				"Invalid input for operation: 'None' is not an integer."},
			{"below -1", c.Admin, "PUT", own, map[string]any{"quota": map[string]any{"network": -2}}, 400, "HTTPBadRequest",
				"Invalid input for network. Reason: '-2' is too small - must be at least '-1'."},
			{"too large", c.Admin, "PUT", own, map[string]any{"quota": map[string]any{"port": 2147483648}}, 400, "HTTPBadRequest",
				"Invalid input for port. Reason: '2147483648' is too large - must be no larger than '2147483647'."},
			{"unknown resource", c.Admin, "PUT", own, map[string]any{"quota": map[string]any{"networks": 5, "cores": 1}}, 400, "HTTPBadRequest",
				"Unrecognized attribute(s) 'cores, networks'"},
			{"no quota", c.Admin, "PUT", own, map[string]any{"quotas": map[string]any{}}, 400, "HTTPBadRequest", "Unable to find 'quota' in request body"},
			{"nothing to delete", c.Admin, "DELETE", own, nil, 404, "TenantQuotaNotFound",
				fmt.Sprintf("Quota for project %s could not be found.", c.MemberProject)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, tc.client.Do(tc.method, tc.path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}

		// Deleted, the defaults apply again and the project is not listed.
		c.Admin.Do("DELETE", other, nil).Expect(t, http.StatusNoContent)
		if got := obj(t, c.other.Do("GET", other, nil).Expect(t, http.StatusOK), "quota"); got["network"] != float64(100) {
			t.Errorf("quota after delete: %v", got)
		}
		if all := list(t, c.Admin.Do("GET", "/networking/v2.0/quotas", nil).Expect(t, http.StatusOK), "quotas"); len(all) != 0 {
			t.Errorf("quotas after delete: %v", all)
		}
	})
}

// The details count the project's networks, subnets, ports, security
// groups and rules (the resources with counters); a limit below
// the usage is refused unless forced; a create past the limit answers
// Neutron's OverQuota and makes nothing.
func TestQuotaUsageAndOverQuota(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		own := "/networking/v2.0/quotas/" + c.MemberProject
		nets := list(t, c.member.Do("GET", "/networking/v2.0/networks", nil).Expect(t, http.StatusOK), "networks")
		net := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n1"})
		create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": net["id"], "ip_version": 4, "cidr": "10.9.0.0/24"})
		subnets := list(t, c.member.Do("GET", "/networking/v2.0/subnets?project_id="+c.MemberProject, nil).Expect(t, http.StatusOK), "subnets")
		owned := 0
		for _, n := range nets {
			if n["project_id"] == c.MemberProject {
				owned++
			}
		}
		usedNets, usedSubnets := owned+1, len(subnets)

		d := obj(t, c.member.Do("GET", own+"/details", nil).Expect(t, http.StatusOK), "quota")
		// Only what kumo counts so far is shown, as Neutron leaves out the
		// resources no plugin counts.
		wantKeys(t, "quota details", d, countedResources)
		for res, used := range map[string]int{"network": usedNets, "subnet": usedSubnets} {
			got, _ := d[res].(map[string]any)
			wantKeys(t, res+" details", got, quotaDetailKeys)
			if got["used"] != float64(used) || got["limit"] != float64(100) || got["reserved"] != float64(0) {
				t.Errorf("%s details %v, want %d used of 100", res, got, used)
			}
		}
		if got := obj(t, c.Admin.Do("GET", own+"/details", nil).Expect(t, http.StatusOK), "quota"); len(got) != len(countedResources) {
			t.Errorf("details as the admin sees them: %v", got)
		}

		wantError(t, c.Admin.Do("PUT", own, map[string]any{"quota": map[string]any{"subnet": -1, "network": usedNets - 1}}),
			400, "HTTPBadRequest", fmt.Sprintf("Quota limit %d for network must be greater than or equal to already used %d", usedNets-1, usedNets))
		if got := obj(t, c.member.Do("GET", own, nil).Expect(t, http.StatusOK), "quota"); got["subnet"] != float64(100) {
			t.Errorf("a refused update changed the quota: %v", got)
		}
		c.Admin.Do("PUT", own, map[string]any{"quota": map[string]any{"network": usedNets - 1, "force": true}}).Expect(t, http.StatusOK)
		c.Admin.Do("PUT", own, map[string]any{"quota": map[string]any{"network": usedNets, "subnet": usedSubnets}}).Expect(t, http.StatusOK)

		wantError(t, c.member.Do("POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"name": "n2"}}),
			http.StatusConflict, "OverQuota", "Quota exceeded for resources: ['network'].")
		wantError(t, c.member.Do("POST", "/networking/v2.0/subnets", map[string]any{"subnet": map[string]any{
			"network_id": net["id"], "ip_version": 4, "cidr": "10.9.1.0/24"}}),
			http.StatusConflict, "OverQuota", "Quota exceeded for resources: ['subnet'].")
		if got := list(t, c.member.Do("GET", "/networking/v2.0/networks?name=n2", nil).Expect(t, http.StatusOK), "networks"); len(got) != 0 {
			t.Errorf("a network over the quota was made: %v", got)
		}
		after := list(t, c.member.Do("GET", "/networking/v2.0/subnets?project_id="+c.MemberProject, nil).Expect(t, http.StatusOK), "subnets")
		if len(after) != usedSubnets {
			t.Errorf("%d subnets after a create over the quota, want %d", len(after), usedSubnets)
		}
		// Another project's limits are its own; -1 is no limit.
		create(t, c.other, "/networking/v2.0/networks", "network", map[string]any{"name": "theirs"})
		c.Admin.Do("PUT", own, map[string]any{"quota": map[string]any{"network": -1}}).Expect(t, http.StatusOK)
		create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n2"})
	})
}

// countedResources are the quota resources whose objects kumo counts:
// all of quotaKeys.
var countedResources = quotaKeys

// Ports, security groups and rules, routers and floating IPs count
// towards their quotas: the details show what the project made, and a
// create past the limit is OverQuota and makes nothing.
func TestQuotaOfPortsSecurityGroupsAndL3(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		own := "/networking/v2.0/quotas/" + c.MemberProject
		net := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n1"})
		create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": net["id"], "ip_version": 4, "cidr": "10.9.0.0/24"})
		create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": net["id"]})
		// The project's default group (four rules) comes first, then the
		// new group with its two egress rules.
		web := create(t, c.member, "/networking/v2.0/security-groups", "security_group", map[string]any{"name": "web"})
		create(t, c.member, "/networking/v2.0/routers", "router", map[string]any{"name": "r1"})
		public := list(t, c.Admin.Do("GET", "/networking/v2.0/networks?router:external=true", nil).Expect(t, http.StatusOK), "networks")[0]
		fip := map[string]any{"floating_network_id": public["id"]}
		create(t, c.member, "/networking/v2.0/floatingips", "floatingip", fip)
		d := obj(t, c.member.Do("GET", own+"/details", nil).Expect(t, http.StatusOK), "quota")
		used := map[string]int{"port": 1, "security_group": 2, "security_group_rule": 6, "router": 1, "floatingip": 1}
		for res, n := range used {
			if got, _ := d[res].(map[string]any); got["used"] != float64(n) {
				t.Errorf("%s details %v, want %d used", res, got, n)
			}
		}

		limits := map[string]any{}
		for res, n := range used {
			limits[res] = n
		}
		c.Admin.Do("PUT", own, map[string]any{"quota": limits}).Expect(t, http.StatusOK)
		rule := map[string]any{"security_group_id": web["id"], "direction": "ingress", "protocol": "tcp",
			"port_range_min": 22, "port_range_max": 22}
		for _, tc := range []struct {
			path, key string
			body      map[string]any
			resource  string
		}{
			{"/networking/v2.0/ports", "port", map[string]any{"network_id": net["id"]}, "port"},
			{"/networking/v2.0/security-groups", "security_group", map[string]any{"name": "db"}, "security_group"},
			{"/networking/v2.0/security-group-rules", "security_group_rule", rule, "security_group_rule"},
			{"/networking/v2.0/routers", "router", map[string]any{"name": "r2"}, "router"},
			{"/networking/v2.0/floatingips", "floatingip", fip, "floatingip"},
		} {
			wantError(t, c.member.Do("POST", tc.path, map[string]any{tc.key: tc.body}), http.StatusConflict, "OverQuota",
				"Quota exceeded for resources: ['"+tc.resource+"'].")
		}
		d = obj(t, c.member.Do("GET", own+"/details", nil).Expect(t, http.StatusOK), "quota")
		for res, n := range used {
			if got, _ := d[res].(map[string]any); got["used"] != float64(n) {
				t.Errorf("%s details after the refused creates %v, want %d used", res, got, n)
			}
		}

		// Raised limits let the same creates through.
		c.Admin.Do("DELETE", own, nil).Expect(t, http.StatusNoContent)
		create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": net["id"]})
		create(t, c.member, "/networking/v2.0/security-groups", "security_group", map[string]any{"name": "db"})
		create(t, c.member, "/networking/v2.0/security-group-rules", "security_group_rule", rule)
		create(t, c.member, "/networking/v2.0/routers", "router", map[string]any{"name": "r2"})
		create(t, c.member, "/networking/v2.0/floatingips", "floatingip", fip)
	})
}

func TestAvailabilityZones(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		azs := list(t, c.reader.Do("GET", "/networking/v2.0/availability_zones", nil).Expect(t, http.StatusOK), "availability_zones")
		if len(azs) != 1 {
			t.Fatalf("availability zones %v", azs)
		}
		// azs-list-response.json's keys.
		wantKeys(t, "availability zone", azs[0], []string{"name", "resource", "state"})
		if azs[0]["name"] != "nova" || azs[0]["resource"] != "network" || azs[0]["state"] != "available" {
			t.Errorf("availability zone %v", azs[0])
		}
		for query, want := range map[string]int{"?resource=network": 1, "?resource=router": 0, "?state=unavailable": 0,
			"?name=nova&limit=1&sort_key=nothing&sort_dir=asc": 1} {
			if got := list(t, c.member.Do("GET", "/networking/v2.0/availability_zones"+query, nil).Expect(t, http.StatusOK), "availability_zones"); len(got) != want {
				t.Errorf("availability zones%s: %v, want %d", query, got, want)
			}
		}
		only := list(t, c.member.Do("GET", "/networking/v2.0/availability_zones?fields=name", nil).Expect(t, http.StatusOK), "availability_zones")
		if len(only) != 1 {
			t.Fatalf("availability zones with fields: %v", only)
		}
		wantKeys(t, "availability zone's fields", only[0], []string{"name"})

		// A network may ask for the zone; unknown zones are Neutron's 404.
		n := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "zoned", "availability_zone_hints": []string{"nova"}})
		if hints, _ := n["availability_zone_hints"].([]any); len(hints) != 1 || hints[0] != "nova" {
			t.Errorf("created network's hints %v", n["availability_zone_hints"])
		}
		got := obj(t, c.member.Do("GET", "/networking/v2.0/networks/"+n["id"].(string), nil).Expect(t, http.StatusOK), "network")
		if hints, _ := got["availability_zone_hints"].([]any); len(hints) != 1 || got["availability_zones"].([]any)[0] != "nova" {
			t.Errorf("network's zones %v %v", got["availability_zone_hints"], got["availability_zones"])
		}
		for _, tc := range []struct {
			name, method, path string
			hints              []string
			status             int
			typ, msg           string
		}{
			{"unknown zone", "POST", "/networking/v2.0/networks", []string{"nova", "az9"}, 404, "AvailabilityZoneNotFound", "AvailabilityZone az9 could not be found."},
			{"twice", "POST", "/networking/v2.0/networks", []string{"nova", "nova"}, 400, "HTTPBadRequest",
				"Invalid input for availability_zone_hints. Reason: Duplicate items in the list: 'nova'."},
			{"on update", "PUT", "/networking/v2.0/networks/" + n["id"].(string), []string{}, 400, "HTTPBadRequest",
				"Cannot update read-only attribute availability_zone_hints"},
		} {
			wantError(t, c.member.Do(tc.method, tc.path, map[string]any{"network": map[string]any{"availability_zone_hints": tc.hints}}),
				tc.status, tc.typ, tc.msg)
		}
	})
}

// The extensions of quotas, IP availability and zones are listed, with
// neutron-lib's names.
func TestQuotaAndZoneExtensions(t *testing.T) {
	t.Parallel()
	c := apptest.New(t, apptest.Options{})
	for alias, name := range map[string]string{"quotas": "Quota management support", "quota_details": "Quota details management support",
		"network-ip-availability": "Network IP Availability", "network-ip-availability-details": "Network IP Availability Details Extension",
		"availability_zone": "Availability Zone", "network_availability_zone": "Network Availability Zone"} {
		e := obj(t, c.Member.Do("GET", "/networking/v2.0/extensions/"+alias, nil).Expect(t, http.StatusOK), "extension")
		if e["alias"] != alias || e["name"] != name {
			t.Errorf("extension %s: %v", alias, e)
		}
	}
}
