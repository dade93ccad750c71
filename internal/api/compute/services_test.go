package compute_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestServiceSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		const base = "nova/api_samples/os-services/"
		// The v2.69 sample shows services of a down cell; kumo has no cells,
		// so 2.69 answers as the 2.53 sample does.
		for _, f := range []struct{ dir, version, listDir string }{
			{"", "2.1", ""}, {"v2.11/", "2.11", "v2.11/"}, {"v2.53/", "2.53", "v2.53/"}, {"v2.53/", "2.69", "v2.53/"},
		} {
			c := x.client.As(hostsAdmin, f.version)
			list := c.Do("GET", "/v2.1/os-services", nil).Expect(t, http.StatusOK)
			apisamples.Assert(t, base+f.listDir+"services-list-get-resp.json", list.Body, apisamples.Options{})
			if f.version == "2.69" {
				continue
			}
			if f.version == "2.53" {
				id := computeServiceID(t, list.JSON(t), "node-b")
				for _, s := range []struct {
					name string
					body map[string]any
				}{
					{"service-disable-log-put", map[string]any{"status": "disabled", "disabled_reason": "maintenance"}},
					{"service-disable-put", map[string]any{"status": "disabled"}},
					{"service-enable-put", map[string]any{"status": "enabled"}},
					{"service-force-down-put", map[string]any{"forced_down": true}},
				} {
					resp := c.Do("PUT", "/v2.1/os-services/"+id, s.body).Expect(t, http.StatusOK)
					apisamples.Assert(t, base+f.dir+s.name+"-resp.json", resp.Body, apisamples.Options{})
				}
				continue
			}
			actions := []struct{ action, name string }{
				{"disable-log-reason", "service-disable-log-put"}, {"disable", "service-disable-put"}, {"enable", "service-enable-put"},
			}
			if f.version == "2.11" {
				actions = append(actions, struct{ action, name string }{"force-down", "service-force-down-put"})
			}
			for _, a := range actions {
				body := map[string]any{"host": "node-b", "binary": "nova-compute"}
				switch a.action {
				case "disable-log-reason":
					body["disabled_reason"] = "test2"
				case "force-down":
					body["forced_down"] = true
				}
				resp := c.Do("PUT", "/v2.1/os-services/"+a.action, body).Expect(t, http.StatusOK)
				apisamples.Assert(t, base+f.dir+a.name+"-resp.json", resp.Body, apisamples.Options{})
			}
		}
	})
}

// computeServiceID finds the id of host's nova-compute service in a list.
func computeServiceID(t *testing.T, list map[string]any, host string) string {
	t.Helper()
	for _, s := range list["services"].([]any) {
		m := s.(map[string]any)
		if m["host"] == host && m["binary"] == "nova-compute" {
			return m["id"].(string)
		}
	}
	t.Fatalf("no nova-compute service on %s in %v", host, list)
	return ""
}

