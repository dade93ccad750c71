package compute_test

import (
	"context"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

// listNames returns the names of the servers a list answers with.
func listNames(t *testing.T, cl *apitest.Client, query string) []string {
	t.Helper()
	body := cl.Do("GET", "/v2.1/servers/detail"+query, nil).Expect(t, 200).JSON(t)
	var names []string
	for _, s := range body["servers"].([]any) {
		names = append(names, s.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

func TestServerListFilters(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		web1 := sc.boot(t, sc.user, "web-1", true, func(r *compute.CreateRequest) {
			r.Tags = []string{"a", "b"}
			r.KeyName = ""
		})
		sc.boot(t, sc.user, "web-2", true, func(r *compute.CreateRequest) { r.Tags = []string{"b"}; r.FlavorRef = "2" })
		sc.boot(t, sc.user, "db-1", true, func(r *compute.CreateRequest) { r.ConfigDrive = true })
		sc.boot(t, sc.other, "theirs", true, nil)
		addr := sc.api.As(userToken, "2.1").Do("GET", "/v2.1/servers/"+web1.ID+"/ips", nil).JSON(t)["addresses"].(map[string]any)["private"].([]any)
		ip4 := addr[0].(map[string]any)["addr"].(string)
		ip6 := addr[1].(map[string]any)["addr"].(string)

		user := sc.api.As(userToken, "2.1")
		latest := sc.api.As(userToken, "2.104")
		admin := sc.api.As(adminToken, "2.104")
		tests := []struct {
			name  string
			cl    *apitest.Client
			query string
			want  string
		}{
			{"own project only", user, "", "db-1,web-1,web-2"},
			{"name regex", user, "?name=^web", "web-1,web-2"},
			{"status", user, "?status=ACTIVE", "db-1,web-1,web-2"},
			{"status lower case", user, "?status=active", "db-1,web-1,web-2"},
			{"status no match", user, "?status=SHUTOFF", ""},
			{"unknown status before 2.38 is empty", user, "?status=BOGUS", ""},
			{"flavor", user, "?flavor=2", "web-2"},
			{"flavor URL matches nothing", user, "?flavor=" + url.QueryEscape("http://x/flavors/2"), ""},
			// fixed_ip is not in Nova's query schema, which strips it.
			{"admin fixed_ip is dropped", sc.api.As(adminToken, "2.1"), "?all_tenants=1&fixed_ip=" + ip4, "db-1,theirs,web-1,web-2"},
			{"image", user, "?image=" + sc.ImageID, "db-1,web-1,web-2"},
			{"unknown image", user, "?image=nope", ""},
			{"ip", user, "?ip=" + url.QueryEscape("^"+strings.ReplaceAll(ip4, ".", `\.`)+"$"), "web-1"},
			{"ip6 ignored before 2.5", user, "?ip6=" + url.QueryEscape(ip6), "db-1,web-1,web-2"},
			{"ip6", sc.api.As(userToken, "2.5"), "?ip6=" + url.QueryEscape(ip6), "web-1"},
			{"tags", latest, "?tags=a,b", "web-1"},
			{"tags-any", latest, "?tags-any=a,b", "web-1,web-2"},
			{"not-tags", latest, "?not-tags=b", "db-1"},
			{"not-tags-any", latest, "?not-tags-any=a", "db-1,web-2"},
			{"tags ignored before 2.26", user, "?tags=a", "db-1,web-1,web-2"},
			{"locked", latest, "?locked=false", "db-1,web-1,web-2"},
			{"config_drive from 2.83", latest, "?config_drive=true", "db-1"},
			{"config_drive ignored before 2.83", sc.api.As(userToken, "2.82"), "?config_drive=true", "db-1,web-1,web-2"},
			{"availability_zone regex from 2.83", latest, "?availability_zone=^no", "db-1,web-1,web-2"},
			{"availability_zone no match", latest, "?availability_zone=^zone", ""},
			{"admin node regex", admin, "?all_tenants=1&node=^fake&name=theirs", "theirs"},
			{"host ignored for users", user, "?host=nowhere", "db-1,web-1,web-2"},
			{"all_tenants=0 for a user", user, "?all_tenants=0", "db-1,web-1,web-2"},
			{"admin sees own project", admin, "", ""},
			{"admin all_tenants", admin, "?all_tenants=1", "db-1,theirs,web-1,web-2"},
			{"admin all_tenants empty value", admin, "?all_tenants", "db-1,theirs,web-1,web-2"},
			{"admin project filter", admin, "?all_tenants=1&project_id=p2", "theirs"},
			{"admin tenant_id ignored without all_tenants", admin, "?tenant_id=p2", ""},
			{"admin host", admin, "?all_tenants=1&host=nowhere", ""},
			{"admin host match", admin, "?all_tenants=1&host=fake-host&name=theirs", "theirs"},
			{"admin vm_state", admin, "?all_tenants=1&vm_state=active&name=^db", "db-1"},
			{"changes-since", user, "?changes-since=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), "db-1,web-1,web-2"},
			{"changes-since future", user, "?changes-since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), ""},
		}
		for _, tc := range tests {
			got := strings.Join(listNames(t, tc.cl, tc.query), ",")
			if got != tc.want {
				t.Errorf("%s (%s): got %q, want %q", tc.name, tc.query, got, tc.want)
			}
		}
		// The updated a client reads back bounds the listing at that very
		// second, both ways (openstackclient's functional tests
		// test_server_list_with_changes_before* do this): it is shown in
		// whole seconds and kept in microseconds.
		updated := latest.Do("GET", "/v2.1/servers/"+web1.ID, nil).JSON(t)["server"].(map[string]any)["updated"].(string)
		for _, bound := range []string{"changes-before", "changes-since"} {
			names := listNames(t, latest, "?name=web-1&"+bound+"="+url.QueryEscape(updated))
			if strings.Join(names, ",") != "web-1" {
				t.Errorf("%s=%s (web-1's own updated): got %v, want web-1", bound, updated, names)
			}
		}
	})
}

func TestServerListErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		sc.boot(t, sc.user, "one", false, nil)
		tests := []struct {
			version, token, query string
			status                int
			msg                   string
		}{
			{"2.38", userToken, "?status=BOGUS", 400, "Invalid status value"},
			{"2.1", userToken, "?status=DELETED", 403, "Only administrators may list deleted instances"},
			{"2.1", userToken, "?all_tenants=1", 403, "os_compute_api:servers:detail:get_all_tenants"},
			{"2.1", adminToken, "?all_tenants=maybe", 400, "Unrecognized value 'maybe'"},
			{"2.1", userToken, "?sort_key=bogus", 400, "Invalid input for query parameters sort_key. Value: bogus."},
			{"2.1", userToken, "?sort_key=host", 403, "Only administrators can sort servers by host"},
			{"2.1", userToken, "?sort_dir=up", 400, "Unknown sort direction, must be 'desc' or 'asc'"},
			{"2.1", userToken, "?sort_key=display_name&sort_dir=asc&sort_dir=desc", 400, "Sort direction size exceeds sort key size"},
			{"2.1", userToken, "?limit=-1", 400, "Invalid input for query parameters limit."},
			{"2.1", userToken, "?limit=abc", 400, "Invalid input for query parameters limit."},
			{"2.1", userToken, "?marker=00000000-0000-0000-0000-000000000000", 400, "marker [00000000-0000-0000-0000-000000000000] not found"},
			{"2.1", userToken, "?changes-since=yesterday", 400, "is not a 'date-time'"},
			{"2.66", userToken, "?changes-since=2020-01-02T00:00:00Z&changes-before=2020-01-01T00:00:00Z", 400, "The value of changes-since must be less than or equal to changes-before."},
			{"2.73", userToken, "?locked=maybe", 400, "Unrecognized value 'maybe'"},
			{"2.1", adminToken, "?metadata=x", 400, "Invalid filter field: metadata."},
			{"2.1", adminToken, "?_secret=x", 400, "Invalid filter field: _secret."},
			{"2.75", userToken, "?foo=bar", 400, "Additional properties are not allowed ('foo' was unexpected)"},
			{"2.75", userToken, "?sort_key=deleted", 400, "Invalid input for query parameters sort_key. Value: deleted."},
		}
		for _, tc := range tests {
			resp := sc.api.As(tc.token, tc.version).Do("GET", "/v2.1/servers/detail"+tc.query, nil).Expect(t, tc.status)
			if !strings.Contains(string(resp.Body), tc.msg) {
				t.Errorf("%s %s: body %s, want %q", tc.version, tc.query, resp.Body, tc.msg)
			}
		}
		// Before 2.75 unknown parameters and ignored sort keys are fine;
		// non-admins' joined-table filters are silently dropped.
		for _, q := range []string{"?foo=bar", "?sort_key=deleted", "?metadata=x", "?_secret=x"} {
			sc.api.As(userToken, "2.74").Do("GET", "/v2.1/servers"+q, nil).Expect(t, 200)
		}
	})
}

func TestServerListDeleted(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		gone := sc.boot(t, sc.user, "gone", true, nil)
		sc.boot(t, sc.user, "kept", true, nil)
		sc.api.As(userToken, "2.1").Do("DELETE", "/v2.1/servers/"+gone.ID, nil).Expect(t, 204)
		sc.WaitFor(t, gone.ID, func(s *compute.Server) bool { return s.Deleted })

		user := sc.api.As(userToken, "2.1")
		if got := strings.Join(listNames(t, user, ""), ","); got != "kept" {
			t.Fatalf("list after delete: %q", got)
		}
		user.Do("GET", "/v2.1/servers/"+gone.ID, nil).Expect(t, 404)
		// A user's deleted=true is ignored; changes-since shows deleted.
		if got := strings.Join(listNames(t, user, "?deleted=true"), ","); got != "kept" {
			t.Fatalf("user deleted=true: %q", got)
		}
		since := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
		body := user.Do("GET", "/v2.1/servers/detail?changes-since="+since, nil).Expect(t, 200).JSON(t)
		statuses := map[string]string{}
		for _, s := range body["servers"].([]any) {
			m := s.(map[string]any)
			statuses[m["name"].(string)] = m["status"].(string)
		}
		if statuses["gone"] != "DELETED" || statuses["kept"] != "ACTIVE" {
			t.Fatalf("changes-since statuses: %v", statuses)
		}
		admin := sc.api.As(adminToken, "2.1")
		if got := strings.Join(listNames(t, admin, "?all_tenants=1&deleted=true"), ","); got != "gone" {
			t.Fatalf("admin deleted=true: %q", got)
		}
		if got := strings.Join(listNames(t, admin, "?all_tenants=1&status=DELETED"), ","); got != "gone" {
			t.Fatalf("admin status=DELETED: %q", got)
		}
	})
}

