package networking_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// securityGroupKeys are the keys of a security group in Neutron's api-ref
// (security-group-show-response.json).
var securityGroupKeys = []string{"created_at", "description", "id", "name", "project_id", "revision_number",
	"security_group_rules", "shared", "stateful", "tags", "tenant_id", "updated_at"}

// securityGroupRuleKeys are a rule's (security-group-rule-show-response.json),
// with description (standard-attr-description, in the list sample) and
// normalized_cidr (security-groups-normalized-cidr). The samples also show
// tags on a group's rules, but Neutron's rule model has no tag support.
var securityGroupRuleKeys = []string{"belongs_to_default_sg", "created_at", "description", "direction", "ethertype", "id",
	"normalized_cidr", "port_range_max", "port_range_min", "project_id", "protocol", "remote_address_group_id",
	"remote_group_id", "remote_ip_prefix", "revision_number", "security_group_id", "tenant_id", "updated_at"}

const (
	sgPath   = "/networking/v2.0/security-groups"
	rulePath = "/networking/v2.0/security-group-rules"
)

// ruleShape is a rule's direction, ethertype and remote group, for
// comparing rule sets.
func ruleShape(r map[string]any, self string) string {
	remote := "-"
	if r["remote_group_id"] == self {
		remote = "self"
	} else if r["remote_group_id"] != nil {
		remote = fmt.Sprint(r["remote_group_id"])
	}
	return fmt.Sprintf("%s %s %v %s", r["direction"], r["ethertype"], r["protocol"], remote)
}

func ruleShapes(rules []any, self string) []string {
	var out []string
	for _, r := range rules {
		out = append(out, ruleShape(r.(map[string]any), self))
	}
	slices.Sort(out)
	return out
}

// A project's first listing makes its default group with Neutron's four
// rules; Nova's proxy shows the same group, and the rule list has them.
func TestDefaultSecurityGroup(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		groups := list(t, c.member.Do("GET", sgPath, nil).Expect(t, http.StatusOK), "security_groups")
		if len(groups) != 1 || groups[0]["name"] != "default" {
			t.Fatalf("groups of a fresh project: %v", groups)
		}
		def := groups[0]
		id := def["id"].(string)
		wantKeys(t, "default group", def, securityGroupKeys)
		if def["description"] != "Default security group" || def["stateful"] != true || def["shared"] != false ||
			def["project_id"] != c.MemberProject || def["tenant_id"] != c.MemberProject {
			t.Errorf("default group %v", def)
		}
		rules := def["security_group_rules"].([]any)
		want := []string{"egress IPv4 <nil> -", "egress IPv6 <nil> -", "ingress IPv4 <nil> self", "ingress IPv6 <nil> self"}
		if got := ruleShapes(rules, id); !slices.Equal(got, want) {
			t.Errorf("default rules %v, want %v", got, want)
		}
		for _, r := range rules {
			r := r.(map[string]any)
			wantKeys(t, "default rule", r, securityGroupRuleKeys)
			if r["belongs_to_default_sg"] != true || r["security_group_id"] != id || r["project_id"] != c.MemberProject ||
				r["remote_ip_prefix"] != nil || r["normalized_cidr"] != nil || r["remote_address_group_id"] != nil {
				t.Errorf("default rule %v", r)
			}
		}
		// One default only, however many listings.
		again := list(t, c.member.Do("GET", rulePath, nil).Expect(t, http.StatusOK), "security_group_rules")
		if len(again) != 4 {
			t.Errorf("rules after a second listing: %v", again)
		}
		nova := list(t, c.member.Do("GET", "/v2.1/os-security-groups", nil).Expect(t, http.StatusOK), "security_groups")
		if len(nova) != 1 || nova[0]["id"] != id {
			t.Errorf("Nova's groups %v, Neutron's default %s", nova, id)
		}
		// Another project makes its own default, and does not see ours.
		theirs := list(t, c.other.Do("GET", sgPath, nil).Expect(t, http.StatusOK), "security_groups")
		if len(theirs) != 1 || theirs[0]["id"] == id || theirs[0]["project_id"] != c.otherProject {
			t.Errorf("another project's groups %v", theirs)
		}
		wantError(t, c.other.Do("GET", sgPath+"/"+id, nil), 404, "SecurityGroupNotFound", "Security group "+id+" does not exist")
		// The default group keeps its name, and only an admin deletes it.
		wantError(t, c.member.Do("PUT", sgPath+"/"+id, map[string]any{"security_group": map[string]any{"name": "x"}}),
			409, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
		up := obj(t, c.member.Do("PUT", sgPath+"/"+id, map[string]any{"security_group": map[string]any{"description": "mine"}}).
			Expect(t, http.StatusOK), "security_group")
		if up["description"] != "mine" || up["revision_number"].(float64) <= def["revision_number"].(float64) {
			t.Errorf("default group after a description change %v", up)
		}
		wantError(t, c.member.Do("DELETE", sgPath+"/"+id, nil), 409, "SecurityGroupCannotRemoveDefault",
			"Insufficient rights for removing default security group.")
		c.Admin.Do("DELETE", sgPath+"/"+id, nil).Expect(t, http.StatusNoContent)
		// The next listing makes another.
		groups = list(t, c.member.Do("GET", sgPath, nil).Expect(t, http.StatusOK), "security_groups")
		if len(groups) != 1 || groups[0]["name"] != "default" || groups[0]["id"] == id {
			t.Errorf("groups after the default's delete: %v", groups)
		}
	})
}

