package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/scheduler"
)

// serverState is what the move tests read of a server.
type serverState struct {
	Status    string `json:"status"`
	Host      string `json:"OS-EXT-SRV-ATTR:host"`
	Node      string `json:"OS-EXT-SRV-ATTR:hypervisor_hostname"`
	TaskState any    `json:"OS-EXT-STS:task_state"`
	Power     int    `json:"OS-EXT-STS:power_state"`
}

func showServer(t *testing.T, c *apptest.Cloud, id string) serverState {
	t.Helper()
	var got struct{ Server serverState }
	decodeInto(t, c.Admin.Do(http.MethodGet, "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK), &got)
	return got.Server
}

func decodeInto(t *testing.T, r *apitest.Response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// migrationsOf lists server id's migration records (GET /os-migrations
// at 2.80, newest first).
func migrationsOf(t *testing.T, c *apptest.Cloud, id string) []map[string]any {
	t.Helper()
	body := c.Admin.As(c.Admin.Token, "2.80").Do(http.MethodGet, "/v2.1/os-migrations?instance_uuid="+id, nil).
		Expect(t, http.StatusOK).JSON(t)
	var out []map[string]any
	for _, m := range body["migrations"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

// lastMigration is server id's newest migration record.
func lastMigration(t *testing.T, c *apptest.Cloud, id string) map[string]any {
	t.Helper()
	ms := migrationsOf(t, c, id)
	if len(ms) == 0 {
		t.Fatalf("server %s has no migration", id)
	}
	return ms[0]
}

// actionEvents are the events of server id's instance action named action.
func actionEvents(t *testing.T, c *apptest.Cloud, id, action string) []string {
	t.Helper()
	admin := c.Admin.As(c.Admin.Token, "2.51")
	list := admin.Do(http.MethodGet, "/v2.1/servers/"+id+"/os-instance-actions", nil).Expect(t, http.StatusOK).JSON(t)
	for _, a := range list["instanceActions"].([]any) {
		a := a.(map[string]any)
		if a["action"] != action {
			continue
		}
		one := admin.Do(http.MethodGet, "/v2.1/servers/"+id+"/os-instance-actions/"+a["request_id"].(string), nil).
			Expect(t, http.StatusOK).JSON(t)
		var names []string
		for _, e := range one["instanceAction"].(map[string]any)["events"].([]any) {
			e := e.(map[string]any)
			names = append(names, fmt.Sprintf("%s:%s", e["event"], e["result"]))
		}
		slices.Sort(names)
		return names
	}
	t.Fatalf("server %s has no %s action", id, action)
	return nil
}

// activeOn creates a server on host and steps that host until it runs.
func activeOn(t *testing.T, c *apptest.Cloud, name, host string) string {
	t.Helper()
	id := createOn(c, name, host)
	c.Step()
	if s := showServer(t, c, id); s.Status != "ACTIVE" || s.Host != host {
		t.Fatalf("server %s: %+v, want ACTIVE on %s", name, s, host)
	}
	return id
}

// TestLiveMigrationStepped walks a live migration from host-a to the
// host the scheduler picks through its three phases, each run by the
// host that owns it, and checks the migration record, the server, the
// hypervisors' guests and the instance action on the way.
func TestLiveMigrationStepped(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		id := activeOn(t, a, "lm", "host-a")
		admin := a.Admin.As(a.Admin.Token, "2.30")
		admin.Do(http.MethodPost, "/v2.1/servers/"+id+"/action",
			`{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).Expect(t, http.StatusAccepted)
		if s := showServer(t, a, id); s.TaskState != "migrating" || s.Status != "MIGRATING" {
			t.Fatalf("accepted live migration: %+v, want MIGRATING with task_state migrating", s)
		}
		m := lastMigration(t, a, id)
		if m["migration_type"] != "live-migration" || m["status"] != "queued" || m["source_compute"] != "host-a" ||
			m["dest_compute"] != "host-b" || m["links"] == nil {
			t.Fatalf("queued migration: %v", m)
		}
		migrationPath := fmt.Sprintf("/v2.1/servers/%s/migrations/%v", id, m["id"])
		v223 := a.Admin.As(a.Admin.Token, "2.23")
		if got := v223.Do(http.MethodGet, migrationPath, nil).Expect(t, http.StatusOK).JSON(t)["migration"].(map[string]any); got["memory_total_bytes"] != nil {
			t.Errorf("queued migration shows progress: %v", got)
		}

		if got := b.Step(); !slices.Equal(got, []string{compute.TaskLiveMigration}) {
			t.Fatalf("host-b ran %v, want the prepare phase", got)
		}
		if st := lastMigration(t, a, id)["status"]; st != "preparing" {
			t.Fatalf("after prepare: migration %v, want preparing", st)
		}
		if gb := guests(t, b); !slices.Equal(gb, []string{id}) {
			t.Fatalf("host-b guests after prepare: %v", gb)
		}
		if got := a.Step(); !slices.Equal(got, []string{compute.TaskLiveMigration}) {
			t.Fatalf("host-a ran %v, want the migrate phase", got)
		}
		if st := lastMigration(t, a, id)["status"]; st != "post-migrating" {
			t.Fatalf("after migrate: migration %v, want post-migrating", st)
		}
		got := v223.Do(http.MethodGet, migrationPath, nil).Expect(t, http.StatusOK).JSON(t)["migration"].(map[string]any)
		if got["memory_total_bytes"] != float64(512<<20) || got["memory_remaining_bytes"] != float64(0) ||
			got["disk_total_bytes"] != float64(1<<30) || got["status"] != "post-migrating" {
			t.Errorf("migration after the copy: %v", got)
		}
		apisamples.Assert(t, "nova/api_samples/server-migrations/v2.80/migrations-get.json",
			a.Admin.As(a.Admin.Token, "2.80").Do(http.MethodGet, migrationPath, nil).Expect(t, http.StatusOK).Body, apisamples.Options{})
		if ga := guests(t, a); len(ga) != 0 {
			t.Fatalf("host-a still runs %v after the copy", ga)
		}
		if got := b.Step(); !slices.Equal(got, []string{compute.TaskLiveMigration}) {
			t.Fatalf("host-b ran %v, want the finish phase", got)
		}
		s := showServer(t, a, id)
		if s.Status != "ACTIVE" || s.Host != "host-b" || s.Node != "host-b" || s.TaskState != nil || s.Power != 1 {
			t.Fatalf("migrated server: %+v", s)
		}
		if st := lastMigration(t, a, id)["status"]; st != "completed" {
			t.Fatalf("migration %v, want completed", st)
		}
		if ps, err := b.App.Driver.PowerState(context.Background(), id); err != nil || ps.String() != "running" {
			t.Fatalf("guest on host-b: %v %v", ps, err)
		}
		v223.Do(http.MethodGet, migrationPath, nil).Expect(t, http.StatusNotFound)
		want := []string{"compute_check_can_live_migrate_destination:Success", "compute_check_can_live_migrate_source:Success",
			"compute_live_migration:Success", "compute_post_live_migration_at_destination:Success",
			"compute_pre_live_migration:Success", "conductor_live_migrate_instance:Success"}
		if ev := actionEvents(t, a, id, "live-migration"); !slices.Equal(ev, want) {
			t.Errorf("live-migration events %v, want %v", ev, want)
		}
		used := func(c *apptest.Cloud, host string) float64 {
			hs := c.Admin.As(c.Admin.Token, "2.87").Do(http.MethodGet, "/v2.1/os-hypervisors/detail", nil).Expect(t, http.StatusOK).JSON(t)
			for _, h := range hs["hypervisors"].([]any) {
				if h := h.(map[string]any); h["hypervisor_hostname"] == host {
					return h["memory_mb_used"].(float64)
				}
			}
			t.Fatalf("no hypervisor %s", host)
			return 0
		}
		if ua, ub := used(a, "host-a"), used(a, "host-b"); ua != 0 || ub != 512 {
			t.Errorf("memory used: host-a %v, host-b %v; want 0 and 512", ua, ub)
		}
		// And back, forced to host-a (2.30 force).
		admin.Do(http.MethodPost, "/v2.1/servers/"+id+"/action",
			`{"os-migrateLive": {"host": "host-a", "block_migration": false, "force": true}}`).Expect(t, http.StatusAccepted)
		a.Step()
		b.Step()
		a.Step()
		if s := showServer(t, a, id); s.Host != "host-a" || s.Status != "ACTIVE" {
			t.Fatalf("server migrated back: %+v", s)
		}
		if ga, gb := guests(t, a), guests(t, b); !slices.Equal(ga, []string{id}) || len(gb) != 0 {
			t.Fatalf("guests after the way back: host-a %v, host-b %v", ga, gb)
		}
	})
}

// TestLiveMigrationPausedKeepsPower: a paused server arrives paused.
func TestLiveMigrationPausedKeepsPower(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		id := activeOn(t, a, "paused", "host-a")
		a.Admin.Do(http.MethodPost, "/v2.1/servers/"+id+"/action", `{"pause": null}`).Expect(t, http.StatusAccepted)
		a.Step()
		a.Admin.As(a.Admin.Token, "2.68").Do(http.MethodPost, "/v2.1/servers/"+id+"/action",
			`{"os-migrateLive": {"host": "host-b", "block_migration": "auto"}}`).Expect(t, http.StatusAccepted)
		b.Step()
		a.Step()
		b.Step()
		if s := showServer(t, a, id); s.Status != "PAUSED" || s.Host != "host-b" || s.Power != 3 {
			t.Fatalf("migrated paused server: %+v", s)
		}
		if ps, _ := b.App.Driver.PowerState(context.Background(), id); ps.String() != "paused" {
			t.Fatalf("guest on host-b is %v", ps)
		}
	})
}

// slowMigrations makes the fake driver's live migrations take long
// enough to be watched, forced and aborted.
func slowMigrations(c *app.Config) {
	c.Fake.Delays = map[string]time.Duration{"live_migration": 60 * time.Second}
}

// runningHosts are host-a and host-b with their agents running and slow
// live migrations.
func runningHosts(t *testing.T, database string) (a, b *apptest.Cloud) {
	a = apptest.New(t, apptest.Options{Database: database, Host: "host-a", Run: true, Configure: slowMigrations})
	b = apptest.New(t, apptest.Options{Database: database, Host: "host-b", Run: true, Clock: a.Clock, Configure: slowMigrations})
	return a, b
}

// waitFor polls cond (the agents run on their own) for at most 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startRunningMigration live-migrates a new server from host-a to
// host-b and waits until the copy runs with progress shown; it returns
// the server and the migration's path.
func startRunningMigration(t *testing.T, a *apptest.Cloud) (string, string) {
	t.Helper()
	id := createOn(a, "slow", "host-a")
	waitStatus(t, a, id, "ACTIVE")
	a.Admin.As(a.Admin.Token, "2.25").Do(http.MethodPost, "/v2.1/servers/"+id+"/action",
		`{"os-migrateLive": {"host": "host-b", "block_migration": "auto"}}`).Expect(t, http.StatusAccepted)
	v223 := a.Admin.As(a.Admin.Token, "2.23")
	var path string
	waitFor(t, "a running migration with progress", func() bool {
		list := v223.Do(http.MethodGet, "/v2.1/servers/"+id+"/migrations", nil).Expect(t, http.StatusOK).JSON(t)["migrations"].([]any)
		if len(list) != 1 {
			return false
		}
		m := list[0].(map[string]any)
		path = fmt.Sprintf("/v2.1/servers/%s/migrations/%v", id, m["id"])
		return m["status"] == "running" && m["memory_total_bytes"] != nil
	})
	return id, path
}

// TestLiveMigrationForceComplete: force_complete (2.22) ends a running
// migration at once; before it is running it is a 400.
func TestLiveMigrationForceComplete(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := runningHosts(t, database)
		id, path := startRunningMigration(t, a)
		a.Admin.As(a.Admin.Token, "2.21").Do(http.MethodPost, path+"/action", `{"force_complete": null}`).Expect(t, http.StatusNotFound)
		v222 := a.Admin.As(a.Admin.Token, "2.22")
		v222.Do(http.MethodPost, path+"/action", `{"force_complete": {}}`).Expect(t, http.StatusBadRequest)
		v222.Do(http.MethodPost, path+"/action", `{"force_complete": null}`).Expect(t, http.StatusAccepted)
		waitFor(t, "the server on host-b", func() bool {
			s := showServer(t, a, id)
			return s.Host == "host-b" && s.TaskState == nil && s.Status == "ACTIVE"
		})
		if st := lastMigration(t, a, id)["status"]; st != "completed" {
			t.Fatalf("migration %v, want completed", st)
		}
		waitFor(t, "the guest only on host-b", func() bool {
			return len(guests(t, a)) == 0 && slices.Equal(guests(t, b), []string{id})
		})
		r := v222.Do(http.MethodPost, path+"/action", `{"force_complete": null}`).Expect(t, http.StatusConflict)
		if !strings.Contains(string(r.Body), "task_state None") {
			t.Errorf("force_complete of an idle server: %s", r.Body)
		}
		if ev := actionEvents(t, a, id, "live_migration_force_complete"); !slices.Equal(ev, []string{"compute_live_migration_force_complete:Success"}) {
			t.Errorf("force complete events %v", ev)
		}
	})
}

// TestLiveMigrationAbort: DELETE (2.24) of a running migration cancels
// it; the server stays on host-a and host-b's prepared guest goes.
func TestLiveMigrationAbort(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := runningHosts(t, database)
		id, path := startRunningMigration(t, a)
		a.Admin.As(a.Admin.Token, "2.23").Do(http.MethodDelete, path, nil).Expect(t, http.StatusNotFound)
		a.Admin.As(a.Admin.Token, "2.24").Do(http.MethodDelete, path, nil).Expect(t, http.StatusAccepted)
		waitFor(t, "the migration cancelled", func() bool { return lastMigration(t, a, id)["status"] == "cancelled" })
		s := showServer(t, a, id)
		if s.Host != "host-a" || s.TaskState != nil || s.Status != "ACTIVE" {
			t.Fatalf("server after abort: %+v", s)
		}
		if ga, gb := guests(t, a), guests(t, b); !slices.Equal(ga, []string{id}) || len(gb) != 0 {
			t.Fatalf("guests after abort: host-a %v, host-b %v", ga, gb)
		}
		if ps, _ := a.App.Driver.PowerState(context.Background(), id); ps.String() != "running" {
			t.Fatalf("guest on host-a is %v", ps)
		}
	})
}

// TestLiveMigrationAbortQueued: a migration no host has started is
// cancelled at once from 2.65; before, only a running one may be.
func TestLiveMigrationAbortQueued(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		id := activeOn(t, a, "queued", "host-a")
		a.Admin.As(a.Admin.Token, "2.65").Do(http.MethodPost, "/v2.1/servers/"+id+"/action",
			`{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).Expect(t, http.StatusAccepted)
		m := lastMigration(t, a, id)
		path := fmt.Sprintf("/v2.1/servers/%s/migrations/%v", id, m["id"])
		r := a.Admin.As(a.Admin.Token, "2.64").Do(http.MethodDelete, path, nil).Expect(t, http.StatusBadRequest)
		want := fmt.Sprintf("Migration %v state of instance %s is queued. Cannot abort live migration while the migration is in this state.", m["id"], id)
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("abort at 2.64: %s", r.Body)
		}
		a.Admin.As(a.Admin.Token, "2.65").Do(http.MethodDelete, fmt.Sprintf("/v2.1/servers/%s/migrations/999", id), nil).Expect(t, http.StatusNotFound)
		a.Admin.As(a.Admin.Token, "2.65").Do(http.MethodDelete, path, nil).Expect(t, http.StatusAccepted)
		if st := lastMigration(t, a, id)["status"]; st != "cancelled" {
			t.Fatalf("migration %v, want cancelled", st)
		}
		if s := showServer(t, a, id); s.TaskState != nil || s.Host != "host-a" {
			t.Fatalf("server: %+v", s)
		}
		if got := b.Step(); len(got) != 0 {
			t.Fatalf("host-b ran %v after the abort", got)
		}
	})
}

// TestLiveMigrateRequests checks os-migrateLive's bodies per microversion
// and Nova's errors.
func TestLiveMigrateRequests(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, _ := twoHosts(t, database, false)
		id := activeOn(t, a, "req", "host-a")
		stopped := activeOn(t, a, "stopped", "host-a")
		a.Admin.Do(http.MethodPost, "/v2.1/servers/"+stopped+"/action", `{"os-stop": null}`).Expect(t, http.StatusAccepted)
		a.Step()
		path := "/v2.1/servers/" + id + "/action"
		for _, tc := range []struct {
			name, version, body string
			status              int
			msg                 string
		}{
			{"2.1 without disk_over_commit", "2.1", `{"os-migrateLive": {"host": null, "block_migration": false}}`, 400, "'disk_over_commit' is a required property"},
			{"2.1 auto", "2.1", `{"os-migrateLive": {"host": null, "block_migration": "auto", "disk_over_commit": false}}`, 400, "Invalid input for field/attribute block_migration"},
			{"2.1 without host", "2.1", `{"os-migrateLive": {"block_migration": false, "disk_over_commit": false}}`, 400, "'host' is a required property"},
			{"2.25 disk_over_commit", "2.25", `{"os-migrateLive": {"host": null, "block_migration": "auto", "disk_over_commit": false}}`, 400, "Additional properties are not allowed"},
			{"2.25 force", "2.25", `{"os-migrateLive": {"host": null, "block_migration": "auto", "force": false}}`, 400, "Additional properties are not allowed"},
			{"2.30 force without host", "2.30", `{"os-migrateLive": {"host": null, "block_migration": "auto", "force": true}}`, 400, "Can't force to a non-provided destination"},
			{"2.68 force", "2.68", `{"os-migrateLive": {"host": null, "block_migration": "auto", "force": false}}`, 400, "Additional properties are not allowed"},
			{"bad host name", "2.25", `{"os-migrateLive": {"host": "a b", "block_migration": "auto"}}`, 400, "Invalid input for field/attribute host"},
			{"unknown host", "2.25", `{"os-migrateLive": {"host": "nowhere", "block_migration": "auto"}}`, 400, "Compute host nowhere could not be found."},
			{"forced to its own host before 2.34", "2.1", `{"os-migrateLive": {"host": "host-a", "block_migration": false, "disk_over_commit": false}}`, 400,
				"Unable to migrate instance (" + id + ") to current host (host-a)."},
		} {
			r := a.Admin.As(a.Admin.Token, tc.version).Do(http.MethodPost, path, tc.body).Expect(t, tc.status)
			if !strings.Contains(string(r.Body), tc.msg) {
				t.Errorf("%s: %s, want %q", tc.name, r.Body, tc.msg)
			}
			if s := showServer(t, a, id); s.TaskState != nil || s.Status != "ACTIVE" || s.Host != "host-a" {
				t.Fatalf("%s: server left %+v", tc.name, s)
			}
		}
		r := a.Admin.As(a.Admin.Token, "2.25").Do(http.MethodPost, "/v2.1/servers/"+stopped+"/action",
			`{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).Expect(t, http.StatusConflict)
		if !strings.Contains(string(r.Body), "Cannot 'os-migrateLive' instance "+stopped+" while it is in vm_state stopped") {
			t.Errorf("stopped server: %s", r.Body)
		}
		a.Member.As(a.Member.Token, "2.25").Do(http.MethodPost, path, `{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).
			Expect(t, http.StatusNotFound) // another project's server
		a.Admin.As(a.Admin.Token, "2.25").Do(http.MethodPost, "/v2.1/servers/nope/action",
			`{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).Expect(t, http.StatusNotFound)

		// The conductor's failures: before 2.34 a 400, from 2.34 a 202;
		// either way the migration is in error and the server back.
		r = a.Admin.As(a.Admin.Token, "2.34").Do(http.MethodPost, path,
			`{"os-migrateLive": {"host": "host-a", "block_migration": "auto", "force": true}}`).Expect(t, http.StatusAccepted)
		if m := lastMigration(t, a, id); m["status"] != "error" || m["migration_type"] != "live-migration" {
			t.Errorf("failed async migration: %v", m)
		}
		if s := showServer(t, a, id); s.TaskState != nil || s.Status != "ACTIVE" {
			t.Fatalf("server after a failed async migration: %+v", s)
		}
		if ev := actionEvents(t, a, id, "live-migration"); !slices.Equal(ev, []string{"conductor_live_migrate_instance:Error"}) {
			t.Errorf("failed migration events %v", ev)
		}
	})
}

// TestLiveMigrateNoValidHost: with one host nothing else can take the
// server: a 400 before 2.34, a migration in error either way.
func TestLiveMigrateNoValidHost(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a := apptest.New(t, apptest.Options{Database: database, Host: "host-a"})
		id := activeOn(t, a, "alone", "host-a")
		r := a.Admin.Do(http.MethodPost, "/v2.1/servers/"+id+"/action",
			`{"os-migrateLive": {"host": null, "block_migration": false, "disk_over_commit": false}}`).Expect(t, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "No valid host was found. There are not enough hosts available.") {
			t.Errorf("no valid host: %s", r.Body)
		}
		a.Admin.As(a.Admin.Token, "2.34").Do(http.MethodPost, "/v2.1/servers/"+id+"/action",
			`{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).Expect(t, http.StatusAccepted)
		ms := migrationsOf(t, a, id)
		if len(ms) != 2 || ms[0]["status"] != "error" || ms[1]["status"] != "error" {
			t.Errorf("migrations: %v", ms)
		}
		if s := showServer(t, a, id); s.Status != "ACTIVE" || s.TaskState != nil {
			t.Errorf("server: %+v", s)
		}
	})
}

// downHost makes c's host down: the clock passes the service down time
// and only the other hosts heartbeat.
func downHost(t *testing.T, c *apptest.Cloud, up ...*apptest.Cloud) {
	t.Helper()
	c.Clock.Advance(scheduler.DefaultServiceDownTime + time.Second)
	for _, u := range up {
		if err := u.App.Hosts.Heartbeat(context.Background(), u.App.Agent.Host(), u.App.Agent.Lease(), u.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEvacuate: evacuate is refused while the host is up; with host-a
// down a server is rebuilt on host-b (named) and another where the
// scheduler puts it (2.95: stopped); when host-a comes back its agent
// destroys their old guests and completes the evacuations.
func TestEvacuate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		dataDir := a.App.Config.DataDir
		named, picked := activeOn(t, a, "named", "host-a"), activeOn(t, a, "picked", "host-a")
		r := a.Admin.As(a.Admin.Token, "2.14").Do(http.MethodPost, "/v2.1/servers/"+named+"/action",
			`{"evacuate": {"host": "host-b"}}`).Expect(t, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "Compute service of host-a is still in use.") {
			t.Errorf("evacuate from a live host: %s", r.Body)
		}
		downHost(t, a, b)

		r = a.Admin.Do(http.MethodPost, "/v2.1/servers/"+named+"/action",
			`{"evacuate": {"host": "host-b", "onSharedStorage": false, "adminPass": "s3cret"}}`).Expect(t, http.StatusOK)
		if got := r.JSON(t); got["adminPass"] != "s3cret" {
			t.Errorf("evacuate at 2.1 answered %v", got)
		}
		if s := showServer(t, a, named); s.TaskState != "rebuilding" || s.Host != "host-b" {
			t.Fatalf("accepted evacuation: %+v", s)
		}
		if m := lastMigration(t, a, named); m["migration_type"] != "evacuation" || m["status"] != "accepted" ||
			m["source_compute"] != "host-a" || m["dest_compute"] != "host-b" {
			t.Fatalf("evacuation: %v", m)
		}
		r = a.Admin.As(a.Admin.Token, "2.95").Do(http.MethodPost, "/v2.1/servers/"+picked+"/action", `{"evacuate": {}}`).Expect(t, http.StatusOK)
		if len(r.Body) != 0 {
			t.Errorf("evacuate at 2.95 answered %s", r.Body)
		}
		if got := b.Step(); !slices.Equal(got, []string{compute.TaskEvacuate, compute.TaskEvacuate}) {
			t.Fatalf("host-b ran %v, want two evacuations", got)
		}
		if s := showServer(t, a, named); s.Status != "ACTIVE" || s.Host != "host-b" || s.TaskState != nil {
			t.Fatalf("evacuated server: %+v", s)
		}
		if s := showServer(t, a, picked); s.Status != "SHUTOFF" || s.Host != "host-b" || s.Power != 4 {
			t.Fatalf("server evacuated at 2.95: %+v", s)
		}
		for _, id := range []string{named, picked} {
			if st := lastMigration(t, a, id)["status"]; st != "done" {
				t.Fatalf("evacuation of %s: %v, want done", id, st)
			}
		}
		if gb := guests(t, b); len(gb) != 2 {
			t.Fatalf("host-b guests: %v", gb)
		}
		want := []string{"compute_rebuild_instance:Success", "conductor_rebuild_server:Success"}
		if ev := actionEvents(t, a, named, "evacuate"); !slices.Equal(ev, want) {
			t.Errorf("evacuate events %v, want %v", ev, want)
		}
		if ga := guests(t, a); len(ga) != 2 {
			t.Fatalf("host-a (down) keeps %v", ga)
		}

		// host-a comes back: its agent destroys what was evacuated.
		a.Close()
		back := apptest.New(t, apptest.Options{Database: database, Host: "host-a", DataDir: dataDir, Clock: a.Clock, NoAuth: true})
		if ga := guests(t, back); len(ga) != 0 {
			t.Fatalf("host-a back runs %v", ga)
		}
		for _, id := range []string{named, picked} {
			if st := lastMigration(t, back, id)["status"]; st != "completed" {
				t.Fatalf("evacuation of %s after host-a's return: %v, want completed", id, st)
			}
		}
		if gb := guests(t, b); len(gb) != 2 {
			t.Fatalf("host-b guests: %v", gb)
		}
	})
}

// TestEvacuateRequests checks evacuate's bodies per microversion and
// Nova's errors.
func TestEvacuateRequests(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		id := activeOn(t, a, "ev", "host-a")
		downHost(t, a, b)
		path := "/v2.1/servers/" + id + "/action"
		for _, tc := range []struct {
			name, version, body string
			status              int
			msg                 string
		}{
			{"2.1 without onSharedStorage", "2.1", `{"evacuate": {"host": "host-b"}}`, 400, "'onSharedStorage' is a required property"},
			{"2.1 password on shared storage", "2.1", `{"evacuate": {"onSharedStorage": true, "adminPass": "x"}}`, 400, "admin password can't be changed on existing disk"},
			{"2.14 onSharedStorage", "2.14", `{"evacuate": {"onSharedStorage": false}}`, 400, "Additional properties are not allowed"},
			{"2.14 force", "2.14", `{"evacuate": {"force": false}}`, 400, "Additional properties are not allowed"},
			{"2.29 force without host", "2.29", `{"evacuate": {"force": true}}`, 400, "Can't force to a non-provided destination"},
			{"2.68 force", "2.68", `{"evacuate": {"host": "host-b", "force": false}}`, 400, "Additional properties are not allowed"},
			{"unknown host", "2.14", `{"evacuate": {"host": "nowhere"}}`, 404, "Compute host nowhere not found."},
			{"own host", "2.14", `{"evacuate": {"host": "host-a"}}`, 400, "The target host can't be the same one."},
			{"null host", "2.14", `{"evacuate": {"host": null}}`, 400, "Invalid input for field/attribute host"},
		} {
			r := a.Admin.As(a.Admin.Token, tc.version).Do(http.MethodPost, path, tc.body).Expect(t, tc.status)
			if !strings.Contains(string(r.Body), tc.msg) {
				t.Errorf("%s: %s, want %q", tc.name, r.Body, tc.msg)
			}
		}
		a.Member.As(a.Member.Token, "2.14").Do(http.MethodPost, path, `{"evacuate": {}}`).Expect(t, http.StatusNotFound)
		// onSharedStorage true: host-b has no such storage, so the
		// rebuild there fails as Nova's InvalidSharedStorage.
		r := a.Admin.Do(http.MethodPost, path, `{"evacuate": {"onSharedStorage": "True"}}`).Expect(t, http.StatusOK)
		if got := r.JSON(t); got["adminPass"] != nil {
			t.Errorf("evacuate on shared storage answered %v", got)
		}
		b.Step()
		if s := showServer(t, a, id); s.Status != "ERROR" || s.Host != "host-b" {
			t.Fatalf("server after a failed evacuation: %+v", s)
		}
		if st := lastMigration(t, a, id)["status"]; st != "failed" {
			t.Fatalf("failed evacuation: %v", st)
		}
		// An ERROR server may be evacuated again (here: nowhere to go,
		// every host down).
		downHost(t, b)
		a.Admin.As(a.Admin.Token, "2.14").Do(http.MethodPost, path, `{"evacuate": {}}`).Expect(t, http.StatusOK)
		if m := lastMigration(t, a, id); m["status"] != "error" {
			t.Fatalf("evacuation with no host: %v", m)
		}
		if ev := actionEvents(t, a, id, "evacuate"); !slices.Contains(ev, "conductor_rebuild_server:Error") {
			t.Errorf("evacuate events %v", ev)
		}
	})
}

// TestLiveMigrationDeleted: a server deleted between the phases of its
// live migration leaves no guest on either host, no claim and the
// migration in error.
func TestLiveMigrationDeleted(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		id := activeOn(t, a, "doomed", "host-a")
		a.Admin.As(a.Admin.Token, "2.25").Do(http.MethodPost, "/v2.1/servers/"+id+"/action",
			`{"os-migrateLive": {"host": "host-b", "block_migration": "auto"}}`).Expect(t, http.StatusAccepted)
		b.Step() // prepared on host-b
		a.Admin.Do(http.MethodDelete, "/v2.1/servers/"+id, nil).Expect(t, http.StatusNoContent)
		a.Step()
		b.Step()
		if a.Server(id) != nil {
			t.Fatal("server not deleted")
		}
		if ga, gb := guests(t, a), guests(t, b); len(ga)+len(gb) != 0 {
			t.Fatalf("guests left: host-a %v, host-b %v", ga, gb)
		}
		if st := lastMigration(t, a, id)["status"]; st != "error" {
			t.Fatalf("migration of the deleted server: %v", st)
		}
		hs := a.Admin.As(a.Admin.Token, "2.87").Do(http.MethodGet, "/v2.1/os-hypervisors/detail", nil).Expect(t, http.StatusOK).JSON(t)
		for _, h := range hs["hypervisors"].([]any) {
			if h := h.(map[string]any); h["memory_mb_used"] != float64(0) || h["running_vms"] != float64(0) {
				t.Errorf("hypervisor %v uses %v MB, runs %v", h["hypervisor_hostname"], h["memory_mb_used"], h["running_vms"])
			}
		}
	})
}

