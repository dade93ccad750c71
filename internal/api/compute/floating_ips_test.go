package compute_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/quota"
)

// floatingCloud is the servers cloud with the floating IP pool "public"
// (203.0.113.0/24).
type floatingCloud struct{ *serversCloud }

func newFloatingCloud(t *testing.T, database string) *floatingCloud {
	t.Helper()
	return &floatingCloud{newServersCloudWith(t, database, computetest.Options{Configure: func(cfg *app.Config) {
		cfg.FloatingRange, cfg.FloatingPool = "203.0.113.0/24", "public"
	}})}
}

// server boots an active server of p1 with one port (IPv4 and IPv6).
func (fc *floatingCloud) server(t *testing.T, name string) *compute.Server {
	t.Helper()
	res := fc.CreateServer(t, fc.user, name, func(req *compute.CreateRequest) {
		req.MinCount, req.MaxCount = 1, 1
		req.RequestID, req.Networks = "req-"+name, compute.NetworkRequest{Mode: "auto"}
	})
	return fc.WaitFor(t, res.Servers[0].ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
}

// allocate allocates a floating IP for token and returns its view.
func (fc *floatingCloud) allocate(t *testing.T, token string) map[string]any {
	t.Helper()
	r := fc.api.As(token, "2.1").Do("POST", "/v2.1/os-floating-ips", nil).Expect(t, http.StatusOK)
	return r.JSON(t)["floating_ip"].(map[string]any)
}

func TestFloatingIPSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		fc := newFloatingCloud(t, database)
		cl := fc.api.As(userToken, "2.1")
		const base = "nova/api_samples/os-floating-ips/"
		apisamples.Assert(t, "nova/api_samples/os-floating-ip-pools/floatingippools-list-resp.json",
			cl.Do("GET", "/v2.1/os-floating-ip-pools", nil).Expect(t, 200).Body, apisamples.Options{})
		if got := cl.Do("GET", "/v2.1/os-floating-ip-pools", nil).JSON(t)["floating_ip_pools"].([]any); len(got) != 1 ||
			got[0].(map[string]any)["name"] != "public" {
			t.Errorf("pools = %v", got)
		}
		apisamples.Assert(t, base+"floating-ips-list-empty-resp.json", cl.Do("GET", "/v2.1/os-floating-ips", nil).Expect(t, 200).Body, apisamples.Options{})
		created := cl.Do("POST", "/v2.1/os-floating-ips", loadSample(t, base+"floating-ips-create-req.json")).Expect(t, 200)
		apisamples.Assert(t, base+"floating-ips-create-resp.json", created.Body, apisamples.Options{})
		fip := created.JSON(t)["floating_ip"].(map[string]any)
		if fip["pool"] != "public" || fip["fixed_ip"] != nil || fip["instance_id"] != nil {
			t.Errorf("created %v", fip)
		}
		fc.allocate(t, userToken)
		apisamples.Assert(t, base+"floating-ips-get-resp.json", cl.Do("GET", "/v2.1/os-floating-ips/"+fip["id"].(string), nil).Expect(t, 200).Body, apisamples.Options{})
		list := cl.Do("GET", "/v2.1/os-floating-ips", nil).Expect(t, 200)
		apisamples.Assert(t, base+"floating-ips-list-resp.json", list.Body, apisamples.Options{})
		if n := len(list.JSON(t)["floating_ips"].([]any)); n != 2 {
			t.Errorf("list has %d, want 2", n)
		}
	})
}

