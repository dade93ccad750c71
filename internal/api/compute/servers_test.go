package compute_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
)

func TestServerShowIsolationAndViews(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "mine", true, nil)
		resp := sc.api.As("u2:p2", "2.1").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 404)
		if !strings.Contains(string(resp.Body), "Instance "+srv.ID+" could not be found.") {
			t.Errorf("404 body: %s", resp.Body)
		}
		if got := listNames(t, sc.api.As("u2:p2", "2.1"), ""); len(got) != 0 {
			t.Errorf("other project lists %v", got)
		}

		user := sc.api.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		admin := sc.api.As(adminToken, "2.16").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		if _, ok := user["OS-EXT-SRV-ATTR:host"]; ok {
			t.Error("a user sees OS-EXT-SRV-ATTR:host")
		}
		if admin["OS-EXT-SRV-ATTR:host"] != "fake-host" || admin["host_status"] != "UP" {
			t.Errorf("admin view: host %v host_status %v", admin["OS-EXT-SRV-ATTR:host"], admin["host_status"])
		}
		if name, _ := admin["OS-EXT-SRV-ATTR:instance_name"].(string); !strings.HasPrefix(name, "instance-") || len(name) != len("instance-00000001") {
			t.Errorf("instance_name %q", name)
		}
		if user["hostId"] == "" || user["hostId"] != admin["hostId"] || len(user["hostId"].(string)) != 56 {
			t.Errorf("hostId %v / %v", user["hostId"], admin["hostId"])
		}
		if la, _ := user["OS-SRV-USG:launched_at"].(string); len(la) != len("2013-09-23T13:37:00.880302") || strings.HasSuffix(la, "Z") {
			t.Errorf("launched_at %q", la)
		}
		if user["status"] != "ACTIVE" || user["progress"] == nil {
			t.Errorf("status %v progress %v", user["status"], user["progress"])
		}
		// 2.90 shows the hostname to everyone.
		v290 := sc.api.As(userToken, "2.90").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		if v290["OS-EXT-SRV-ATTR:hostname"] != "mine" {
			t.Errorf("2.90 hostname %v", v290["OS-EXT-SRV-ATTR:hostname"])
		}
		// 2.102 refuses query parameters on show.
		sc.api.As(userToken, "2.101").Do("GET", "/v2.1/servers/"+srv.ID+"?x=1", nil).Expect(t, 200)
		sc.api.As(userToken, "2.102").Do("GET", "/v2.1/servers/"+srv.ID+"?x=1", nil).Expect(t, 400)
	})
}

func TestServerFaultView(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		db := sc.DB
		srv := sc.boot(t, sc.user, "broken", true, nil)
		if _, err := db.ExecContext(context.Background(), `UPDATE instances SET vm_state = 'error',
			fault = '{"code":500,"message":"boom","details":"trace","created":"2020-01-02T03:04:05Z"}' WHERE id = ?`, srv.ID); err != nil {
			t.Fatal(err)
		}
		user := sc.api.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		fault, _ := user["fault"].(map[string]any)
		if user["status"] != "ERROR" || fault["message"] != "boom" || fault["created"] != "2020-01-02T03:04:05Z" || fault["details"] != nil {
			t.Errorf("user fault view: %v %v", user["status"], fault)
		}
		if _, ok := user["progress"]; ok {
			t.Error("ERROR server shows progress")
		}
		admin := sc.api.As(adminToken, "2.1").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		if admin["fault"].(map[string]any)["details"] != "trace" {
			t.Errorf("admin fault: %v", admin["fault"])
		}
	})
}

