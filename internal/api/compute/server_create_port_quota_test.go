package compute_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestServerCreatePortQuota: Nova checks the project's Neutron port quota
// before a create (validate_networks): max_count is lowered to the
// servers whose new ports fit, fewer than min_count is 403 "Maximum
// number of ports exceeded", a project already over its limit is 403
// naming both numbers, and ports passed in need no room.
func TestServerCreatePortQuota(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		cc := newCreateCloud(t, database)
		admin, user := cc.client.As(adminToken, ""), cc.client.As(userToken, "2.1")
		setPorts := func(limit int, force bool) {
			t.Helper()
			admin.Do("PUT", "/networking/v2.0/quotas/p1", map[string]any{"quota": map[string]any{"port": limit, "force": force}}).
				Expect(t, http.StatusOK)
		}
		create := func(extra map[string]any) (int, map[string]any) {
			t.Helper()
			r := user.Do("POST", "/v2.1/servers", cc.body("2.1", extra))
			return r.Status, r.JSON(t)
		}
		// A port made through the networking API counts against the quota.
		first, _ := create(nil)
		if first != http.StatusAccepted {
			t.Fatalf("first server: %d", first)
		}
		network := cc.networkOf(t, "p1")
		spare := makePort(t, cc.client, userToken, network)["id"].(string)
		setPorts(4, false) // two used: room for two servers

		tests := []struct {
			name        string
			extra       map[string]any
			status      int
			message     string
			wantServers int // with return_reservation_id: how many were made
		}{
			{"min_count over the room", map[string]any{"min_count": 3, "max_count": 3}, http.StatusForbidden, "Maximum number of ports exceeded", 0},
			{"two ports per server", map[string]any{"min_count": 2, "networks": []any{map[string]any{"uuid": network}, map[string]any{"uuid": network}}},
				http.StatusForbidden, "Maximum number of ports exceeded", 0},
			{"max_count lowered", map[string]any{"min_count": 1, "max_count": 5, "return_reservation_id": true}, http.StatusAccepted, "", 2},
			{"no room left", nil, http.StatusForbidden, "Maximum number of ports exceeded", 0},
			{"a given port needs none", map[string]any{"networks": []any{map[string]any{"port": spare}}}, http.StatusAccepted, "", 1},
		}
		for _, tc := range tests {
			status, body := create(tc.extra)
			if status != tc.status {
				t.Fatalf("%s: %d %v, want %d", tc.name, status, body, tc.status)
			}
			if tc.message != "" {
				if msg := body["forbidden"].(map[string]any)["message"]; msg != tc.message {
					t.Errorf("%s: message %q, want %q", tc.name, msg, tc.message)
				}
			}
			if tc.wantServers > 0 && tc.extra["return_reservation_id"] == true {
				list := user.Do("GET", "/v2.1/servers?reservation_id="+body["reservation_id"].(string), nil).Expect(t, http.StatusOK).JSON(t)
				if got := len(list["servers"].([]any)); got != tc.wantServers {
					t.Errorf("%s: %d servers, want %d", tc.name, got, tc.wantServers)
				}
			}
		}

		setPorts(1, true) // below the 4 ports the project has
		status, body := create(nil)
		if msg, _ := body["forbidden"].(map[string]any)["message"].(string); status != http.StatusForbidden ||
			msg != "The number of defined ports: 4 is over the limit: 1" {
			t.Errorf("over the limit: %d %v", status, body)
		}
		setPorts(-1, false)
		if status, body := create(map[string]any{"min_count": 3}); status != http.StatusAccepted {
			t.Errorf("unlimited: %d %v", status, body)
		}
	})
}
