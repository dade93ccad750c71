package networking_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// ruleBody is {"security_group_rule": attrs} for group, ingress unless
// attrs say otherwise.
func ruleBody(group string, attrs map[string]any) map[string]any {
	r := map[string]any{"security_group_id": group, "direction": "ingress"}
	for k, v := range attrs {
		if v == nil {
			delete(r, k)
			continue
		}
		r[k] = v
	}
	return map[string]any{"security_group_rule": r}
}

func TestSecurityGroupRuleChecks(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		web := create(t, c.member, sgPath, "security_group", map[string]any{"name": "web"})["id"].(string)
		theirs := create(t, c.other, sgPath, "security_group", map[string]any{"name": "theirs"})["id"].(string)
		const missing = "f0b6e2d4-0000-4000-8000-000000000000"
		protocols := "(None, 'any', 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', " +
			"'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', " +
			"'udp', 'udplite', 'vrrp')"
		cases := []struct {
			name     string
			client   string
			body     map[string]any
			status   int
			typ, msg string
		}{
			{"no group", "member", ruleBody(web, map[string]any{"security_group_id": nil}),
				400, "HTTPBadRequest", "Failed to parse request. Required attribute 'security_group_id' not specified"},
			{"no direction", "member", ruleBody(web, map[string]any{"direction": nil}),
				400, "HTTPBadRequest", "Failed to parse request. Required attribute 'direction' not specified"},
			{"bad direction", "member", ruleBody(web, map[string]any{"direction": "sideways"}),
				400, "HTTPBadRequest", "Invalid input for direction. Reason: sideways is not in valid_values."},
			{"unknown protocol", "member", ruleBody(web, map[string]any{"protocol": "foo"}),
				400, "SecurityGroupRuleInvalidProtocol", "Security group rule protocol foo not supported. Only protocol values " +
					protocols + " and integer representations [0 to 255] are supported."},
			{"protocol number too big", "member", ruleBody(web, map[string]any{"protocol": 256}),
				400, "SecurityGroupRuleInvalidProtocol", ""},
			{"unknown ethertype", "member", ruleBody(web, map[string]any{"ethertype": "IPv5"}),
				400, "SecurityGroupRuleInvalidEtherType", "Security group rule for ethertype 'IPv5' not supported. Allowed values are ['IPv4', 'IPv6']."},
			{"negative port", "member", ruleBody(web, map[string]any{"protocol": "tcp", "port_range_min": -1, "port_range_max": 22}),
				400, "SecurityGroupInvalidPortValue", "Invalid value for port -1"},
			{"text port", "member", ruleBody(web, map[string]any{"protocol": "tcp", "port_range_min": "ssh"}),
				400, "SecurityGroupInvalidPortValue", "Invalid value for port ssh"},
			{"ports without protocol", "member", ruleBody(web, map[string]any{"port_range_min": 22, "port_range_max": 22}),
				400, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given."},
			{"reversed range", "member", ruleBody(web, map[string]any{"protocol": "tcp", "port_range_min": 80, "port_range_max": 22}),
				400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"},
			{"half a range", "member", ruleBody(web, map[string]any{"protocol": "udp", "port_range_min": 53}),
				400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"},
			{"port zero", "member", ruleBody(web, map[string]any{"protocol": "tcp", "port_range_min": 0, "port_range_max": 22}),
				400, "SecurityGroupInvalidPortValue", "Invalid value for port 0"},
			{"icmp type", "member", ruleBody(web, map[string]any{"protocol": "icmp", "port_range_min": 256}),
				400, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP type (port_range_min) 256. It must be 0 to 255."},
			{"icmp code without type", "member", ruleBody(web, map[string]any{"protocol": "icmp", "port_range_max": 3}),
				400, "SecurityGroupMissingIcmpType", "ICMP code (port-range-max) 3 is provided but ICMP type (port-range-min) is missing."},
			{"ports of gre", "member", ruleBody(web, map[string]any{"protocol": "gre", "port_range_min": 1, "port_range_max": 2}),
				400, "SecurityGroupInvalidProtocolForPort", "Ports cannot be specified for protocol 47. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE."},
			{"bad prefix", "member", ruleBody(web, map[string]any{"remote_ip_prefix": "10.0.0.300/24"}),
				400, "InvalidCIDR", "Invalid CIDR 10.0.0.300/24 given as IP prefix."},
			{"prefix of the other version", "member", ruleBody(web, map[string]any{"remote_ip_prefix": "2001:db8::/64"}),
				400, "SecurityGroupRuleParameterConflict", "Conflicting value ethertype IPv4 for CIDR 2001:db8::/64"},
			{"icmpv6 over IPv4", "member", ruleBody(web, map[string]any{"protocol": "icmpv6"}),
				400, "SecurityGroupEthertypeConflictWithProtocol", "Invalid ethertype IPv4 for protocol icmpv6."},
			{"two remotes", "member", ruleBody(web, map[string]any{"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": web}),
				400, "SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided."},
			{"read-only attribute", "member", ruleBody(web, map[string]any{"normalized_cidr": "10.0.0.0/8"}),
				400, "HTTPBadRequest", "Attribute 'normalized_cidr' not allowed in POST"},
			{"another project's remote group", "member", ruleBody(web, map[string]any{"remote_group_id": theirs}),
				404, "SecurityGroupNotFound", "Security group " + theirs + " does not exist"},
			{"no address groups", "member", ruleBody(web, map[string]any{"remote_address_group_id": missing}),
				404, "AddressGroupNotFound", "Address group " + missing + " could not be found."},
			{"another project's group", "member", ruleBody(theirs, nil),
				404, "SecurityGroupNotFound", "Security group " + theirs + " does not exist"},
			{"missing group", "member", ruleBody(missing, nil),
				404, "SecurityGroupNotFound", "Security group " + missing + " does not exist"},
			{"reader cannot add", "reader", ruleBody(web, map[string]any{"protocol": "tcp"}),
				403, "PolicyNotAuthorized", "(rule:create_security_group_rule) is disallowed by policy"},
		}
		clients := map[string]*apitest.Client{"member": c.member, "reader": c.reader, "other": c.other}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, clients[tc.client].Do("POST", rulePath, tc.body), tc.status, tc.typ, tc.msg)
			})
		}
		if got := list(t, c.member.Do("GET", rulePath+"?security_group_id="+web, nil).Expect(t, http.StatusOK), "security_group_rules"); len(got) != 2 {
			t.Errorf("rules after refused creates: %v", got)
		}
	})
}

