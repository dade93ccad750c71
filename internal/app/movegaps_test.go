package app_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/hosts"
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
