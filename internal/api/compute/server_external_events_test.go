package compute_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestServerExternalEvents(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "ev", true, nil)
		admin := sc.api.As(adminToken, "2.1")
		dir := "nova/api_samples/os-server-external-events/"
		req := apisamples.Load(t, dir+"event-create-req.json")
		// Nova's sample names an event its own schema refuses.
		for _, e := range req.(map[string]any)["events"].([]any) {
			e.(map[string]any)["server_uuid"], e.(map[string]any)["name"] = srv.ID, "network-changed"
		}
		r := admin.Do("POST", "/v2.1/os-server-external-events", req).Expect(t, 200)
		apisamples.Assert(t, dir+"event-create-resp.json", r.Body, apisamples.Options{})

		missing := "00000000-0000-0000-0000-000000000000"
		body := fmt.Sprintf(`{"events": [{"name": "network-changed", "server_uuid": %q}, {"name": "network-vif-plugged", "server_uuid": %q, "tag": "port", "status": "failed"}]}`, srv.ID, missing)
		got := admin.Do("POST", "/v2.1/os-server-external-events", body).Expect(t, 207).JSON(t)["events"].([]any)
		first, second := got[0].(map[string]any), got[1].(map[string]any)
		if first["code"] != float64(200) || first["status"] != "completed" || second["code"] != float64(404) || second["status"] != "failed" || second["tag"] != "port" {
			t.Fatalf("events %v", got)
		}
		tagless := fmt.Sprintf(`{"events": [{"name": "volume-extended", "server_uuid": %q}]}`, srv.ID)
		if ev := sc.api.As(adminToken, "2.51").Do("POST", "/v2.1/os-server-external-events", tagless).Expect(t, 207).JSON(t)["events"].([]any)[0].(map[string]any); ev["code"] != float64(400) {
			t.Fatalf("volume-extended without a tag: %v", ev)
		}
		for _, tc := range []struct {
			name, version, body, msg string
		}{
			{"volume-extended before 2.51", "2.50", tagless, "is not one of"},
			{"no events", "2.1", `{"events": []}`, "should be non-empty"},
			{"bad uuid", "2.1", `{"events": [{"name": "network-changed", "server_uuid": "x"}]}`, "is not a 'uuid'"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				msg := faultMessage(t, sc.api.As(adminToken, tc.version).Do("POST", "/v2.1/os-server-external-events", tc.body).Expect(t, 400))
				if !strings.Contains(msg, tc.msg) {
					t.Fatalf("message %q, want it to contain %q", msg, tc.msg)
				}
			})
		}
		sc.api.As(userToken, "2.1").Do("POST", "/v2.1/os-server-external-events", req).Expect(t, 403)
	})
}