func TestFloatingIPRequests(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		fc := newFloatingCloud(t, database)
		cl := fc.api.As(userToken, "2.1")
		tests := []struct {
			name   string
			token  string
			method string
			path   string
			body   any
			status int
			msg    string
		}{
			{"no body", userToken, "POST", "/v2.1/os-floating-ips", nil, 200, ""},
			{"null body", userToken, "POST", "/v2.1/os-floating-ips", "null", 200, ""},
			{"null pool", userToken, "POST", "/v2.1/os-floating-ips", `{"pool": null}`, 200, ""},
			{"extra keys", userToken, "POST", "/v2.1/os-floating-ips", `{"pool": "public", "x": 1}`, 200, ""},
			{"unknown pool", userToken, "POST", "/v2.1/os-floating-ips", `{"pool": "nova"}`, 404, "Floating IP pool not found."},
			{"pool not a string", userToken, "POST", "/v2.1/os-floating-ips", `{"pool": 1}`, 400,
				"Invalid input for field/attribute pool. Value: 1. 1 is not of type 'string', 'null'"},
			{"body not an object", userToken, "POST", "/v2.1/os-floating-ips", `[]`, 400,
				"[] is not of type 'object', 'null'"},
			{"reader allocates", "reader:p1", "POST", "/v2.1/os-floating-ips", nil, 403,
				"Policy doesn't allow os_compute_api:os-floating-ips:create to be performed."},
			{"reader deletes", "reader:p1", "DELETE", "/v2.1/os-floating-ips/x", nil, 403,
				"Policy doesn't allow os_compute_api:os-floating-ips:delete to be performed."},
			{"unknown id", userToken, "GET", "/v2.1/os-floating-ips/nope", nil, 404, "Floating IP not found for ID nope"},
			{"delete unknown id", userToken, "DELETE", "/v2.1/os-floating-ips/nope", nil, 404, "Floating IP not found for ID nope"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := fc.api.As(tt.token, "2.1").Do(tt.method, tt.path, tt.body)
				if r.Status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
				}
				if tt.msg != "" && faultMessage(t, r) != tt.msg {
					t.Errorf("message %q, want %q", faultMessage(t, r), tt.msg)
				}
			})
		}
		// Other projects' floating IPs do not exist for the caller; the
		// list is the caller's project only, admins included.
		fip := fc.allocate(t, userToken)
		id := fip["id"].(string)
		fc.api.As("u2:p2", "2.1").Do("GET", "/v2.1/os-floating-ips/"+id, nil).Expect(t, 404)
		fc.api.As("u2:p2", "2.1").Do("DELETE", "/v2.1/os-floating-ips/"+id, nil).Expect(t, 404)
		if n := len(fc.api.As("u2:p2", "2.1").Do("GET", "/v2.1/os-floating-ips", nil).JSON(t)["floating_ips"].([]any)); n != 0 {
			t.Errorf("p2 lists %d floating IPs", n)
		}
		if n := len(fc.api.As(adminToken, "2.1").Do("GET", "/v2.1/os-floating-ips", nil).JSON(t)["floating_ips"].([]any)); n != 0 {
			t.Errorf("admin lists %d floating IPs of other projects", n)
		}
		fc.api.As(adminToken, "2.1").Do("GET", "/v2.1/os-floating-ips/"+id, nil).Expect(t, 200)
		fc.api.As("reader:p1", "2.1").Do("GET", "/v2.1/os-floating-ips/"+id, nil).Expect(t, 200)
		r := cl.Do("DELETE", "/v2.1/os-floating-ips/"+id, nil).Expect(t, http.StatusAccepted)
		if len(r.Body) != 0 {
			t.Errorf("delete body %q", r.Body)
		}
		cl.Do("GET", "/v2.1/os-floating-ips/"+id, nil).Expect(t, 404)
		// The legacy /v2 endpoint serves them too.
		fc.api.As(userToken, "").Do("GET", "/v2/os-floating-ips", nil).Expect(t, 200)
	})
}

