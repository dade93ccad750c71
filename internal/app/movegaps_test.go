package app_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
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

// attachedVolume makes a 1 GB volume and attaches it to server id on
// host-a (c), returning the volume's id.
func attachedVolume(t *testing.T, c *apptest.Cloud, id string) string {
	t.Helper()
	vol := c.Admin.Do(http.MethodPost, "/volume/v3/volumes", `{"volume": {"size": 1, "name": "data"}}`).
		Expect(t, http.StatusAccepted).JSON(t)["volume"].(map[string]any)["id"].(string)
	if _, err := c.App.VolumeWorker.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Admin.Do(http.MethodPost, "/v2.1/servers/"+id+"/os-volume_attachments",
		`{"volumeAttachment": {"volumeId": "`+vol+`"}}`).Expect(t, http.StatusOK)
	c.Step()
	checkVolumeOn(t, c, c, vol, id, "host-a")
	return vol
}

// checkVolumeOn checks that volume vol is in-use with one attachment, to
// server id, connected from host, whose guest (on guestHost's
// hypervisor) has it.
func checkVolumeOn(t *testing.T, c, guestHost *apptest.Cloud, vol, id, host string) {
	t.Helper()
	v := c.Admin.Do(http.MethodGet, "/volume/v3/volumes/"+vol, nil).Expect(t, http.StatusOK).JSON(t)["volume"].(map[string]any)
	as, _ := v["attachments"].([]any)
	if v["status"] != "in-use" || len(as) != 1 {
		t.Fatalf("volume %s: %v with attachments %v, want in-use with one", vol, v["status"], as)
	}
	if a := as[0].(map[string]any); a["host_name"] != host || a["server_id"] != id {
		t.Fatalf("volume %s attached to %v from %v, want %s from %s", vol, a["server_id"], a["host_name"], id, host)
	}
	in, err := guestHost.App.Driver.(*fake.Driver).Inspect(id)
	if err != nil || !slices.Contains(in.Volumes, vol) {
		t.Fatalf("guest %s on %s has volumes %v (%v), want %s", id, guestHost.App.Agent.Host(), in.Volumes, err, vol)
	}
}

// TestMovesMoveVolumeConnections: a server with a volume moved to
// another host has it connected from there and no longer from its old
// host (Nova's _terminate_volume_connections on the host it leaves,
// _update_volume_attachments on the one it arrives on), for a cold
// migration, a resize reverted and a live migration.
func TestMovesMoveVolumeConnections(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := movingHosts(t, database, func(c *app.Config) { c.Lifecycle.NoResizeToSameHost = true })

		cold := startOnA(t, a)
		vol := attachedVolume(t, a, cold)
		serverAction(t, a, "", cold, map[string]any{"migrate": nil}, http.StatusAccepted)
		moveToB(t, a, b, cold)
		checkVolumeOn(t, a, b, vol, cold, "host-b")
		serverAction(t, a, "", cold, map[string]any{"confirmResize": nil}, http.StatusNoContent)
		a.Step()
		checkVolumeOn(t, a, b, vol, cold, "host-b")

		reverted := startOnA(t, a)
		vol = attachedVolume(t, a, reverted)
		serverAction(t, a, "", reverted, map[string]any{"resize": map[string]any{"flavorRef": "2"}}, http.StatusAccepted)
		moveToB(t, a, b, reverted)
		checkVolumeOn(t, a, b, vol, reverted, "host-b")
		serverAction(t, a, "", reverted, map[string]any{"revertResize": nil}, http.StatusAccepted)
		b.Step()
		a.Step()
		if s := a.Server(reverted); s.Status != "ACTIVE" || s.Host != "host-a" {
			t.Fatalf("reverted: %s on %s", s.Status, s.Host)
		}
		checkVolumeOn(t, a, a, vol, reverted, "host-a")

		live := startOnA(t, a)
		vol = attachedVolume(t, a, live)
		serverAction(t, a, "2.30", live, map[string]any{"os-migrateLive": map[string]any{"host": nil, "block_migration": "auto"}},
			http.StatusAccepted)
		b.Step()
		a.Step()
		b.Step()
		if s := a.Server(live); s.Status != "ACTIVE" || s.Host != "host-b" {
			t.Fatalf("live-migrated: %s on %s", s.Status, s.Host)
		}
		checkVolumeOn(t, a, b, vol, live, "host-b")
	})
}

