package app_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/virt"
)

// setDisabled disables or enables host's compute service.
func setDisabled(t *testing.T, c *apptest.Cloud, host string, disabled bool) {
	t.Helper()
	if _, err := c.App.Hosts.UpdateService(context.Background(), host, hosts.ServiceChange{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
}

// TestForcedMovesSkipFilters: a forced destination bypasses the
// scheduler's filters as in Nova (a live migration's conductor checks
// only that the host is up and has the memory; a forced evacuate only
// claims the host), so a disabled host takes it; named without force,
// the host is a hint the filters refuse.
func TestForcedMovesSkipFilters(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		setDisabled(t, a, "host-b", true)
		live := activeOn(t, a, "live", "host-a")
		path := "/v2.1/servers/" + live + "/action"
		for _, tc := range []struct {
			name, version, body string
			status              int
			migration           string
		}{
			{"2.30 hint", "2.30", `{"os-migrateLive": {"host": "host-b", "block_migration": "auto"}}`, 400, "error"},
			{"2.68 hint", "2.68", `{"os-migrateLive": {"host": "host-b", "block_migration": "auto"}}`, 202, "error"},
			{"2.30 forced", "2.30", `{"os-migrateLive": {"host": "host-b", "block_migration": "auto", "force": true}}`, 202, "queued"},
			{"2.1 host", "2.1", `{"os-migrateLive": {"host": "host-b", "block_migration": false, "disk_over_commit": false}}`, 202, "queued"},
		} {
			r := a.Admin.As(a.Admin.Token, tc.version).Do(http.MethodPost, path, tc.body).Expect(t, tc.status)
			m := lastMigration(t, a, live)
			if m["status"] != tc.migration {
				t.Fatalf("%s: migration %v (%s), want %s", tc.name, m["status"], r.Body, tc.migration)
			}
			if tc.migration == "queued" {
				if m["dest_compute"] != "host-b" {
					t.Fatalf("%s: migration to %v", tc.name, m["dest_compute"])
				}
				// Cancelled while queued (2.65), for the next row.
				a.Admin.As(a.Admin.Token, "2.65").Do(http.MethodDelete,
					"/v2.1/servers/"+live+"/migrations/"+jsonID(m["id"]), nil).Expect(t, http.StatusAccepted)
			}
		}

		hinted, forced, old := activeOn(t, a, "hinted", "host-a"), activeOn(t, a, "forced", "host-a"), activeOn(t, a, "old", "host-a")
		downHost(t, a, b)
		for _, tc := range []struct {
			name, version, id, body string
			status                  string
			host                    string
		}{
			{"2.29 hint", "2.29", hinted, `{"evacuate": {"host": "host-b", "force": false}}`, "ERROR", "host-a"},
			{"2.68 hint", "2.68", hinted, `{"evacuate": {"host": "host-b"}}`, "ERROR", "host-a"},
			{"2.29 forced", "2.29", forced, `{"evacuate": {"host": "host-b", "force": true}}`, "REBUILD", "host-b"},
			{"2.14 host", "2.14", old, `{"evacuate": {"host": "host-b"}}`, "REBUILD", "host-b"},
		} {
			a.Admin.As(a.Admin.Token, tc.version).Do(http.MethodPost, "/v2.1/servers/"+tc.id+"/action", tc.body).Expect(t, http.StatusOK)
			if s := showServer(t, a, tc.id); s.Status != tc.status || s.Host != tc.host {
				t.Fatalf("%s: server %+v, want %s on %s", tc.name, s, tc.status, tc.host)
			}
		}
		b.Step()
		for _, id := range []string{forced, old} {
			if s := showServer(t, a, id); s.Status != "ACTIVE" || s.Host != "host-b" {
				t.Fatalf("forced evacuation: %+v", s)
			}
			if m := lastMigration(t, a, id); m["status"] != "done" {
				t.Fatalf("forced evacuation: migration %v", m["status"])
			}
		}
	})
}

// jsonID is a migration id as JSON decoded it, for a path.
func jsonID(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}

// claimThenDie marks server id's pending task of kind on c's host
// running (its agent claimed it) and closes c for good: the host died
// in the middle of it. It returns c's data dir for a later return.
func claimThenDie(t *testing.T, c *apptest.Cloud, id, kind string) string {
	t.Helper()
	res, err := c.App.DB.ExecContext(context.Background(), `UPDATE tasks SET state = 'running', attempts = 1
		WHERE instance_id = ? AND kind = ? AND state = 'pending'`, id, kind)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s has no pending %s task", id, kind)
	}
	dir := c.App.Config.DataDir
	c.Close()
	return dir
}

