package compute_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// hypervisorSample is one request whose answer has a Nova sample.
type hypervisorSample struct {
	version, sample, path string
}

// hypervisorSamples leave out the uptime samples: they are a libvirt
// host's, and these hosts run the fake driver, which measures no uptime
// (a 501, TestHypervisorBehaviour); the uptime line is the host's own
// (hostlink.TestHostUptime, hostinfo.TestUptimeLine).
func hypervisorSamples(x *hostsAPI) []hypervisorSample {
	const base = "nova/api_samples/os-hypervisors/"
	var out []hypervisorSample
	for _, f := range []struct{ dir, version string }{{"", "2.1"}, {"v2.28/", "2.28"}} {
		out = append(out,
			hypervisorSample{f.version, base + f.dir + "hypervisors-list-resp.json", "/os-hypervisors"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-detail-resp.json", "/os-hypervisors/detail"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-show-resp.json", "/os-hypervisors/1"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-search-resp.json", "/os-hypervisors/node-a/search"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-statistics-resp.json", "/os-hypervisors/statistics"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-with-servers-resp.json", "/os-hypervisors/node-a/servers"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-without-servers-resp.json", "/os-hypervisors/node-b/servers"},
		)
	}
	out = append(out,
		hypervisorSample{"2.33", base + "v2.33/hypervisors-list-resp.json", "/os-hypervisors?limit=1"},
		hypervisorSample{"2.33", base + "v2.33/hypervisors-detail-resp.json", "/os-hypervisors/detail?limit=1"},
	)
	for _, f := range []struct{ dir, version string }{{"v2.53/", "2.53"}, {"v2.88/", "2.88"}} {
		out = append(out,
			hypervisorSample{f.version, base + f.dir + "hypervisors-list-resp.json", "/os-hypervisors?limit=1"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-detail-resp.json", "/os-hypervisors/detail?limit=1"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-detail-with-servers-resp.json", "/os-hypervisors/detail?with_servers=true&hypervisor_hostname_pattern=node-a"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-show-resp.json", "/os-hypervisors/" + x.b},
			hypervisorSample{f.version, base + f.dir + "hypervisors-show-with-servers-resp.json", "/os-hypervisors/" + x.a + "?with_servers=1"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-search-resp.json", "/os-hypervisors?hypervisor_hostname_pattern=node-a"},
			hypervisorSample{f.version, base + f.dir + "hypervisors-with-servers-resp.json", "/os-hypervisors?with_servers=true&hypervisor_hostname_pattern=node-a"},
		)
	}
	out = append(out,
		hypervisorSample{"2.53", base + "v2.53/hypervisors-statistics-resp.json", "/os-hypervisors/statistics"},
		hypervisorSample{"2.53", base + "v2.53/hypervisors-without-servers-resp.json", "/os-hypervisors?hypervisor_hostname_pattern=node-b"},
	)
	return out
}

func TestHypervisorSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		for _, s := range hypervisorSamples(x) {
			t.Run(s.version+" "+s.path, func(t *testing.T) {
				resp := x.client.As(hostsAdmin, s.version).Do("GET", "/v2.1"+s.path, nil).Expect(t, http.StatusOK)
				apisamples.Assert(t, s.sample, resp.Body, apisamples.Options{})
			})
		}
	})
}

