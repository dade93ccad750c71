package networking_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

func groupsOf(t *testing.T, port map[string]any) []string {
	t.Helper()
	var out []string
	for _, g := range port["security_groups"].([]any) {
		out = append(out, g.(string))
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }

// TestPortSecurityGroups: a port gets its project's default group unless
// it names its groups (its project's only) or has no port security; an
// update replaces them; port security goes off only without groups; a
// group a port holds is in use until the port leaves it or is deleted.
func TestPortSecurityGroups(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4, "cidr": "10.9.0.0/24"})
		open := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "open", "port_security_enabled": false})["id"].(string)
		web := create(t, c.member, "/networking/v2.0/security-groups", "security_group", map[string]any{"name": "web"})["id"].(string)
		www := create(t, c.member, "/networking/v2.0/security-groups", "security_group", map[string]any{"name": "www"})["id"].(string)
		defaults := list(t, c.member.Do("GET", "/networking/v2.0/security-groups?name=default", nil).Expect(t, http.StatusOK), "security_groups")
		if len(defaults) != 1 {
			t.Fatalf("default groups %v", defaults)
		}
		def := defaults[0]["id"].(string)
		foreign := create(t, c.other, "/networking/v2.0/security-groups", "security_group", map[string]any{"name": "theirs"})["id"].(string)

		creates := []struct {
			name     string
			body     map[string]any
			groups   []string
			security bool
		}{
			{"no groups named", map[string]any{}, []string{def}, true},
			{"no groups", map[string]any{"security_groups": []any{}}, nil, true},
			{"null groups", map[string]any{"security_groups": nil}, nil, true},
			{"named groups", map[string]any{"security_groups": []any{www, def}}, sorted(www, def), true},
			{"port security off", map[string]any{"port_security_enabled": false}, nil, false},
			{"network without port security", map[string]any{"network_id": open}, nil, false},
			{"network without port security, port with it", map[string]any{"network_id": open, "port_security_enabled": true}, []string{def}, true},
		}
		for _, tc := range creates {
			t.Run("create "+tc.name, func(t *testing.T) {
				body := map[string]any{"network_id": netID}
				for k, v := range tc.body {
					body[k] = v
				}
				p := create(t, c.member, "/networking/v2.0/ports", "port", body)
				if got := groupsOf(t, p); !slices.Equal(got, tc.groups) || p["port_security_enabled"] != tc.security {
					t.Errorf("groups %v, port_security_enabled %v; want %v, %v", got, p["port_security_enabled"], tc.groups, tc.security)
				}
				shown := obj(t, c.member.Do("GET", "/networking/v2.0/ports/"+p["id"].(string), nil).Expect(t, http.StatusOK), "port")
				if got := groupsOf(t, shown); !slices.Equal(got, tc.groups) || shown["port_security_enabled"] != tc.security {
					t.Errorf("shown: groups %v, port_security_enabled %v", got, shown["port_security_enabled"])
				}
			})
		}

		port := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "security_groups": []any{web}})
		portPath := "/networking/v2.0/ports/" + port["id"].(string)
		missing := "9b0b1a36-3f3c-4d2a-9a57-0a4ad0f1c111"
		post := func(body map[string]any) map[string]any {
			body["network_id"] = netID
			return map[string]any{"port": body}
		}
		put := func(body map[string]any) map[string]any { return map[string]any{"port": body} }
		cases := []struct {
			name     string
			method   string
			path     string
			body     any
			status   int
			typ, msg string
		}{
			{"missing group", "POST", "/networking/v2.0/ports", post(map[string]any{"security_groups": []any{missing}}),
				404, "SecurityGroupNotFound", "Security group " + missing + " does not exist"},
			{"another project's group", "POST", "/networking/v2.0/ports", post(map[string]any{"security_groups": []any{web, foreign}}),
				404, "SecurityGroupNotFound", "Security group " + foreign + " does not exist"},
			{"not a UUID", "POST", "/networking/v2.0/ports", post(map[string]any{"security_groups": []any{"web"}}),
				400, "HTTPBadRequest", "Invalid input for security_groups. Reason: 'web' is not a valid UUID."},
			{"a group twice", "POST", "/networking/v2.0/ports", post(map[string]any{"security_groups": []any{web, web}}),
				400, "HTTPBadRequest", "Invalid input for security_groups. Reason: Duplicate items in the list: '" + web + "'."},
			{"groups without port security", "POST", "/networking/v2.0/ports",
				post(map[string]any{"security_groups": []any{web}, "port_security_enabled": false}),
				400, "PortSecurityAndIPRequiredForSecurityGroups", "Port security must be enabled and port must have an IP address in order to use security groups."},
			{"address pairs without port security", "POST", "/networking/v2.0/ports",
				post(map[string]any{"allowed_address_pairs": []any{map[string]any{"ip_address": "10.9.0.200"}}, "port_security_enabled": false}),
				409, "AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port."},
			{"update to another project's group", "PUT", portPath, put(map[string]any{"security_groups": []any{foreign}}),
				404, "SecurityGroupNotFound", "Security group " + foreign + " does not exist"},
			{"port security off with groups held", "PUT", portPath, put(map[string]any{"port_security_enabled": false}),
				409, "PortSecurityPortHasSecurityGroup", "Port has security group associated. Cannot disable port security or IP address until security group is removed."},
			{"port security off with groups given", "PUT", portPath, put(map[string]any{"port_security_enabled": false, "security_groups": []any{www}}),
				400, "PortSecurityAndIPRequiredForSecurityGroups", ""},
			{"port security not a boolean", "PUT", portPath, put(map[string]any{"port_security_enabled": "maybe"}),
				400, "HTTPBadRequest", "Invalid input for port_security_enabled. Reason: 'maybe' cannot be converted to boolean."},
			{"group in use", "DELETE", "/networking/v2.0/security-groups/" + web, nil,
				409, "SecurityGroupInUse", "Security Group " + web + " in use."},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, c.member.Do(tc.method, tc.path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}
		// The refused update changed nothing.
		if got := groupsOf(t, obj(t, c.member.Do("GET", portPath, nil).Expect(t, http.StatusOK), "port")); !slices.Equal(got, []string{web}) {
			t.Errorf("groups after refused updates %v, want [web]", got)
		}

		// An update replaces the groups; the group left is free to go.
		up := obj(t, c.member.Do("PUT", portPath, put(map[string]any{"security_groups": []any{www, def}})).Expect(t, http.StatusOK), "port")
		if got := groupsOf(t, up); !slices.Equal(got, sorted(www, def)) {
			t.Errorf("updated groups %v", got)
		}
		c.member.Do("DELETE", "/networking/v2.0/security-groups/"+web, nil).Expect(t, http.StatusNoContent)
		wantError(t, c.member.Do("DELETE", "/networking/v2.0/security-groups/"+www, nil), 409, "SecurityGroupInUse", "")

		// Leaving every group, port security may go off.
		off := obj(t, c.member.Do("PUT", portPath, put(map[string]any{"security_groups": []any{}, "port_security_enabled": false})).
			Expect(t, http.StatusOK), "port")
		if len(groupsOf(t, off)) != 0 || off["port_security_enabled"] != false {
			t.Errorf("port after port security went off: %v", off)
		}
		wantError(t, c.member.Do("PUT", portPath, put(map[string]any{"security_groups": []any{def}})), 400,
			"PortSecurityAndIPRequiredForSecurityGroups", "")
		on := obj(t, c.member.Do("PUT", portPath, put(map[string]any{"security_groups": []any{www}, "port_security_enabled": true})).
			Expect(t, http.StatusOK), "port")
		if got := groupsOf(t, on); !slices.Equal(got, []string{www}) || on["port_security_enabled"] != true {
			t.Errorf("port after port security came back: %v", on)
		}

		// A port's delete frees its groups.
		c.member.Do("DELETE", portPath, nil).Expect(t, http.StatusNoContent)
		for _, p := range list(t, c.member.Do("GET", "/networking/v2.0/ports?security_groups="+www, nil).Expect(t, http.StatusOK), "ports") {
			c.member.Do("DELETE", "/networking/v2.0/ports/"+p["id"].(string), nil).Expect(t, http.StatusNoContent)
		}
		c.member.Do("DELETE", "/networking/v2.0/security-groups/"+www, nil).Expect(t, http.StatusNoContent)

		// An admin may give a port another project's group, as Neutron lets it.
		adminPort := obj(t, c.Admin.Do("POST", "/networking/v2.0/ports", post(map[string]any{"security_groups": []any{foreign},
			"project_id": c.MemberProject})).Expect(t, http.StatusCreated), "port")
		if got := groupsOf(t, adminPort); !slices.Equal(got, []string{foreign}) {
			t.Errorf("admin's port groups %v", got)
		}
	})
}

