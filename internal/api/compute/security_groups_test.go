package compute_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
)

const (
	sgUser  = "u1:p1"
	sgOther = "u2:p2"
	sgAdmin = "admin:admin"
)

// bootOnNetworks creates an active server of p1 with the networks mode
// ("auto": a port, "none": none) and returns its id.
func bootOnNetworks(t *testing.T, sc *serversCloud, networks string) string {
	t.Helper()
	return sc.boot(t, sc.user, "vm", true, func(r *compute.CreateRequest) {
		r.Networks = compute.NetworkRequest{Mode: networks}
	}).ID
}

// shownGroups are the security_groups names GET /servers/{id} shows
// token (2.1), sorted and comma-joined: a port's groups come in id order.
func shownGroups(t *testing.T, c *apitest.Client, token, id string) string {
	t.Helper()
	server := c.As(token, "2.1").Do("GET", "/v2.1/servers/"+id, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
	list, _ := server["security_groups"].([]any)
	var names []string
	for _, g := range list {
		names = append(names, g.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

func sgMap(t *testing.T, r *apitest.Response, key string) map[string]any {
	t.Helper()
	m, ok := r.JSON(t)[key].(map[string]any)
	if !ok {
		t.Fatalf("no %s in %s", key, r.Body)
	}
	return m
}

func TestSecurityGroupSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		const dir = "nova/api_samples/os-security-groups/"
		cl := sc.api.As(sgUser, "2.1")
		r := cl.Do("GET", "/v2.1/os-security-groups", nil).Expect(t, 200)
		apisamples.Assert(t, dir+"security-groups-list-get-resp.json", r.Body, apisamples.Options{})
		def := r.JSON(t)["security_groups"].([]any)[0].(map[string]any)
		// Neutron's default group: ingress from its own members, both IP versions.
		if def["name"] != "default" || def["tenant_id"] != "p1" || def["description"] != "Default security group" {
			t.Fatalf("default group %v", def)
		}
		rules := def["rules"].([]any)
		if len(rules) != 2 {
			t.Fatalf("default rules %v", rules)
		}
		want := fmt.Sprintf("map[from_port:<nil> group:map[name:default tenant_id:p1] id:%s ip_protocol:<nil> ip_range:map[] parent_group_id:%s to_port:<nil>]",
			rules[0].(map[string]any)["id"], def["id"])
		if got := fmt.Sprint(rules[0]); got != want {
			t.Fatalf("default rule %s, want %s", got, want)
		}

		body := sgSample(t, dir+"security-group-post-req.json")
		r = cl.Do("POST", "/v2.1/os-security-groups", body).Expect(t, 200)
		apisamples.Assert(t, dir+"security-groups-create-resp.json", r.Body, apisamples.Options{})
		created := sgMap(t, r, "security_group")
		if created["name"] != "test" || created["description"] != "description" || len(created["rules"].([]any)) != 0 {
			t.Fatalf("created %v", created)
		}
		id := created["id"].(string)
		r = cl.Do("GET", "/v2.1/os-security-groups/"+id, nil).Expect(t, 200)
		apisamples.Assert(t, dir+"security-groups-get-resp.json", r.Body, apisamples.Options{})

		ruleBody := sgSample(t, dir+"security-group-rules-post-req.json")
		ruleBody["security_group_rule"].(map[string]any)["parent_group_id"] = id
		r = cl.Do("POST", "/v2.1/os-security-group-rules", ruleBody).Expect(t, 200)
		apisamples.Assert(t, dir+"security-group-rules-post-resp.json", r.Body, apisamples.Options{})
		rule := sgMap(t, r, "security_group_rule")
		if fmt.Sprint(rule["ip_range"]) != "map[cidr:10.0.0.0/24]" || rule["from_port"] != float64(22) || rule["ip_protocol"] != "tcp" {
			t.Fatalf("rule %v", rule)
		}

		srv := bootOnNetworks(t, sc, "auto")
		action := sgSample(t, dir+"security-group-add-post-req.json")
		cl.Do("POST", "/v2.1/servers/"+srv+"/action", action).Expect(t, 202)
		r = cl.Do("GET", "/v2.1/servers/"+srv+"/os-security-groups", nil).Expect(t, 200)
		apisamples.Assert(t, dir+"server-security-groups-list-resp.json", r.Body, apisamples.Options{})
		groups := r.JSON(t)["security_groups"].([]any)
		if len(groups) != 2 || groups[0].(map[string]any)["name"] != "default" || groups[1].(map[string]any)["name"] != "test" {
			t.Fatalf("server groups %v", groups)
		}
		if got := shownGroups(t, sc.api, sgUser, srv); got != "default,test" {
			t.Fatalf("server view groups %v", got)
		}
		remove := sgSample(t, dir+"security-group-remove-post-req.json")
		cl.Do("POST", "/v2.1/servers/"+srv+"/action", remove).Expect(t, 202)
		server := sgMap(t, cl.Do("GET", "/v2.1/servers/"+srv, nil).Expect(t, 200), "server")
		if fmt.Sprint(server["security_groups"]) != "[map[name:default]]" {
			t.Fatalf("server view groups after remove %v", server["security_groups"])
		}
		// With every group removed the view has none, as Nova shows a port without groups.
		cl.Do("POST", "/v2.1/servers/"+srv+"/action", map[string]any{"removeSecurityGroup": map[string]any{"name": "default"}}).Expect(t, 202)
		server = sgMap(t, cl.Do("GET", "/v2.1/servers/"+srv, nil).Expect(t, 200), "server")
		if _, has := server["security_groups"]; has {
			t.Fatalf("server view groups after removing all %v", server["security_groups"])
		}
	})
}

func sgSample(t *testing.T, rel string) map[string]any {
	t.Helper()
	return apisamples.Load(t, rel).(map[string]any)
}

func TestSecurityGroupProxyEndsAt235(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := bootOnNetworks(t, sc, "auto")
		sc.api.As(sgUser, "2.35").Do("GET", "/v2.1/os-security-groups", nil).Expect(t, 200)
		sc.api.As(sgUser, "2.36").Do("GET", "/v2.1/os-security-groups", nil).Expect(t, 404)
		sc.api.As(sgUser, "2.36").Do("POST", "/v2.1/os-security-group-rules", map[string]any{}).Expect(t, 404)
		// A server's groups and the actions stay.
		sc.api.As(sgUser, "latest").Do("GET", "/v2.1/servers/"+srv+"/os-security-groups", nil).Expect(t, 200)
		sc.api.As(sgUser, "latest").Do("POST", "/v2.1/servers/"+srv+"/action",
			map[string]any{"addSecurityGroup": map[string]any{"name": "default"}}).Expect(t, 202)
		// 2.102 refuses unknown query parameters on a server's groups.
		sc.api.As(sgUser, "2.101").Do("GET", "/v2.1/servers/"+srv+"/os-security-groups?x=1", nil).Expect(t, 200)
		sc.api.As(sgUser, "2.102").Do("GET", "/v2.1/servers/"+srv+"/os-security-groups?x=1", nil).Expect(t, 400)
	})
}

func TestSecurityGroupErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		cl := sc.api.As(sgUser, "2.1")
		g := sgMap(t, cl.Do("POST", "/v2.1/os-security-groups",
			map[string]any{"security_group": map[string]any{"name": "web", "description": ""}}).Expect(t, 200), "security_group")
		id := g["id"].(string)
		def := cl.Do("GET", "/v2.1/os-security-groups", nil).Expect(t, 200).JSON(t)["security_groups"].([]any)[0].(map[string]any)
		if def["name"] != "default" {
			t.Fatalf("first group %v", def)
		}
		srv := bootOnNetworks(t, sc, "auto")
		bare := bootOnNetworks(t, sc, "none")
		missing := "00000000-0000-4000-8000-000000000000"
		long := fmt.Sprintf("%0256d", 0)
		tests := []struct {
			name, token, method, path string
			body                      any
			status                    int
			msg                       string
		}{
			{"no name", sgUser, "POST", "/os-security-groups", map[string]any{"security_group": map[string]any{"description": "x"}}, 400, "Invalid input for field/attribute security_group. Value: {'description': 'x'}. 'name' is a required property"},
			{"long name", sgUser, "POST", "/os-security-groups", map[string]any{"security_group": map[string]any{"name": long, "description": "x"}}, 400, "Invalid input for field/attribute name. Value: " + long + ". '" + long + "' is too long"},
			{"empty name", sgUser, "POST", "/os-security-groups", map[string]any{"security_group": map[string]any{"name": "", "description": "x"}}, 400, "Invalid input received: name has a minimum character requirement of 1."},
			{"blank name", sgUser, "POST", "/os-security-groups", map[string]any{"security_group": map[string]any{"name": "  ", "description": "x"}}, 400, "Invalid input received: name has a minimum character requirement of 1."},
			{"blank name update", sgUser, "PUT", "/os-security-groups/" + id, map[string]any{"security_group": map[string]any{"name": " ", "description": "x"}}, 400, "Invalid input received: name has a minimum character requirement of 1."},
			{"number name", sgUser, "POST", "/os-security-groups", map[string]any{"security_group": map[string]any{"name": 1, "description": "x"}}, 400, "Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'"},
			{"no body key", sgUser, "POST", "/os-security-groups", map[string]any{}, 400, "'security_group' is a required property"},
			{"default name", sgUser, "POST", "/os-security-groups", map[string]any{"security_group": map[string]any{"name": "default", "description": "x"}}, 403, "Default security group already exists."},
			{"bad id", sgUser, "GET", "/os-security-groups/x", nil, 400, "Security group id should be uuid"},
			{"missing", sgUser, "GET", "/os-security-groups/" + missing, nil, 404, "Security group " + missing + " does not exist"},
			{"foreign", sgOther, "GET", "/os-security-groups/" + id, nil, 404, "Security group " + id + " does not exist"},
			{"foreign update", sgOther, "PUT", "/os-security-groups/" + id, map[string]any{"security_group": map[string]any{"name": "x", "description": "x"}}, 404, "Security group " + id + " does not exist"},
			{"foreign delete", sgOther, "DELETE", "/os-security-groups/" + id, nil, 404, "Security group " + id + " does not exist"},
			{"delete default", sgUser, "DELETE", "/os-security-groups/" + def["id"].(string), nil, 400, "Insufficient rights for removing default security group."},
			{"rule bad parent", sgUser, "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": "x"}}, 400, "Invalid input for field/attribute parent_group_id. Value: x. 'x' is not a 'uuid'"},
			{"rule no parent", sgUser, "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{}}, 400, "Invalid input for field/attribute security_group_rule. Value: {}. 'parent_group_id' is a required property"},
			{"rule foreign parent", sgOther, "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": id, "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}, 404, "Security group " + id + " does not exist"},
			{"rule bad protocol", sgUser, "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": id, "ip_protocol": "gre", "from_port": 1, "to_port": 2}}, 400, "Invalid IP protocol gre."},
			{"rule float ports", sgUser, "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": id, "ip_protocol": "tcp", "from_port": 443.9, "to_port": 443}}, 200, ""},
			{"rule not enough", sgUser, "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": id, "cidr": "10.0.0.0/8"}}, 400, "Not enough parameters to build a valid rule."},
			{"rule bad cidr", sgUser, "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": id, "ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "10.0.0.300/8"}}, 400, "10.0.0.300/8 is not a valid IP network."},
			{"rule delete bad id", sgUser, "DELETE", "/os-security-group-rules/x", nil, 400, "Security group id should be uuid"},
			{"rule delete missing", sgUser, "DELETE", "/os-security-group-rules/" + missing, nil, 404, "Security group rule " + missing + " does not exist"},
			{"add unknown", sgUser, "POST", "/servers/" + srv + "/action", map[string]any{"addSecurityGroup": map[string]any{"name": "nope"}}, 404, "Security group nope is not found for project p1"},
			{"add blank", sgUser, "POST", "/servers/" + srv + "/action", map[string]any{"addSecurityGroup": map[string]any{"name": "  "}}, 400, "Security group name cannot be empty"},
			{"add empty", sgUser, "POST", "/servers/" + srv + "/action", map[string]any{"addSecurityGroup": map[string]any{"name": ""}}, 400, "Invalid input for field/attribute name. Value: . '' should be non-empty"},
			{"add extra", sgUser, "POST", "/servers/" + srv + "/action", map[string]any{"addSecurityGroup": map[string]any{"name": "web", "x": 1}}, 400, "Invalid input for field/attribute addSecurityGroup. Value: {'name': 'web', 'x': 1}. Additional properties are not allowed ('x' was unexpected)"},
			{"add no name", sgUser, "POST", "/servers/" + srv + "/action", map[string]any{"addSecurityGroup": nil}, 400, "Invalid input for field/attribute addSecurityGroup. Value: None. None is not of type 'object'"},
			{"add foreign server", sgOther, "POST", "/servers/" + srv + "/action", map[string]any{"addSecurityGroup": map[string]any{"name": "default"}}, 404, "Instance " + srv + " could not be found."},
			{"add portless", sgUser, "POST", "/servers/" + bare + "/action", map[string]any{"addSecurityGroup": map[string]any{"name": "web"}}, 404, "instance_id " + bare + " could not be found as device id on any ports"},
			{"remove not member", sgUser, "POST", "/servers/" + srv + "/action", map[string]any{"removeSecurityGroup": map[string]any{"name": "web"}}, 404, "Security group web not associated with the instance " + srv},
			{"server groups foreign", sgOther, "GET", "/servers/" + srv + "/os-security-groups", nil, 404, "Instance " + srv + " could not be found."},
			{"create server unknown group", sgUser, "POST", "/servers", map[string]any{"server": map[string]any{"name": "x", "imageRef": sc.ImageID, "flavorRef": "1",
				"security_groups": []any{map[string]any{"name": "nope"}}}}, 400, "Unable to find security_group with name or id 'nope'"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := sc.api.As(tt.token, "2.1").Do(tt.method, "/v2.1"+tt.path, tt.body).Expect(t, tt.status)
				if tt.msg != "" {
					if msg := faultMessage(t, r); msg != tt.msg {
						t.Fatalf("message %q, want %q", msg, tt.msg)
					}
				}
			})
		}
		// In use: a group with a server.
		cl.Do("POST", "/v2.1/servers/"+srv+"/action", map[string]any{"addSecurityGroup": map[string]any{"name": "web"}}).Expect(t, 202)
		r := cl.Do("DELETE", "/v2.1/os-security-groups/"+id, nil).Expect(t, 400)
		if msg := faultMessage(t, r); msg != "Security Group "+id+" in use." {
			t.Fatalf("in use: %q", msg)
		}
		// The server is shown in its groups; the rules list shows the float rule truncated.
		r = cl.Do("GET", "/v2.1/os-security-groups/"+id, nil).Expect(t, 200)
		rules := sgMap(t, r, "security_group")["rules"].([]any)
		if len(rules) != 1 || rules[0].(map[string]any)["from_port"] != float64(443) {
			t.Fatalf("rules %v", rules)
		}
		// Admin lists every project's groups with all_tenants.
		sc.api.As(sgOther, "2.1").Do("GET", "/v2.1/os-security-groups", nil).Expect(t, 200)
		all := sc.api.As(sgAdmin, "2.1").Do("GET", "/v2.1/os-security-groups?all_tenants=1", nil).Expect(t, 200).JSON(t)["security_groups"].([]any)
		if len(all) != 4 { // admin's, p1's default and web, p2's default
			t.Fatalf("all tenants: %d groups", len(all))
		}
		page := cl.Do("GET", "/v2.1/os-security-groups?limit=1&offset=1", nil).Expect(t, 200).JSON(t)["security_groups"].([]any)
		if len(page) != 1 || page[0].(map[string]any)["name"] != "web" {
			t.Fatalf("page %v", page)
		}
		cl.Do("GET", "/v2.1/os-security-groups?limit=-1", nil).Expect(t, 400)
	})
}