// TestLiveMigrateHostsDown: the conductor's checks of the hosts: a
// forced target that is down, and no other host up for the scheduler.
func TestLiveMigrateHostsDown(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		id := activeOn(t, a, "stay", "host-a")
		downHost(t, b, a)
		path := "/v2.1/servers/" + id + "/action"
		r := a.Admin.Do(http.MethodPost, path, `{"os-migrateLive": {"host": "host-b", "block_migration": false, "disk_over_commit": false}}`).
			Expect(t, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "Compute service of host-b is unavailable at this time.") {
			t.Errorf("forced to a host that is down: %s", r.Body)
		}
		r = a.Admin.As(a.Admin.Token, "2.25").Do(http.MethodPost, path, `{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).
			Expect(t, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "No valid host was found.") {
			t.Errorf("no host up: %s", r.Body)
		}
		downHost(t, a, b) // now host-a, the source, is down
		r = a.Admin.As(a.Admin.Token, "2.25").Do(http.MethodPost, path, `{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).
			Expect(t, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "Compute service of host-a is unavailable at this time.") {
			t.Errorf("source down: %s", r.Body)
		}
		if s := showServer(t, a, id); s.Status != "ACTIVE" || s.TaskState != nil {
			t.Errorf("server: %+v", s)
		}
	})
}