func TestServerUpdate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "old", true, nil)
		path := "/v2.1/servers/" + srv.ID
		put := func(version string, server map[string]any) map[string]any {
			return sc.api.As(userToken, version).Do("PUT", path, map[string]any{"server": server}).Expect(t, 200).JSON(t)["server"].(map[string]any)
		}
		got := put("2.1", map[string]any{"name": "new", "accessIPv4": "4.3.2.1", "accessIPv6": "80fe::", "OS-DCF:diskConfig": "AUTO"})
		if got["name"] != "new" || got["accessIPv4"] != "4.3.2.1" || got["accessIPv6"] != "80fe::" || got["OS-DCF:diskConfig"] != "AUTO" {
			t.Errorf("update 2.1: %v", got)
		}
		if _, ok := got["OS-EXT-STS:vm_state"]; ok {
			t.Error("pre-2.75 update shows OS-EXT-STS:vm_state")
		}
		got = put("2.19", map[string]any{"description": "web server"})
		if got["description"] != "web server" {
			t.Errorf("description: %v", got["description"])
		}
		got = put("2.19", map[string]any{"description": nil})
		if d, ok := got["description"]; !ok || d != nil {
			t.Errorf("description cleared: %v", d)
		}
		got = put("2.90", map[string]any{"hostname": "web-01"})
		if got["OS-EXT-SRV-ATTR:hostname"] != "web-01" {
			t.Errorf("hostname: %v", got["OS-EXT-SRV-ATTR:hostname"])
		}
		put("2.94", map[string]any{"hostname": "web_01.example.com"})
		got = put("2.75", map[string]any{"name": "full"})
		if got["OS-EXT-STS:vm_state"] != "active" || got["OS-EXT-AZ:availability_zone"] == nil {
			t.Errorf("2.75 update view: %v", got)
		}
		if got["pinned_availability_zone"] != nil {
			t.Errorf("unpinned server shows %v", got["pinned_availability_zone"])
		}
		got = put("2.104", map[string]any{"pinned_availability_zone": "nova"})
		if got["name"] != "full" || got["pinned_availability_zone"] != "nova" {
			t.Errorf("2.104 pin: %v", got)
		}
		resp := sc.api.As(userToken, "2.104").Do("PUT", path, map[string]any{"server": map[string]any{"pinned_availability_zone": "elsewhere"}}).Expect(t, 409)
		if !strings.Contains(string(resp.Body), "Cannot change pinned availability zone directly. Unpin first by setting pinned_availability_zone to null.") {
			t.Errorf("re-pin: %s", resp.Body)
		}
		if got = put("2.104", map[string]any{"pinned_availability_zone": nil}); got["pinned_availability_zone"] != nil {
			t.Errorf("unpin: %v", got["pinned_availability_zone"])
		}
		// A zone asked for at boot pins the server.
		zoned := sc.boot(t, sc.user, "zoned", false, func(r *compute.CreateRequest) { r.AZ = "nova" })
		shown := sc.api.As(userToken, "2.96").Do("GET", "/v2.1/servers/"+zoned.ID, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		if shown["pinned_availability_zone"] != "nova" {
			t.Errorf("boot zone not pinned: %v", shown["pinned_availability_zone"])
		}

		errCases := []struct {
			version string
			body    any
			status  int
			msg     string
		}{
			{"2.1", map[string]any{"server": map[string]any{"name": ""}}, 400, "is too short"},
			{"2.1", map[string]any{"server": map[string]any{"name": " padded"}}, 400, "An invalid 'name' value was provided"},
			{"2.1", map[string]any{"server": map[string]any{"name": 5}}, 400, "5 is not of type 'string'"},
			{"2.1", map[string]any{"server": map[string]any{"accessIPv4": "1.2.3"}}, 400, "'1.2.3' is not a 'ipv4'"},
			{"2.1", map[string]any{"server": map[string]any{"accessIPv6": "1.2.3.4"}}, 400, "'1.2.3.4' is not a 'ipv6'"},
			{"2.1", map[string]any{"server": map[string]any{"OS-DCF:diskConfig": "SOMETIMES"}}, 400, "is not one of ['AUTO', 'MANUAL']"},
			{"2.18", map[string]any{"server": map[string]any{"description": "x"}}, 400, "Additional properties are not allowed ('description' was unexpected)"},
			{"2.89", map[string]any{"server": map[string]any{"hostname": "x"}}, 400, "Additional properties are not allowed ('hostname' was unexpected)"},
			{"2.90", map[string]any{"server": map[string]any{"hostname": "web_01"}}, 400, "does not match"},
			{"2.1", map[string]any{"name": "x"}, 400, "'server' is a required property"},
			{"2.104", map[string]any{"server": map[string]any{"pinned_availability_zone": "elsewhere"}}, 409, "Server can only be pinned to its current availability zone 'nova', but 'elsewhere' was requested."},
			{"2.104", map[string]any{"server": map[string]any{"pinned_availability_zone": ""}}, 400, "is not valid under any of the given schemas"},
			{"2.103", map[string]any{"server": map[string]any{"pinned_availability_zone": "nova"}}, 400, "Additional properties are not allowed ('pinned_availability_zone' was unexpected)"},
		}
		for _, tc := range errCases {
			resp := sc.api.As(userToken, tc.version).Do("PUT", path, tc.body).Expect(t, tc.status)
			if !strings.Contains(string(resp.Body), tc.msg) {
				t.Errorf("%s %v: body %s, want %q", tc.version, tc.body, resp.Body, tc.msg)
			}
		}
		sc.api.As("u2:p2", "2.1").Do("PUT", path, map[string]any{"server": map[string]any{"name": "x"}}).Expect(t, 404)
	})
}