// TestMoveMigrationSamples drives live migration, force_complete and
// abort with Nova's sample requests (server-migrations v2.22, v2.24) and
// compares os-migrations (2.23, 2.80) and /servers/{id}/migrations (2.23,
// 2.80) holding an evacuation, a running, a completed, a cancelled and a
// failed live migration with Nova's samples.
func TestMoveMigrationSamples(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := runningHosts(t, database)
		c := apptest.New(t, apptest.Options{Database: database, Host: "host-c", Clock: a.Clock})
		evacuated := createOn(c, "evacuated", "host-c")
		c.Step()
		downHost(t, c, a, b)
		serverAction(t, a, "2.29", evacuated, map[string]any{"evacuate": map[string]any{"host": "host-a", "force": true}}, http.StatusOK)
		waitFor(t, "the evacuation done", func() bool { return lastMigration(t, a, evacuated)["status"] == "done" })
		// A live migration the conductor refuses (to its own host) ends in error.
		serverAction(t, a, "2.30", evacuated, map[string]any{"os-migrateLive": map[string]any{"host": "host-a", "block_migration": "auto",
			"force": true}}, http.StatusBadRequest)

		// Started with the 2.24 sample (its host is host-b here), aborted.
		aborted := createOn(a, "aborted", "host-a")
		waitStatus(t, a, aborted, "ACTIVE")
		body := apisamples.Load(t, "nova/api_samples/server-migrations/v2.24/live-migrate-server.json").(map[string]any)
		body["os-migrateLive"].(map[string]any)["host"] = "host-b"
		serverAction(t, a, "2.24", aborted, body, http.StatusAccepted)
		path := runningMigrationPath(t, a, aborted)
		a.Admin.As(a.Admin.Token, "2.24").Do(http.MethodDelete, path, nil).Expect(t, http.StatusAccepted)
		waitFor(t, "the migration cancelled", func() bool { return lastMigration(t, a, aborted)["status"] == "cancelled" })

		// Forced to complete with the 2.22 sample, after the lists.
		forced, path := startRunningMigration(t, a)
		for _, s := range []struct{ version, path, sample string }{
			{"2.23", "/v2.1/os-migrations", "os-migrations/v2.23/migrations-get.json"},
			{"2.80", "/v2.1/os-migrations", "os-migrations/v2.80/migrations-get.json"},
			{"2.23", "/v2.1/servers/" + forced + "/migrations", "server-migrations/v2.23/migrations-index.json"},
			{"2.80", "/v2.1/servers/" + forced + "/migrations", "server-migrations/v2.80/migrations-index.json"},
			{"2.23", path, "server-migrations/v2.23/migrations-get.json"},
		} {
			r := a.Admin.As(a.Admin.Token, s.version).Do(http.MethodGet, s.path, nil).Expect(t, http.StatusOK)
			// Links show on the in-progress live migrations only.
			links := []string{"migrations[].links"}
			apisamples.Assert(t, "nova/api_samples/"+s.sample, r.Body, apisamples.Options{Optional: links, Extra: links})
		}
		all := a.Admin.As(a.Admin.Token, "2.80").Do(http.MethodGet, "/v2.1/os-migrations", nil).Expect(t, http.StatusOK).JSON(t)
		seen := map[string]bool{}
		for _, m := range all["migrations"].([]any) {
			m := m.(map[string]any)
			seen[m["migration_type"].(string)+" "+m["status"].(string)] = true
		}
		for _, want := range []string{"evacuation done", "live-migration error", "live-migration cancelled", "live-migration running"} {
			if !seen[want] {
				t.Errorf("os-migrations lacks a %s migration: %v", want, seen)
			}
		}
		a.Admin.As(a.Admin.Token, "2.22").Do(http.MethodPost, path+"/action",
			sampleBody(t, "nova/api_samples/server-migrations/v2.22/force_complete.json")).Expect(t, http.StatusAccepted)
		waitFor(t, "the forced migration completed", func() bool { return lastMigration(t, a, forced)["status"] == "completed" })
		waitFor(t, "the guest on host-b", func() bool { return slices.Contains(guests(t, b), forced) })
	})
}

// runningMigrationPath waits until server id's live migration runs and
// returns its path.
func runningMigrationPath(t *testing.T, c *apptest.Cloud, id string) string {
	t.Helper()
	var path string
	waitFor(t, "a running migration", func() bool {
		m := lastMigration(t, c, id)
		path = "/v2.1/servers/" + id + "/migrations/" + jsonID(m["id"])
		return m["status"] == "running"
	})
	return path
}

