package compute_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
)

func TestServerMetadataSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "meta", true, nil)
		cl := sc.api.As(userToken, "2.1")
		base := "/v2.1/servers/" + srv.ID + "/metadata"
		all := "nova/api_samples/server-metadata/server-metadata-all-resp.json"
		item := "nova/api_samples/server-metadata/server-metadata-resp.json"
		body := map[string]any{"metadata": map[string]any{"foo": "Foo Value"}}
		apisamples.Assert(t, all, cl.Do("PUT", base, body).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, all, cl.Do("POST", base, body).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, all, cl.Do("GET", base, nil).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, item, cl.Do("PUT", base+"/foo", map[string]any{"meta": map[string]any{"foo": "Bar Value"}}).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, item, cl.Do("GET", base+"/foo", nil).Expect(t, 200).Body, apisamples.Options{})
	})
}

func TestServerMetadataSemantics(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		db := sc.DB
		srv := sc.boot(t, sc.user, "meta", true, func(r *compute.CreateRequest) {
			r.Metadata = map[string]string{"a": "1", "b": "2"}
		})
		cl := sc.api.As(userToken, "2.1")
		base := "/v2.1/servers/" + srv.ID + "/metadata"
		meta := func() map[string]any {
			return cl.Do("GET", base, nil).Expect(t, 200).JSON(t)["metadata"].(map[string]any)
		}

		got := cl.Do("POST", base, map[string]any{"metadata": map[string]any{"b": "3", "c": "4"}}).Expect(t, 200).JSON(t)
		if m := got["metadata"].(map[string]any); len(m) != 3 || m["a"] != "1" || m["b"] != "3" || m["c"] != "4" {
			t.Fatalf("POST merges: %v", m)
		}
		got = cl.Do("PUT", base, map[string]any{"metadata": map[string]any{"z": "9"}}).Expect(t, 200).JSON(t)
		if m := meta(); len(m) != 1 || m["z"] != "9" || len(got["metadata"].(map[string]any)) != 1 {
			t.Fatalf("PUT replaces: %v / %v", m, got)
		}
		cl.Do("PUT", base+"/y", map[string]any{"meta": map[string]any{"y": "8"}}).Expect(t, 200)
		if m := meta(); len(m) != 2 || m["y"] != "8" {
			t.Fatalf("PUT item adds: %v", m)
		}
		cl.Do("DELETE", base+"/y", nil).Expect(t, 204)
		if m := meta(); len(m) != 1 {
			t.Fatalf("DELETE item: %v", m)
		}
		cl.Do("PUT", base, map[string]any{"metadata": map[string]any{}}).Expect(t, 200)
		if m := meta(); len(m) != 0 {
			t.Fatalf("PUT {} clears: %v", m)
		}

		long := strings.Repeat("k", 256)
		tooMany := map[string]any{}
		for i := 0; i < 129; i++ {
			tooMany[fmt.Sprintf("k%d", i)] = "v"
		}
		errCases := []struct {
			name, method, path string
			body               any
			status             int
			msg                string
		}{
			{"uri mismatch", "PUT", base + "/x", map[string]any{"meta": map[string]any{"y": "1"}}, 400, "Request body and URI mismatch"},
			{"two keys in item", "PUT", base + "/x", map[string]any{"meta": map[string]any{"x": "1", "y": "2"}}, 400, "has too many properties"},
			{"empty item", "PUT", base + "/x", map[string]any{"meta": map[string]any{}}, 400, "does not have enough properties"},
			{"long key", "POST", base, map[string]any{"metadata": map[string]any{long: "v"}}, 400, "does not match any of the regexes"},
			{"empty key", "POST", base, map[string]any{"metadata": map[string]any{"": "v"}}, 400, "does not match any of the regexes"},
			{"long value", "POST", base, map[string]any{"metadata": map[string]any{"k": long}}, 400, "is too long"},
			{"non-string value", "POST", base, map[string]any{"metadata": map[string]any{"k": 1}}, 400, "is not of type 'string'"},
			{"wrong wrapper", "POST", base, map[string]any{"meta": map[string]any{"k": "v"}}, 400, "'metadata' is a required property"},
			{"over quota", "PUT", base, map[string]any{"metadata": tooMany}, 403, "Maximum number of metadata items exceeds 128"},
			{"missing key", "GET", base + "/nope", nil, 404, "Metadata item was not found"},
			{"delete missing key", "DELETE", base + "/nope", nil, 404, "Metadata item was not found"},
			{"unknown server", "GET", "/v2.1/servers/00000000-0000-0000-0000-000000000000/metadata", nil, 404, "could not be found"},
		}
		for _, tc := range errCases {
			resp := cl.Do(tc.method, tc.path, tc.body).Expect(t, tc.status)
			if !strings.Contains(string(resp.Body), tc.msg) {
				t.Errorf("%s: body %s, want %q", tc.name, resp.Body, tc.msg)
			}
		}

		// Another project's server does not exist for the caller.
		sc.api.As("u2:p2", "2.1").Do("GET", base, nil).Expect(t, 404)
		sc.api.As("u2:p2", "2.1").Do("POST", base, map[string]any{"metadata": map[string]any{"k": "v"}}).Expect(t, 404)

		// A server locked by an admin refuses its owner's changes (409);
		// a missing key is still a 404, Nova looks before it checks.
		cl.Do("POST", base, map[string]any{"metadata": map[string]any{"z": "1"}}).Expect(t, 200)
		if _, err := db.ExecContext(context.Background(), `UPDATE instances SET locked = TRUE, locked_by = 'admin' WHERE id = ?`, srv.ID); err != nil {
			t.Fatal(err)
		}
		cl.Do("POST", base, map[string]any{"metadata": map[string]any{"k": "v"}}).Expect(t, 409)
		cl.Do("DELETE", base+"/z", nil).Expect(t, 409)
		cl.Do("DELETE", base+"/nope", nil).Expect(t, 404)
		sc.api.As(adminToken, "2.1").Do("POST", base, map[string]any{"metadata": map[string]any{"k": "v"}}).Expect(t, 200)
	})
}

func TestServerIPs(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		srv := sc.boot(t, sc.user, "ips", true, nil)
		cl := sc.api.As(userToken, "2.1")
		base := "/v2.1/servers/" + srv.ID + "/ips"
		apisamples.Assert(t, "nova/api_samples/server-ips/server-ips-resp.json", cl.Do("GET", base, nil).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, "nova/api_samples/server-ips/server-ips-network-resp.json", cl.Do("GET", base+"/private", nil).Expect(t, 200).Body, apisamples.Options{})
		got := cl.Do("GET", base+"/private", nil).JSON(t)["private"].([]any)
		if len(got) != 2 || got[0].(map[string]any)["version"].(float64) != 4 || got[1].(map[string]any)["version"].(float64) != 6 {
			t.Fatalf("private addresses: %v", got)
		}
		resp := cl.Do("GET", base+"/public", nil).Expect(t, 404)
		if !strings.Contains(string(resp.Body), "Instance is not a member of specified network") {
			t.Errorf("unknown label: %s", resp.Body)
		}
		sc.api.As("u2:p2", "2.1").Do("GET", base, nil).Expect(t, 404)
		// 2.102 refuses query parameters, earlier versions ignore them.
		cl.Do("GET", base+"?foo=1", nil).Expect(t, 200)
		sc.api.As(userToken, "2.102").Do("GET", base+"?foo=1", nil).Expect(t, 400)
	})
}