func TestSecurityGroupCreateUpdateDelete(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		g := create(t, c.member, sgPath, "security_group", map[string]any{"name": "web", "description": "web servers", "stateful": true})
		wantKeys(t, "created group", g, securityGroupKeys)
		id := g["id"].(string)
		if g["revision_number"] != float64(1) || g["stateful"] != true || g["created_at"] != g["updated_at"] {
			t.Errorf("created group %v", g)
		}
		if got := ruleShapes(g["security_group_rules"].([]any), id); !slices.Equal(got, []string{"egress IPv4 <nil> -", "egress IPv6 <nil> -"}) {
			t.Errorf("new group's rules %v", got)
		}
		for _, r := range g["security_group_rules"].([]any) {
			if r.(map[string]any)["belongs_to_default_sg"] != false {
				t.Errorf("rule of a new group %v", r)
			}
		}
		// The project's default group came first.
		if got := names(list(t, c.member.Do("GET", sgPath+"?sort_key=name&sort_dir=asc", nil).Expect(t, http.StatusOK), "security_groups")); !slices.Equal(got, []string{"default", "web"}) {
			t.Errorf("groups %v", got)
		}
		up := obj(t, c.member.Do("PUT", sgPath+"/"+id, map[string]any{"security_group": map[string]any{"name": "www", "stateful": false}}).
			Expect(t, http.StatusOK), "security_group")
		if up["name"] != "www" || up["stateful"] != false || up["revision_number"] != float64(2) {
			t.Errorf("updated group %v", up)
		}
		cases := []struct {
			name     string
			client   string
			method   string
			path     string
			body     any
			status   int
			typ, msg string
		}{
			{"default is taken", "member", "POST", sgPath, map[string]any{"security_group": map[string]any{"name": "Default"}},
				409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists."},
			{"no rename to default", "member", "PUT", sgPath + "/" + id, map[string]any{"security_group": map[string]any{"name": "default"}},
				409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists."},
			{"rules are read-only", "member", "POST", sgPath, map[string]any{"security_group": map[string]any{"security_group_rules": []any{}}},
				400, "HTTPBadRequest", "Attribute 'security_group_rules' not allowed in POST"},
			{"shared is read-only", "member", "PUT", sgPath + "/" + id, map[string]any{"security_group": map[string]any{"shared": true}},
				400, "HTTPBadRequest", "Cannot update read-only attribute shared"},
			{"unknown attribute", "member", "POST", sgPath, map[string]any{"security_group": map[string]any{"color": "red"}},
				400, "HTTPBadRequest", "Unrecognized attribute(s) 'color'"},
			{"bad stateful", "member", "POST", sgPath, map[string]any{"security_group": map[string]any{"stateful": "maybe"}},
				400, "HTTPBadRequest", "Invalid input for stateful. Reason: 'maybe' cannot be converted to boolean."},
			{"reader cannot create", "reader", "POST", sgPath, map[string]any{"security_group": map[string]any{"name": "x"}},
				403, "PolicyNotAuthorized", "(rule:create_security_group) is disallowed by policy"},
			{"reader cannot update", "reader", "PUT", sgPath + "/" + id, map[string]any{"security_group": map[string]any{"name": "x"}},
				403, "PolicyNotAuthorized", "(rule:update_security_group) is disallowed by policy"},
			{"for another project", "member", "POST", sgPath, map[string]any{"security_group": map[string]any{"project_id": "p-other"}},
				403, "PolicyNotAuthorized", "(rule:create_security_group) is disallowed by policy"},
			{"another project's is missing", "other", "GET", sgPath + "/" + id, nil,
				404, "SecurityGroupNotFound", "Security group " + id + " does not exist"},
			{"another project's cannot change", "other", "PUT", sgPath + "/" + id, map[string]any{"security_group": map[string]any{"name": "x"}},
				404, "SecurityGroupNotFound", "Security group " + id + " does not exist"},
			{"another project's cannot go", "other", "DELETE", sgPath + "/" + id, nil,
				404, "SecurityGroupNotFound", "Security group " + id + " does not exist"},
			{"another project's tags", "other", "PUT", sgPath + "/" + id + "/tags/t1", nil,
				404, "SecurityGroupNotFound", "Security group " + id + " does not exist"},
			{"missing", "member", "GET", sgPath + "/f0b6e2d4-0000-4000-8000-000000000000", nil,
				404, "SecurityGroupNotFound", "Security group f0b6e2d4-0000-4000-8000-000000000000 does not exist"},
		}
		clients := map[string]*apitest.Client{"member": c.member, "reader": c.reader, "other": c.other}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, clients[tc.client].Do(tc.method, tc.path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}
		// The reader sees the project's groups.
		if got := names(list(t, c.reader.Do("GET", sgPath+"?name=www", nil).Expect(t, http.StatusOK), "security_groups")); !slices.Equal(got, []string{"www"}) {
			t.Errorf("reader's groups named www: %v", got)
		}

		// Tags revise the group and filter lists.
		c.member.Do("PUT", sgPath+"/"+id+"/tags", map[string]any{"tags": []string{"blue", "red"}}).Expect(t, http.StatusOK)
		tagged := obj(t, c.member.Do("GET", sgPath+"/"+id, nil).Expect(t, http.StatusOK), "security_group")
		if !slices.Equal(stringList(tagged["tags"]), []string{"blue", "red"}) || tagged["revision_number"] != float64(3) {
			t.Errorf("tagged group %v", tagged)
		}
		if got := names(list(t, c.member.Do("GET", sgPath+"?tags=red", nil).Expect(t, http.StatusOK), "security_groups")); !slices.Equal(got, []string{"www"}) {
			t.Errorf("groups tagged red: %v", got)
		}
		if got := names(list(t, c.member.Do("GET", sgPath+"?not-tags=red", nil).Expect(t, http.StatusOK), "security_groups")); !slices.Equal(got, []string{"default"}) {
			t.Errorf("groups not tagged red: %v", got)
		}
		// fields cuts the view.
		cut := obj(t, c.member.Do("GET", sgPath+"/"+id+"?fields=id&fields=name", nil).Expect(t, http.StatusOK), "security_group")
		wantKeys(t, "group with fields", cut, []string{"id", "name"})

		c.member.Do("DELETE", sgPath+"/"+id, nil).Expect(t, http.StatusNoContent)
		wantError(t, c.member.Do("GET", sgPath+"/"+id, nil), 404, "SecurityGroupNotFound", "")
		// Its tags went with it.
		if got := list(t, c.member.Do("GET", sgPath+"?tags=red", nil).Expect(t, http.StatusOK), "security_groups"); len(got) != 0 {
			t.Errorf("groups tagged red after the delete: %v", got)
		}
	})
}

