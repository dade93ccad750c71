package compute_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
)

// sampleBody reads a request sample, replacing the sample's image id
// with imageID.
func rescueSampleBody(t *testing.T, rel, imageID string) string {
	t.Helper()
	b, err := json.Marshal(apisamples.Load(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "70a599e0-31e7-49b7-b260-868f441e862b", imageID)
}

// TestRescueSamples posts the rescue and unrescue samples at 2.1 and
// 2.87 and compares the answers and the rescued and unrescued server
// with the response samples.
func TestRescueSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		for _, f := range []struct{ dir, version string }{{"os-rescue/", "2.1"}, {"os-rescue/v2.87/", "2.87"}} {
			base := "nova/api_samples/" + f.dir
			user := sc.api.As("u1:p1", f.version)
			for _, req := range []string{"server-rescue-req.json", "server-rescue-req-with-image-ref.json"} {
				srv := sc.sampleServer(t, sc.user)
				path := "/v2.1/servers/" + srv.ID
				r := user.Do("POST", path+"/action", rescueSampleBody(t, base+req, sc.ImageID)).Expect(t, http.StatusOK)
				apisamples.Assert(t, base+"server-rescue.json", r.Body, apisamples.Options{})
				if got := r.JSON(t)["adminPass"]; got != "MySecretPass" {
					t.Fatalf("%s%s: adminPass %v, want the one asked for", base, req, got)
				}
				sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "RESCUE" && s.TaskState == "" })
				assertServerSample(t, base+"server-get-resp-rescue.json", user.Do("GET", path, nil).Expect(t, 200).Body, serverSampleOptions)
				if g, _ := sc.Driver.Inspect(srv.ID); g.RescueImage != sc.ImageID {
					t.Fatalf("rescue image %q", g.RescueImage)
				}
				r = user.Do("POST", path+"/action", rescueSampleBody(t, base+"server-unrescue-req.json", sc.ImageID)).Expect(t, http.StatusAccepted)
				if len(r.Body) != 0 {
					t.Fatalf("unrescue body %s", r.Body)
				}
				sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" && s.TaskState == "" })
				assertServerSample(t, base+"server-get-resp-unrescue.json", user.Do("GET", path, nil).Expect(t, 200).Body, serverSampleOptions)
			}
		}
	})
}

// TestRescueFamilySamples posts the changePassword, console output,
// trigger_crash_dump, os-resetState and injectNetworkInfo samples.
func TestRescueFamilySamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "samples", true, nil)
		path := "/v2.1/servers/" + srv.ID + "/action"
		user := sc.api.As("u1:p1", "2.1")
		admin := sc.api.As("admin:admin", "2.1")
		base := "nova/api_samples/"

		r := user.Do("POST", path, rescueSampleBody(t, base+"os-admin-password/admin-password-change-password.json", "")).Expect(t, http.StatusAccepted)
		if len(r.Body) != 0 {
			t.Fatalf("changePassword body %s", r.Body)
		}
		if g, _ := sc.Driver.Inspect(srv.ID); g.PasswordChanges != 1 {
			t.Fatalf("password changes %d when changePassword answered", g.PasswordChanges)
		}

		r = user.Do("POST", path, rescueSampleBody(t, base+"os-console-output/console-output-post-req.json", "")).Expect(t, http.StatusOK)
		apisamples.Assert(t, base+"os-console-output/console-output-post-resp.json", r.Body, apisamples.Options{})
		if out, _ := r.JSON(t)["output"].(string); !strings.Contains(out, "\n") {
			t.Fatalf("console output %q has fewer lines than the guest logged", out)
		}

		sc.api.As("u1:p1", "2.17").Do("POST", path, rescueSampleBody(t, base+"servers/v2.17/server-action-trigger-crash-dump.json", "")).
			Expect(t, http.StatusAccepted)

		admin.Do("POST", path, rescueSampleBody(t, base+"os-admin-actions/admin-actions-inject-network-info.json", "")).Expect(t, http.StatusAccepted)
		r = admin.Do("POST", path, `{"os-resetState": {"state": "error"}}`).Expect(t, http.StatusAccepted)
		if got := sc.WaitFor(t, srv.ID, func(*compute.Server) bool { return true }); got.Status() != "ERROR" {
			t.Fatalf("status after reset %s", got.Status())
		}
		admin.Do("POST", path, rescueSampleBody(t, base+"os-admin-actions/admin-actions-reset-server-state.json", "")).Expect(t, http.StatusAccepted)
		if got := sc.WaitFor(t, srv.ID, func(*compute.Server) bool { return true }); got.Status() != "ACTIVE" {
			t.Fatalf("status after reset %s", got.Status())
		}
	})
}