func TestServerListPagination(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		sc := newServersCloud(t, database)
		unlimitedQuota(t, sc.Cloud.Cloud, "p1") // the creates go on until the walk ends
		const initial = 7
		for i := 0; i < initial; i++ {
			sc.boot(t, sc.user, "s"+string(rune('a'+i)), false, nil)
		}
		// Servers keep being created while the pages are read: a page
		// walk in created_at desc order must neither skip nor repeat any
		// server that existed when it started.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := sc.Compute.Create(context.Background(), sc.user, compute.CreateRequest{Name: "late", ImageRef: sc.ImageID,
					FlavorRef: "1", MinCount: 1, MaxCount: 1, RequestID: "req-late"}); err != nil {
					t.Errorf("concurrent create: %v", err)
					return
				}
			}
		}()
		cl := sc.api.As(userToken, "2.1")
		seen := map[string]int{}
		next := "/v2.1/servers?limit=2"
		pages := 0
		for next != "" {
			body := cl.Do("GET", next, nil).Expect(t, 200).JSON(t)
			for _, s := range body["servers"].([]any) {
				seen[s.(map[string]any)["name"].(string)+"/"+s.(map[string]any)["id"].(string)]++
			}
			next = ""
			if links, ok := body["servers_links"].([]any); ok {
				href := links[0].(map[string]any)["href"].(string)
				u, err := url.Parse(href)
				if err != nil || !strings.HasSuffix(u.Path, "/servers") || u.Query().Get("limit") != "2" || u.Query().Get("marker") == "" {
					t.Fatalf("next link %q", href)
				}
				next = "/v2.1/servers?" + u.RawQuery
			}
			if pages++; pages > 100 {
				t.Fatal("pagination does not end")
			}
		}
		close(stop)
		wg.Wait()
		count := 0
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s listed %d times", k, n)
			}
			if !strings.HasPrefix(k, "late/") {
				count++
			}
		}
		if count != initial {
			t.Fatalf("saw %d of the %d initial servers: %v", count, initial, seen)
		}

		// Sorting by several keys, ascending.
		body := cl.Do("GET", "/v2.1/servers?sort_key=display_name&sort_dir=asc&sort_key=uuid&name=^s", nil).Expect(t, 200).JSON(t)
		var names []string
		for _, s := range body["servers"].([]any) {
			names = append(names, s.(map[string]any)["name"].(string))
		}
		if !slices.IsSorted(names) || len(names) != initial {
			t.Fatalf("sorted by name: %v", names)
		}
		// limit=0 is an empty page without a next link.
		body = cl.Do("GET", "/v2.1/servers?limit=0", nil).Expect(t, 200).JSON(t)
		if len(body["servers"].([]any)) != 0 || body["servers_links"] != nil {
			t.Fatalf("limit=0: %v", body)
		}
	})
}