// From 2.36 the proxies are gone, from 2.44 the actions.
func TestFloatingIPVersions(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		fc := newFloatingCloud(t, database)
		srv := fc.server(t, "web")
		fip := fc.allocate(t, userToken)
		id, ip := fip["id"].(string), fip["ip"].(string)
		for _, path := range []string{"/v2.1/os-floating-ip-pools", "/v2.1/os-floating-ips", "/v2.1/os-floating-ips/" + id} {
			fc.api.As(userToken, "2.35").Do("GET", path, nil).Expect(t, 200)
			fc.api.As(userToken, "2.36").Do("GET", path, nil).Expect(t, 404)
		}
		fc.api.As(userToken, "2.36").Do("POST", "/v2.1/os-floating-ips", nil).Expect(t, 404)
		fc.api.As(userToken, "2.36").Do("DELETE", "/v2.1/os-floating-ips/"+id, nil).Expect(t, 404)

		action := "/v2.1/servers/" + srv.ID + "/action"
		for _, body := range []string{`{"addFloatingIp": {"address": "` + ip + `"}}`, `{"removeFloatingIp": {"address": "` + ip + `"}}`,
			`{"addFloatingIp": {"bogus": 1}}`} {
			for _, v := range []string{"2.44", "latest"} {
				r := fc.api.As(userToken, v).Do("POST", action, body).Expect(t, 404)
				if m := faultMessage(t, r); m != "The resource could not be found." {
					t.Errorf("%s at %s: %q", body, v, m)
				}
			}
		}
		fc.api.As(userToken, "2.43").Do("POST", action, `{"addFloatingIp": {"address": "`+ip+`"}}`).Expect(t, 202)
		fc.api.As(userToken, "2.43").Do("POST", action, `{"removeFloatingIp": {"address": "`+ip+`"}}`).Expect(t, 202)
	})
}

// TestFloatingIPQuota: Nova with Neutron allocates within Neutron's
// floatingip quota (its own floating_ips quota is not enforced) and
// answers 403 with Neutron's message.
func TestFloatingIPQuota(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		fc := newFloatingCloud(t, database)
		fc.api.As(adminToken, "").Do("PUT", "/networking/v2.0/quotas/p1", `{"quota": {"floatingip": 1}}`).Expect(t, 200)
		if _, err := fc.App.Quotas.Set(context.Background(), "p2", "", []quota.Change{{Resource: quota.FloatingIPs, Limit: 0}}, true); err != nil {
			t.Fatal(err)
		}
		fc.allocate(t, userToken)
		for _, body := range []any{nil, `{"pool": "public"}`} {
			r := fc.api.As(userToken, "2.1").Do("POST", "/v2.1/os-floating-ips", body).Expect(t, 403)
			if m := faultMessage(t, r); m != "Quota exceeded for resources: ['floatingip']." {
				t.Errorf("%v: message %q", body, m)
			}
		}
		fc.allocate(t, "u2:p2") // Nova's floating_ips of 0 is not enforced
	})
}

// serverAddressesOf is GET /servers/{id}'s addresses.
func (fc *floatingCloud) serverAddressesOf(t *testing.T, id string) map[string]any {
	t.Helper()
	r := fc.api.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+id, nil).Expect(t, 200)
	return r.JSON(t)["server"].(map[string]any)["addresses"].(map[string]any)
}

