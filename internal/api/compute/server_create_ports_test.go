package compute_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// makePort creates a port on network through the networking API as token.
func makePort(t *testing.T, c *apitest.Client, token, network string) map[string]any {
	t.Helper()
	r := c.As(token, "").Do("POST", "/networking/v2.0/ports", map[string]any{"port": map[string]any{"network_id": network}})
	return r.Expect(t, http.StatusCreated).JSON(t)["port"].(map[string]any)
}

// showPort is GET /v2.0/ports/id as token.
func showPort(t *testing.T, c *apitest.Client, token, id string) map[string]any {
	t.Helper()
	return c.As(token, "").Do("GET", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusOK).JSON(t)["port"].(map[string]any)
}

func portAddress(t *testing.T, port map[string]any) string {
	t.Helper()
	ips, _ := port["fixed_ips"].([]any)
	if len(ips) == 0 {
		t.Fatalf("port %v has no fixed IPs", port["id"])
	}
	return ips[0].(map[string]any)["ip_address"].(string)
}

// TestServerCreateOnGivenPort boots a server on a port made through the
// networking API: the server takes its address and MAC, the port its
// device, owner and binding; deleting the server leaves the port,
// unbound, while the port Nova made beside it goes.
func TestServerCreateOnGivenPort(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		// The project's network exists after its first server.
		first := cc.client.As(userToken, "2.1").Do("POST", "/v2.1/servers", cc.body("2.1", nil)).Expect(t, http.StatusAccepted)
		cc.waitForStatus(t, first.JSON(t)["server"].(map[string]any)["id"].(string), "ACTIVE")
		network := cc.networkOf(t, "p1")
		port := makePort(t, cc.client, userToken, network)
		portID, ip, mac := port["id"].(string), portAddress(t, port), port["mac_address"].(string)

		body := cc.body("2.52", map[string]any{"networks": []any{
			map[string]any{"port": portID, "tag": "nic1"}, map[string]any{"uuid": network},
		}})
		r := cc.client.As(userToken, "2.52").Do("POST", "/v2.1/servers", body).Expect(t, http.StatusAccepted)
		id := r.JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, id, "ACTIVE")

		// The binding attributes are admin's to see.
		bound := showPort(t, cc.client, adminToken, portID)
		if bound["device_id"] != id || bound["device_owner"] != "compute:nova" || bound["binding:host_id"] != "fake-host" ||
			bound["status"] != "ACTIVE" || portAddress(t, bound) != ip || bound["mac_address"] != mac {
			t.Fatalf("bound port: device %v owner %v host %v status %v ip %v mac %v", bound["device_id"], bound["device_owner"],
				bound["binding:host_id"], bound["status"], portAddress(t, bound), bound["mac_address"])
		}
		ips := cc.client.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+id+"/ips", nil).Expect(t, http.StatusOK).JSON(t)
		private, _ := ips["addresses"].(map[string]any)["private"].([]any)
		if len(private) != 2 || private[0].(map[string]any)["addr"] != ip {
			t.Fatalf("server ips %v, want %s first", ips, ip)
		}
		shown := cc.client.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
		first0 := shown["addresses"].(map[string]any)["private"].([]any)[0].(map[string]any)
		if first0["OS-EXT-IPS-MAC:mac_addr"] != mac {
			t.Fatalf("server shows MAC %v, want the port's %s", first0["OS-EXT-IPS-MAC:mac_addr"], mac)
		}
		var novaPort string
		list := cc.client.As(userToken, "").Do("GET", "/networking/v2.0/ports?device_id="+id, nil).Expect(t, http.StatusOK).JSON(t)
		for _, p := range list["ports"].([]any) {
			p := p.(map[string]any)
			if p["id"] != portID {
				novaPort = p["id"].(string)
				if p["device_owner"] != "compute:nova" {
					t.Errorf("Nova's port has owner %v", p["device_owner"])
				}
			}
		}
		if novaPort == "" {
			t.Fatalf("the server's own port is not listed: %v", list)
		}

		cc.client.As(userToken, "2.1").Do("DELETE", "/v2.1/servers/"+id, nil).Expect(t, http.StatusNoContent)
		cc.WaitFor(t, id, computetest.Deleted)
		left := showPort(t, cc.client, adminToken, portID)
		if left["device_id"] != "" || left["device_owner"] != "" || left["binding:host_id"] != "" || left["status"] != "DOWN" ||
			portAddress(t, left) != ip || left["mac_address"] != mac {
			t.Fatalf("port after delete: device %v owner %v host %v status %v", left["device_id"], left["device_owner"], left["binding:host_id"], left["status"])
		}
		cc.client.As(userToken, "").Do("GET", "/networking/v2.0/ports/"+novaPort, nil).Expect(t, http.StatusNotFound)

		// Free again, the port boots another server.
		again := cc.client.As(userToken, "2.37").Do("POST", "/v2.1/servers", cc.body("2.37", map[string]any{"networks": []any{map[string]any{"port": portID}}}))
		cc.waitForStatus(t, again.Expect(t, http.StatusAccepted).JSON(t)["server"].(map[string]any)["id"].(string), "ACTIVE")
		if got := showPort(t, cc.client, userToken, portID)["device_id"]; got == "" {
			t.Fatalf("the freed port was not bound again")
		}
	})
}

