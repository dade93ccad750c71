package compute_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
)

// TestServerActionAPI drives the power and lock actions through
// POST /servers/{id}/action with Nova's bodies, codes and messages.
func TestServerActionAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "acted", true, nil)
		path := "/v2.1/servers/" + srv.ID + "/action"
		user := sc.api.As("u1:p1", "2.73")
		settle := func(status string) {
			t.Helper()
			sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == "" && s.Status() == status })
		}
		steps := []struct {
			name   string
			body   string
			status int
			fault  string // exact message of the 4xx
			after  string // the server's status once the action is done
		}{
			{"unknown action", `{"fly": null}`, 400, "There is no such action: fly", ""},
			{"malformed", `{"reboot": `, 400, "Malformed request body", ""},
			{"empty body", ``, 400, "The request body is empty or malformed.", ""},
			{"not an object", `[]`, 400, "Malformed request body", ""},
			{"no action", `{}`, 400, "Malformed request body", ""},
			{"data after the body", `{"os-start": null}]`, 400, "Malformed request body", ""},
			// Nova's action_peek: len() of the body must be 1, and only
			// an object has the key that names the action.
			{"two keys", `{"fly": null, "os-start": null}`, 400, "Malformed request body", ""},
			{"a list of one", `[{"os-start": null}]`, 404, "The resource could not be found.", ""},
			{"a string of two", `"ab"`, 400, "Malformed request body", ""},
			{"a string of one", `"a"`, 404, "The resource could not be found.", ""},
			{"a number", `7`, 404, "The resource could not be found.", ""},
			{"null", `null`, 404, "The resource could not be found.", ""},
			{"action gone at this microversion", `{"addFloatingIp": {"address": "203.0.113.9"}}`, 404, "The resource could not be found.", ""},
			{"reboot without type", `{"reboot": {}}`, 400, "Invalid input for field/attribute reboot. Value: {}. 'type' is a required property", ""},
			{"reboot bad type", `{"reboot": {"type": "GENTLE"}}`, 400, "Invalid input for field/attribute type. Value: GENTLE. 'GENTLE' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']", ""},
			{"start while active", `{"os-start": null}`, 409, fmt.Sprintf("Cannot 'start' instance %s while it is in vm_state active", srv.ID), ""},
			{"stop", `{"os-stop": null}`, 202, "", "SHUTOFF"},
			{"start", `{"os-start": null}`, 202, "", "ACTIVE"},
			{"soft reboot", `{"reboot": {"type": "SOFT"}}`, 202, "", "ACTIVE"},
			{"hard reboot", `{"reboot": {"type": "hard"}}`, 202, "", "ACTIVE"},
			{"pause", `{"pause": null}`, 202, "", "PAUSED"},
			{"unpause", `{"unpause": null}`, 202, "", "ACTIVE"},
			{"suspend", `{"suspend": null}`, 202, "", "SUSPENDED"},
			{"resume", `{"resume": null}`, 202, "", "ACTIVE"},
			{"lock reason too long", fmt.Sprintf(`{"lock": {"locked_reason": "%0300d"}}`, 0), 400, "", ""},
			{"lock", `{"lock": {"locked_reason": "backup"}}`, 202, "", "ACTIVE"},
			{"unlock", `{"unlock": null}`, 202, "", "ACTIVE"},
		}
		for _, st := range steps {
			r := user.Do("POST", path, st.body)
			if r.Status != st.status {
				t.Fatalf("%s: status %d, want %d: %s", st.name, r.Status, st.status, r.Body)
			}
			if st.fault != "" {
				if got := faultMessage(t, r); got != st.fault {
					t.Fatalf("%s: message %q, want %q", st.name, got, st.fault)
				}
			}
			if st.after != "" {
				settle(st.after)
			}
			if st.name == "lock" {
				got := sc.api.As("u1:p1", "2.73").Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, http.StatusOK).JSON(t)
				s := got["server"].(map[string]any)
				if s["locked"] != true || s["locked_reason"] != "backup" {
					t.Fatalf("locked server shows locked=%v reason=%v", s["locked"], s["locked_reason"])
				}
			}
		}
		other := sc.api.As("u2:p2", "2.73").Do("POST", path, `{"os-stop": null}`)
		if other.Status != http.StatusNotFound {
			t.Fatalf("another project's stop: %d, want 404", other.Status)
		}
		reader := sc.api.As("reader:p1", "2.73").Do("POST", path, `{"os-stop": null}`)
		if reader.Status != http.StatusForbidden {
			t.Fatalf("a reader's stop: %d, want 403", reader.Status)
		}
	})
}