func TestSecurityGroupRules(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		g := create(t, c.member, sgPath, "security_group", map[string]any{"name": "web"})
		web := g["id"].(string)
		add := func(attrs map[string]any) map[string]any {
			t.Helper()
			return obj(t, c.member.Do("POST", rulePath, ruleBody(web, attrs)).Expect(t, http.StatusCreated), "security_group_rule")
		}
		ssh := add(map[string]any{"protocol": "TCP", "port_range_min": "22", "port_range_max": 22, "remote_ip_prefix": "10.0.0.5/24",
			"description": "ssh"})
		wantKeys(t, "created rule", ssh, securityGroupRuleKeys)
		if ssh["protocol"] != "tcp" || ssh["port_range_min"] != float64(22) || ssh["port_range_max"] != float64(22) ||
			ssh["remote_ip_prefix"] != "10.0.0.5/24" || ssh["normalized_cidr"] != "10.0.0.0/24" || ssh["ethertype"] != "IPv4" ||
			ssh["project_id"] != c.MemberProject || ssh["description"] != "ssh" || ssh["belongs_to_default_sg"] != false ||
			ssh["revision_number"] != float64(1) {
			t.Errorf("ssh rule %v", ssh)
		}
		sshID := ssh["id"].(string)
		// The same rule by protocol number, or with the host bits, is a duplicate.
		wantError(t, c.member.Do("POST", rulePath, ruleBody(web, map[string]any{"protocol": "6", "port_range_min": 22,
			"port_range_max": 22, "remote_ip_prefix": "10.0.0.5/24"})), 409, "SecurityGroupRuleExists",
			"Security group rule already exists. Rule id is "+sshID+".")
		// Egress to everyone is the group's own egress rule.
		egress := map[string]string{}
		for _, r := range g["security_group_rules"].([]any) {
			r := r.(map[string]any)
			egress[r["ethertype"].(string)] = r["id"].(string)
		}
		wantError(t, c.member.Do("POST", rulePath, ruleBody(web, map[string]any{"direction": "egress", "remote_ip_prefix": "0.0.0.0/0"})),
			409, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is "+egress["IPv4"]+".")
		wantError(t, c.member.Do("POST", rulePath, ruleBody(web, map[string]any{"direction": "egress", "ethertype": "ipv6"})),
			409, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is "+egress["IPv6"]+".")

		ping6 := add(map[string]any{"protocol": "icmp", "ethertype": "IPv6", "port_range_min": 128, "port_range_max": 0})
		if ping6["protocol"] != "ipv6-icmp" || ping6["port_range_min"] != float64(128) || ping6["port_range_max"] != float64(0) {
			t.Errorf("IPv6 ping rule %v", ping6)
		}
		wantError(t, c.member.Do("POST", rulePath, ruleBody(web, map[string]any{"protocol": "58", "ethertype": "IPv6",
			"port_range_min": 128, "port_range_max": 0})), 409, "SecurityGroupRuleExists", "")
		all := add(map[string]any{"protocol": "udp", "port_range_min": 1, "port_range_max": 65535, "remote_ip_prefix": "192.0.2.1"})
		if all["port_range_min"] != nil || all["port_range_max"] != nil || all["remote_ip_prefix"] != "192.0.2.1/32" {
			t.Errorf("whole-range rule %v", all)
		}
		fromSelf := add(map[string]any{"protocol": 132, "remote_group_id": web})
		if fromSelf["protocol"] != "132" || fromSelf["remote_group_id"] != web || fromSelf["remote_ip_prefix"] != nil {
			t.Errorf("rule from the group itself %v", fromSelf)
		}
		add(map[string]any{"protocol": "any", "direction": "egress", "remote_ip_prefix": "198.51.100.0/24"})

		// Each rule revised the group: 1, then 5 rules.
		got := obj(t, c.member.Do("GET", sgPath+"/"+web, nil).Expect(t, http.StatusOK), "security_group")
		if got["revision_number"] != float64(6) || len(got["security_group_rules"].([]any)) != 7 {
			t.Errorf("group after 5 rules: revision %v, %d rules", got["revision_number"], len(got["security_group_rules"].([]any)))
		}
		// Filters, sorting and paging of the shared machinery.
		ingress := list(t, c.member.Do("GET", rulePath+"?security_group_id="+web+"&direction=ingress&sort_key=protocol&sort_dir=asc", nil).
			Expect(t, http.StatusOK), "security_group_rules")
		var protos []any
		for _, r := range ingress {
			protos = append(protos, r["protocol"])
		}
		if !slices.Equal(protos, []any{"132", "ipv6-icmp", "tcp", "udp"}) {
			t.Errorf("ingress rules by protocol %v", protos)
		}
		page := c.member.Do("GET", rulePath+"?security_group_id="+web+"&limit=2", nil).Expect(t, http.StatusOK)
		if len(list(t, page, "security_group_rules")) != 2 || page.JSON(t)["security_group_rules_links"] == nil {
			t.Errorf("a page of rules: %s", page.Body)
		}

		// Reads and deletes follow the group's project.
		if r := obj(t, c.reader.Do("GET", rulePath+"/"+sshID, nil).Expect(t, http.StatusOK), "security_group_rule"); r["id"] != sshID {
			t.Errorf("reader's rule %v", r)
		}
		wantError(t, c.reader.Do("DELETE", rulePath+"/"+sshID, nil), 403, "PolicyNotAuthorized",
			"(rule:delete_security_group_rule) is disallowed by policy")
		for _, method := range []string{"GET", "DELETE"} {
			wantError(t, c.other.Do(method, rulePath+"/"+sshID, nil), 404, "SecurityGroupRuleNotFound",
				"Security group rule "+sshID+" does not exist")
		}
		if theirs := list(t, c.other.Do("GET", rulePath, nil).Expect(t, http.StatusOK), "security_group_rules"); len(theirs) != 4 {
			t.Errorf("another project's rules: %d, want its default group's 4", len(theirs))
		}
		// An admin's rule in the project's group is the admin's, and the
		// group owner's to see and delete.
		byAdmin := obj(t, c.Admin.Do("POST", rulePath, ruleBody(web, map[string]any{"protocol": "tcp", "port_range_min": 443,
			"port_range_max": 443})).Expect(t, http.StatusCreated), "security_group_rule")
		if byAdmin["project_id"] == c.MemberProject {
			t.Errorf("admin's rule %v", byAdmin)
		}
		c.member.Do("GET", rulePath+"/"+byAdmin["id"].(string), nil).Expect(t, http.StatusOK)
		c.member.Do("DELETE", rulePath+"/"+byAdmin["id"].(string), nil).Expect(t, http.StatusNoContent)

		c.member.Do("DELETE", rulePath+"/"+sshID, nil).Expect(t, http.StatusNoContent)
		wantError(t, c.member.Do("GET", rulePath+"/"+sshID, nil), 404, "SecurityGroupRuleNotFound", "")
		// Deleting the group takes its rules and the rules naming it.
		other := create(t, c.member, sgPath, "security_group", map[string]any{"name": "other"})["id"].(string)
		named := add(map[string]any{"remote_group_id": other})
		c.member.Do("DELETE", sgPath+"/"+other, nil).Expect(t, http.StatusNoContent)
		wantError(t, c.member.Do("GET", rulePath+"/"+named["id"].(string), nil), 404, "SecurityGroupRuleNotFound", "")
	})
}