func TestServiceBehaviour(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		c := x.client.As(hostsAdmin, "2.53")
		list := c.Do("GET", "/v2.1/os-services", nil).Expect(t, http.StatusOK).JSON(t)["services"].([]any)
		if len(list) != 5 { // scheduler, conductor and the computes fake-host, node-a and node-b
			t.Fatalf("services = %v", list)
		}
		var scheduler string
		for _, s := range list {
			m := s.(map[string]any)
			if m["binary"] == "nova-scheduler" {
				scheduler = m["id"].(string)
				if m["zone"] != "internal" || m["state"] != "up" || m["host"] != x.control {
					t.Errorf("scheduler = %v", m)
				}
			}
		}
		filtered := c.Do("GET", "/v2.1/os-services?binary=nova-compute&host=node-a", nil).Expect(t, 200).JSON(t)["services"].([]any)
		if len(filtered) != 1 || filtered[0].(map[string]any)["zone"] != "nova" {
			t.Errorf("filtered = %v", filtered)
		}
		nodeA := computeServiceID(t, map[string]any{"services": list}, "node-a")
		nodeB := computeServiceID(t, map[string]any{"services": list}, "node-b")

		cases := []struct {
			name, version, method, path string
			body                        any
			status                      int
			message                     string
		}{
			{"strict query from 2.75", "2.75", "GET", "/os-services?foo=1", nil, 400, "Additional properties are not allowed"},
			{"repeated host filter", "2.75", "GET", "/os-services?host=node-b&host=node-a&binary=nova-compute", nil, 200, `"host":"node-a"`},
			{"loose query before 2.75", "2.74", "GET", "/os-services?foo=1", nil, 200, ""},
			{"enabled with reason", "2.53", "PUT", "/os-services/" + nodeB, map[string]any{"status": "enabled", "disabled_reason": "x"}, 400, "Specifying 'disabled_reason' with status 'enabled' is invalid."},
			{"nothing to update", "2.53", "PUT", "/os-services/" + nodeB, map[string]any{}, 400, "No updates were requested."},
			{"bad status", "2.53", "PUT", "/os-services/" + nodeB, map[string]any{"status": "off"}, 400, "is not one of ['enabled', 'disabled']"},
			{"forced_down not a boolean", "2.53", "PUT", "/os-services/" + nodeB, map[string]any{"forced_down": "maybe"}, 400, "Invalid input for field/attribute forced_down. Value: maybe. 'maybe' is not one of [True, 'True', "},
			{"body checked before the id", "2.53", "PUT", "/os-services/1", map[string]any{"foo": 1}, 400, "Additional properties are not allowed ('foo' was unexpected)"},
			{"not a uuid", "2.53", "PUT", "/os-services/1", map[string]any{"status": "enabled"}, 400, "Invalid uuid 1"},
			{"unknown uuid", "2.53", "PUT", "/os-services/00000000-0000-4000-8000-000000000000", map[string]any{"status": "enabled"}, 404, "could not be found"},
			{"scheduler is not updatable", "2.53", "PUT", "/os-services/" + scheduler, map[string]any{"status": "disabled"}, 400, "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated."},
			{"old action on scheduler", "2.1", "PUT", "/os-services/disable", map[string]any{"host": x.control, "binary": "nova-scheduler"}, 400, "Updating a nova-scheduler service is not supported."},
			{"unknown action", "2.1", "PUT", "/os-services/reboot", map[string]any{"host": "node-a", "binary": "nova-compute"}, 404, "Unknown action"},
			{"force-down before 2.11", "2.10", "PUT", "/os-services/force-down", map[string]any{"host": "node-a", "binary": "nova-compute"}, 404, "Unknown action"},
			{"forced_down before 2.11", "2.10", "PUT", "/os-services/force-down", map[string]any{"host": "node-a", "binary": "nova-compute", "forced_down": true}, 400, "Additional properties"},
			{"missing reason", "2.1", "PUT", "/os-services/disable-log-reason", map[string]any{"host": "node-a", "binary": "nova-compute"}, 400, "Missing disabled reason field"},
			{"missing host", "2.1", "PUT", "/os-services/disable", map[string]any{"binary": "nova-compute"}, 400, "'host' is a required property"},
			{"unknown host", "2.1", "PUT", "/os-services/enable", map[string]any{"host": "nope", "binary": "nova-compute"}, 404, "Could not find binary nova-compute on host nope."},
			{"delete hosting servers", "2.53", "DELETE", "/os-services/" + nodeA, nil, 409, "Unable to delete compute service that is hosting instances."},
			{"delete bad integer", "2.1", "DELETE", "/os-services/abc", nil, 400, "Invalid input received: id must be an integer"},
			{"delete unknown", "2.1", "DELETE", "/os-services/99", nil, 404, "Service 99 not found."},
			{"delete node-b", "2.53", "DELETE", "/os-services/" + nodeB, nil, 204, ""},
		}
		for _, tc := range cases {
			resp := x.client.As(hostsAdmin, tc.version).Do(tc.method, "/v2.1"+tc.path, tc.body).Expect(t, tc.status)
			if !strings.Contains(string(resp.Body), tc.message) {
				t.Errorf("%s: %s lacks %q", tc.name, resp.Body, tc.message)
			}
		}
		// The old disable-log-reason records the reason; the list shows it.
		x.client.As(hostsAdmin, "2.1").Do("PUT", "/v2.1/os-services/disable-log-reason",
			map[string]any{"host": "node-a", "binary": "nova-compute", "disabled_reason": "fans"}).Expect(t, 200)
		got := x.client.As(hostsAdmin, "2.1").Do("GET", "/v2.1/os-services?host=node-a", nil).Expect(t, 200).JSON(t)["services"].([]any)
		if m := got[0].(map[string]any); m["status"] != "disabled" || m["disabled_reason"] != "fans" || m["id"] != float64(4) {
			t.Errorf("after disable = %v", m)
		}
		// Non-admins are refused.
		for _, r := range []struct{ method, path string }{{"GET", "/os-services"}, {"PUT", "/os-services/" + nodeA}, {"DELETE", "/os-services/" + nodeA}} {
			resp := x.client.As(hostsMember, "2.53").Do(r.method, "/v2.1"+r.path, map[string]any{"status": "enabled"}).Expect(t, http.StatusForbidden)
			if !strings.Contains(string(resp.Body), "os_compute_api:os-services:") {
				t.Errorf("%s %s: %s", r.method, r.path, resp.Body)
			}
		}
	})
}
