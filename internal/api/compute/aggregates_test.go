package compute_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func TestAggregateSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		gc := newServersCloud(t, database)
		for _, v := range []struct{ version, folder string }{{"2.1", ""}, {"2.41", "v2.41/"}} {
			dir := "nova/api_samples/os-aggregates/" + v.folder
			cl := gc.api.As(adminToken, v.version)
			req := apisamples.Load(t, dir+"aggregate-post-req.json")
			req.(map[string]any)["aggregate"].(map[string]any)["name"] = "agg-" + v.version
			created := cl.Do("POST", "/v2.1/os-aggregates", req).Expect(t, 200)
			apisamples.Assert(t, dir+"aggregate-post-resp.json", created.Body, apisamples.Options{})
			id := fmt.Sprint(created.JSON(t)["aggregate"].(map[string]any)["id"])
			base := "/v2.1/os-aggregates/" + id
			apisamples.Assert(t, dir+"aggregates-get-resp.json", cl.Do("GET", base, nil).Expect(t, 200).Body, apisamples.Options{})
			apisamples.Assert(t, dir+"aggregates-metadata-post-resp.json",
				cl.Do("POST", base+"/action", apisamples.Load(t, dir+"aggregate-metadata-post-req.json")).Expect(t, 200).Body, apisamples.Options{})
			cl.Do("POST", base+"/action", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"key": nil}}}).Expect(t, 200)
			apisamples.Assert(t, dir+"aggregates-add-host-post-resp.json",
				cl.Do("POST", base+"/action", map[string]any{"add_host": map[string]any{"host": "fake-host"}}).Expect(t, 200).Body, apisamples.Options{})
			apisamples.Assert(t, dir+"aggregates-list-get-resp.json", cl.Do("GET", "/v2.1/os-aggregates", nil).Expect(t, 200).Body, apisamples.Options{})
			apisamples.Assert(t, dir+"aggregates-remove-host-post-resp.json",
				cl.Do("POST", base+"/action", map[string]any{"remove_host": map[string]any{"host": "fake-host"}}).Expect(t, 200).Body, apisamples.Options{})
			upd := apisamples.Load(t, dir+"aggregate-update-post-req.json")
			upd.(map[string]any)["aggregate"].(map[string]any)["name"] = "renamed-" + v.version
			apisamples.Assert(t, dir+"aggregate-update-post-resp.json", cl.Do("PUT", base, upd).Expect(t, 200).Body, apisamples.Options{})
			cl.Do("DELETE", base, nil).Expect(t, 200)
		}
	})
}

