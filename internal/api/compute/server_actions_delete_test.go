package compute_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
)

// TestDeferredDeleteAPI: with a reclaim interval, DELETE soft-deletes
// (show says SOFT_DELETED, the default list leaves it out, an admin's
// soft_deleted=true lists it), restore and forceDelete take Nova's sample
// bodies, answer 202 and Nova's 400/403/404/409.
func TestDeferredDeleteAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloudWith(t, database, computetest.Options{Settings: compute.Settings{ReclaimInterval: time.Hour}})
		srv := sc.boot(t, sc.user, "deferred", true, nil)
		user := sc.api.As("u1:p1", "2.1")
		admin := sc.api.As("admin:admin", "2.1")
		path := "/v2.1/servers/" + srv.ID + "/action"
		restore := apisamples.Load(t, "nova/api_samples/os-deferred-delete/restore-post-req.json")
		force := apisamples.Load(t, "nova/api_samples/os-deferred-delete/force-delete-post-req.json")

		r := user.Do("POST", path, restore)
		if want := fmt.Sprintf("Cannot 'restore' instance %s while it is in vm_state active", srv.ID); r.Status != http.StatusConflict || faultMessage(t, r) != want {
			t.Fatalf("restore of an active server: %d %s", r.Status, r.Body)
		}
		user.Do("DELETE", "/v2.1/servers/"+srv.ID, nil).Expect(t, http.StatusNoContent)
		sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.VMState == state.VMSoftDeleted && s.TaskState == "" })
		shown := user.Do("GET", "/v2.1/servers/"+srv.ID, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
		if shown["status"] != "SOFT_DELETED" || shown["OS-EXT-STS:vm_state"] != "soft-delete" || shown["OS-EXT-STS:power_state"] != float64(4) {
			t.Fatalf("soft-deleted server shows status %v vm_state %v power %v", shown["status"], shown["OS-EXT-STS:vm_state"], shown["OS-EXT-STS:power_state"])
		}
		for _, tc := range []struct {
			who   string
			query string
			want  bool
		}{
			{"u1:p1", "", false},
			{"u1:p1", "?soft_deleted=true", false}, // not a user's filter: ignored
			{"admin:admin", "?all_tenants=1", false},
			{"admin:admin", "?all_tenants=1&soft_deleted=true", true},
			{"admin:admin", "?all_tenants=1&deleted=true", true},
			{"admin:admin", "?all_tenants=1&status=SOFT_DELETED", false}, // Nova's filters hide it too
			{"admin:admin", "?all_tenants=1&status=SOFT_DELETED&soft_deleted=1", true},
		} {
			body := sc.api.As(tc.who, "2.1").Do("GET", "/v2.1/servers"+tc.query, nil).Expect(t, http.StatusOK).JSON(t)
			found := false
			for _, s := range body["servers"].([]any) {
				found = found || s.(map[string]any)["id"] == srv.ID
			}
			if found != tc.want {
				t.Errorf("%s GET /servers%s lists the soft-deleted server: %v, want %v", tc.who, tc.query, found, tc.want)
			}
		}

		for _, st := range []struct {
			name, who, body string
			status          int
			fault           string
		}{
			{"extra key", "u1:p1", `{"restore": null, "x": 1}`, 400, "Malformed request body"},
			{"reader", "reader:p1", `{"restore": null}`, 403, "Policy doesn't allow os_compute_api:os-deferred-delete:restore to be performed."},
			{"reader force", "reader:p1", `{"forceDelete": null}`, 403, "Policy doesn't allow os_compute_api:os-deferred-delete:force to be performed."},
			{"other project", "u2:p2", `{"restore": null}`, 404, "Instance " + srv.ID + " could not be found."},
			{"other project force", "u2:p2", `{"forceDelete": null}`, 404, "Instance " + srv.ID + " could not be found."},
		} {
			r := sc.api.As(st.who, "2.1").Do("POST", path, st.body)
			if r.Status != st.status || faultMessage(t, r) != st.fault {
				t.Errorf("%s: %d %s, want %d %q", st.name, r.Status, r.Body, st.status, st.fault)
			}
		}

		r = user.Do("POST", path, restore).Expect(t, http.StatusAccepted)
		if len(r.Body) != 0 {
			t.Fatalf("restore body %q, want none", r.Body)
		}
		sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" && s.TaskState == "" })

		// forceDelete needs no soft delete first.
		admin.Do("POST", path, force).Expect(t, http.StatusAccepted)
		sc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Deleted })
		user.Do("POST", path, force).Expect(t, http.StatusNotFound)
	})
}
