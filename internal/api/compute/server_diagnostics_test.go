package compute_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestServerDiagnostics: admins read a server's diagnostics, in the
// libvirt-style keys before 2.48 and Nova's standard form from 2.48 (the
// sample's keys and types); others get 403, a missing server 404.
func TestServerDiagnostics(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "diag", true, nil)
		path := "/v2.1/servers/" + srv.ID + "/diagnostics"

		legacy := sc.api.As(adminToken, "2.47").Do("GET", path, nil).Expect(t, 200).JSON(t)
		if legacy["memory"] != float64(srv.Flavor.RAM*1024) || legacy["cpu0_time"] != float64(0) || legacy["vda_read"] != float64(0) {
			t.Errorf("legacy diagnostics %v", legacy)
		}

		r := sc.api.As(adminToken, "2.48").Do("GET", path, nil).Expect(t, 200)
		// The fake guest has no network interface: nic_details is empty.
		apisamples.Assert(t, "nova/api_samples/os-server-diagnostics/v2.48/server-diagnostics-get-resp.json", r.Body,
			apisamples.Options{Optional: []string{"nic_details[]"}})
		d := r.JSON(t)
		mem := d["memory_details"].(map[string]any)
		if d["state"] != "running" || d["driver"] != "libvirt" || d["hypervisor"] != "fake" || d["num_cpus"] != float64(srv.Flavor.VCPUs) ||
			mem["maximum"] != float64(srv.Flavor.RAM) || d["uptime"] == nil {
			t.Errorf("diagnostics %s", r.Body)
		}

		sc.api.As(userToken, "2.48").Do("GET", path, nil).Expect(t, 403)
		sc.api.As(adminToken, "2.48").Do("GET", "/v2.1/servers/00000000-0000-0000-0000-000000000000/diagnostics", nil).Expect(t, 404)
	})
}