func TestAggregateSemantics(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		gc := newServersCloud(t, database)
		admin := gc.api.As(adminToken, "2.41")
		zones := func() string {
			body := admin.Do("GET", "/v2.1/os-availability-zone", nil).Expect(t, 200).JSON(t)
			var names []string
			for _, z := range body["availabilityZoneInfo"].([]any) {
				names = append(names, z.(map[string]any)["zoneName"].(string))
			}
			return strings.Join(names, ",")
		}
		agg := admin.Do("POST", "/v2.1/os-aggregates", `{"aggregate": {"name": "web", "availability_zone": "london"}}`).Expect(t, 200).JSON(t)["aggregate"].(map[string]any)
		if agg["name"] != "web" || agg["availability_zone"] != "london" {
			t.Fatalf("created %v", agg)
		}
		base := fmt.Sprintf("/v2.1/os-aggregates/%v", agg["id"])
		action := func(body string, status int) map[string]any {
			return admin.Do("POST", base+"/action", body).Expect(t, status).JSON(t)
		}

		// Adding the host moves it into the aggregate's zone; removing it moves it back.
		got := action(`{"add_host": {"host": "fake-host"}}`, 200)["aggregate"].(map[string]any)
		if fmt.Sprint(got["hosts"]) != "[fake-host]" || zones() != "london" {
			t.Fatalf("after add_host: hosts %v, zones %s", got["hosts"], zones())
		}
		if msg := faultMessage(t, admin.Do("POST", base+"/action", `{"add_host": {"host": "fake-host"}}`).Expect(t, 409)); msg != fmt.Sprintf("Aggregate %v already has host fake-host.", agg["id"]) {
			t.Fatalf("duplicate host: %q", msg)
		}
		other := admin.Do("POST", "/v2.1/os-aggregates", `{"aggregate": {"name": "other", "availability_zone": "paris"}}`).Expect(t, 200).JSON(t)["aggregate"].(map[string]any)
		otherBase := fmt.Sprintf("/v2.1/os-aggregates/%v", other["id"])
		msg := faultMessage(t, admin.Do("POST", otherBase+"/action", `{"add_host": {"host": "fake-host"}}`).Expect(t, 409))
		if msg != fmt.Sprintf("Cannot add host to aggregate %v. Reason: One or more hosts already in availability zone(s) ['london'].", other["id"]) {
			t.Fatalf("second zone: %q", msg)
		}
		if msg := faultMessage(t, admin.Do("DELETE", base, nil).Expect(t, 400)); msg != fmt.Sprintf("Cannot remove host from aggregate %v. Reason: Host aggregate is not empty.", agg["id"]) {
			t.Fatalf("delete non-empty: %q", msg)
		}
		got = action(`{"set_metadata": {"metadata": {"ssd": "true", "availability_zone": "berlin"}}}`, 200)["aggregate"].(map[string]any)
		if got["availability_zone"] != "berlin" || zones() != "berlin" || got["updated_at"] == nil {
			t.Fatalf("zone change: %v, zones %s", got, zones())
		}
		got = action(`{"set_metadata": {"metadata": {"ssd": null}}}`, 200)["aggregate"].(map[string]any)
		if _, ok := got["metadata"].(map[string]any)["ssd"]; ok {
			t.Fatalf("null value keeps the key: %v", got["metadata"])
		}
		action(`{"remove_host": {"host": "fake-host"}}`, 200)
		if zones() != "nova" {
			t.Fatalf("after remove_host: zones %s", zones())
		}

		errCases := []struct {
			name, method, path, body string
			status                   int
			msg                      string
		}{
			{"duplicate name", "POST", "/v2.1/os-aggregates", `{"aggregate": {"name": "other"}}`, 409, "Aggregate other already exists."},
			{"rename to taken", "PUT", base, `{"aggregate": {"name": "other"}}`, 409, "Aggregate other already exists."},
			{"empty name", "POST", "/v2.1/os-aggregates", `{"aggregate": {"name": ""}}`, 400, "Invalid input for field/attribute name"},
			{"long name", "POST", "/v2.1/os-aggregates", `{"aggregate": {"name": "` + strings.Repeat("a", 256) + `"}}`, 400, "is too long"},
			{"colon in zone", "POST", "/v2.1/os-aggregates", `{"aggregate": {"name": "x", "availability_zone": "a:b"}}`, 400, "is not valid under any of the given schemas"},
			{"update nothing", "PUT", base, `{"aggregate": {}}`, 400, "is not valid under any of the given schemas"},
			{"missing", "GET", "/v2.1/os-aggregates/999", "", 404, "Aggregate 999 could not be found."},
			{"bad id", "GET", "/v2.1/os-aggregates/abc", "", 400, "id must be an integer"},
			{"unknown host", "POST", base + "/action", `{"add_host": {"host": "nope"}}`, 404, "Compute host nope could not be found."},
			{"host not in it", "POST", base + "/action", `{"remove_host": {"host": "nope"}}`, 404, fmt.Sprintf("Cannot remove host nope in aggregate %v", agg["id"])},
			{"unknown action", "POST", base + "/action", `{"frobnicate": {}}`, 400, "There is no such action: frobnicate"},
			{"empty zone", "POST", base + "/action", `{"set_metadata": {"metadata": {"availability_zone": null}}}`, 400, "does not support empty named availability zone"},
		}
		for _, tc := range errCases {
			t.Run(tc.name, func(t *testing.T) {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				msg := faultMessage(t, admin.Do(tc.method, tc.path, body).Expect(t, tc.status))
				if !strings.Contains(msg, tc.msg) {
					t.Fatalf("message %q, want it to contain %q", msg, tc.msg)
				}
			})
		}

		// Members of a project are refused (Nova's admin-only policy).
		user := gc.api.As(userToken, "2.41")
		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/v2.1/os-aggregates", ""}, {"POST", "/v2.1/os-aggregates", `{"aggregate": {"name": "u"}}`},
			{"GET", base, ""}, {"DELETE", base, ""}, {"POST", base + "/action", `{"add_host": {"host": "fake-host"}}`},
		} {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			user.Do(tc.method, tc.path, body).Expect(t, 403)
		}
		admin.Do("DELETE", base, nil).Expect(t, 200)
		admin.Do("GET", base, nil).Expect(t, 404)
	})
}

// TestAggregateIDsAreNotReused: an aggregate's id is never given again
// after its deletion (Nova's are auto-increment), so a client that deletes
// an id twice, as Tempest's clean-ups do, cannot hit a newer aggregate.
func TestAggregateIDsAreNotReused(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		gc := newServersCloud(t, database)
		admin := gc.api.As(adminToken, "2.41")
		create := func(name string) float64 {
			agg := admin.Do("POST", "/v2.1/os-aggregates", `{"aggregate": {"name": "`+name+`"}}`).Expect(t, 200).JSON(t)["aggregate"].(map[string]any)
			return agg["id"].(float64)
		}
		first := create("first")
		admin.Do("DELETE", fmt.Sprintf("/v2.1/os-aggregates/%v", first), nil).Expect(t, 200)
		// The name is free again; the id is not.
		second := create("first")
		if second == first {
			t.Fatalf("aggregate id %v given twice", first)
		}
		admin.Do("DELETE", fmt.Sprintf("/v2.1/os-aggregates/%v", first), nil).Expect(t, 404)
		admin.Do("GET", fmt.Sprintf("/v2.1/os-aggregates/%v", second), nil).Expect(t, 200)
		list := admin.Do("GET", "/v2.1/os-aggregates", nil).Expect(t, 200).JSON(t)["aggregates"].([]any)
		if len(list) != 1 {
			t.Errorf("aggregates after a deletion: %v, want the second only", list)
		}
	})
}
