package networking_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// portKeys are the keys of a port in Neutron's api-ref
// (port-show-response.json) that kumo's extensions give, with
// binding:vnic_type (port-bind-show-response.json).
var portKeys = []string{"admin_state_up", "allowed_address_pairs", "binding:vnic_type", "created_at", "description",
	"device_id", "device_owner", "fixed_ips", "id", "ip_allocation", "mac_address", "name", "network_id",
	"port_security_enabled", "project_id", "revision_number", "security_groups", "status", "tags", "tenant_id", "updated_at"}

// bindingKeys are the binding details admins see.
var bindingKeys = []string{"binding:host_id", "binding:profile", "binding:vif_details", "binding:vif_type"}

func TestPortsOfServers(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		server := c.CreateServer(c.member, "s1", nil)
		c.Step()
		ports := list(t, c.member.Do("GET", "/networking/v2.0/ports", nil).Expect(t, http.StatusOK), "ports")
		if len(ports) != 1 {
			t.Fatalf("ports %v", ports)
		}
		p := ports[0]
		wantKeys(t, "member's port", p, portKeys)
		private := list(t, c.member.Do("GET", "/networking/v2.0/networks?name=private", nil).Expect(t, http.StatusOK), "networks")[0]
		subnet := private["subnets"].([]any)[0].(string)
		fixed := p["fixed_ips"].([]any)
		if p["device_id"] != server || p["device_owner"] != "compute:nova" || p["network_id"] != private["id"] ||
			p["status"] != "ACTIVE" || p["project_id"] != c.MemberProject || !strings.HasPrefix(p["mac_address"].(string), "fa:16:3e:") ||
			len(fixed) != 1 || fixed[0].(map[string]any)["subnet_id"] != subnet {
			t.Errorf("port %v", p)
		}
		if len(p["security_groups"].([]any)) != 1 {
			t.Errorf("port's security groups %v, want the default group", p["security_groups"])
		}
		// The server's address is the port's.
		addrs := obj(t, c.member.Do("GET", "/v2.1/servers/"+server+"/ips", nil).Expect(t, http.StatusOK), "addresses")
		ip := addrs["private"].([]any)[0].(map[string]any)["addr"]
		if fixed[0].(map[string]any)["ip_address"] != ip {
			t.Errorf("port's address %v, server's %v", fixed, ip)
		}

		id := p["id"].(string)
		admin := obj(t, c.Admin.Do("GET", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusOK), "port")
		wantKeys(t, "admin's port", admin, append(slices.Clone(portKeys), bindingKeys...))
		if admin["binding:host_id"] != c.App.Agent.Host() || admin["binding:vif_type"] != "bridge" {
			t.Errorf("admin's port binding %v", admin)
		}
		for query, want := range map[string]int{"device_id=" + server: 1, "device_id=nope": 0, "network_id=" + private["id"].(string): 1,
			"mac_address=" + p["mac_address"].(string): 1, "device_owner=network:dhcp": 0,
			"fixed_ips=ip_address%3D" + ip.(string): 1, "fixed_ips=ip_address%3D10.255.0.1": 0,
			"fixed_ips=subnet_id%3D" + subnet: 1, "fixed_ips=subnet_id%3D" + subnet + "&fixed_ips=ip_address%3D10.255.0.1": 0,
			"fixed_ips=ip_address_substr%3D" + ip.(string)[:4]: 1} {
			if got := list(t, c.member.Do("GET", "/networking/v2.0/ports?"+query, nil).Expect(t, http.StatusOK), "ports"); len(got) != want {
				t.Errorf("ports?%s: %d, want %d", query, len(got), want)
			}
		}
		wantError(t, c.other.Do("GET", "/networking/v2.0/ports/"+id, nil), 404, "PortNotFound", "Port "+id+" could not be found.")
		if got := list(t, c.other.Do("GET", "/networking/v2.0/ports", nil).Expect(t, http.StatusOK), "ports"); len(got) != 0 {
			t.Errorf("another project lists %v", got)
		}
		c.member.Do("PUT", "/networking/v2.0/ports/"+id+"/tags/web", nil).Expect(t, http.StatusCreated)
		if got := list(t, c.member.Do("GET", "/networking/v2.0/ports?tags=web", nil).Expect(t, http.StatusOK), "ports"); len(got) != 1 {
			t.Errorf("ports tagged web: %v", got)
		}

		// A stopped server's port is DOWN.
		c.member.Do("POST", "/v2.1/servers/"+server+"/action", map[string]any{"os-stop": nil}).Expect(t, http.StatusAccepted)
		c.Step()
		if got := obj(t, c.member.Do("GET", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusOK), "port"); got["status"] != "DOWN" {
			t.Errorf("port of a stopped server: %v", got["status"])
		}
	})
}