// TestPortAllowedAddressPairs: pairs are checked as neutron-lib checks
// them, take the port's MAC when they give none, are replaced by an
// update and keep port security on.
func TestPortAllowedAddressPairs(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4, "cidr": "10.9.0.0/24"})

		p := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "allowed_address_pairs": []any{
			map[string]any{"ip_address": "10.9.0.200"}, map[string]any{"ip_address": "10.10.0.0/24", "mac_address": "fa:16:3e:11:22:33"}}})
		mac := p["mac_address"].(string)
		want := []any{map[string]any{"ip_address": "10.9.0.200", "mac_address": mac},
			map[string]any{"ip_address": "10.10.0.0/24", "mac_address": "fa:16:3e:11:22:33"}}
		if got := p["allowed_address_pairs"]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("allowed_address_pairs %v, want %v", got, want)
		}
		path := "/networking/v2.0/ports/" + p["id"].(string)
		pairs := func(ps ...any) map[string]any {
			return map[string]any{"port": map[string]any{"allowed_address_pairs": ps}}
		}
		eleven := make([]any, 11)
		for i := range eleven {
			eleven[i] = map[string]any{"ip_address": fmt.Sprintf("10.9.1.%d", i+1)}
		}
		cases := []struct {
			name     string
			body     any
			status   int
			typ, msg string
		}{
			{"no IP", pairs(map[string]any{"mac_address": mac}), 400, "AllowedAddressPairsMissingIP",
				"AllowedAddressPair must contain ip_address"},
			{"bad IP", pairs(map[string]any{"ip_address": "10.9.0.300"}), 400, "HTTPBadRequest", "'10.9.0.300' is not a valid IP address"},
			{"bad CIDR", pairs(map[string]any{"ip_address": "10.9.0.0/33"}), 400, "HTTPBadRequest", "'10.9.0.0/33' is not a valid IP subnet"},
			{"multicast IP", pairs(map[string]any{"ip_address": "224.0.0.5"}), 400, "HTTPBadRequest",
				"IP 224.0.0.5 is a multicast address, which is not supported."},
			{"bad MAC", pairs(map[string]any{"ip_address": "10.9.0.9", "mac_address": "zz"}), 400, "HTTPBadRequest", "'zz' is not a valid MAC address"},
			{"multicast MAC", pairs(map[string]any{"ip_address": "10.9.0.9", "mac_address": "01:00:5e:00:00:01"}), 400, "HTTPBadRequest",
				"MAC address 01:00:5e:00:00:01 is a multicast address, which is not supported."},
			{"unknown key", pairs(map[string]any{"ip_address": "10.9.0.9", "color": "red"}), 400, "HTTPBadRequest", "Unrecognized attribute(s) 'color'"},
			{"a pair twice", pairs(map[string]any{"ip_address": "10.9.0.9"}, map[string]any{"ip_address": "10.9.0.9"}), 400,
				"DuplicateAddressPairInRequest", "Request contains duplicate address pair: mac_address None ip_address 10.9.0.9."},
			{"the port's MAC given and not", pairs(map[string]any{"ip_address": "10.9.0.9"}, map[string]any{"ip_address": "10.9.0.9", "mac_address": mac}), 400,
				"DuplicateAddressPairInRequest", "Request contains duplicate address pair: mac_address " + mac + " ip_address 10.9.0.9."},
			{"not a list", map[string]any{"port": map[string]any{"allowed_address_pairs": "10.9.0.9"}}, 400, "HTTPBadRequest",
				"Allowed address pairs must be a list."},
			{"too many", pairs(eleven...), 400, "AllowedAddressPairExhausted", "The number of allowed address pair exceeds the maximum 10."},
			{"port security off with pairs held", map[string]any{"port": map[string]any{"port_security_enabled": false, "security_groups": []any{}}},
				409, "AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port."},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, c.member.Do("PUT", path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}

		up := obj(t, c.member.Do("PUT", path, pairs(map[string]any{"ip_address": "fd00::5"})).Expect(t, http.StatusOK), "port")
		if got := fmt.Sprint(up["allowed_address_pairs"]); got != fmt.Sprint([]any{map[string]any{"ip_address": "fd00::5", "mac_address": mac}}) {
			t.Errorf("replaced pairs %s", got)
		}
		off := obj(t, c.member.Do("PUT", path, map[string]any{"port": map[string]any{"port_security_enabled": false,
			"security_groups": []any{}, "allowed_address_pairs": []any{}}}).Expect(t, http.StatusOK), "port")
		if off["port_security_enabled"] != false || len(off["allowed_address_pairs"].([]any)) != 0 {
			t.Errorf("port without port security %v", off)
		}
		wantError(t, c.member.Do("PUT", path, pairs(map[string]any{"ip_address": "10.9.0.9"})), 409, "AddressPairAndPortSecurityRequired", "")

		// A member of another project on the network's owner's port: not its business.
		wantError(t, c.other.Do("PUT", path, pairs()), 404, "PortNotFound", "")
	})
}