// TestLiveMigrateHypervisorCompatibility: as Nova's
// _check_compatible_with_source_hypervisor, a forced destination of
// another hypervisor type or an older version fails the migration (400
// before 2.34) and the scheduler passes such a host over.
func TestLiveMigrateHypervisorCompatibility(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, _ := twoHosts(t, database, false)
		id := activeOn(t, a, "picky", "host-a")
		path := "/v2.1/servers/" + id + "/action"
		for _, tc := range []struct{ name, change, msg string }{
			{"older", `UPDATE compute_hosts SET hypervisor_version = hypervisor_version - 1 WHERE hostname = 'host-b'`,
				"The instance requires a newer hypervisor version than has been provided."},
			{"other type", `UPDATE compute_hosts SET hypervisor_version = hypervisor_version + 1, hypervisor_type = 'other'
				WHERE hostname = 'host-b'`, "The supplied hypervisor type of is invalid."},
		} {
			if _, err := a.App.DB.ExecContext(context.Background(), tc.change); err != nil {
				t.Fatal(err)
			}
			r := a.Admin.As(a.Admin.Token, "2.30").Do(http.MethodPost, path,
				`{"os-migrateLive": {"host": "host-b", "block_migration": "auto", "force": true}}`).Expect(t, http.StatusBadRequest)
			if !strings.Contains(string(r.Body), tc.msg) {
				t.Errorf("%s, forced: %s, want %q", tc.name, r.Body, tc.msg)
			}
			r = a.Admin.As(a.Admin.Token, "2.30").Do(http.MethodPost, path,
				`{"os-migrateLive": {"host": null, "block_migration": "auto"}}`).Expect(t, http.StatusBadRequest)
			if !strings.Contains(string(r.Body), "No valid host was found.") {
				t.Errorf("%s, scheduled: %s", tc.name, r.Body)
			}
			if s := showServer(t, a, id); s.Status != "ACTIVE" || s.Host != "host-a" || s.TaskState != nil {
				t.Fatalf("%s: server %+v", tc.name, s)
			}
		}
	})
}

// TestEvacuateFromDeadDestination: the destination of a cold migration
// dies while the server waits in VERIFY_RESIZE there. Reset to error and
// evacuated, the server is rebuilt on its source, whose kept copy the
// rebuild replaces; the migration ends in error, no claim is left on the
// dead host, and the dead host, back, destroys its copy.
func TestEvacuateFromDeadDestination(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b, id := migratedToB(t, database)
		moving := migrationOf(t, a, id)
		dir := b.App.Config.DataDir
		b.Close()
		downHost(t, b, a)

		serverAction(t, a, "", id, map[string]any{"os-resetState": map[string]any{"state": "error"}}, http.StatusAccepted)
		serverAction(t, a, "2.29", id, map[string]any{"evacuate": map[string]any{}}, http.StatusOK)
		if got := a.Step(); !slices.Equal(got, []string{compute.TaskEvacuate}) {
			t.Fatalf("host-a ran %v, want the evacuation alone", got)
		}
		if s := showServer(t, a, id); s.Status != "ACTIVE" || s.Host != "host-a" {
			t.Fatalf("evacuated: %+v", s)
		}
		for _, m := range migrationsOf(t, a, id) {
			if m["id"] == moving["id"] && m["status"] != "error" {
				t.Fatalf("the cold migration: %v", m["status"])
			}
		}
		checkUsage(t, a, map[string][2]int{"host-a": {1, 512}, "host-b": {0, 0}})
		if ga := guests(t, a); !slices.Equal(ga, []string{id}) || powerOf(t, a, id) != virt.PowerRunning {
			t.Fatalf("host-a runs %v", ga)
		}

		back := apptest.New(t, apptest.Options{Database: database, Host: "host-b", DataDir: dir, HostEndpoint: true, Clock: a.Clock})
		if got := back.Step(); len(got) != 0 {
			t.Fatalf("host-b back ran %v", got)
		}
		if gb := guests(t, back); len(gb) != 0 {
			t.Fatalf("host-b back keeps %v", gb)
		}
		if s := showServer(t, a, id); s.Status != "ACTIVE" || s.Host != "host-a" {
			t.Fatalf("after host-b's return: %+v", s)
		}
		checkUsage(t, a, map[string][2]int{"host-a": {1, 512}, "host-b": {0, 0}})
	})
}