// TestEvacuateAfterDeadHostMidMove: a host dies in the middle of a move
// of a server and stays down. As in Nova, an admin resets the server's
// state and evacuates it: the move's migration ends in error, the claim
// it held on the other host goes, the server is rebuilt there; when the
// dead host comes back its interrupted step does not run again and its
// copy of the guest is destroyed.
func TestEvacuateAfterDeadHostMidMove(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// start begins the move on a (host-a) and b (host-b) and
		// returns the kind of host-a's step it dies in.
		start func(t *testing.T, a, b *apptest.Cloud, id string) string
	}{
		{"cold migration", func(t *testing.T, a, b *apptest.Cloud, id string) string {
			serverAction(t, a, "", id, map[string]any{"migrate": nil}, http.StatusAccepted)
			return compute.TaskResize
		}},
		{"resize", func(t *testing.T, a, b *apptest.Cloud, id string) string {
			serverAction(t, a, "2.56", id, map[string]any{"resize": map[string]any{"flavorRef": "2"}}, http.StatusAccepted)
			return compute.TaskResize
		}},
		{"live migration", func(t *testing.T, a, b *apptest.Cloud, id string) string {
			serverAction(t, a, "2.30", id, map[string]any{"os-migrateLive": map[string]any{"host": nil, "block_migration": "auto"}},
				http.StatusAccepted)
			if got := b.Step(); !slices.Equal(got, []string{compute.TaskLiveMigration}) {
				t.Fatalf("host-b ran %v, want the prepare", got)
			}
			return compute.TaskLiveMigration
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			apptest.Each(t, func(t *testing.T, database string) {
				a, b := movingHosts(t, database, func(c *app.Config) { c.Lifecycle.NoResizeToSameHost = true })
				id := startOnA(t, a)
				kind := tc.start(t, a, b, id)
				moving := lastMigration(t, b, id)
				dir := claimThenDie(t, a, id, kind)
				downHost(t, a, b)

				serverAction(t, b, "", id, map[string]any{"os-resetState": map[string]any{"state": "error"}}, http.StatusAccepted)
				serverAction(t, b, "2.29", id, map[string]any{"evacuate": map[string]any{}}, http.StatusOK)
				if got := b.Step(); !slices.Equal(got, []string{compute.TaskEvacuate}) {
					t.Fatalf("host-b ran %v, want the evacuation alone", got)
				}
				check := func(when, evacuation string) {
					t.Helper()
					if s := showServer(t, b, id); s.Status != "ACTIVE" || s.Host != "host-b" || s.TaskState != nil {
						t.Fatalf("%s: server %+v, want ACTIVE on host-b", when, s)
					}
					for _, m := range migrationsOf(t, b, id) {
						want := map[string]string{"evacuation": evacuation, moving["migration_type"].(string): "error"}[m["migration_type"].(string)]
						if m["id"] == moving["id"] && m["status"] != "error" || m["id"] != moving["id"] && m["status"] != want {
							t.Errorf("%s: %v migration %v is %v", when, m["migration_type"], m["id"], m["status"])
						}
					}
					// host-b holds the server's flavor (1: 1 vCPU, 512 MB) only.
					checkUsage(t, b, map[string][2]int{"host-a": {0, 0}, "host-b": {1, 512}})
					if gb := guests(t, b); !slices.Equal(gb, []string{id}) || powerOf(t, b, id) != virt.PowerRunning {
						t.Fatalf("%s: host-b runs %v", when, gb)
					}
				}
				check("evacuated", "done")

				// host-a comes back.
				back := apptest.New(t, apptest.Options{Database: database, Host: "host-a", DataDir: dir, HostEndpoint: true, Clock: b.Clock,
					Configure: func(c *app.Config) { c.Lifecycle.NoResizeToSameHost = true }})
				if got := back.Step(); len(got) != 0 {
					t.Fatalf("host-a back ran %v", got)
				}
				if got := b.Step(); len(got) != 0 {
					t.Fatalf("host-b ran %v after host-a's return", got)
				}
				if ga := guests(t, back); len(ga) != 0 {
					t.Fatalf("host-a back keeps %v", ga)
				}
				check("host-a back", "completed")
			})
		})
	}
}

// TestResetStateDeadLiveMigrationDestination: the destination of a live
// migration dies while it prepares and stays down. An admin's reset of
// the server ends the migration in error and gives the destination's
// claim back, so the server, still on its source, works again; when the
// destination returns it rolls back what it prepared.
func TestResetStateDeadLiveMigrationDestination(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := twoHosts(t, database, false)
		id := activeOn(t, a, "stuck", "host-a")
		serverAction(t, a, "2.30", id, map[string]any{"os-migrateLive": map[string]any{"host": nil, "block_migration": "auto"}},
			http.StatusAccepted)
		dir := claimThenDie(t, b, id, compute.TaskLiveMigration)
		downHost(t, b, a)

		serverAction(t, a, "", id, map[string]any{"os-resetState": map[string]any{"state": "active"}}, http.StatusAccepted)
		if m := lastMigration(t, a, id); m["status"] != "error" {
			t.Fatalf("migration after the reset: %v", m["status"])
		}
		checkUsage(t, a, map[string][2]int{"host-a": {1, 512}, "host-b": {0, 0}})
		serverAction(t, a, "", id, map[string]any{"os-stop": nil}, http.StatusAccepted)
		if got := a.Step(); len(got) != 1 {
			t.Fatalf("host-a ran %v, want the stop", got)
		}
		if s := showServer(t, a, id); s.Status != "SHUTOFF" || s.Host != "host-a" {
			t.Fatalf("server after the reset and a stop: %+v", s)
		}

		back := apptest.New(t, apptest.Options{Database: database, Host: "host-b", DataDir: dir, Clock: a.Clock})
		if got := back.Step(); !slices.Equal(got, []string{compute.TaskLiveMigration}) {
			t.Fatalf("host-b back ran %v, want the rollback", got)
		}
		if gb := guests(t, back); len(gb) != 0 {
			t.Fatalf("host-b back keeps %v", gb)
		}
		if s := showServer(t, a, id); s.Status != "SHUTOFF" || s.Host != "host-a" || s.TaskState != nil {
			t.Fatalf("server after host-b's return: %+v", s)
		}
		if m := lastMigration(t, a, id); m["status"] != "error" {
			t.Fatalf("migration after host-b's return: %v", m["status"])
		}
		checkUsage(t, a, map[string][2]int{"host-a": {1, 512}, "host-b": {0, 0}})
	})
}
