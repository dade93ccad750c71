package compute_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

const (
	actionsOwner = "u1:p1"
	actionsAdmin = "admin:admin-project"
	actionsOther = "u2:p2"
)

// actionsAPI is the compute API over servers built by a running agent
// with the fake driver: live (ACTIVE, action req-create) and gone
// (deleted; actions req-gone-create and req-gone-delete), both of
// project p1.
type actionsAPI struct {
	client *apitest.Client
	live   string
	gone   string
}

func newActionsAPI(t *testing.T, database string) *actionsAPI {
	t.Helper()
	c, client := newCloud(t, database, computetest.Options{})
	owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member", "reader"}}
	build := func(requestID string) string {
		return c.CreateServer(t, owner, "vm", func(r *compute.CreateRequest) { r.RequestID = requestID }).Servers[0].ID
	}
	x := &actionsAPI{live: build("req-create"), gone: build("req-gone-create")}
	c.WaitFor(t, x.live, computetest.Active)
	c.WaitFor(t, x.gone, computetest.Active)
	if err := c.Compute.Delete(context.Background(), owner, x.gone, "req-gone-delete"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	c.WaitFor(t, x.gone, computetest.Deleted)
	x.client = client
	return x
}

func actionsPath(server string) string { return "/v2.1/servers/" + server + "/os-instance-actions" }

// sampleFolders are the os-instance-actions sample folders and the
// microversion each shows.
var sampleFolders = []struct{ dir, version string }{
	{"", "2.1"}, {"v2.21/", "2.21"}, {"v2.51/", "2.51"}, {"v2.58/", "2.58"},
	{"v2.62/", "2.62"}, {"v2.66/", "2.66"}, {"v2.84/", "2.84"},
}

func TestInstanceActionSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newActionsAPI(t, database)
		const base = "nova/api_samples/os-instance-actions/"
		for _, f := range sampleFolders {
			admin := x.client.As(actionsAdmin, f.version)
			owner := x.client.As(actionsOwner, f.version)
			sample := func(name string) string { return base + f.dir + name }
			// Every folder lists and shows (admin); the deleted server's
			// two actions are readable from 2.21.
			server := x.live
			if f.version != "2.1" {
				server = x.gone
			}
			apisamples.Assert(t, sample("instance-actions-list-resp.json"), admin.Do("GET", actionsPath(server), nil).Expect(t, 200).Body, apisamples.Options{})
			apisamples.Assert(t, sample("instance-action-get-resp.json"), admin.Do("GET", actionsPath(x.live)+"/req-create", nil).Expect(t, 200).Body, apisamples.Options{})
			if f.version == "2.1" || f.version == "2.21" {
				continue
			}
			apisamples.Assert(t, sample("instance-action-get-non-admin-resp.json"), owner.Do("GET", actionsPath(x.live)+"/req-create", nil).Expect(t, 200).Body, apisamples.Options{})
			if f.version == "2.51" {
				continue
			}
			withLimit := owner.Do("GET", actionsPath(x.gone)+"?limit=1", nil).Expect(t, 200)
			apisamples.Assert(t, sample("instance-actions-list-with-limit-resp.json"), withLimit.Body, apisamples.Options{})
			links := withLimit.JSON(t)["links"].([]any)
			href := links[0].(map[string]any)["href"].(string)
			if want := "/servers/" + x.gone + "/os-instance-actions?limit=1&marker=req-gone-delete"; !strings.HasSuffix(href, want) {
				t.Errorf("%s next link %s, want ...%s", f.version, href, want)
			}
			apisamples.Assert(t, sample("instance-actions-list-with-marker-resp.json"),
				owner.Do("GET", actionsPath(x.gone)+"?marker=req-gone-delete", nil).Expect(t, 200).Body, apisamples.Options{})
			apisamples.Assert(t, sample("instance-actions-list-with-changes-since.json"),
				owner.Do("GET", actionsPath(x.gone)+"?changes-since=2000-01-01T00:00:00Z", nil).Expect(t, 200).Body, apisamples.Options{})
			if f.version == "2.58" || f.version == "2.62" {
				continue
			}
			apisamples.Assert(t, sample("instance-actions-list-with-changes-before.json"),
				owner.Do("GET", actionsPath(x.gone)+"?changes-before=2999-01-01T00:00:00Z", nil).Expect(t, 200).Body, apisamples.Options{})
		}
	})
}