// TestServerListLongPageMatchesShow: a page long enough to be loaded and
// written in parts, one per core, lists every server once, in order, each
// exactly as GET /servers/{id} shows it.
func TestServerListLongPageMatchesShow(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		// A host that holds every server, with the quotas to match.
		sc := newServersCloudWith(t, database, computetest.Options{Configure: func(cfg *app.Config) {
			cfg.HostVCPUs, cfg.HostMemoryMB, cfg.HostDiskGB = 64, 512*1024, 1024
		}})
		unlimitedQuota(t, sc.Cloud.Cloud, "p1")
		for _, c := range []struct {
			count int
			nets  string
		}{{150, "auto"}, {450, "none"}} {
			// One request makes at most compute.DefaultMaxCreateCount.
			for made := 0; made < c.count; made += compute.DefaultMaxCreateCount {
				n := min(compute.DefaultMaxCreateCount, c.count-made)
				sc.CreateServer(t, sc.user, "many", func(req *compute.CreateRequest) {
					req.MinCount, req.MaxCount = n, n
					req.Networks = compute.NetworkRequest{Mode: c.nets}
					req.Metadata = map[string]string{"batch": c.nets}
				})
			}
		}
		// Shows are compared with the listing: no server may still change.
		deadline := time.Now().Add(time.Minute)
		for {
			page := sc.api.As(userToken, "2.1").Do("GET", "/v2.1/servers/detail?status=ACTIVE", nil).Expect(t, 200)
			if n := len(page.JSON(t)["servers"].([]any)); n == 600 {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("%d of 600 servers ACTIVE after a minute", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for token, path := range map[string]string{adminToken: "/v2.1/servers/detail?all_tenants=1&project_id=p1", userToken: "/v2.1/servers/detail"} {
			cl := sc.api.As(token, "2.96")
			listed := cl.Do("GET", path, nil).Expect(t, 200).JSON(t)["servers"].([]any)
			if len(listed) != 600 {
				t.Fatalf("%s: listed %d servers, want 600", token, len(listed))
			}
			var last string
			for i, item := range listed {
				s := item.(map[string]any)
				if created := s["created"].(string); i > 0 && created > last {
					t.Fatalf("%s: server %d created %s after the one before it (%s)", token, i, created, last)
				}
				last = s["created"].(string)
				if i%7 != 0 {
					continue // a sample is enough: each show is a request
				}
				shown := cl.Do("GET", "/v2.1/servers/"+s["id"].(string), nil).Expect(t, 200).JSON(t)["server"].(map[string]any)
				delete(shown, "server_groups") // show only, as in Nova
				if !reflect.DeepEqual(s, shown) {
					t.Fatalf("%s: server %d listed as\n%v\nshown as\n%v", token, i, s, shown)
				}
			}
		}
	})
}