func TestHypervisorBehaviour(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		admin := func(v string) func(path string, status int) map[string]any {
			return func(path string, status int) map[string]any {
				resp := x.client.As(hostsAdmin, v).Do("GET", "/v2.1"+path, nil).Expect(t, status)
				if status >= 400 {
					return map[string]any{"raw": string(resp.Body)}
				}
				return resp.JSON(t)
			}
		}
		hyp := func(body map[string]any) map[string]any { return body["hypervisor"].(map[string]any) }

		// cpu_info is a string before 2.28 and an object from then.
		if _, ok := hyp(admin("2.27")("/os-hypervisors/1", 200))["cpu_info"].(string); !ok {
			t.Errorf("cpu_info at 2.27 must be a string")
		}
		if _, ok := hyp(admin("2.28")("/os-hypervisors/1", 200))["cpu_info"].(map[string]any); !ok {
			t.Errorf("cpu_info at 2.28 must be an object")
		}
		// 2.88 drops the usage fields and adds uptime.
		h88 := hyp(admin("2.88")("/os-hypervisors/"+x.a, 200))
		if _, ok := h88["vcpus"]; ok {
			t.Errorf("vcpus at 2.88: %v", h88)
		}
		// The fake driver measures no uptime: null, as Nova's fake
		// driver (it once gave this machine's), here and at /uptime.
		if u, ok := h88["uptime"]; !ok || u != nil {
			t.Errorf("uptime at 2.88 on a fake host: %v (present %v), want null", u, ok)
		}
		// Before 2.88 Nova answers its fake driver's missing uptime with
		// a 501, which the openstack CLI's hypervisor show expects.
		if raw := admin("2.1")("/os-hypervisors/1/uptime", 501)["raw"].(string); !strings.Contains(raw, `"notImplemented"`) ||
			!strings.Contains(raw, "The requested functionality is not supported.") {
			t.Errorf("/uptime on a fake host: %s, want Nova's 501", raw)
		}
		// Usage counts the hosted server (node-a is hypervisor 2, after the
		// cloud's own host).
		if h := hyp(admin("2.1")("/os-hypervisors/2", 200)); h["running_vms"] != float64(1) || h["memory_mb_used"] != float64(512) {
			t.Errorf("usage = %v", h)
		}
		// 2.75: with_servers and no servers is an empty list.
		for v, want := range map[string]bool{"2.74": false, "2.75": true} {
			list := admin(v)("/os-hypervisors?with_servers=true&hypervisor_hostname_pattern=node-b", 200)["hypervisors"].([]any)
			if _, ok := list[0].(map[string]any)["servers"]; ok != want {
				t.Errorf("servers key at %s: %v, want %v", v, ok, want)
			}
		}
		errCases := []struct {
			version, path string
			status        int
			message       string
		}{
			{"2.1", "/os-hypervisors/abc", 404, "Hypervisor with ID 'abc' could not be found."},
			{"2.1", "/os-hypervisors/99", 404, "Hypervisor with ID '99' could not be found."},
			{"2.53", "/os-hypervisors/1", 400, "Invalid uuid 1"},
			{"2.53", "/os-hypervisors/00000000-0000-4000-8000-000000000000", 404, "could not be found"},
			{"2.1", "/os-hypervisors/zzz/search", 404, "No hypervisor matching 'zzz' could be found."},
			{"2.53", "/os-hypervisors?hypervisor_hostname_pattern=zzz", 404, "No hypervisor matching 'zzz' could be found."},
			{"2.53", "/os-hypervisors?hypervisor_hostname_pattern=node&limit=1", 400, "Paging over hypervisors"},
			{"2.53", "/os-hypervisors?foo=1", 400, "Additional properties are not allowed"},
			{"2.53", "/os-hypervisors?with_servers=maybe", 400, "is not one of"},
			{"2.33", "/os-hypervisors?marker=42", 400, "marker [42] not found"},
			{"2.53", "/os-hypervisors/node-a/search", 404, ""},
			{"2.88", "/os-hypervisors/statistics", 404, ""},
			{"2.88", "/os-hypervisors/" + x.a + "/uptime", 404, ""},
		}
		for _, c := range errCases {
			raw := admin(c.version)(c.path, c.status)["raw"].(string)
			if !strings.Contains(raw, c.message) {
				t.Errorf("%s %s: %s lacks %q", c.version, c.path, raw, c.message)
			}
		}
		// Before 2.33 unknown query parameters are ignored; paging walks on.
		admin("2.1")("/os-hypervisors?foo=1", 200)
		page := admin("2.33")("/os-hypervisors?limit=1&marker=1", 200)["hypervisors"].([]any)
		if len(page) != 1 || page[0].(map[string]any)["id"] != float64(2) {
			t.Errorf("page after marker 1 = %v", page)
		}
		stats := admin("2.1")("/os-hypervisors/statistics", 200)["hypervisor_statistics"].(map[string]any)
		if stats["count"] != float64(3) || stats["vcpus"] != float64(12) || stats["running_vms"] != float64(1) {
			t.Errorf("statistics = %v", stats)
		}
		// Admin only.
		for _, p := range []string{"/os-hypervisors", "/os-hypervisors/detail", "/os-hypervisors/1", "/os-hypervisors/statistics"} {
			resp := x.client.As(hostsMember, "2.1").Do("GET", "/v2.1"+p, nil).Expect(t, http.StatusForbidden)
			if !strings.Contains(string(resp.Body), "os_compute_api:os-hypervisors:") {
				t.Errorf("%s: %s", p, resp.Body)
			}
		}
	})
}
