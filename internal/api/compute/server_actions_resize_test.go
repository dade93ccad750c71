package compute_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/quota"
)

// resizeAPICloud is the servers cloud, with helpers for resizes.
type resizeAPICloud struct{ *serversCloud }

func newResizeAPICloud(t *testing.T, database string) *resizeAPICloud {
	t.Helper()
	return &resizeAPICloud{newServersCloud(t, database)}
}

// activeServer boots a server of p with flavor and waits for ACTIVE.
func (rc *resizeAPICloud) activeServer(t *testing.T, p *auth.Principal, name, flavor string) string {
	t.Helper()
	id := rc.CreateServer(t, p, name, func(r *compute.CreateRequest) { r.FlavorRef = flavor }).Servers[0].ID
	rc.WaitFor(t, id, computetest.Active)
	return id
}

func (rc *resizeAPICloud) waitStatus(t *testing.T, id, status string) *compute.Server {
	t.Helper()
	return rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == status && s.TaskState == "" })
}

var resizeUser = &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}

// TestResizeAPI walks resize, confirm and revert through the API: the
// status codes, the server's flavor in VERIFY_RESIZE, the hypervisor's
// usage, and the instance actions.
func TestResizeAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newResizeAPICloud(t, database)
		user := rc.api.As("u1:p1", "2.1")
		admin := rc.api.As("admin:admin", "2.87") // the last version showing usage
		id := rc.activeServer(t, resizeUser, "r1", "1")
		path := "/v2.1/servers/" + id
		used := func() (float64, float64) {
			h := admin.Do("GET", "/v2.1/os-hypervisors/detail", nil).Expect(t, http.StatusOK).JSON(t)["hypervisors"].([]any)[0].(map[string]any)
			return h["vcpus_used"].(float64), h["memory_mb_used"].(float64)
		}

		r := user.Do("POST", path+"/action", apisamples.Load(t, "nova/api_samples/servers/server-action-resize.json")).Expect(t, http.StatusAccepted)
		if len(r.Body) != 0 {
			t.Errorf("resize answered a body: %s", r.Body)
		}
		rc.waitStatus(t, id, "VERIFY_RESIZE")
		srv := user.Do("GET", path, nil).Expect(t, http.StatusOK).JSON(t)["server"].(map[string]any)
		if srv["status"] != "VERIFY_RESIZE" || srv["flavor"].(map[string]any)["id"] != "2" || srv["OS-DCF:diskConfig"] != "AUTO" {
			t.Errorf("server in VERIFY_RESIZE: status %v flavor %v disk %v", srv["status"], srv["flavor"], srv["OS-DCF:diskConfig"])
		}
		if vcpus, ram := used(); vcpus != 2 || ram != 512+2048 {
			t.Errorf("hypervisor in VERIFY_RESIZE uses %v vCPUs, %v MB; want both flavors", vcpus, ram)
		}
		r = user.Do("POST", path+"/action", apisamples.Load(t, "nova/api_samples/servers/server-action-revert-resize.json")).Expect(t, http.StatusAccepted)
		rc.waitStatus(t, id, "ACTIVE")
		if vcpus, ram := used(); vcpus != 1 || ram != 512 {
			t.Errorf("hypervisor after revert uses %v vCPUs, %v MB", vcpus, ram)
		}
		user.Do("POST", path+"/action", `{"resize": {"flavorRef": 3}}`).Expect(t, http.StatusAccepted)
		rc.waitStatus(t, id, "VERIFY_RESIZE")
		r = user.Do("POST", path+"/action", apisamples.Load(t, "nova/api_samples/servers/server-action-confirm-resize.json")).Expect(t, http.StatusNoContent)
		srv2 := rc.waitStatus(t, id, "ACTIVE")
		if srv2.Flavor.ID != "3" || srv2.DiskConfig != "MANUAL" {
			t.Errorf("confirmed server: flavor %s disk config %s", srv2.Flavor.ID, srv2.DiskConfig)
		}
		if vcpus, ram := used(); vcpus != 2 || ram != 4096 {
			t.Errorf("hypervisor after confirm uses %v vCPUs, %v MB", vcpus, ram)
		}
		actions := user.Do("GET", path+"/os-instance-actions", nil).Expect(t, http.StatusOK).JSON(t)["instanceActions"].([]any)
		var names []string
		for _, a := range actions {
			names = append(names, a.(map[string]any)["action"].(string))
		}
		if got := strings.Join(names, ","); got != "confirmResize,resize,revertResize,resize,create" {
			t.Errorf("instance actions %s", got)
		}
	})
}