// TestLiveMigrateLocked: a project manager may live-migrate (the
// scheduler's pick) but not a server an admin locked (409), and not to
// a named host (migrate_live:host is admins').
func TestLiveMigrateLocked(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a := apptest.New(t, apptest.Options{Database: database, Host: "host-a", NoAuth: true})
		manager := apitest.Over(t, a.App.Handler).As("manager:p1", "2.37")
		id := a.CreateServer(manager, "managed", map[string]any{"networks": "none"})
		a.Step()
		path := "/v2.1/servers/" + id + "/action"
		r := manager.Do(http.MethodPost, path, `{"os-migrateLive": {"host": "host-a", "block_migration": "auto"}}`).Expect(t, http.StatusForbidden)
		if !strings.Contains(string(r.Body), "os_compute_api:os-migrate-server:migrate_live:host") {
			t.Errorf("manager naming a host: %s", r.Body)
		}
		a.Admin.Do(http.MethodPost, path, `{"lock": null}`).Expect(t, http.StatusAccepted)
		r = manager.Do(http.MethodPost, path, `{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).Expect(t, http.StatusConflict)
		if !strings.Contains(string(r.Body), "Instance "+id+" is locked") {
			t.Errorf("locked server: %s", r.Body)
		}
	})
}

// TestMovesKeepAntiAffinity: the scheduler places a live migration and
// an evacuation as it places a create, so a member of an anti-affinity
// group never joins another member, even on the host it would prefer
// (host-b, with the most free memory).
func TestMovesKeepAntiAffinity(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a := apptest.New(t, apptest.Options{Database: database, Host: "host-a"})
		b := apptest.New(t, apptest.Options{Database: database, Host: "host-b", Clock: a.Clock,
			Configure: func(cfg *app.Config) { cfg.HostMemoryMB, cfg.HostVCPUs, cfg.HostDiskGB = 4<<20, 4096, 1<<20 }})
		c := apptest.New(t, apptest.Options{Database: database, Host: "host-c", Clock: a.Clock})
		admin := a.Admin.As(a.Admin.Token, "2.74")
		group := admin.Do(http.MethodPost, "/v2.1/os-server-groups", `{"server_group": {"name": "apart", "policy": "anti-affinity"}}`).
			Expect(t, http.StatusOK).JSON(t)["server_group"].(map[string]any)["id"].(string)
		member := func(name, host string, cloud *apptest.Cloud) string {
			body := fmt.Sprintf(`{"server": {"name": %q, "imageRef": %q, "flavorRef": "1", "networks": "none", "host": %q},
				"os:scheduler_hints": {"group": %q}}`, name, a.ImageID, host, group)
			id := admin.Do(http.MethodPost, "/v2.1/servers", body).Expect(t, http.StatusAccepted).JSON(t)["server"].(map[string]any)["id"].(string)
			cloud.Step()
			if s := showServer(t, a, id); s.Status != "ACTIVE" || s.Host != host {
				t.Fatalf("member %s: %+v, want ACTIVE on %s", name, s, host)
			}
			return id
		}
		moving := member("moving", "host-a", a)
		member("staying", "host-b", b)

		a.Admin.As(a.Admin.Token, "2.30").Do(http.MethodPost, "/v2.1/servers/"+moving+"/action",
			`{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).Expect(t, http.StatusAccepted)
		if m := lastMigration(t, a, moving); m["dest_compute"] != "host-c" {
			t.Fatalf("live migration of an anti-affinity member went to %v, want host-c", m["dest_compute"])
		}
		c.Step()
		a.Step()
		c.Step()
		if s := showServer(t, a, moving); s.Host != "host-c" || s.Status != "ACTIVE" {
			t.Fatalf("live-migrated member: %+v", s)
		}

		// host-c goes down: its member has nowhere to go but host-a.
		downHost(t, c, a, b)
		a.Admin.As(a.Admin.Token, "2.29").Do(http.MethodPost, "/v2.1/servers/"+moving+"/action",
			`{"evacuate": {}}`).Expect(t, http.StatusOK)
		if m := lastMigration(t, a, moving); m["dest_compute"] != "host-a" {
			t.Fatalf("evacuation of an anti-affinity member went to %v, want host-a", m["dest_compute"])
		}
	})
}

