package compute_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// Every microversion kumo advertises answers the host APIs with the
// shape Nova gives at that version.
func TestHostAPIsAtEveryVersion(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newHostsAPI(t, database)
		for minor := 1; minor <= 104; minor++ {
			v := fmt.Sprintf("2.%d", minor)
			c := x.client.As(hostsAdmin, v)
			hyps := c.Do("GET", "/v2.1/os-hypervisors/detail", nil).Expect(t, http.StatusOK).JSON(t)["hypervisors"].([]any)
			h := hyps[0].(map[string]any)
			_, idIsString := h["id"].(string)
			_, cpuIsString := h["cpu_info"].(string)
			_, cpuIsObject := h["cpu_info"].(map[string]any)
			_, hasUptime := h["uptime"]
			_, hasVCPUs := h["vcpus"]
			checks := []struct {
				what      string
				got, want bool
			}{
				{"uuid id", idIsString, minor >= 53},
				{"cpu_info string", cpuIsString, minor < 28},
				{"cpu_info object", cpuIsObject, minor >= 28 && minor < 88},
				{"uptime", hasUptime, minor >= 88},
				{"vcpus", hasVCPUs, minor < 88},
			}
			for _, ck := range checks {
				if ck.got != ck.want {
					t.Errorf("%s: %s = %v, want %v", v, ck.what, ck.got, ck.want)
				}
			}
			svcs := c.Do("GET", "/v2.1/os-services", nil).Expect(t, http.StatusOK).JSON(t)["services"].([]any)
			s := svcs[0].(map[string]any)
			if _, ok := s["forced_down"]; ok != (minor >= 11) {
				t.Errorf("%s: forced_down present = %v", v, ok)
			}
			if _, ok := s["id"].(string); ok != (minor >= 53) {
				t.Errorf("%s: service id is a uuid = %v", v, ok)
			}
			wantStats := http.StatusOK
			if minor >= 88 {
				wantStats = http.StatusNotFound
			}
			c.Do("GET", "/v2.1/os-hypervisors/statistics", nil).Expect(t, wantStats)
			x.client.As(hostsMember, v).Do("GET", "/v2.1/os-availability-zone", nil).Expect(t, http.StatusOK)
		}
	})
}