// TestResizeAPIErrors: Nova's status codes and messages for refused
// resizes, confirms and reverts.
func TestResizeAPIErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newResizeAPICloud(t, database)
		user := rc.api.As("u1:p1", "2.1")
		id := rc.activeServer(t, resizeUser, "r1", "1")
		path := "/v2.1/servers/" + id + "/action"
		tests := []struct {
			name   string
			client *apitest.Client
			body   string
			status int
			msg    string
		}{
			{"no flavorRef", user, `{"resize": {}}`, 400, "'flavorRef' is a required property"},
			{"unknown key", user, `{"resize": {"flavorRef": "2", "foo": 1}}`, 400, "Additional properties are not allowed ('foo' was unexpected)"},
			{"bad disk config", user, `{"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "auto"}}`, 400, "OS-DCF:diskConfig"},
			{"empty flavorRef", user, `{"resize": {"flavorRef": ""}}`, 400, "flavorRef"},
			{"same flavor", user, `{"resize": {"flavorRef": "1"}}`, 400, "When resizing, instances must change flavor!"},
			{"unknown flavor", user, `{"resize": {"flavorRef": "42"}}`, 400, "Flavor 42 could not be found."},
			{"flavor URL", user, `{"resize": {"flavorRef": "http://localhost/flavors/2"}}`, 400, "Flavor http://localhost/flavors/2 could not be found."},
			{"other project", rc.api.As("u2:p2", "2.1"), `{"resize": {"flavorRef": "2"}}`, 404, "Instance " + id + " could not be found."},
			{"reader", rc.api.As("reader:p1", "2.1"), `{"resize": {"flavorRef": "2"}}`, 403, "Policy doesn't allow os_compute_api:servers:resize to be performed."},
			{"confirm unresized", user, `{"confirmResize": null}`, 409, "Cannot 'confirmResize' instance " + id + " while it is in vm_state active"},
			{"revert unresized", user, `{"revertResize": null}`, 409, "Cannot 'revertResize' instance " + id + " while it is in vm_state active"},
			{"confirm extra key", user, `{"confirmResize": null, "x": 1}`, 400, "Malformed request body"},
		}
		for _, tt := range tests {
			r := tt.client.Do("POST", path, tt.body)
			if r.Status != tt.status || !strings.Contains(faultMessage(t, r), tt.msg) {
				t.Errorf("%s: %d %s, want %d %q", tt.name, r.Status, r.Body, tt.status, tt.msg)
			}
		}
		if _, err := rc.App.Quotas.Set(context.Background(), "p1", "", []quota.Change{{Resource: quota.RAM, Limit: 1024}}, true); err != nil {
			t.Fatal(err)
		}
		r := user.Do("POST", path, `{"resize": {"flavorRef": "2"}}`).Expect(t, http.StatusForbidden)
		if got := faultMessage(t, r); got != "Quota exceeded for ram: Requested 1536, but already used 512 of 1024 ram" {
			t.Errorf("quota: %q", got)
		}
	})
}

