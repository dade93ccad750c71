package compute_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

// Nova with Neutron keeps no groups of its own for a server: they are
// its ports' (security_group_api). These tests change the groups on one
// face and read them on the other.

// newPort creates a port through the networking API as token with the
// attributes of port (network_id among them).
func newPort(t *testing.T, c *apitest.Client, token string, port map[string]any) map[string]any {
	t.Helper()
	r := c.As(token, "").Do("POST", "/networking/v2.0/ports", map[string]any{"port": port})
	return r.Expect(t, http.StatusCreated).JSON(t)["port"].(map[string]any)
}

// newGroup creates a security group of token's project through the
// networking API and returns its id.
func newGroup(t *testing.T, c *apitest.Client, token, name string) string {
	t.Helper()
	r := c.As(token, "").Do("POST", "/networking/v2.0/security-groups", map[string]any{"security_group": map[string]any{"name": name}})
	return r.Expect(t, http.StatusCreated).JSON(t)["security_group"].(map[string]any)["id"].(string)
}

// portGroupNames are the names of the groups of port id, sorted and
// comma-joined (names by id).
func portGroupNames(t *testing.T, c *apitest.Client, id string, names map[string]string) string {
	t.Helper()
	var out []string
	for _, g := range showPort(t, c, userToken, id)["security_groups"].([]any) {
		out = append(out, names[g.(string)])
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// serverPortIDs are the ids of the ports of server id, the given port
// first when there is one.
func serverPortIDs(t *testing.T, c *apitest.Client, id, given string) []string {
	t.Helper()
	list := c.As(userToken, "").Do("GET", "/networking/v2.0/ports?device_id="+id, nil).Expect(t, http.StatusOK).JSON(t)["ports"].([]any)
	var out []string
	for _, p := range list {
		pid := p.(map[string]any)["id"].(string)
		if pid == given {
			out = append([]string{pid}, out...)
		} else {
			out = append(out, pid)
		}
	}
	return out
}

// serverGroupsList are the names GET /servers/{id}/os-security-groups
// lists, in its order, comma-joined.
func serverGroupsList(t *testing.T, c *apitest.Client, id string) string {
	t.Helper()
	r := c.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+id+"/os-security-groups", nil).Expect(t, http.StatusOK)
	var out []string
	for _, g := range r.JSON(t)["security_groups"].([]any) {
		out = append(out, g.(map[string]any)["name"].(string))
	}
	return strings.Join(out, ",")
}

// TestServerGroupsAreItsPorts: a server booted on a port with its own
// groups shows them, a port update shows on the server, the server
// actions change every port, and a group on two ports shows twice, as
// Nova lists one entry per port.
func TestServerGroupsAreItsPorts(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		user := cc.client.As(userToken, "2.52")
		network := cc.networkOf(t, "p1")
		own, web, extra := newGroup(t, cc.client, userToken, "own"), newGroup(t, cc.client, userToken, "web"), newGroup(t, cc.client, userToken, "extra")
		defs := cc.client.As(userToken, "").Do("GET", "/networking/v2.0/security-groups?name=default", nil).Expect(t, http.StatusOK).
			JSON(t)["security_groups"].([]any)
		def := defs[0].(map[string]any)["id"].(string)
		names := map[string]string{own: "own", web: "web", extra: "extra", def: "default"}

		// The user's port keeps its own group; the port Nova makes beside
		// it gets the create's.
		given := newPort(t, cc.client, userToken, map[string]any{"network_id": network, "security_groups": []any{own}})["id"].(string)
		r := user.Do("POST", "/v2.1/servers", cc.body("2.52", map[string]any{
			"networks":        []any{map[string]any{"port": given}, map[string]any{"uuid": network}},
			"security_groups": []any{map[string]any{"name": "web"}},
		}))
		id := r.Expect(t, http.StatusAccepted).JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, id, "ACTIVE")
		ports := serverPortIDs(t, cc.client, id, given)
		if len(ports) != 2 {
			t.Fatalf("server ports %v", ports)
		}
		made := ports[1]
		check := func(step, server, givenGroups, madeGroups string) {
			t.Helper()
			if got := shownGroups(t, cc.client, userToken, id); got != server {
				t.Errorf("%s: server shows %q, want %q", step, got, server)
			}
			if got := portGroupNames(t, cc.client, given, names); got != givenGroups {
				t.Errorf("%s: given port has %q, want %q", step, got, givenGroups)
			}
			if got := portGroupNames(t, cc.client, made, names); got != madeGroups {
				t.Errorf("%s: Nova's port has %q, want %q", step, got, madeGroups)
			}
		}
		check("boot", "own,web", "own", "web")
		if got := serverGroupsList(t, cc.client, id); got != "own,web" {
			t.Errorf("os-security-groups lists %q", got)
		}

		// A port update through the networking API is the server's.
		cc.client.As(userToken, "").Do("PUT", "/networking/v2.0/ports/"+given,
			map[string]any{"port": map[string]any{"security_groups": []any{own, def}}}).Expect(t, http.StatusOK)
		check("port update", "default,own,web", "default,own", "web")

		// addSecurityGroup reaches every port; twice changes nothing.
		for range 2 {
			user.Do("POST", "/v2.1/servers/"+id+"/action", map[string]any{"addSecurityGroup": map[string]any{"name": "extra"}}).
				Expect(t, http.StatusAccepted)
		}
		check("add", "default,extra,extra,own,web", "default,extra,own", "extra,web")
		if got := serverGroupsList(t, cc.client, id); got != "default,extra,extra,own,web" {
			t.Errorf("os-security-groups after add lists %q, want a group on two ports twice", got)
		}
		// A group in use by a port is Neutron's 409, Nova's 400.
		r = cc.client.As(userToken, "").Do("DELETE", "/networking/v2.0/security-groups/"+extra, nil)
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "SecurityGroupInUse") {
			t.Errorf("Neutron delete of a group in use: %d %s", r.Status, r.Body)
		}
		r = cc.client.As(userToken, "2.1").Do("DELETE", "/v2.1/os-security-groups/"+extra, nil)
		if r.Status != http.StatusBadRequest || faultMessage(t, r) != "Security Group "+extra+" in use." {
			t.Errorf("Nova delete of a group in use: %d %s", r.Status, r.Body)
		}

		// removeSecurityGroup takes a group off the ports that have it;
		// one none has is Nova's 404.
		user.Do("POST", "/v2.1/servers/"+id+"/action", map[string]any{"removeSecurityGroup": map[string]any{"name": "own"}}).
			Expect(t, http.StatusAccepted)
		check("remove", "default,extra,extra,web", "default,extra", "extra,web")
		r = user.Do("POST", "/v2.1/servers/"+id+"/action", map[string]any{"removeSecurityGroup": map[string]any{"name": "own"}})
		if r.Status != http.StatusNotFound || faultMessage(t, r) != "Security group own not associated with the instance "+id {
			t.Errorf("remove again: %d %s", r.Status, r.Body)
		}
		for _, g := range []string{"extra", "web", "default"} {
			user.Do("POST", "/v2.1/servers/"+id+"/action", map[string]any{"removeSecurityGroup": map[string]any{"name": g}}).
				Expect(t, http.StatusAccepted)
		}
		check("remove all", "", "", "")
		cc.client.As(userToken, "2.1").Do("DELETE", "/v2.1/os-security-groups/"+extra, nil).Expect(t, http.StatusAccepted)

		// Deleting the server deletes Nova's port with its groups; the
		// given port keeps its own.
		cc.client.As(userToken, "").Do("PUT", "/networking/v2.0/ports/"+given,
			map[string]any{"port": map[string]any{"security_groups": []any{own}}}).Expect(t, http.StatusOK)
		cc.client.As(userToken, "2.1").Do("DELETE", "/v2.1/servers/"+id, nil).Expect(t, http.StatusNoContent)
		cc.WaitFor(t, id, computetest.Deleted)
		if got := portGroupNames(t, cc.client, given, names); got != "own" {
			t.Errorf("given port after the server's delete has %q", got)
		}
	})
}

