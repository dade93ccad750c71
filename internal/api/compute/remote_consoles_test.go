package compute_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
)

// TestRemoteConsoles: POST /servers/{id}/remote-consoles (2.6+) and the
// legacy actions (up to 2.5) as Nova answers them with serial consoles
// on and SPICE and MKS off, on the fake driver, which has no screen
// (VNC: ConsoleTypeUnavailable); the token the URL carries is shown to
// admins from 2.31.
func TestRemoteConsoles(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloudWith(t, database, computetest.Options{HostEndpoint: true})
		srv := sc.boot(t, sc.user, "console", true, nil)
		path := "/v2.1/servers/" + srv.ID + "/remote-consoles"
		action := "/v2.1/servers/" + srv.ID + "/action"
		user := sc.api.As(userToken, "2.6")
		rc := func(protocol, typ string) map[string]any {
			return map[string]any{"remote_console": map[string]any{"protocol": protocol, "type": typ}}
		}

		// A serial console: a ws:// URL on kumo's own listener, in the
		// shape of Nova's sample (its sample is a VNC console's).
		resp := user.Do("POST", path, rc("serial", "serial")).Expect(t, 200)
		apisamples.Assert(t, "nova/api_samples/os-remote-consoles/v2.6/create-vnc-console-resp.json", resp.Body,
			apisamples.Options{})
		got := resp.JSON(t)["remote_console"].(map[string]any)
		if got["protocol"] != "serial" || got["type"] != "serial" {
			t.Errorf("remote console %v", got)
		}
		u, err := url.Parse(got["url"].(string))
		if err != nil || u.Scheme != "ws" || u.Path != "/console/serial" || len(u.Query().Get("token")) != 64 {
			t.Fatalf("serial console URL %v", got["url"])
		}
		token := u.Query().Get("token")

		expectFaults(t, sc, path, []faultCase{
			{"no screen on the fake driver", "2.6", rc("vnc", "novnc"), 400, "Unavailable console type vnc."},
			{"vnc type not novnc", "2.6", rc("vnc", "xvpvnc"), 400, "Invalid console type xvpvnc"},
			{"spice disabled", "2.6", rc("spice", "spice-html5"), 400, "Unavailable console type spice-html5."},
			{"rdp removed", "2.6", rc("rdp", "rdp-html5"), 400,
				"The server could not comply with the request since it is either malformed or otherwise incorrect."},
			{"mks before 2.8", "2.7", rc("mks", "webmks"), 400, ""},
			{"mks disabled", "2.8", rc("mks", "webmks"), 400, "Unavailable console type webmks."},
			{"spice-direct before 2.99", "2.98", rc("spice", "spice-direct"), 400, ""},
			{"spice-direct disabled", "2.99", rc("spice", "spice-direct"), 400, "Unavailable console type spice-direct."},
			{"unknown protocol", "2.6", rc("telnet", "serial"), 400, ""},
			{"missing type", "2.6", map[string]any{"remote_console": map[string]any{"protocol": "serial"}}, 400,
				"Invalid input for field/attribute remote_console. Value: {'protocol': 'serial'}. 'type' is a required property"},
			{"extra key", "2.6", map[string]any{"remote_console": map[string]any{"protocol": "serial", "type": "serial", "x": 1}}, 400, ""},
			{"before 2.6", "2.5", rc("serial", "serial"), 404, ""},
		})

		// Other projects' and missing servers are 404.
		sc.api.As("u2:p2", "2.6").Do("POST", path, rc("serial", "serial")).Expect(t, 404)
		sc.api.As(userToken, "2.6").Do("POST", "/v2.1/servers/00000000-0000-0000-0000-000000000000/remote-consoles",
			rc("serial", "serial")).Expect(t, 404)

		// The legacy actions, up to 2.5.
		legacy := sc.api.As(userToken, "2.5")
		lr := legacy.Do("POST", action, map[string]any{"os-getSerialConsole": map[string]any{"type": "serial"}}).Expect(t, 200)
		apisamples.Assert(t, "nova/api_samples/os-remote-consoles/get-serial-console-post-resp.json", lr.Body, apisamples.Options{})
		c := lr.JSON(t)["console"].(map[string]any)
		if c["type"] != "serial" || !strings.HasPrefix(c["url"].(string), "ws://") || len(c) != 2 {
			t.Errorf("legacy serial console %v", c)
		}
		expectFaults(t, sc, action, []faultCase{
			{"vnc", "2.5", map[string]any{"os-getVNCConsole": map[string]any{"type": "novnc"}}, 400, "Unavailable console type vnc."},
			{"spice", "2.1", map[string]any{"os-getSPICEConsole": map[string]any{"type": "spice-html5"}}, 400, "Unavailable console type spice-html5."},
			{"rdp", "2.1", map[string]any{"os-getRDPConsole": map[string]any{"type": "rdp-html5"}}, 400,
				"The server could not comply with the request since it is either malformed or otherwise incorrect."},
			{"serial type", "2.1", map[string]any{"os-getSerialConsole": map[string]any{"type": "novnc"}}, 400, ""},
			{"gone at 2.6", "2.6", map[string]any{"os-getSerialConsole": map[string]any{"type": "serial"}}, 404, ""},
		})

		// The token: admins only, from 2.31.
		tokenPath := "/v2.1/os-console-auth-tokens/" + token
		sc.api.As(adminToken, "2.30").Do("GET", tokenPath, nil).Expect(t, 400)
		sc.api.As(userToken, "2.31").Do("GET", tokenPath, nil).Expect(t, 403)
		info := sc.api.As(adminToken, "2.31").Do("GET", tokenPath, nil).Expect(t, 200).JSON(t)["console"].(map[string]any)
		if info["instance_uuid"] != srv.ID || info["host"] != srv.Host || info["port"] != float64(0) ||
			info["internal_access_path"] != nil || len(info) != 4 {
			t.Errorf("console connection info %v", info)
		}
		if r := sc.api.As(adminToken, "2.31").Do("GET", "/v2.1/os-console-auth-tokens/nope", nil).Expect(t, 404); faultMessage(t, r) != "Token not found" {
			t.Errorf("unknown token: %s", r.Body)
		}
		sc.api.As(adminToken, "2.99").Do("GET", tokenPath+"?x=1", nil).Expect(t, 400)

		// A stopped server's console is not there: Nova's "not ready".
		if err := sc.Compute.Act(context.Background(), sc.user, srv.ID, state.ActionStop, "req-stop"); err != nil {
			t.Fatal(err)
		}
		sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" })
		if r := user.Do("POST", path, rc("serial", "serial")).Expect(t, 409); faultMessage(t, r) != "Instance "+srv.ID+" is not ready" {
			t.Errorf("stopped server: %s", r.Body)
		}
	})
}

// faultCase is a request the member sends at a microversion and the
// status and fault message ("" unchecked) it must get.
type faultCase struct {
	name    string
	version string
	body    any
	status  int
	message string
}

func expectFaults(t *testing.T, sc *serversCloud, path string, cases []faultCase) {
	t.Helper()
	for _, tc := range cases {
		r := sc.api.As(userToken, tc.version).Do("POST", path, tc.body)
		r.Expect(t, tc.status)
		if tc.message != "" {
			if m := faultMessage(t, r); m != tc.message {
				t.Errorf("%s: %q, want %q", tc.name, m, tc.message)
			}
		}
	}
}