// TestServerCreatePortErrors are Nova's answers for ports a server
// cannot boot on.
func TestServerCreatePortErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		user := cc.client.As(userToken, "2.37")
		first := user.Do("POST", "/v2.1/servers", cc.body("2.37", nil)).Expect(t, http.StatusAccepted)
		firstID := first.JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, firstID, "ACTIVE")
		used := makePort(t, cc.client, userToken, cc.networkOf(t, "p1"))["id"].(string)
		user.Do("POST", "/v2.1/servers", cc.body("2.37", map[string]any{"networks": []any{map[string]any{"port": used}}})).Expect(t, http.StatusAccepted)

		other := cc.client.As("u2:p2", "2.37")
		otherFirst := other.Do("POST", "/v2.1/servers", cc.body("2.37", nil)).Expect(t, http.StatusAccepted)
		cc.waitForStatus(t, otherFirst.JSON(t)["server"].(map[string]any)["id"].(string), "ACTIVE")
		foreign := makePort(t, cc.client, "u2:p2", cc.networkOf(t, "p2"))["id"].(string)

		bare := cc.client.As(userToken, "").Do("POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"name": "bare"}}).
			Expect(t, http.StatusCreated).JSON(t)["network"].(map[string]any)["id"].(string)
		noAddress := makePort(t, cc.client, userToken, bare)["id"].(string)

		for _, tc := range []struct {
			name, port string
			status     int
			msg        string
		}{
			{"unknown", portA, 400, "Port id " + portA + " could not be found."},
			{"another project's", foreign, 400, "Port id " + foreign + " could not be found."},
			{"in use", used, 409, "Port " + used + " is still in use."},
			{"no fixed IP", noAddress, 400, "Port " + noAddress + " requires a FixedIP in order to be used."},
		} {
			r := user.Do("POST", "/v2.1/servers", cc.body("2.37", map[string]any{"networks": []any{map[string]any{"port": tc.port}}}))
			if r.Status != tc.status || faultMessage(t, r) != tc.msg {
				t.Errorf("%s: %d %s, want %d %q", tc.name, r.Status, r.Body, tc.status, tc.msg)
			}
		}
		if got := showPort(t, cc.client, "u2:p2", foreign)["device_id"]; got != "" {
			t.Errorf("the foreign port was bound to %v", got)
		}
	})
}

// TestServerPortsOwnedByZone: a server's ports, the given one and those
// Nova makes, are owned by "compute:<its zone>".
func TestServerPortsOwnedByZone(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		admin := cc.client.As(adminToken, "2.1")
		agg := admin.Do("POST", "/v2.1/os-aggregates", `{"aggregate": {"name": "web", "availability_zone": "london"}}`).
			Expect(t, http.StatusOK).JSON(t)["aggregate"].(map[string]any)
		admin.Do("POST", "/v2.1/os-aggregates/"+fmt.Sprint(agg["id"])+"/action", map[string]any{"add_host": map[string]any{"host": "fake-host"}}).
			Expect(t, http.StatusOK)
		user := cc.client.As(userToken, "2.37")
		first := user.Do("POST", "/v2.1/servers", cc.body("2.37", nil)).Expect(t, http.StatusAccepted)
		firstID := first.JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, firstID, "ACTIVE")
		port := makePort(t, cc.client, userToken, cc.networkOf(t, "p1"))["id"].(string)
		r := user.Do("POST", "/v2.1/servers", cc.body("2.37", map[string]any{"availability_zone": "london",
			"networks": []any{map[string]any{"port": port}, map[string]any{"uuid": cc.networkOf(t, "p1")}}}))
		id := r.Expect(t, http.StatusAccepted).JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, id, "ACTIVE")
		// The first server landed in london too (its only host is there).
		for server, want := range map[string]int{firstID: 1, id: 2} {
			ports := cc.client.As(userToken, "").Do("GET", "/networking/v2.0/ports?device_id="+server, nil).Expect(t, http.StatusOK).JSON(t)["ports"].([]any)
			if len(ports) != want {
				t.Fatalf("server %s has ports %v, want %d", server, ports, want)
			}
			for _, p := range ports {
				if owner := p.(map[string]any)["device_owner"]; owner != "compute:london" {
					t.Errorf("port of %s owned by %v, want compute:london", server, owner)
				}
			}
		}
	})
}

// TestFailedBuildOnGivenPort: a server whose spawn fails keeps its port
// until it is deleted, and then leaves it unbound, as a built one does.
func TestFailedBuildOnGivenPort(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, client := newCloud(t, database, computetest.Options{Fake: fake.Options{Fail: map[string]bool{"spawn": true}}})
		cc := &createCloud{Cloud: c, client: client}
		user := client.As(userToken, "2.37")
		first := user.Do("POST", "/v2.1/servers", cc.body("2.37", nil)).Expect(t, http.StatusAccepted)
		cc.waitForStatus(t, first.JSON(t)["server"].(map[string]any)["id"].(string), "ERROR")
		port := makePort(t, client, userToken, cc.networkOf(t, "p1"))["id"].(string)
		r := user.Do("POST", "/v2.1/servers", cc.body("2.37", map[string]any{"networks": []any{map[string]any{"port": port}}}))
		id := r.Expect(t, http.StatusAccepted).JSON(t)["server"].(map[string]any)["id"].(string)
		cc.waitForStatus(t, id, "ERROR")
		if got := showPort(t, client, userToken, port); got["device_id"] != id || got["status"] != "DOWN" {
			t.Fatalf("port of the failed server: device %v status %v", got["device_id"], got["status"])
		}
		user.Do("DELETE", "/v2.1/servers/"+id, nil).Expect(t, http.StatusNoContent)
		cc.WaitFor(t, id, computetest.Deleted)
		if got := showPort(t, client, adminToken, port); got["device_id"] != "" || got["device_owner"] != "" || got["binding:host_id"] != "" {
			t.Fatalf("port after the failed server's delete: device %v owner %v host %v", got["device_id"], got["device_owner"], got["binding:host_id"])
		}
	})
}