// A server's groups are its ports': addSecurityGroup adds to the port
// Nova made, and an update of the port through the networking API is
// what the server shows next.
func TestServerPortGroups(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		web := create(t, c.member, sgPath, "security_group", map[string]any{"name": "web"})["id"].(string)
		srv := c.CreateServer(c.member, "s1", nil)
		c.Step()
		c.member.Do("POST", "/v2.1/servers/"+srv+"/action", map[string]any{"addSecurityGroup": map[string]any{"name": "web"}}).
			Expect(t, http.StatusAccepted)
		ports := list(t, c.member.Do("GET", "/networking/v2.0/ports?device_id="+srv, nil).Expect(t, http.StatusOK), "ports")
		if len(ports) != 1 {
			t.Fatalf("server ports %v", ports)
		}
		def := list(t, c.member.Do("GET", sgPath+"?name=default", nil).Expect(t, http.StatusOK), "security_groups")[0]["id"].(string)
		if got := groupsOf(t, ports[0]); !slices.Equal(got, sorted(web, def)) || ports[0]["port_security_enabled"] != true {
			t.Errorf("server port: groups %v, port security %v; want the server's %v", got, ports[0]["port_security_enabled"], sorted(web, def))
		}
		path := "/networking/v2.0/ports/" + ports[0]["id"].(string)
		up := obj(t, c.member.Do("PUT", path, map[string]any{"port": map[string]any{"security_groups": []any{web}}}).Expect(t, http.StatusOK), "port")
		if got := groupsOf(t, up); !slices.Equal(got, []string{web}) {
			t.Errorf("server port after its update: groups %v", got)
		}
		server := obj(t, c.member.Do("GET", "/v2.1/servers/"+srv, nil).Expect(t, http.StatusOK), "server")
		if got := fmt.Sprint(server["security_groups"]); got != "[map[name:web]]" {
			t.Errorf("server's groups %s, want the port's web", got)
		}
	})
}