func TestServerDelete(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		db := sc.DB
		srv := sc.boot(t, sc.user, "doomed", true, nil)
		path := "/v2.1/servers/" + srv.ID
		sc.api.As("u2:p2", "2.1").Do("DELETE", path, nil).Expect(t, 404)
		if _, err := db.ExecContext(context.Background(), `UPDATE instances SET locked = TRUE, locked_by = 'admin' WHERE id = ?`, srv.ID); err != nil {
			t.Fatal(err)
		}
		sc.api.As(userToken, "2.1").Do("DELETE", path, nil).Expect(t, 409)
		sc.api.As(adminToken, "2.1").Do("DELETE", path, nil).Expect(t, 204)
		sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Deleted })
		sc.api.As(userToken, "2.1").Do("GET", path, nil).Expect(t, 404)
		sc.api.As(userToken, "2.1").Do("DELETE", path, nil).Expect(t, 404)
	})
}

func TestServerWithoutNetworkView(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "isolated", true, func(r *compute.CreateRequest) {
			r.Networks = compute.NetworkRequest{Mode: "none"}
			r.SecurityGroups = []string{"default"}
		})
		got := sc.api.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
		if addrs := got["addresses"].(map[string]any); len(addrs) != 0 {
			t.Errorf("addresses %v", addrs)
		}
		// Nova reads groups from the server's ports: none, no key.
		if _, ok := got["security_groups"]; ok {
			t.Errorf("security_groups without a port: %v", got["security_groups"])
		}
		ips := sc.api.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+srv.ID+"/ips", nil).Expect(t, 200).JSON(t)
		if addrs := ips["addresses"].(map[string]any); len(addrs) != 0 {
			t.Errorf("ips %v", addrs)
		}
	})
}

func TestServerReaderPolicy(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "shared", true, nil)
		reader := sc.api.As("reader:p1", "2.1")
		path := "/v2.1/servers/" + srv.ID
		for _, p := range []string{"/v2.1/servers", "/v2.1/servers/detail", path, path + "/metadata", path + "/ips"} {
			reader.Do("GET", p, nil).Expect(t, 200)
		}
		writes := []struct {
			method, path string
			body         any
			rule         string
		}{
			{"PUT", path, map[string]any{"server": map[string]any{"name": "x"}}, "os_compute_api:servers:update"},
			{"DELETE", path, nil, "os_compute_api:servers:delete"},
			{"POST", path + "/metadata", map[string]any{"metadata": map[string]any{"k": "v"}}, "os_compute_api:server-metadata:create"},
			{"PUT", path + "/metadata", map[string]any{"metadata": map[string]any{"k": "v"}}, "os_compute_api:server-metadata:update_all"},
			{"PUT", path + "/metadata/k", map[string]any{"meta": map[string]any{"k": "v"}}, "os_compute_api:server-metadata:update"},
			{"DELETE", path + "/metadata/k", nil, "os_compute_api:server-metadata:delete"},
		}
		for _, w := range writes {
			resp := reader.Do(w.method, w.path, w.body).Expect(t, 403)
			if want := "Policy doesn't allow " + w.rule + " to be performed."; !strings.Contains(string(resp.Body), want) {
				t.Errorf("%s %s: %s, want %q", w.method, w.path, resp.Body, want)
			}
		}
	})
}
