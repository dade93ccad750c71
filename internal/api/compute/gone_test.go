package compute_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// goneBody is Nova's answer from a removed API: webob's HTTPGone wrapped
// by the fault middleware (410 has no fault name, so computeFault).
const goneBody = `{"computeFault": {"code": 410, "message": "This resource is no longer available.  No forwarding address is given."}}`

// TestRemovedAPIsAreGone: every route Nova keeps only to say 410 Gone
// does so at every microversion and on /v2, for any authenticated
// caller, before any lookup; removed actions too.
func TestRemovedAPIsAreGone(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "gone", true, nil)
		calls := []struct{ method, path, body string }{
			{"GET", "/os-agents", ""}, {"POST", "/os-agents", `{"agent": {}}`},
			{"PUT", "/os-agents/1", `{}`}, {"DELETE", "/os-agents/1", ""},
			{"GET", "/os-cells", ""}, {"POST", "/os-cells", `{}`}, {"GET", "/os-cells/capacities", ""},
			{"GET", "/os-cells/detail", ""}, {"GET", "/os-cells/info", ""}, {"POST", "/os-cells/sync_instances", `{}`},
			{"GET", "/os-cells/cell1", ""}, {"PUT", "/os-cells/cell1", `{}`}, {"DELETE", "/os-cells/cell1", ""},
			{"GET", "/os-cells/cell1/capacities", ""},
			{"POST", "/os-certificates", ""}, {"GET", "/os-certificates/root", ""},
			{"GET", "/os-cloudpipe", ""}, {"POST", "/os-cloudpipe", `{}`}, {"PUT", "/os-cloudpipe/configure-project", `{}`},
			{"GET", "/os-fixed-ips/192.168.1.1", ""},
			{"POST", "/os-fixed-ips/192.168.1.1/action", `{"reserve": null}`},
			{"POST", "/os-fixed-ips/192.168.1.1/action", `{"unreserve": null}`},
			{"GET", "/os-floating-ip-dns", ""}, {"PUT", "/os-floating-ip-dns/example.org", `{}`},
			{"DELETE", "/os-floating-ip-dns/example.org", ""},
			{"GET", "/os-floating-ip-dns/example.org/entries/www", ""},
			{"PUT", "/os-floating-ip-dns/example.org/entries/www", `{}`},
			{"DELETE", "/os-floating-ip-dns/example.org/entries/www", ""},
			{"GET", "/os-floating-ips-bulk", ""}, {"POST", "/os-floating-ips-bulk", `{}`},
			{"GET", "/os-floating-ips-bulk/testHost", ""}, {"PUT", "/os-floating-ips-bulk/delete", `{}`},
			{"GET", "/os-fping", ""}, {"GET", "/os-fping/" + srv.ID, ""},
			{"POST", "/os-networks", `{}`}, {"POST", "/os-networks/add", `{}`}, {"DELETE", "/os-networks/1", ""},
			{"POST", "/os-networks/1/action", `{"disassociate": null}`},
			{"POST", "/os-networks/1/action", `{"disassociate_host": null}`},
			{"POST", "/os-networks/1/action", `{"disassociate_project": null}`},
			{"POST", "/os-networks/1/action", `{"associate_host": "h"}`},
			{"GET", "/os-security-group-default-rules", ""}, {"POST", "/os-security-group-default-rules", `{}`},
			{"GET", "/os-security-group-default-rules/1", ""}, {"DELETE", "/os-security-group-default-rules/1", ""},
			{"POST", "/os-tenant-networks", `{}`}, {"DELETE", "/os-tenant-networks/1", ""},
			{"GET", "/servers/" + srv.ID + "/consoles", ""}, {"POST", "/servers/" + srv.ID + "/consoles", `{}`},
			{"GET", "/servers/" + srv.ID + "/consoles/1", ""}, {"DELETE", "/servers/" + srv.ID + "/consoles/1", ""},
			{"GET", "/servers/" + srv.ID + "/os-virtual-interfaces", ""},
			// Removed in 23.0.0; no lookup, so any server id.
			{"POST", "/servers/" + srv.ID + "/action", `{"resetNetwork": null}`},
			{"POST", "/servers/00000000-0000-0000-0000-000000000000/action", `{"resetNetwork": {}}`},
		}
		for _, prefix := range []struct{ base, version string }{{"/v2.1", "2.1"}, {"/v2.1", "latest"}, {"/v2", ""}} {
			for _, who := range []string{"u1:p1", "admin:admin"} {
				client := sc.api.As(who, prefix.version)
				for _, call := range calls {
					var body any
					if call.body != "" {
						body = call.body
					}
					r := client.Do(call.method, prefix.base+call.path, body)
					if r.Status != http.StatusGone || !goneJSONEqual(t, r.Body, goneBody) {
						t.Errorf("%s %s %s%s: %d %s", who, call.method, prefix.base, call.path, r.Status, r.Body)
					}
				}
			}
		}

		// The removed action routes dispatch as Nova's wsgi does.
		client := sc.api.As("u1:p1", "2.1")
		for _, tc := range []struct{ body, msg string }{
			{`{"fly": null}`, "There is no such action: fly"},
			{`{"reserve": null, "unreserve": null}`, "Malformed request body"},
			{`[]`, "Malformed request body"},
			{`{"reserve": `, "Malformed request body"},
		} {
			r := client.Do("POST", "/v2.1/os-fixed-ips/192.168.1.1/action", tc.body)
			if r.Status != http.StatusBadRequest || faultMessage(t, r) != tc.msg {
				t.Errorf("fixed ip action %s: %d %s, want 400 %q", tc.body, r.Status, r.Body, tc.msg)
			}
		}
		if r := client.Do("POST", "/v2.1/os-agents", `{"agent": `); r.Status != http.StatusBadRequest {
			t.Errorf("malformed body to a removed API: %d %s, want 400", r.Status, r.Body)
		}
		if r := sc.api.As("", "2.1").Do("GET", "/v2.1/os-agents", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("unauthenticated GET /os-agents: %d, want 401", r.Status)
		}
		// The live proxy APIs next to them are not removed.
		if r := client.Do("GET", "/v2.1/os-networks", nil); r.Status == http.StatusGone || strings.Contains(string(r.Body), "no longer available") {
			t.Errorf("GET /os-networks answers %d %s", r.Status, r.Body)
		}
	})
}

// goneJSONEqual reports whether got is the JSON document want.
func goneJSONEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	return json.Unmarshal(got, &g) == nil && reflect.DeepEqual(g, w)
}