// requestIDsOf lists the request_id of each instanceActions entry.
func requestIDsOf(t *testing.T, r *apitest.Response) string {
	t.Helper()
	var ids []string
	for _, a := range r.JSON(t)["instanceActions"].([]any) {
		ids = append(ids, a.(map[string]any)["request_id"].(string))
	}
	return strings.Join(ids, ",")
}

func TestInstanceActionListPagingAndWindows(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newActionsAPI(t, database)
		path := actionsPath(x.gone)
		for _, tc := range []struct {
			version, query string
			want           string
			links          bool
		}{
			// Before 2.58 paging parameters are ignored, like any other.
			{"2.57", "?limit=1&marker=nope&foo=bar", "req-gone-delete,req-gone-create", false},
			{"2.58", "", "req-gone-delete,req-gone-create", false},
			{"2.58", "?limit=2", "req-gone-delete,req-gone-create", true},
			{"2.58", "?limit=3", "req-gone-delete,req-gone-create", false},
			{"2.58", "?limit=0", "", false},
			{"2.58", "?limit=1&marker=req-gone-delete", "req-gone-create", true},
			{"2.58", "?marker=req-gone-create", "", false},
			{"2.58", "?changes-since=2999-01-01T00:00:00Z", "", false},
			{"2.58", "?changes-since=2000-01-01T00:00:00%2B02:00", "req-gone-delete,req-gone-create", false},
			{"2.66", "?changes-before=2000-01-01T00:00:00Z", "", false},
			{"2.66", "?changes-since=2000-01-01&changes-before=2999-01-01", "req-gone-delete,req-gone-create", false},
		} {
			r := x.client.As(actionsOwner, tc.version).Do("GET", path+tc.query, nil).Expect(t, 200)
			if got := requestIDsOf(t, r); got != tc.want {
				t.Errorf("%s %s: actions %q, want %q", tc.version, tc.query, got, tc.want)
			}
			if _, ok := r.JSON(t)["links"]; ok != tc.links {
				t.Errorf("%s %s: links present %v, want %v", tc.version, tc.query, ok, tc.links)
			}
		}
	})
}

func TestInstanceActionBadQueries(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newActionsAPI(t, database)
		list := actionsPath(x.live)
		for _, tc := range []struct {
			version, path, want string
		}{
			{"2.58", list + "?foo=1", "Additional properties are not allowed ('foo' was unexpected)"},
			{"2.65", list + "?changes-before=2020-01-01T00:00:00Z", "Additional properties are not allowed ('changes-before' was unexpected)"},
			{"2.58", list + "?limit=-1", "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"},
			{"2.58", list + "?limit=", "Invalid input for query parameters limit. Value: . '' is too short"},
			{"2.58", list + "?limit=1&limit=2", "Invalid input for query parameters limit. Value: ['1', '2']. ['1', '2'] is too long"},
			{"2.58", list + "?changes-since=yesterday", "Invalid input for query parameters changes-since. Value: yesterday. 'yesterday' is not a 'date-time'"},
			{"2.66", list + "?changes-since=2020-01-02T00:00:00Z&changes-before=2020-01-01T00:00:00Z", "The value of changes-since must be less than or equal to changes-before."},
			{"2.58", list + "?marker=req-unknown", "Marker None could not be found."},
			{"2.102", list + "/req-create?foo=1", "Additional properties are not allowed ('foo' was unexpected)"},
		} {
			r := x.client.As(actionsOwner, tc.version).Do("GET", tc.path, nil).Expect(t, 400)
			if got := faultMessage(t, r); got != tc.want {
				t.Errorf("%s %s: %q, want %q", tc.version, tc.path, got, tc.want)
			}
		}
		// Before 2.102 show ignores its query.
		x.client.As(actionsOwner, "2.101").Do("GET", list+"/req-create?foo=1", nil).Expect(t, 200)
	})
}