// TestRescueFamilyErrors checks Nova's codes and messages for bad bodies,
// states, microversions and callers.
func TestRescueFamilyErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "errors", true, nil)
		id := srv.ID
		path := "/v2.1/servers/" + id + "/action"
		missing := "/v2.1/servers/00000000-0000-0000-0000-000000000000/action"
		unknownImage := "11111111-2222-3333-4444-555555555555"
		steps := []struct {
			name, token, version, path, body string
			status                           int
			fault                            string // exact message; "" = not checked
		}{
			{"rescue extra key", "u1:p1", "2.1", path, `{"rescue": {"foo": 1}}`, 400,
				"Invalid input for field/attribute rescue. Value: {'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"},
			{"rescue bad image ref", "u1:p1", "2.1", path, `{"rescue": {"rescue_image_ref": "nope"}}`, 400,
				"Invalid input for field/attribute rescue_image_ref. Value: nope. 'nope' is not a 'uuid'"},
			{"rescue password not a string", "u1:p1", "2.1", path, `{"rescue": {"adminPass": 5}}`, 400,
				"Invalid input for field/attribute adminPass. Value: 5. 5 is not of type 'string'"},
			{"rescue unknown image", "u1:p1", "2.1", path, `{"rescue": {"rescue_image_ref": "` + unknownImage + `"}}`, 400,
				"Requested rescue image '" + unknownImage + "' is not supported"},
			{"rescue another project's server", "u2:p2", "2.1", path, `{"rescue": null}`, 404,
				"Instance " + id + " could not be found."},
			{"rescue missing server", "u1:p1", "2.1", missing, `{"rescue": null}`, 404, ""},
			{"rescue as reader", "reader:p1", "2.1", path, `{"rescue": null}`, 403,
				"Policy doesn't allow os_compute_api:os-rescue to be performed."},
			{"unrescue active", "u1:p1", "2.1", path, `{"unrescue": null}`, 409,
				fmt.Sprintf("Cannot 'unrescue' instance %s while it is in vm_state active", id)},
			{"unrescue extra key", "u1:p1", "2.1", path, `{"unrescue": null, "x": 1}`, 400,
				"Malformed request body"},
			{"changePassword without password", "u1:p1", "2.1", path, `{"changePassword": {}}`, 400,
				"Invalid input for field/attribute changePassword. Value: {}. 'adminPass' is a required property"},
			{"changePassword not an object", "u1:p1", "2.1", path, `{"changePassword": "x"}`, 400,
				"Invalid input for field/attribute changePassword. Value: x. 'x' is not of type 'object'"},
			{"console length too small", "u1:p1", "2.1", path, `{"os-getConsoleOutput": {"length": -2}}`, 400,
				"Invalid input for field/attribute length. Value: -2. -2 is less than the minimum of -1"},
			{"console length not numeric", "u1:p1", "2.1", path, `{"os-getConsoleOutput": {"length": "ten"}}`, 400,
				"Invalid input for field/attribute length. Value: ten. 'ten' does not match '^-?[0-9]+$'"},
			{"console length a bool", "u1:p1", "2.1", path, `{"os-getConsoleOutput": {"length": true}}`, 400,
				"Invalid input for field/attribute length. Value: True. True is not of type 'integer', 'string', 'null'"},
			{"console length as a string", "u1:p1", "2.1", path, `{"os-getConsoleOutput": {"length": "1"}}`, 200, ""},
			{"console length null", "u1:p1", "2.1", path, `{"os-getConsoleOutput": {"length": null}}`, 200, ""},
			{"console without length", "u1:p1", "2.1", path, `{"os-getConsoleOutput": {}}`, 200, ""},
			{"crash dump before 2.17", "u1:p1", "2.16", path, `{"trigger_crash_dump": null}`, 404,
				"The resource could not be found."},
			{"crash dump with a body", "u1:p1", "2.17", path, `{"trigger_crash_dump": {}}`, 400,
				"Invalid input for field/attribute trigger_crash_dump. Value: {}. {} is not of type 'null'"},
			{"crash dump as reader", "reader:p1", "2.17", path, `{"trigger_crash_dump": null}`, 403,
				"Policy doesn't allow os_compute_api:servers:trigger_crash_dump to be performed."},
			{"crash dump of another project's server", "u2:p2", "2.17", path, `{"trigger_crash_dump": null}`, 404, ""},
			{"reset state by a member", "u1:p1", "2.1", path, `{"os-resetState": {"state": "error"}}`, 403,
				"Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed."},
			{"reset state of another project's server", "u2:p2", "2.1", path, `{"os-resetState": {"state": "error"}}`, 404, ""},
			{"reset state bad state", "admin:admin", "2.1", path, `{"os-resetState": {"state": "stopped"}}`, 400,
				"Invalid input for field/attribute state. Value: stopped. 'stopped' is not one of ['active', 'error']"},
			{"reset state missing", "admin:admin", "2.1", missing, `{"os-resetState": {"state": "error"}}`, 404, ""},
			{"inject network info by a member", "u1:p1", "2.1", path, `{"injectNetworkInfo": null}`, 403,
				"Policy doesn't allow os_compute_api:os-admin-actions:inject_network_info to be performed."},
		}
		for _, st := range steps {
			r := sc.api.As(st.token, st.version).Do("POST", st.path, st.body)
			if r.Status != st.status {
				t.Fatalf("%s: status %d, want %d: %s", st.name, r.Status, st.status, r.Body)
			}
			if st.fault != "" {
				if got := faultMessage(t, r); got != st.fault {
					t.Fatalf("%s: message %q, want %q", st.name, got, st.fault)
				}
			}
		}
		if got := sc.WaitFor(t, id, func(*compute.Server) bool { return true }); got.Status() != "ACTIVE" || got.TaskState != "" {
			t.Fatalf("refused actions changed the server: %s/%s", got.Status(), got.TaskState)
		}

		// A stopped server: changePassword's and crash dump's state rules.
		sc.api.As("u1:p1", "2.1").Do("POST", path, `{"os-stop": null}`).Expect(t, http.StatusAccepted)
		sc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" && s.TaskState == "" })
		for _, st := range []struct{ version, body, fault string }{
			{"2.1", `{"changePassword": {"adminPass": "x"}}`, fmt.Sprintf("Cannot 'changePassword' instance %s while it is in vm_state stopped", id)},
			{"2.17", `{"trigger_crash_dump": null}`, fmt.Sprintf("Cannot 'trigger_crash_dump' instance %s while it is in vm_state stopped", id)},
		} {
			r := sc.api.As("u1:p1", st.version).Do("POST", path, st.body).Expect(t, http.StatusConflict)
			if got := faultMessage(t, r); got != st.fault {
				t.Fatalf("message %q, want %q", got, st.fault)
			}
		}
		// Locked by an admin: the owner's changePassword is refused in
		// Nova's invalid-state wording, the others say "locked".
		sc.api.As("u1:p1", "2.1").Do("POST", path, `{"os-start": null}`).Expect(t, http.StatusAccepted)
		sc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "ACTIVE" && s.TaskState == "" })
		sc.api.As("admin:admin", "2.1").Do("POST", path, `{"lock": null}`).Expect(t, http.StatusAccepted)
		for _, st := range []struct{ version, body, fault string }{
			{"2.1", `{"changePassword": {"adminPass": "x"}}`, fmt.Sprintf("Instance %s is in an invalid state for 'changePassword'", id)},
			{"2.1", `{"rescue": null}`, fmt.Sprintf("Instance %s is locked", id)},
			{"2.17", `{"trigger_crash_dump": null}`, fmt.Sprintf("Instance %s is locked", id)},
		} {
			r := sc.api.As("u1:p1", st.version).Do("POST", path, st.body).Expect(t, http.StatusConflict)
			if got := faultMessage(t, r); got != st.fault {
				t.Fatalf("locked %s: message %q, want %q", st.body, got, st.fault)
			}
		}
	})
}
