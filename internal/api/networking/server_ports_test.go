package networking_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// A port made through the networking API is one Nova's server create
// boots on (Nova with Neutron): it follows the server while it lives and
// survives its delete, unbound, for the next server.
func TestServerOnANeutronPort(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "web"})["id"].(string)
		create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4, "cidr": "172.16.6.0/24"})
		port := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "name": "mine",
			"fixed_ips": []any{map[string]any{"ip_address": "172.16.6.50"}}})
		id := port["id"].(string)

		server := c.CreateServer(c.member, "s", map[string]any{"networks": []any{map[string]any{"port": id}}})
		c.Step()
		bound := obj(t, c.Admin.Do("GET", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusOK), "port")
		if bound["device_id"] != server || bound["device_owner"] != "compute:nova" || bound["status"] != "ACTIVE" ||
			bound["binding:host_id"] != c.App.Agent.Host() || bound["name"] != "mine" || bound["mac_address"] != port["mac_address"] {
			t.Fatalf("bound port %v", bound)
		}
		if ports := list(t, c.member.Do("GET", "/networking/v2.0/ports?device_id="+server, nil).Expect(t, http.StatusOK), "ports"); len(ports) != 1 {
			t.Fatalf("server's ports %v, want only the given one", ports)
		}
		addrs := obj(t, c.member.Do("GET", "/v2.1/servers/"+server+"/ips", nil).Expect(t, http.StatusOK), "addresses")
		web, _ := addrs["web"].([]any)
		if len(web) != 1 || web[0].(map[string]any)["addr"] != "172.16.6.50" {
			t.Fatalf("server's addresses %v, want the port's 172.16.6.50 on web", addrs)
		}
		c.member.Do("POST", "/v2.1/servers/"+server+"/action", map[string]any{"os-stop": nil}).Expect(t, http.StatusAccepted)
		c.Step()
		if got := obj(t, c.member.Do("GET", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusOK), "port"); got["status"] != "DOWN" {
			t.Errorf("given port of a stopped server: %v", got["status"])
		}

		c.member.Do("DELETE", "/v2.1/servers/"+server, nil).Expect(t, http.StatusNoContent)
		c.Step()
		left := obj(t, c.Admin.Do("GET", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusOK), "port")
		fixed := left["fixed_ips"].([]any)
		if left["device_id"] != "" || left["device_owner"] != "" || left["binding:host_id"] != "" || left["status"] != "DOWN" ||
			len(fixed) != 1 || fixed[0].(map[string]any)["ip_address"] != "172.16.6.50" || left["revision_number"].(float64) <= bound["revision_number"].(float64) {
			t.Fatalf("port after its server's delete %v", left)
		}
		c.member.Do("DELETE", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusNoContent)
	})
}