func TestFloatingIPServerActions(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		fc := newFloatingCloud(t, database)
		srv := fc.server(t, "web")
		other := fc.server(t, "db")
		fip := fc.allocate(t, userToken)
		id, ip := fip["id"].(string), fip["ip"].(string)
		cl := fc.api.As(userToken, "2.1")
		action := "/v2.1/servers/" + srv.ID + "/action"

		private := fc.serverAddressesOf(t, srv.ID)["private"].([]any)
		fixed4 := private[0].(map[string]any)
		fixed6 := private[1].(map[string]any)

		// The sample request, pointed at this server's addresses.
		add := loadSample(t, "nova/api_samples/servers/server-action-addfloatingip-req.json")
		add["addFloatingIp"].(map[string]any)["address"] = ip
		add["addFloatingIp"].(map[string]any)["fixed_address"] = fixed4["addr"]
		tests := []struct {
			name   string
			token  string
			server string
			body   any
			status int
			msg    string
		}{
			{"bad address", userToken, srv.ID, `{"addFloatingIp": {"address": "x"}}`, 400,
				"Invalid input for field/attribute address. Value: x. 'x' is not valid under any of the given schemas"},
			{"no address", userToken, srv.ID, `{"addFloatingIp": {}}`, 400,
				"Invalid input for field/attribute addFloatingIp. Value: {}. 'address' is a required property"},
			{"extra key", userToken, srv.ID, `{"addFloatingIp": {"address": "` + ip + `", "x": 1}}`, 400,
				"Invalid input for field/attribute addFloatingIp. Value: {'address': '" + ip + "', 'x': 1}. Additional properties are not allowed ('x' was unexpected)"},
			{"unknown server", userToken, "nope", `{"addFloatingIp": {"address": "` + ip + `"}}`, 404, "Instance nope could not be found."},
			{"reader", "reader:p1", srv.ID, `{"addFloatingIp": {"address": "` + ip + `"}}`, 403,
				"Policy doesn't allow os_compute_api:os-floating-ips:add to be performed."},
			{"not allocated", userToken, srv.ID, `{"addFloatingIp": {"address": "203.0.113.250"}}`, 404, "floating IP not found"},
			{"fixed address of another server", userToken, srv.ID, map[string]any{"addFloatingIp": map[string]any{
				"address": ip, "fixed_address": fc.serverAddressesOf(t, other.ID)["private"].([]any)[0].(map[string]any)["addr"]}},
				400, "Specified fixed address not assigned to instance"},
			{"remove unassociated", userToken, srv.ID, `{"removeFloatingIp": {"address": "` + ip + `"}}`, 409,
				"Floating IP " + ip + " is not associated with instance " + srv.ID + "."},
			{"remove unknown", userToken, srv.ID, `{"removeFloatingIp": {"address": "203.0.113.250"}}`, 404,
				"Floating IP not found for address 203.0.113.250."},
			{"add", userToken, srv.ID, add, 202, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := fc.api.As(tt.token, "2.1").Do("POST", "/v2.1/servers/"+tt.server+"/action", tt.body)
				if r.Status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
				}
				if tt.msg != "" && faultMessage(t, r) != tt.msg {
					t.Errorf("message %q, want %q", faultMessage(t, r), tt.msg)
				}
			})
		}

		// The server shows the floating IP after its fixed ones, with the
		// port's MAC; /ips without the extended fields; the detail list too.
		want := []any{fixed4, fixed6, map[string]any{"version": float64(4), "addr": ip,
			"OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": fixed4["OS-EXT-IPS-MAC:mac_addr"]}}
		assertJSON(t, "server addresses", fc.serverAddressesOf(t, srv.ID)["private"], want)
		ips := cl.Do("GET", "/v2.1/servers/"+srv.ID+"/ips", nil).Expect(t, 200).JSON(t)["addresses"].(map[string]any)["private"]
		assertJSON(t, "ips", ips, []any{map[string]any{"version": float64(4), "addr": fixed4["addr"]},
			map[string]any{"version": float64(6), "addr": fixed6["addr"]}, map[string]any{"version": float64(4), "addr": ip}})
		for _, s := range cl.Do("GET", "/v2.1/servers/detail", nil).Expect(t, 200).JSON(t)["servers"].([]any) {
			s := s.(map[string]any)
			n := len(s["addresses"].(map[string]any)["private"].([]any))
			if (s["id"] == srv.ID && n != 3) || (s["id"] == other.ID && n != 2) {
				t.Errorf("detail: %s has %d addresses", s["id"], n)
			}
		}
		view := cl.Do("GET", "/v2.1/os-floating-ips/"+id, nil).Expect(t, 200).JSON(t)["floating_ip"].(map[string]any)
		if view["fixed_ip"] != fixed4["addr"] || view["instance_id"] != srv.ID {
			t.Errorf("associated view %v", view)
		}

		// Another server takes it over; removing it from the first is a 409.
		cl.Do("POST", "/v2.1/servers/"+other.ID+"/action", `{"addFloatingIp": {"address": "`+ip+`"}}`).Expect(t, 202)
		if n := len(fc.serverAddressesOf(t, srv.ID)["private"].([]any)); n != 2 {
			t.Errorf("first server keeps %d addresses", n)
		}
		cl.Do("POST", action, `{"removeFloatingIp": {"address": "`+ip+`"}}`).Expect(t, 409)
		cl.Do("POST", "/v2.1/servers/"+other.ID+"/action", loadRemove(t, ip)).Expect(t, 202)
		if n := len(fc.serverAddressesOf(t, other.ID)["private"].([]any)); n != 2 {
			t.Errorf("after remove %d addresses", n)
		}

		// Deleting a bound floating IP unbinds it.
		cl.Do("POST", action, `{"addFloatingIp": {"address": "`+ip+`"}}`).Expect(t, 202)
		cl.Do("DELETE", "/v2.1/os-floating-ips/"+id, nil).Expect(t, 202)
		if n := len(fc.serverAddressesOf(t, srv.ID)["private"].([]any)); n != 2 {
			t.Errorf("after delete of the floating IP %d addresses", n)
		}

		// Deleting the server unbinds its floating IP, which stays allocated.
		fip2 := fc.allocate(t, userToken)
		cl.Do("POST", action, `{"addFloatingIp": {"address": "`+fip2["ip"].(string)+`"}}`).Expect(t, 202)
		cl.Do("DELETE", "/v2.1/servers/"+srv.ID, nil).Expect(t, 204)
		deadline := time.Now().Add(60 * time.Second)
		for {
			v := cl.Do("GET", "/v2.1/os-floating-ips/"+fip2["id"].(string), nil).Expect(t, 200).JSON(t)["floating_ip"].(map[string]any)
			if v["instance_id"] == nil && v["fixed_ip"] == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still bound after the server's delete: %v", v)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func loadRemove(t *testing.T, ip string) map[string]any {
	t.Helper()
	body := loadSample(t, "nova/api_samples/servers/server-action-removefloatingip-req.json")
	body["removeFloatingIp"].(map[string]any)["address"] = ip
	return body
}