// Nova's proxy and Neutron's API read and write the same rules: a rule
// made through one is the other's, as Nova with Neutron shows them.
func TestSecurityGroupRulesOnBothFaces(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		nova := obj(t, c.member.Do("POST", "/v2.1/os-security-groups", map[string]any{"security_group": map[string]any{
			"name": "web", "description": "from Nova"}}).Expect(t, http.StatusOK), "security_group")
		id := nova["id"].(string)
		g := obj(t, c.member.Do("GET", sgPath+"/"+id, nil).Expect(t, http.StatusOK), "security_group")
		if g["name"] != "web" || g["description"] != "from Nova" || len(g["security_group_rules"].([]any)) != 2 {
			t.Errorf("Nova's group through Neutron %v", g)
		}
		novaRule := obj(t, c.member.Do("POST", "/v2.1/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{
			"parent_group_id": id, "ip_protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "203.0.113.0/24"}}).
			Expect(t, http.StatusOK), "security_group_rule")
		r := obj(t, c.member.Do("GET", rulePath+"/"+novaRule["id"].(string), nil).Expect(t, http.StatusOK), "security_group_rule")
		if r["direction"] != "ingress" || r["protocol"] != "tcp" || r["port_range_min"] != float64(80) ||
			r["remote_ip_prefix"] != "203.0.113.0/24" || r["security_group_id"] != id || r["project_id"] != c.MemberProject {
			t.Errorf("Nova's rule through Neutron %v", r)
		}
		// Neutron refuses the same rule again, naming Nova's.
		wantError(t, c.member.Do("POST", rulePath, ruleBody(id, map[string]any{"protocol": "tcp", "port_range_min": 80,
			"port_range_max": 80, "remote_ip_prefix": "203.0.113.0/24"})), 409, "SecurityGroupRuleExists",
			"Security group rule already exists. Rule id is "+novaRule["id"].(string)+".")

		// Neutron's ingress rule shows in Nova's group; its egress rules do not.
		ping := obj(t, c.member.Do("POST", rulePath, ruleBody(id, map[string]any{"protocol": "icmp"})).Expect(t, http.StatusCreated),
			"security_group_rule")
		c.member.Do("POST", rulePath, ruleBody(id, map[string]any{"direction": "egress", "protocol": "udp", "port_range_min": 53,
			"port_range_max": 53})).Expect(t, http.StatusCreated)
		seen := obj(t, c.member.Do("GET", "/v2.1/os-security-groups/"+id, nil).Expect(t, http.StatusOK), "security_group")
		var novaIDs []string
		for _, nr := range seen["rules"].([]any) {
			novaIDs = append(novaIDs, nr.(map[string]any)["id"].(string))
		}
		slices.Sort(novaIDs)
		want := []string{novaRule["id"].(string), ping["id"].(string)}
		slices.Sort(want)
		if !slices.Equal(novaIDs, want) {
			t.Errorf("Nova's rules %v, want %v", novaIDs, want)
		}
		// Deleted through Neutron, gone from Nova.
		c.member.Do("DELETE", rulePath+"/"+ping["id"].(string), nil).Expect(t, http.StatusNoContent)
		seen = obj(t, c.member.Do("GET", "/v2.1/os-security-groups/"+id, nil).Expect(t, http.StatusOK), "security_group")
		if len(seen["rules"].([]any)) != 1 {
			t.Errorf("Nova's rules after Neutron's delete %v", seen["rules"])
		}
		// Renamed through Neutron, renamed for Nova; deleted, gone.
		c.member.Do("PUT", sgPath+"/"+id, map[string]any{"security_group": map[string]any{"name": "www"}}).Expect(t, http.StatusOK)
		if n := obj(t, c.member.Do("GET", "/v2.1/os-security-groups/"+id, nil).Expect(t, http.StatusOK), "security_group"); n["name"] != "www" {
			t.Errorf("Nova's group after Neutron's rename %v", n)
		}
		c.member.Do("DELETE", sgPath+"/"+id, nil).Expect(t, http.StatusNoContent)
		c.member.Do("GET", "/v2.1/os-security-groups/"+id, nil).Expect(t, http.StatusNotFound)
	})
}
