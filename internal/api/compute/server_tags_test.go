package compute_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
)

func TestServerTagsSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "tags", true, nil)
		cl := sc.api.As(userToken, "2.26")
		base := "/v2.1/servers/" + srv.ID + "/tags"
		dir := "nova/api_samples/os-server-tags/v2.26/"
		put := apisamples.Load(t, dir+"server-tags-put-all-req.json")
		apisamples.Assert(t, dir+"server-tags-put-all-resp.json", cl.Do("PUT", base, put).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, dir+"server-tags-index-resp.json", cl.Do("GET", base, nil).Expect(t, 200).Body, apisamples.Options{})
	})
}

func TestServerTagsSemantics(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "tags", true, func(r *compute.CreateRequest) { r.Tags = []string{"boot"} })
		cl := sc.api.As(userToken, "2.26")
		base := "/v2.1/servers/" + srv.ID + "/tags"
		tags := func() []any { return cl.Do("GET", base, nil).Expect(t, 200).JSON(t)["tags"].([]any) }

		if got := tags(); len(got) != 1 || got[0] != "boot" {
			t.Fatalf("tags given at create: %v", got)
		}
		r := cl.Do("PUT", base+"/new", nil).Expect(t, 201)
		if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/servers/"+srv.ID+"/tags/new") {
			t.Fatalf("Location = %q", loc)
		}
		cl.Do("PUT", base+"/new", nil).Expect(t, 204)
		cl.Do("GET", base+"/new", nil).Expect(t, 204)
		if got := tags(); fmt.Sprint(got) != "[boot new]" {
			t.Fatalf("after add: %v", got)
		}
		cl.Do("DELETE", base+"/boot", nil).Expect(t, 204)
		if msg := faultMessage(t, cl.Do("GET", base+"/boot", nil).Expect(t, 404)); msg != "Server "+srv.ID+" has no tag 'boot'" {
			t.Fatalf("show missing tag: %q", msg)
		}
		if msg := faultMessage(t, cl.Do("DELETE", base+"/boot", nil).Expect(t, 404)); msg != "Instance "+srv.ID+" has no tag 'boot'" {
			t.Fatalf("delete missing tag: %q", msg)
		}
		got := cl.Do("PUT", base, map[string]any{"tags": []any{"b", "a", "b"}}).Expect(t, 200).JSON(t)["tags"]
		if fmt.Sprint(got) != "[a b]" || fmt.Sprint(tags()) != "[a b]" {
			t.Fatalf("replace: %v / %v", got, tags())
		}
		cl.Do("DELETE", base, nil).Expect(t, 204)
		if got := tags(); len(got) != 0 {
			t.Fatalf("delete all: %v", got)
		}

		// 50 tags is the limit of a server.
		fifty := make([]any, compute.MaxServerTags)
		for i := range fifty {
			fifty[i] = fmt.Sprintf("t%02d", i)
		}
		cl.Do("PUT", base, map[string]any{"tags": fifty}).Expect(t, 200)
		if msg := faultMessage(t, cl.Do("PUT", base+"/one-more", nil).Expect(t, 400)); msg != "The number of tags exceeded the per-server limit 50" {
			t.Fatalf("limit: %q", msg)
		}

		errCases := []struct {
			name, method, path string
			body               any
			status             int
			msg                string
		}{
			{"comma in tag", "PUT", base + "/a,b", nil, 400, "Tag 'a,b' is invalid. It must be a non empty string without characters '/' and ','."},
			{"long tag", "PUT", base + "/" + strings.Repeat("x", 61), nil, 400, "is invalid"},
			{"too many in body", "PUT", base, map[string]any{"tags": append(fifty, "x")}, 400, "is too long"},
			{"no tags key", "PUT", base, map[string]any{"tag": []any{}}, 400, "'tags' is a required property"},
			{"bad item", "PUT", base, map[string]any{"tags": []any{"a/b"}}, 400, "does not match"},
			{"missing server", "GET", "/v2.1/servers/00000000-0000-0000-0000-000000000000/tags", nil, 404, "could not be found"},
		}
		for _, tc := range errCases {
			t.Run(tc.name, func(t *testing.T) {
				msg := faultMessage(t, cl.Do(tc.method, tc.path, tc.body).Expect(t, tc.status))
				if !strings.Contains(msg, tc.msg) {
					t.Fatalf("message %q, want it to contain %q", msg, tc.msg)
				}
			})
		}

		// Another project does not see the server; before 2.26 there are no tag routes.
		sc.api.As("u2:p2", "2.26").Do("GET", base, nil).Expect(t, 404)
		sc.api.As("u2:p2", "2.26").Do("PUT", base+"/x", nil).Expect(t, 404)
		sc.api.As(userToken, "2.25").Do("GET", base, nil).Expect(t, 404)

		// A server in a state Nova refuses (error here) answers 409.
		if err := sc.Compute.SetLock(context.Background(), sc.user, srv.ID, true, nil, "req-lock"); err != nil {
			t.Fatal(err)
		}
		cl.Do("DELETE", base+"/t00", nil).Expect(t, 204) // tags ignore the lock, as Nova
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
		if err := sc.Compute.ResetState(context.Background(), admin, srv.ID, state.VMError, "req-reset"); err != nil {
			t.Fatal(err)
		}
		msg := faultMessage(t, cl.Do("PUT", base+"/x", nil).Expect(t, 409))
		if msg != "Cannot 'update tag' instance "+srv.ID+" while it is in vm_state error" {
			t.Fatalf("409 message: %q", msg)
		}
	})
}