func stringList(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// A group a server holds is in use for both faces; renamed on Neutron's
// face, the server shows the new name.
func TestSecurityGroupInUse(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		g := create(t, c.member, sgPath, "security_group", map[string]any{"name": "web"})
		id := g["id"].(string)
		srv := c.CreateServer(c.member, "s1", nil)
		c.Step()
		c.member.Do("POST", "/v2.1/servers/"+srv+"/action", map[string]any{"addSecurityGroup": map[string]any{"name": "web"}}).
			Expect(t, http.StatusAccepted)
		wantError(t, c.member.Do("DELETE", sgPath+"/"+id, nil), 409, "SecurityGroupInUse", "Security Group "+id+" in use.")
		wantError(t, c.member.Do("PUT", sgPath+"/"+id, map[string]any{"security_group": map[string]any{"stateful": false}}),
			409, "SecurityGroupInUse", "Security Group "+id+" in use.")
		c.member.Do("PUT", sgPath+"/"+id, map[string]any{"security_group": map[string]any{"name": "www"}}).Expect(t, http.StatusOK)
		server := obj(t, c.member.Do("GET", "/v2.1/servers/"+srv, nil).Expect(t, http.StatusOK), "server")
		var onServer []string
		for _, sg := range server["security_groups"].([]any) {
			onServer = append(onServer, sg.(map[string]any)["name"].(string))
		}
		slices.Sort(onServer) // a port's groups come in id order
		if !slices.Equal(onServer, []string{"default", "www"}) {
			t.Errorf("server's groups %v", onServer)
		}
		c.member.Do("POST", "/v2.1/servers/"+srv+"/action", map[string]any{"removeSecurityGroup": map[string]any{"name": "www"}}).
			Expect(t, http.StatusAccepted)
		c.member.Do("DELETE", sgPath+"/"+id, nil).Expect(t, http.StatusNoContent)
	})
}