// assertJSON compares decoded JSON values.
func assertJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// TestFloatingIPPoolsAreExternalNetworks: Nova's pools are the external
// networks, the configured one first; an address allocated from another
// comes from its subnet, with its name as pool.
func TestFloatingIPPoolsAreExternalNetworks(t *testing.T) {
	t.Parallel()
	fc := newFloatingCloud(t, "")
	admin := fc.api.As(adminToken, "")
	post := func(path, key string, body map[string]any) map[string]any {
		t.Helper()
		return admin.Do("POST", "/networking/v2.0/"+path, map[string]any{key: body}).Expect(t, http.StatusCreated).JSON(t)[key].(map[string]any)
	}
	ext := post("networks", "network", map[string]any{"name": "ext2", "router:external": true})
	post("subnets", "subnet", map[string]any{"network_id": ext["id"], "ip_version": 4, "cidr": "198.51.100.0/29"})
	cl := fc.api.As(userToken, "2.1")
	pools := cl.Do("GET", "/v2.1/os-floating-ip-pools", nil).Expect(t, http.StatusOK).JSON(t)["floating_ip_pools"].([]any)
	if len(pools) != 2 || pools[0].(map[string]any)["name"] != "public" || pools[1].(map[string]any)["name"] != "ext2" {
		t.Errorf("pools = %v", pools)
	}
	for _, tt := range []struct {
		pool, prefix, name string
	}{
		{"ext2", "198.51.100.", "ext2"},
		{ext["id"].(string), "198.51.100.", "ext2"},
		{"public", "203.0.113.", "public"},
	} {
		f := cl.Do("POST", "/v2.1/os-floating-ips", map[string]any{"pool": tt.pool}).Expect(t, http.StatusOK).JSON(t)["floating_ip"].(map[string]any)
		if ip, _ := f["ip"].(string); len(ip) < len(tt.prefix) || ip[:len(tt.prefix)] != tt.prefix || f["pool"] != tt.name {
			t.Errorf("allocated from %s: %v", tt.pool, f)
		}
	}
}