// TestServerCreateGroupsAndPortSecurity: without security_groups (or
// with only "default") Nova's ports get the project's default group,
// none on a network without port security; groups asked for a server on
// such a network are SecurityGroupCannotBeApplied, as are the server
// actions on a port without port security. An interface attached on a
// network gets the default group.
func TestServerCreateGroupsAndPortSecurity(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		user := cc.client.As(userToken, "2.52")
		network := cc.networkOf(t, "p1")
		newGroup(t, cc.client, userToken, "web")
		neutron := cc.client.As(userToken, "")
		open := neutron.Do("POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"name": "open", "port_security_enabled": false}}).
			Expect(t, http.StatusCreated).JSON(t)["network"].(map[string]any)["id"].(string)
		neutron.Do("POST", "/networking/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": open, "cidr": "10.77.0.0/24", "ip_version": 4}}).
			Expect(t, http.StatusCreated)
		const cannot = "Network requires port_security_enabled and subnet associated in order to apply security groups."

		boot := func(extra map[string]any) string {
			t.Helper()
			r := user.Do("POST", "/v2.1/servers", cc.body("2.52", extra)).Expect(t, http.StatusAccepted)
			id := r.JSON(t)["server"].(map[string]any)["id"].(string)
			cc.waitForStatus(t, id, "ACTIVE")
			return id
		}
		for _, tc := range []struct {
			name      string
			networks  []any
			groups    []any
			status    int
			shows     string
			portSecOn bool
		}{
			{"no groups", []any{map[string]any{"uuid": network}}, nil, 202, "default", true},
			{"only default", []any{map[string]any{"uuid": network}}, []any{map[string]any{"name": "default"}}, 202, "default", true},
			{"web and default", []any{map[string]any{"uuid": network}}, []any{map[string]any{"name": "web"}, map[string]any{"name": "default"}}, 202, "default,web", true},
			{"open network", []any{map[string]any{"uuid": open}}, nil, 202, "", false},
			{"open network, default", []any{map[string]any{"uuid": open}}, []any{map[string]any{"name": "default"}}, 202, "", false},
			{"open network, web", []any{map[string]any{"uuid": open}}, []any{map[string]any{"name": "web"}}, 400, "", false},
			{"both networks, web", []any{map[string]any{"uuid": network}, map[string]any{"uuid": open}}, []any{map[string]any{"name": "web"}}, 400, "", false},
		} {
			extra := map[string]any{"networks": tc.networks}
			if tc.groups != nil {
				extra["security_groups"] = tc.groups
			}
			if tc.status != 202 {
				r := user.Do("POST", "/v2.1/servers", cc.body("2.52", extra))
				if r.Status != tc.status || faultMessage(t, r) != cannot {
					t.Errorf("%s: %d %s, want %d %q", tc.name, r.Status, r.Body, tc.status, cannot)
				}
				continue
			}
			id := boot(extra)
			if got := shownGroups(t, cc.client, userToken, id); got != tc.shows {
				t.Errorf("%s: server shows %q, want %q", tc.name, got, tc.shows)
			}
			port := showPort(t, cc.client, userToken, serverPortIDs(t, cc.client, id, "")[0])
			if port["port_security_enabled"] != tc.portSecOn {
				t.Errorf("%s: port_security_enabled %v, want %v", tc.name, port["port_security_enabled"], tc.portSecOn)
			}
			if tc.portSecOn {
				continue
			}
			// No group goes on a port without port security.
			r := user.Do("POST", "/v2.1/servers/"+id+"/action", map[string]any{"addSecurityGroup": map[string]any{"name": "web"}})
			if r.Status != http.StatusBadRequest || faultMessage(t, r) != cannot {
				t.Errorf("%s: addSecurityGroup %d %s", tc.name, r.Status, r.Body)
			}
		}

		// An interface Nova makes on a network has the default group.
		id := boot(map[string]any{"networks": "none"})
		r := user.Do("POST", "/v2.1/servers/"+id+"/action", map[string]any{"addSecurityGroup": map[string]any{"name": "web"}})
		if r.Status != http.StatusNotFound || faultMessage(t, r) != "instance_id "+id+" could not be found as device id on any ports" {
			t.Errorf("addSecurityGroup without ports: %d %s", r.Status, r.Body)
		}
		user.Do("POST", "/v2.1/servers/"+id+"/os-interface", map[string]any{"interfaceAttachment": map[string]any{"net_id": network}}).
			Expect(t, http.StatusOK)
		if got := shownGroups(t, cc.client, userToken, id); got != "default" {
			t.Errorf("server with an attached interface shows %q, want default", got)
		}
	})
}