// TestMigrationsAPI lists migrations with os-migrations at each sample
// version folder and compares them with Nova's samples; checks the
// filters, paging links, the policies and the server migrations API
// (in-progress live migrations only).
func TestMigrationsAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newResizeAPICloud(t, database)
		var ids []string
		for i, flavor := range []string{"2", "3"} {
			id := rc.activeServer(t, resizeUser, fmt.Sprint("m", i), "1")
			rc.api.As("u1:p1", "2.1").Do("POST", "/v2.1/servers/"+id+"/action", `{"resize": {"flavorRef": "`+flavor+`"}}`).Expect(t, http.StatusAccepted)
			rc.waitStatus(t, id, "VERIFY_RESIZE")
			ids = append(ids, id)
		}
		rc.api.As("u1:p1", "2.1").Do("POST", "/v2.1/servers/"+ids[0]+"/action", `{"confirmResize": null}`).Expect(t, http.StatusNoContent)
		rc.waitStatus(t, ids[0], "ACTIVE")

		samples := []struct{ version, file, query string }{
			{"2.1", "os-migrations/migrations-get.json", ""},
			{"2.23", "os-migrations/v2.23/migrations-get.json", ""},
			{"2.59", "os-migrations/v2.59/migrations-get.json", ""},
			{"2.59", "os-migrations/v2.59/migrations-get-with-limit.json", "?limit=1"},
			{"2.59", "os-migrations/v2.59/migrations-get-with-changes-since.json", "?changes-since=2000-01-01T00:00:00Z"},
			{"2.66", "os-migrations/v2.66/migrations-get.json", ""},
			{"2.66", "os-migrations/v2.66/migrations-get-with-limit.json", "?limit=1"},
			{"2.66", "os-migrations/v2.66/migrations-get-with-changes-before.json", "?changes-before=2100-01-01T00:00:00Z"},
			{"2.80", "os-migrations/v2.80/migrations-get.json", ""},
			{"2.80", "os-migrations/v2.80/migrations-get-with-limit.json", "?limit=1"},
			{"2.80", "os-migrations/v2.80/migrations-get-with-user-or-project-id.json", "?user_id=u1&project_id=p1"},
		}
		for _, s := range samples {
			r := rc.api.As("admin:admin", s.version).Do("GET", "/v2.1/os-migrations"+s.query, nil).Expect(t, http.StatusOK)
			apisamples.Assert(t, "nova/api_samples/"+s.file, r.Body, apisamples.Options{Optional: []string{"migrations[].links"}})
		}
		list := func(version, query string) []any {
			t.Helper()
			return rc.api.As("admin:admin", version).Do("GET", "/v2.1/os-migrations"+query, nil).Expect(t, http.StatusOK).JSON(t)["migrations"].([]any)
		}
		// 2.1 lists in id order without uuid or migration_type; 2.59 newest first.
		old := list("2.1", "")
		if len(old) != 2 || old[0].(map[string]any)["instance_uuid"] != ids[0] || old[0].(map[string]any)["uuid"] != nil ||
			old[0].(map[string]any)["migration_type"] != nil {
			t.Errorf("2.1 list: %v", old)
		}
		m0 := old[0].(map[string]any)
		if m0["status"] != "confirmed" || m0["source_compute"] != "fake-host" || m0["dest_host"] != "127.0.0.1" ||
			m0["old_instance_type_id"] != float64(1) || m0["new_instance_type_id"] != float64(2) {
			t.Errorf("first migration: %v", m0)
		}
		paged := rc.api.As("admin:admin", "2.59").Do("GET", "/v2.1/os-migrations?limit=1", nil).Expect(t, http.StatusOK).JSON(t)
		first := paged["migrations"].([]any)[0].(map[string]any)
		if first["instance_uuid"] != ids[1] || first["migration_type"] != "resize" {
			t.Errorf("2.59 first page: %v", first)
		}
		next := paged["migrations_links"].([]any)[0].(map[string]any)["href"].(string)
		if !strings.HasSuffix(next, "/os-migrations?limit=1&marker="+first["uuid"].(string)) {
			t.Errorf("next link %s", next)
		}
		second := rc.api.As("admin:admin", "2.59").Do("GET", "/v2.1/os-migrations?limit=1&marker="+first["uuid"].(string), nil).Expect(t, http.StatusOK).JSON(t)
		if got := second["migrations"].([]any); len(got) != 1 || got[0].(map[string]any)["instance_uuid"] != ids[0] {
			t.Errorf("second page: %v", got)
		}
		filters := []struct {
			version, query string
			want           int
		}{
			{"2.1", "?status=finished", 1},
			{"2.1", "?status=confirmed&status=finished", 1},
			{"2.1", "?host=fake-host", 2},
			{"2.1", "?host=nowhere", 0},
			{"2.1", "?source_compute=fake-host&migration_type=resize", 2},
			{"2.1", "?instance_uuid=" + ids[1], 1},
			{"2.1", "?migration_type=live-migration", 0},
			{"2.1", "?hidden=1", 0},
			{"2.1", "?project_id=p2", 0},
			{"2.1", "?changes-since=2100-01-01T00:00:00Z", 2}, // ignored before 2.59
			{"2.59", "?changes-since=2100-01-01T00:00:00Z", 0},
			{"2.66", "?changes-before=2000-01-01T00:00:00Z", 0},
			{"2.80", "?user_id=u1", 2},
			{"2.80", "?project_id=p2", 0},
			{"2.59", "?limit=0", 0},
		}
		for _, f := range filters {
			if got := list(f.version, f.query); len(got) != f.want {
				t.Errorf("%s %s: %d migrations, want %d", f.version, f.query, len(got), f.want)
			}
		}
		refused := []struct {
			token, version, query string
			status                int
			msg                   string
		}{
			{"u1:p1", "2.1", "", 403, "Policy doesn't allow os_compute_api:os-migrations:index to be performed."},
			{"manager:p1", "2.80", "", 403, "Policy doesn't allow os_compute_api:os-migrations:index:all_projects to be performed."},
			{"admin:admin", "2.59", "?user_id=u1", 400, "Additional properties are not allowed ('user_id' was unexpected)"},
			{"admin:admin", "2.59", "?limit=-1", 400, "Invalid input for query parameters limit"},
			{"admin:admin", "2.59", "?changes-since=yesterday", 400, "Invalid input for query parameters changes-since"},
			{"admin:admin", "2.59", "?marker=nope", 400, "Marker nope could not be found."},
			{"admin:admin", "2.66", "?changes-since=2020-01-02T00:00:00Z&changes-before=2020-01-01T00:00:00Z", 400,
				"The value of changes-since must be less than or equal to changes-before."},
		}
		for _, r := range refused {
			resp := rc.api.As(r.token, r.version).Do("GET", "/v2.1/os-migrations"+r.query, nil)
			if resp.Status != r.status || !strings.Contains(faultMessage(t, resp), r.msg) {
				t.Errorf("%s %s%s: %d %s, want %d %q", r.token, r.version, r.query, resp.Status, resp.Body, r.status, r.msg)
			}
		}
		// A project manager sees their own project's migrations, without hosts.
		own := rc.api.As("manager:p1", "2.80").Do("GET", "/v2.1/os-migrations?project_id=p1", nil).Expect(t, http.StatusOK).JSON(t)["migrations"].([]any)
		if len(own) != 2 || own[0].(map[string]any)["source_compute"] != nil {
			t.Errorf("manager's list: %v", own)
		}

		// Server migrations are in-progress live migrations only.
		admin := rc.api.As("admin:admin", "2.80")
		mid := fmt.Sprint(m0["id"])
		if got := admin.Do("GET", "/v2.1/servers/"+ids[1]+"/migrations", nil).Expect(t, http.StatusOK).JSON(t)["migrations"].([]any); len(got) != 0 {
			t.Errorf("server migrations of a resized server: %v", got)
		}
		serverRefused := []struct {
			client *apitest.Client
			path   string
			status int
			msg    string
		}{
			{admin, "/servers/" + ids[0] + "/migrations/" + mid, 404, "Migration " + mid + " for server " + ids[0] + " is not live-migration."},
			{admin, "/servers/" + ids[1] + "/migrations/" + mid, 404, "In-progress live migration " + mid + " is not found for server " + ids[1] + "."},
			{admin, "/servers/" + ids[0] + "/migrations/abc", 404, "In-progress live migration abc is not found for server " + ids[0] + "."},
			{rc.api.As("u1:p1", "2.80"), "/servers/" + ids[0] + "/migrations", 403, "Policy doesn't allow os_compute_api:servers:migrations:index to be performed."},
			{rc.api.As("u1:p1", "2.80"), "/servers/" + ids[0] + "/migrations/" + mid, 403, "Policy doesn't allow os_compute_api:servers:migrations:show to be performed."},
			{rc.api.As("u2:p2", "2.80"), "/servers/" + ids[0] + "/migrations", 404, "Instance " + ids[0] + " could not be found."},
			{rc.api.As("admin:admin", "2.22"), "/servers/" + ids[0] + "/migrations", 404, ""},
			{rc.api.As("admin:admin", "2.102"), "/servers/" + ids[0] + "/migrations?x=1", 400, "Additional properties are not allowed ('x' was unexpected)"},
		}
		for _, r := range serverRefused {
			resp := r.client.Do("GET", "/v2.1"+r.path, nil)
			if resp.Status != r.status || (r.msg != "" && !strings.Contains(faultMessage(t, resp), r.msg)) {
				t.Errorf("%s: %d %s, want %d %q", r.path, resp.Status, resp.Body, r.status, r.msg)
			}
		}
		if got := rc.api.As("manager:p1", "2.80").Do("GET", "/v2.1/servers/"+ids[0]+"/migrations", nil).Expect(t, http.StatusOK).JSON(t)["migrations"].([]any); len(got) != 0 {
			t.Errorf("manager's server migrations: %v", got)
		}
	})
}

