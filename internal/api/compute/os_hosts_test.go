package compute_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestOSHostsSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		admin := x.client.As(hostsAdmin, "2.1")
		dir := "nova/api_samples/os-hosts/"
		apisamples.Assert(t, dir+"hosts-list-resp.json", admin.Do("GET", "/v2.1/os-hosts", nil).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, dir+"host-get-resp.json", admin.Do("GET", "/v2.1/os-hosts/node-a", nil).Expect(t, 200).Body, apisamples.Options{})
	})
}

func TestOSHostsSemantics(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		admin := x.client.As(hostsAdmin, "2.42")
		names := func(query string) string {
			var out []string
			for _, h := range admin.Do("GET", "/v2.1/os-hosts"+query, nil).Expect(t, 200).JSON(t)["hosts"].([]any) {
				m := h.(map[string]any)
				out = append(out, fmt.Sprintf("%s/%s/%s", m["host_name"], m["service"], m["zone"]))
			}
			return strings.Join(out, ",")
		}
		if got := names("?zone=west"); got != "node-b/compute/west" {
			t.Errorf("zone west: %s", got)
		}
		if got := names("?zone=nowhere"); got != "" {
			t.Errorf("unknown zone: %s", got)
		}
		if got := names(""); !strings.Contains(got, "node-a/compute/nova") || !strings.Contains(got, x.control+"/scheduler/internal") {
			t.Errorf("all hosts: %s", got)
		}

		res := admin.Do("GET", "/v2.1/os-hosts/node-a", nil).Expect(t, 200).JSON(t)["host"].([]any)
		var got []string
		for _, r := range res {
			m := r.(map[string]any)["resource"].(map[string]any)
			got = append(got, fmt.Sprintf("%s:%v/%v/%v", m["project"], m["cpu"], m["memory_mb"], m["disk_gb"]))
		}
		if strings.Join(got, " ") != "(total):4/8192/100 (used_now):1/512/1 (used_max):1/512/1 p1:1/512/1" {
			t.Errorf("host resources: %v", got)
		}

		errCases := []struct {
			name, method, path, body string
			status                   int
			msg                      string
		}{
			{"show unknown", "GET", "/v2.1/os-hosts/nope", "", 404, "Host 'nope' is not mapped to any cell"},
			{"update unknown", "PUT", "/v2.1/os-hosts/nope", `{"status": "enable"}`, 404, "Host 'nope' is not mapped to any cell"},
			{"update bad status", "PUT", "/v2.1/os-hosts/node-a", `{"status": "bad"}`, 400, "is not one of"},
			{"update nothing", "PUT", "/v2.1/os-hosts/node-a", `{}`, 400, "is not valid under any of the given schemas"},
			{"update", "PUT", "/v2.1/os-hosts/node-a", `{"status": "disable"}`, 501, "Feature not supported."},
			{"reboot unknown", "GET", "/v2.1/os-hosts/nope/reboot", "", 404, "Host 'nope' is not mapped to any cell"},
			{"shutdown", "GET", "/v2.1/os-hosts/node-a/shutdown", "", 501, "Feature not supported."},
			{"startup", "GET", "/v2.1/os-hosts/node-a/startup", "", 501, "Feature not supported."},
		}
		for _, tc := range errCases {
			t.Run(tc.name, func(t *testing.T) {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				msg := faultMessage(t, admin.Do(tc.method, tc.path, body).Expect(t, tc.status))
				if !strings.Contains(msg, tc.msg) {
					t.Fatalf("message %q, want it to contain %q", msg, tc.msg)
				}
			})
		}
		x.client.As(hostsMember, "2.42").Do("GET", "/v2.1/os-hosts", nil).Expect(t, 403)
		x.client.As(hostsMember, "2.42").Do("GET", "/v2.1/os-hosts/node-a", nil).Expect(t, 403)
		x.client.As(hostsAdmin, "2.43").Do("GET", "/v2.1/os-hosts", nil).Expect(t, 404)
	})
}
