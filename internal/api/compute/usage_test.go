package compute_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

func usageWindowQuery(extra string) string {
	start := url.QueryEscape(time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04:05"))
	end := url.QueryEscape(time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05"))
	return "?start=" + start + "&end=" + end + extra
}

func TestSimpleTenantUsageSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		sc.boot(t, sc.user, "u1", true, nil)
		sc.boot(t, sc.user, "u2", true, nil)
		dir := "nova/api_samples/os-simple-tenant-usage/"
		admin := sc.api.As(adminToken, "2.1")
		apisamples.Assert(t, dir+"simple-tenant-usage-get.json",
			admin.Do("GET", "/v2.1/os-simple-tenant-usage"+usageWindowQuery(""), nil).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, dir+"simple-tenant-usage-get-detail.json",
			admin.Do("GET", "/v2.1/os-simple-tenant-usage"+usageWindowQuery("&detailed=1"), nil).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, dir+"simple-tenant-usage-get-specific.json",
			sc.api.As(userToken, "2.1").Do("GET", "/v2.1/os-simple-tenant-usage/p1"+usageWindowQuery(""), nil).Expect(t, 200).Body, apisamples.Options{})
		v240 := sc.api.As(adminToken, "2.40")
		apisamples.Assert(t, dir+"v2.40/simple-tenant-usage-get-detail.json",
			v240.Do("GET", "/v2.1/os-simple-tenant-usage"+usageWindowQuery("&detailed=1&limit=1"), nil).Expect(t, 200).Body, apisamples.Options{})
		apisamples.Assert(t, dir+"v2.40/simple-tenant-usage-get-specific.json",
			v240.Do("GET", "/v2.1/os-simple-tenant-usage/p1"+usageWindowQuery("&limit=1"), nil).Expect(t, 200).Body, apisamples.Options{})
	})
}

func TestSimpleTenantUsageSemantics(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		first := sc.boot(t, sc.user, "first", true, nil)
		second := sc.boot(t, sc.user, "second", true, nil)
		sc.boot(t, sc.other, "theirs", true, nil)
		admin := sc.api.As(adminToken, "2.40")

		body := admin.Do("GET", "/v2.1/os-simple-tenant-usage"+usageWindowQuery("&detailed=1"), nil).Expect(t, 200).JSON(t)
		usages := body["tenant_usages"].([]any)
		if len(usages) != 2 {
			t.Fatalf("%d tenant usages, want 2: %v", len(usages), usages)
		}
		mine := usages[0].(map[string]any)
		servers := mine["server_usages"].([]any)
		if mine["tenant_id"] != "p1" || len(servers) != 2 || servers[0].(map[string]any)["instance_id"] != first.ID {
			t.Fatalf("p1 usage: %v", mine)
		}
		s0 := servers[0].(map[string]any)
		if s0["state"] != "active" || s0["flavor"] != first.Flavor.Name || s0["ended_at"] != nil || mine["total_hours"].(float64) <= 0 {
			t.Fatalf("server usage: %v", s0)
		}
		if _, ok := admin.Do("GET", "/v2.1/os-simple-tenant-usage"+usageWindowQuery(""), nil).Expect(t, 200).JSON(t)["tenant_usages"].([]any)[0].(map[string]any)["server_usages"]; ok {
			t.Fatal("server_usages without detailed=1")
		}

		// Paging (2.40): a full page has a next link whose marker is its last server.
		page := admin.Do("GET", "/v2.1/os-simple-tenant-usage/p1"+usageWindowQuery("&limit=1"), nil).Expect(t, 200).JSON(t)
		links := page["tenant_usage_links"].([]any)
		href := links[0].(map[string]any)["href"].(string)
		if !strings.Contains(href, "/os-simple-tenant-usage/p1?") || !strings.Contains(href, "marker="+first.ID) {
			t.Fatalf("next link %s", href)
		}
		next := href[strings.Index(href, "/v2.1/"):]
		page2 := admin.Do("GET", next, nil).Expect(t, 200).JSON(t)["tenant_usage"].(map[string]any)
		if su := page2["server_usages"].([]any); len(su) != 1 || su[0].(map[string]any)["instance_id"] != second.ID {
			t.Fatalf("second page: %v", page2)
		}

		// A window before the servers launched reports nothing.
		old := "?start=2000-01-01T00:00:00&end=2000-01-02T00:00:00"
		if got := admin.Do("GET", "/v2.1/os-simple-tenant-usage/p1"+old, nil).Expect(t, 200).JSON(t)["tenant_usage"].(map[string]any); len(got) != 0 {
			t.Fatalf("old window: %v", got)
		}

		user := sc.api.As(userToken, "2.40")
		errCases := []struct {
			name, path string
			status     int
			msg        string
		}{
			{"start after end", "/v2.1/os-simple-tenant-usage/p1?start=2020-01-02T00:00:00&end=2020-01-01T00:00:00", 400,
				"Invalid start time. The start time cannot occur after the end time."},
			{"bad date", "/v2.1/os-simple-tenant-usage/p1?start=yesterday", 400, "Invalid datetime string: Datetime is in invalid format"},
			{"bad marker", "/v2.1/os-simple-tenant-usage/p1" + usageWindowQuery("&marker=nope"), 400, "Marker nope could not be found."},
			{"list as member", "/v2.1/os-simple-tenant-usage", 403, "os_compute_api:os-simple-tenant-usage:list"},
			{"other project", "/v2.1/os-simple-tenant-usage/p2", 403, "os_compute_api:os-simple-tenant-usage:show"},
		}
		for _, tc := range errCases {
			t.Run(tc.name, func(t *testing.T) {
				msg := faultMessage(t, user.Do("GET", tc.path, nil).Expect(t, tc.status))
				if !strings.Contains(msg, tc.msg) {
					t.Fatalf("message %q, want it to contain %q", msg, tc.msg)
				}
			})
		}
		// Without start and end the window is the moment of the request.
		user.Do("GET", "/v2.1/os-simple-tenant-usage/p1", nil).Expect(t, 200)
		// After 2.75 unknown query parameters are refused.
		sc.api.As(userToken, "2.75").Do("GET", "/v2.1/os-simple-tenant-usage/p1"+usageWindowQuery("&foo=1"), nil).Expect(t, 400)
		sc.api.As(userToken, "2.74").Do("GET", "/v2.1/os-simple-tenant-usage/p1"+usageWindowQuery("&foo=1"), nil).Expect(t, 200)
	})
}