// TestMigrateAPI: the admin migrate action's policies, its 2.56 schema,
// and Nova's outcome with one compute host.
func TestMigrateAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newResizeAPICloud(t, database)
		id := rc.activeServer(t, resizeUser, "r1", "1")
		path := "/v2.1/servers/" + id + "/action"
		tests := []struct {
			token, version, body string
			status               int
			msg                  string
		}{
			{"u1:p1", "2.1", `{"migrate": null}`, 403, "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed."},
			{"u2:p2", "2.1", `{"migrate": null}`, 404, "Instance " + id + " could not be found."},
			{"manager:p1", "2.56", `{"migrate": {"host": "fake-host"}}`, 403, "Policy doesn't allow os_compute_api:os-migrate-server:migrate:host to be performed."},
			{"admin:admin", "2.56", `{"migrate": {"host": "fake-host"}}`, 400, "Cannot migrate to the host where the server exists."},
			{"admin:admin", "2.56", `{"migrate": {"host": "nowhere"}}`, 400, "Compute host nowhere could not be found."},
			{"admin:admin", "2.56", `{"migrate": {"host": "bad host"}}`, 400, "does not match"},
			{"admin:admin", "2.56", `{"migrate": {"foo": 1}}`, 400, "Additional properties are not allowed ('foo' was unexpected)"},
		}
		for _, tt := range tests {
			r := rc.api.As(tt.token, tt.version).Do("POST", path, tt.body)
			if r.Status != tt.status || !strings.Contains(faultMessage(t, r), tt.msg) {
				t.Errorf("%s %s %s: %d %s, want %d %q", tt.token, tt.version, tt.body, r.Status, r.Body, tt.status, tt.msg)
			}
		}
		// Before 2.56 the body is not checked (a host is ignored).
		rc.api.As("admin:admin", "2.1").Do("POST", path, `{"migrate": {"host": "fake-host"}}`).Expect(t, http.StatusAccepted)
		rc.waitStatus(t, id, "ACTIVE")
		rc.api.As("manager:p1", "2.56").Do("POST", path, apisamples.Load(t, "nova/api_samples/os-migrate-server/migrate-server.json")).Expect(t, http.StatusAccepted)
		rc.waitStatus(t, id, "ACTIVE")
		ms := rc.api.As("admin:admin", "2.80").Do("GET", "/v2.1/os-migrations?migration_type=migration", nil).Expect(t, http.StatusOK).JSON(t)["migrations"].([]any)
		if len(ms) != 2 {
			t.Fatalf("%d cold migrations, want 2", len(ms))
		}
		for _, m := range ms {
			m := m.(map[string]any)
			if m["status"] != "error" || m["dest_compute"] != nil || m["source_compute"] != "fake-host" {
				t.Errorf("cold migration %v", m)
			}
		}
	})
}
