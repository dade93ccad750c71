package blockstorage_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestServicesEnableDisable(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		host := c.App.Config.Hostname() // the storage host is <host>@volfile
		a := c.admin.at("3.0")
		tests := []struct {
			name, path string
			body       map[string]any
			status     int
			fault, msg string
			want       map[string]any
		}{
			{"enable", "/os-services/enable", map[string]any{"host": host + "@volfile", "binary": "cinder-volume"}, 200, "", "",
				map[string]any{"host": host + "@volfile", "service": "", "binary": "cinder-volume", "status": "enabled", "disabled": false}},
			{"disable by service key and host part", "/os-services/disable", map[string]any{"host": host, "service": "cinder-scheduler"}, 200, "", "",
				map[string]any{"host": host, "service": "cinder-scheduler", "binary": "", "status": "disabled", "disabled": true}},
			{"invalid host", "/os-services/enable", map[string]any{"host": "invalid_host", "binary": "cinder-volume"}, 404, "itemNotFound",
				"Service cinder-volume could not be found on host invalid_host.", nil},
			{"invalid binary", "/os-services/disable", map[string]any{"host": host, "binary": "invalid_binary"}, 404, "itemNotFound",
				"Service invalid_binary could not be found on host " + host + ".", nil},
			{"no host", "/os-services/disable", map[string]any{"binary": "cinder-volume"}, 400, "badRequest", "Invalid input received: Host field is missing.", nil},
			{"no binary", "/os-services/disable", map[string]any{"host": host}, 400, "badRequest", "*", nil},
			{"extra key", "/os-services/disable", map[string]any{"host": host, "binary": "cinder-volume", "x": 1}, 400, "badRequest", "*", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := a.do("PUT", tc.path, tc.body)
				if tc.want == nil {
					fault(t, r, tc.status, tc.fault, tc.msg)
					return
				}
				got := r.Expect(t, tc.status).JSON(t)
				for k, w := range tc.want {
					if got[k] != w {
						t.Errorf("%s = %v, want %v (%v)", k, got[k], w, got)
					}
				}
			})
		}
		fault(t, c.member.do("PUT", "/os-services/enable", map[string]any{"host": host, "binary": "cinder-volume"}), 403, "forbidden", "*")
		// The status is Cinder's: unchanged.
		for _, s := range list(t, a.do("GET", "/os-services", nil).Expect(t, 200), "services") {
			if s["status"] != "enabled" {
				t.Errorf("service %v", s)
			}
		}
	})
}