func TestInstanceActionAccess(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newActionsAPI(t, database)
		for _, tc := range []struct {
			name, token, version, path string
			status                     int
			message                    string
		}{
			{"other project list", actionsOther, "2.84", actionsPath(x.live), 404, "Instance " + x.live + " could not be found."},
			{"other project show", actionsOther, "2.84", actionsPath(x.live) + "/req-create", 404, "Instance " + x.live + " could not be found."},
			{"deleted before 2.21", actionsOwner, "2.20", actionsPath(x.gone), 404, "Instance " + x.gone + " could not be found."},
			{"deleted show before 2.21", actionsOwner, "2.20", actionsPath(x.gone) + "/req-gone-create", 404, "Instance " + x.gone + " could not be found."},
			{"unknown action", actionsOwner, "2.1", actionsPath(x.live) + "/req-nope", 404, "Action req-nope not found"},
			{"action of another server", actionsOwner, "2.21", actionsPath(x.live) + "/req-gone-create", 404, "Action req-gone-create not found"},
			{"deleted from 2.21", actionsOwner, "2.21", actionsPath(x.gone) + "/req-gone-delete", 200, ""},
			{"admin of another project", actionsAdmin, "2.1", actionsPath(x.live), 200, ""},
		} {
			r := x.client.As(tc.token, tc.version).Do("GET", tc.path, nil).Expect(t, tc.status)
			if tc.message != "" {
				if got := faultMessage(t, r); got != tc.message {
					t.Errorf("%s: %q, want %q", tc.name, got, tc.message)
				}
			}
		}
	})
}

func TestInstanceActionEventFieldsByRoleAndVersion(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newActionsAPI(t, database)
		sum := sha256.Sum224([]byte("p1" + "fake-host"))
		wantHostID := hex.EncodeToString(sum[:])
		for _, tc := range []struct {
			token, version  string
			updated, events bool
			keys            string // of the event, sorted
		}{
			{actionsOwner, "2.50", false, false, ""},
			{actionsAdmin, "2.1", false, true, "event,finish_time,result,start_time,traceback"},
			{actionsOwner, "2.51", false, true, "event,finish_time,result,start_time"},
			{actionsOwner, "2.58", true, true, "event,finish_time,result,start_time"},
			{actionsOwner, "2.62", true, true, "event,finish_time,hostId,result,start_time"},
			{actionsAdmin, "2.62", true, true, "event,finish_time,host,hostId,result,start_time,traceback"},
			{actionsOwner, "2.84", true, true, "event,finish_time,hostId,result,start_time"},
			{actionsAdmin, "2.84", true, true, "details,event,finish_time,host,hostId,result,start_time,traceback"},
		} {
			body := x.client.As(tc.token, tc.version).Do("GET", actionsPath(x.live)+"/req-create", nil).Expect(t, 200).JSON(t)
			action := body["instanceAction"].(map[string]any)
			if _, ok := action["updated_at"]; ok != tc.updated {
				t.Errorf("%s %s: updated_at present %v", tc.token, tc.version, ok)
			}
			events, ok := action["events"].([]any)
			if ok != tc.events {
				t.Fatalf("%s %s: events present %v, want %v", tc.token, tc.version, ok, tc.events)
			}
			if !ok {
				continue
			}
			if len(events) != 1 {
				t.Fatalf("%s %s: %d events", tc.token, tc.version, len(events))
			}
			e := events[0].(map[string]any)
			var keys []string
			for k := range e {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if got := strings.Join(keys, ","); got != tc.keys {
				t.Errorf("%s %s: event keys %s, want %s", tc.token, tc.version, got, tc.keys)
			}
			if e["event"] != "compute__do_build_and_run_instance" || e["result"] != "Success" {
				t.Errorf("%s %s: event %v", tc.token, tc.version, e)
			}
			if h, ok := e["hostId"]; ok && h != wantHostID {
				t.Errorf("%s %s: hostId %v, want %s", tc.token, tc.version, h, wantHostID)
			}
			if h, ok := e["host"]; ok && h != "fake-host" {
				t.Errorf("%s %s: host %v", tc.token, tc.version, h)
			}
		}
	})
}

func TestInstanceActionTimesAreNaiveMicroseconds(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		x := newActionsAPI(t, database)
		body := x.client.As(actionsAdmin, "2.84").Do("GET", actionsPath(x.live)+"/req-create", nil).Expect(t, 200).JSON(t)
		action := body["instanceAction"].(map[string]any)
		event := action["events"].([]any)[0].(map[string]any)
		for name, v := range map[string]any{"start_time": action["start_time"], "updated_at": action["updated_at"],
			"event start_time": event["start_time"], "event finish_time": event["finish_time"]} {
			s, _ := v.(string)
			if _, err := time.Parse("2006-01-02T15:04:05.000000", s); err != nil {
				t.Errorf("%s %q is not naive ISO 8601 with microseconds", name, v)
			}
		}
		if action["action"] != "create" || action["instance_uuid"] != x.live || action["user_id"] != "u1" ||
			action["project_id"] != "p1" || action["message"] != nil {
			t.Errorf("action %v", action)
		}
	})
}