// TestEvacuateSamples sends Nova's evacuate samples (the find-host
// requests, "onSharedStorage": "False" as a string as Nova's boolean
// parameter takes it) and compares the answers with Nova's.
func TestEvacuateSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		old, v214 := activeOn(t, a, "old", "host-a"), activeOn(t, a, "v214", "host-a")
		downHost(t, a, b)
		r := a.Admin.Do(http.MethodPost, "/v2.1/servers/"+old+"/action",
			sampleBody(t, "nova/api_samples/os-evacuate/server-evacuate-find-host-req.json")).Expect(t, http.StatusOK)
		apisamples.Assert(t, "nova/api_samples/os-evacuate/server-evacuate-resp.json", r.Body, apisamples.Options{})
		if got := r.JSON(t)["adminPass"]; got != "MySecretPass" {
			t.Errorf("evacuate at 2.1 answered adminPass %v, want the one asked for", got)
		}
		r = a.Admin.As(a.Admin.Token, "2.14").Do(http.MethodPost, "/v2.1/servers/"+v214+"/action",
			sampleBody(t, "nova/api_samples/os-evacuate/v2.14/server-evacuate-find-host-req.json")).Expect(t, http.StatusOK)
		if len(r.Body) != 0 && string(r.Body) != "null" {
			t.Errorf("evacuate at 2.14 answered %q, want no body", r.Body)
		}
		for _, id := range []string{old, v214} {
			if s := showServer(t, a, id); s.Host != "host-b" {
				t.Errorf("evacuated server %s on %q, want host-b", id, s.Host)
			}
		}
	})
}

// sampleBody is a Nova API sample request as a body to send.
func sampleBody(t *testing.T, rel string) string {
	t.Helper()
	b, err := json.Marshal(apisamples.Load(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
