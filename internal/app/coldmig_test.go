package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/hostlink"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// movingHosts is twoHosts with each host's endpoint served, so servers
// can move between them with their files (clouds on one database share
// its key).
func movingHosts(t *testing.T, database string, configure func(*app.Config)) (a, b *apptest.Cloud) {
	a = apptest.New(t, apptest.Options{Database: database, Host: "host-a", HostEndpoint: true, Configure: configure})
	b = apptest.New(t, apptest.Options{Database: database, Host: "host-b", HostEndpoint: true, Clock: a.Clock,
		Configure: configure})
	return a, b
}

// guestDir is where c's fake driver keeps guest id's files.
func guestDir(c *apptest.Cloud, id string) string {
	return filepath.Join(c.App.Config.DataDir, "instances", id)
}

func hasFiles(c *apptest.Cloud, id string) bool {
	_, err := os.Stat(filepath.Join(guestDir(c, id), "fake-guest.json"))
	return err == nil
}

// powerOf is guest id's power on c's hypervisor (NOSTATE when absent).
func powerOf(t *testing.T, c *apptest.Cloud, id string) virt.PowerState {
	t.Helper()
	in, err := c.App.Driver.(*fake.Driver).Inspect(id)
	if err != nil {
		return virt.PowerNoState
	}
	return in.Power
}

// serverAction posts action (its body) on server id as admin at
// microversion version ("" base) and expects status.
func serverAction(t *testing.T, c *apptest.Cloud, version, id string, body any, status int) {
	t.Helper()
	c.Admin.As(c.Admin.Token, version).Do(http.MethodPost, "/v2.1/servers/"+id+"/action", body).Expect(t, status)
}

// migrationOf is the newest migration of server id as GET /os-migrations
// shows it.
func migrationOf(t *testing.T, c *apptest.Cloud, id string) map[string]any {
	t.Helper()
	var got struct {
		Migrations []map[string]any `json:"migrations"`
	}
	// 2.23 shows migration_type.
	r := c.Admin.As(c.Admin.Token, "2.23").Do(http.MethodGet, "/v2.1/os-migrations?instance_uuid="+id, nil).Expect(t, http.StatusOK)
	if err := json.Unmarshal(r.Body, &got); err != nil || len(got.Migrations) == 0 {
		t.Fatalf("migrations of %s: %v %s", id, err, r.Body)
	}
	return got.Migrations[0]
}

// eventsOf lists "event:result@host" of server id's actions, oldest
// action first.
func eventsOf(t *testing.T, c *apptest.Cloud, id string) []string {
	t.Helper()
	admin := c.Admin.As(c.Admin.Token, "2.62") // events show their host
	var list struct {
		Actions []struct {
			RequestID string `json:"request_id"`
		} `json:"instanceActions"`
	}
	r := admin.Do(http.MethodGet, "/v2.1/servers/"+id+"/os-instance-actions", nil).Expect(t, http.StatusOK)
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(list.Actions) - 1; i >= 0; i-- {
		var one struct {
			Action struct {
				Action string `json:"action"`
				Events []struct {
					Event  string `json:"event"`
					Result string `json:"result"`
					Host   string `json:"host"`
				} `json:"events"`
			} `json:"instanceAction"`
		}
		r := admin.Do(http.MethodGet, "/v2.1/servers/"+id+"/os-instance-actions/"+list.Actions[i].RequestID, nil).Expect(t, http.StatusOK)
		if err := json.Unmarshal(r.Body, &one); err != nil {
			t.Fatal(err)
		}
		for _, e := range one.Action.Events {
			out = append(out, one.Action.Action+"/"+e.Event+":"+e.Result+"@"+e.Host)
		}
	}
	return out
}

// startOnA creates a server on host-a and builds it.
func startOnA(t *testing.T, a *apptest.Cloud) string {
	t.Helper()
	id := createOn(a, "mover", "host-a")
	if got := a.Step(); !slices.Equal(got, []string{compute.TaskBuild}) {
		t.Fatalf("host-a ran %v, want its build", got)
	}
	return id
}

// moveToB runs a move accepted for a server on host-a: host-a powers it
// off and sends its files, host-b finishes; the server waits in
// VERIFY_RESIZE on host-b.
func moveToB(t *testing.T, a, b *apptest.Cloud, id string) {
	t.Helper()
	if got := a.Step(); !slices.Equal(got, []string{compute.TaskResize}) {
		t.Fatalf("host-a ran %v, want its resize", got)
	}
	if !hasFiles(b, id) {
		t.Fatal("the guest's files did not reach host-b")
	}
	if got := b.Step(); !slices.Equal(got, []string{compute.TaskFinishResize}) {
		t.Fatalf("host-b ran %v, want finish_resize", got)
	}
	if s := a.Server(id); s.Status != "VERIFY_RESIZE" || s.Host != "host-b" {
		t.Fatalf("after the move: %s on %s, want VERIFY_RESIZE on host-b", s.Status, s.Host)
	}
	if p := powerOf(t, b, id); p != virt.PowerRunning {
		t.Fatalf("guest on host-b: power %v, want running", p)
	}
	if p := powerOf(t, a, id); p != virt.PowerShutdown || !hasFiles(a, id) {
		t.Fatalf("guest kept on host-a: power %v, files %t; want shut down, kept until confirmed", p, hasFiles(a, id))
	}
}

// migratedToB is movingHosts with a server built on host-a and
// cold-migrated to host-b, waiting in VERIFY_RESIZE (moveToB).
func migratedToB(t *testing.T, database string) (a, b *apptest.Cloud, id string) {
	t.Helper()
	a, b = movingHosts(t, database, nil)
	id = startOnA(t, a)
	serverAction(t, a, "", id, map[string]any{"migrate": nil}, http.StatusAccepted)
	moveToB(t, a, b, id)
	return a, b, id
}

// TestColdMigrateConfirm: an admin's migrate moves the server to the
// other host with its files (the console log of its first boot comes
// along); confirming drops the source's copy.
func TestColdMigrateConfirm(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b, id := migratedToB(t, database)
		out, err := b.App.Driver.ConsoleOutput(context.Background(), id)
		if err != nil || !strings.Contains(string(out), "booting") || !strings.Contains(string(out), "arrived from another host") {
			t.Fatalf("console on host-b (%v): %s; want the first boot's log and the arrival", err, out)
		}
		m := migrationOf(t, a, id)
		if m["migration_type"] != "migration" || m["status"] != "finished" || m["source_compute"] != "host-a" ||
			m["dest_compute"] != "host-b" || m["dest_node"] != "host-b" {
			t.Fatalf("migration: %v", m)
		}

		serverAction(t, a, "", id, map[string]any{"confirmResize": nil}, http.StatusNoContent)
		if got := b.Step(); len(got) != 0 {
			t.Fatalf("host-b ran %v; the confirm is the source's", got)
		}
		if got := a.Step(); !slices.Equal(got, []string{compute.TaskConfirmResize}) {
			t.Fatalf("host-a ran %v, want confirm_resize", got)
		}
		if s := a.Server(id); s.Status != "ACTIVE" || s.Host != "host-b" {
			t.Fatalf("after confirm: %s on %s", s.Status, s.Host)
		}
		if hasFiles(a, id) || len(guests(t, a)) != 0 {
			t.Fatalf("host-a keeps the guest after confirm (files %t, guests %v)", hasFiles(a, id), guests(t, a))
		}
		if _, err := os.Stat(guestDir(a, id)); !os.IsNotExist(err) {
			t.Fatalf("host-a keeps the guest's directory: %v", err)
		}
		if m := migrationOf(t, a, id); m["status"] != "confirmed" {
			t.Fatalf("migration after confirm: %v", m["status"])
		}
		want := []string{
			"migrate/conductor_migrate_server:Success@host-a", "migrate/compute_prep_resize:Success@host-b",
			"migrate/compute_resize_instance:Success@host-a", "migrate/compute_finish_resize:Success@host-b",
			"confirmResize/compute_confirm_resize:Success@host-a",
		}
		got := slices.DeleteFunc(eventsOf(t, a, id), func(e string) bool { return strings.HasPrefix(e, "create/") })
		if !sameSet(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		checkUsage(t, a, map[string][2]int{"host-a": {0, 0}, "host-b": {1, 512}})

		// The moved server lives on: host-b deletes it.
		a.Admin.Do(http.MethodDelete, "/v2.1/servers/"+id, nil).Expect(t, http.StatusNoContent)
		if got := b.Step(); !slices.Equal(got, []string{compute.TaskDelete}) {
			t.Fatalf("host-b ran %v, want the delete", got)
		}
		if hasFiles(b, id) || a.Server(id) != nil {
			t.Fatal("the moved server outlived its delete")
		}
	})
}

// sameSet reports whether got and want hold the same strings.
func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// checkUsage compares each host's (vcpus_used, memory_mb_used).
func checkUsage(t *testing.T, c *apptest.Cloud, want map[string][2]int) {
	t.Helper()
	for host, w := range want {
		var vcpus, ram int
		if err := c.App.DB.QueryRowContext(context.Background(), `SELECT vcpus_used, memory_mb_used FROM compute_hosts
			WHERE hostname = ?`, host).Scan(&vcpus, &ram); err != nil {
			t.Fatal(err)
		}
		if vcpus != w[0] || ram != w[1] {
			t.Errorf("%s uses %d vCPUs, %d MB; want %d, %d", host, vcpus, ram, w[0], w[1])
		}
	}
}

// TestColdMigrateRevert: reverting destroys the destination's copy and
// boots the one the source kept.
func TestColdMigrateRevert(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b, id := migratedToB(t, database)
		checkUsage(t, a, map[string][2]int{"host-a": {1, 512}, "host-b": {1, 512}})

		serverAction(t, a, "", id, map[string]any{"revertResize": nil}, http.StatusAccepted)
		if got := b.Step(); !slices.Equal(got, []string{compute.TaskRevertResize}) {
			t.Fatalf("host-b ran %v, want revert_resize", got)
		}
		if hasFiles(b, id) || len(guests(t, b)) != 0 {
			t.Fatal("host-b keeps the guest after the revert")
		}
		if got := a.Step(); !slices.Equal(got, []string{compute.TaskFinishRevertResize}) {
			t.Fatalf("host-a ran %v, want finish_revert_resize", got)
		}
		if s := a.Server(id); s.Status != "ACTIVE" || s.Host != "host-a" {
			t.Fatalf("after revert: %s on %s, want ACTIVE on host-a", s.Status, s.Host)
		}
		if p := powerOf(t, a, id); p != virt.PowerRunning {
			t.Fatalf("guest on host-a after revert: %v, want running", p)
		}
		if m := migrationOf(t, a, id); m["status"] != "reverted" {
			t.Fatalf("migration after revert: %v", m["status"])
		}
		got := eventsOf(t, a, id)
		for _, w := range []string{"revertResize/compute_revert_resize:Success@host-b", "revertResize/compute_finish_revert_resize:Success@host-a"} {
			if !slices.Contains(got, w) {
				t.Fatalf("events %v lack %s", got, w)
			}
		}
		checkUsage(t, a, map[string][2]int{"host-a": {1, 512}, "host-b": {0, 0}})
	})
}

// TestResizeToOtherHost: with allow_resize_to_same_host off, a resize
// moves the server to the other host with its new flavor.
func TestResizeToOtherHost(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := movingHosts(t, database, func(c *app.Config) { c.Lifecycle.NoResizeToSameHost = true })
		id := startOnA(t, a)
		serverAction(t, a, "", id, map[string]any{"resize": map[string]any{"flavorRef": "2"}}, http.StatusAccepted)
		moveToB(t, a, b, id)
		in, err := b.App.Driver.(*fake.Driver).Inspect(id)
		if err != nil || in.VCPUs != 1 || in.MemoryMB != 2048 || in.RootGB != 20 {
			t.Fatalf("guest on host-b: %+v (%v), want flavor 2's size", in, err)
		}
		if m := migrationOf(t, a, id); m["migration_type"] != "resize" || m["dest_compute"] != "host-b" {
			t.Fatalf("migration: %v", m)
		}
		checkUsage(t, a, map[string][2]int{"host-a": {1, 512}, "host-b": {1, 2048}})
		serverAction(t, a, "", id, map[string]any{"confirmResize": nil}, http.StatusNoContent)
		a.Step()
		checkUsage(t, a, map[string][2]int{"host-a": {0, 0}, "host-b": {1, 2048}})
		if hasFiles(a, id) {
			t.Fatal("host-a keeps the resized guest")
		}
	})
}

// TestResizeSameHostByDefault: with allow_resize_to_same_host on (the
// default), a resize that fits stays on its host, another host or not.
func TestResizeSameHostByDefault(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := movingHosts(t, database, nil)
		id := startOnA(t, a)
		serverAction(t, a, "", id, map[string]any{"resize": map[string]any{"flavorRef": "2"}}, http.StatusAccepted)
		if got := a.Step(); !slices.Equal(got, []string{compute.TaskResize}) {
			t.Fatalf("host-a ran %v", got)
		}
		if s := a.Server(id); s.Status != "VERIFY_RESIZE" || s.Host != "host-a" || hasFiles(b, id) {
			t.Fatalf("same-host resize: %s on %s (files on host-b %t)", s.Status, s.Host, hasFiles(b, id))
		}
	})
}

// TestColdMigrateToHost: 2.56's host names the destination; the server's
// own host and an unknown one are refused; with no other host fitting
// the migration ends in Nova's No valid host.
func TestColdMigrateToHost(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := movingHosts(t, database, nil)
		id := startOnA(t, a)
		serverAction(t, a, "2.56", id, map[string]any{"migrate": map[string]any{"host": "host-a"}}, http.StatusBadRequest)
		serverAction(t, a, "2.56", id, map[string]any{"migrate": map[string]any{"host": "host-z"}}, http.StatusBadRequest)

		disabled := true
		if _, err := a.App.Hosts.UpdateService(context.Background(), "host-b", hosts.ServiceChange{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		serverAction(t, a, "2.56", id, map[string]any{"migrate": map[string]any{"host": "host-b"}}, http.StatusAccepted)
		if got := a.Step(); len(got) != 0 {
			t.Fatalf("host-a ran %v for a migration no host can take", got)
		}
		if m := migrationOf(t, a, id); m["status"] != "error" {
			t.Fatalf("migration to a disabled host: %v", m["status"])
		}
		if s := a.Server(id); s.Status != "ACTIVE" || s.Host != "host-a" {
			t.Fatalf("after No valid host: %s on %s", s.Status, s.Host)
		}
		if got := eventsOf(t, a, id); !slices.Contains(got, "migrate/conductor_migrate_server:Error@host-a") {
			t.Fatalf("events %v", got)
		}

		disabled = false
		if _, err := a.App.Hosts.UpdateService(context.Background(), "host-b", hosts.ServiceChange{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		serverAction(t, a, "2.56", id, map[string]any{"migrate": map[string]any{"host": "host-b"}}, http.StatusAccepted)
		moveToB(t, a, b, id)
	})
}

// TestHostEndpointRefusesBadSignatures: the host endpoint, on the
// cloud's own listener, answers only calls signed with the cloud's key.
func TestHostEndpointRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b := movingHosts(t, database, nil)
		id := startOnA(t, a)
		if err := a.App.Driver.PowerOff(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		url := b.URL()
		path := hostlink.Prefix + "instances/" + id + "/files"

		resp, err := http.Post(url+path, "application/x-tar", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unsigned: %d, want 401", resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodPut, url+path, strings.NewReader("x"))
		hostlink.NewSigner([]byte("some other cloud's key"), nil).Sign(req, hostlink.MaxTTL)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("signed with another key: %d %s, want 403", resp.StatusCode, body)
		}

		// A host of another cloud (its own key) cannot send b a guest.
		dir := guestDir(a, id)
		stranger := &hostlink.Client{Signer: hostlink.NewSigner([]byte("stranger"), nil)}
		if err := stranger.SendGuest(context.Background(), url, id, dir); err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("stranger's send: %v, want a 403", err)
		}
		if hasFiles(b, id) {
			t.Fatal("a refused send left the guest on host-b")
		}
	})
}

// TestDeleteAfterMove: a server deleted in VERIFY_RESIZE after a move
// leaves no copy on either host: its host destroys its guest, the source
// drops the one it kept.
func TestDeleteAfterMove(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b, id := migratedToB(t, database)
		a.Admin.Do(http.MethodDelete, "/v2.1/servers/"+id, nil).Expect(t, http.StatusNoContent)
		if got := b.Step(); !slices.Equal(got, []string{compute.TaskDelete}) {
			t.Fatalf("host-b ran %v, want the delete", got)
		}
		if got := a.Step(); !slices.Equal(got, []string{compute.TaskConfirmResize}) {
			t.Fatalf("host-a ran %v, want the cleanup", got)
		}
		if hasFiles(a, id) || hasFiles(b, id) || len(guests(t, a))+len(guests(t, b)) != 0 {
			t.Fatalf("copies left: host-a %t, host-b %t", hasFiles(a, id), hasFiles(b, id))
		}
		if m := migrationOf(t, a, id); m["status"] != "confirmed" {
			t.Fatalf("migration after delete: %v", m["status"])
		}
		checkUsage(t, a, map[string][2]int{"host-a": {0, 0}, "host-b": {0, 0}})
	})
}

// TestMoveSourceRestarts: the source dies while its step of a move runs;
// its agent's restart runs the step again (the send replaces whatever
// arrived) and the move goes on.
func TestMoveSourceRestarts(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, b, id := sourceDiesMidMove(t, database, 1)
		moveToB(t, a, b, id)
	})
}

// TestMoveSourceGivesUp: a step interrupted too often fails: the
// migration in error, the destination's claim released, the server in
// ERROR on its source.
func TestMoveSourceGivesUp(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		a, _, id := sourceDiesMidMove(t, database, 3)
		if got := a.Step(); len(got) != 0 {
			t.Fatalf("host-a ran %v", got)
		}
		if s := a.Server(id); s.Status != "ERROR" || s.Host != "host-a" {
			t.Fatalf("server %s on %s, want ERROR on host-a", s.Status, s.Host)
		}
		if m := migrationOf(t, a, id); m["status"] != "error" {
			t.Fatalf("migration %v", m["status"])
		}
		checkUsage(t, a, map[string][2]int{"host-a": {1, 512}, "host-b": {0, 0}})
	})
}

// sourceDiesMidMove accepts a migrate of a server on host-a, whose agent
// claims the resize task (attempts times in all) and dies; host-a is
// started again on its data dir, recovering.
func sourceDiesMidMove(t *testing.T, database string, attempts int) (a, b *apptest.Cloud, id string) {
	t.Helper()
	a, b = movingHosts(t, database, nil)
	id = startOnA(t, a)
	serverAction(t, a, "", id, map[string]any{"migrate": nil}, http.StatusAccepted)
	if _, err := a.App.DB.ExecContext(context.Background(), `UPDATE tasks SET state = 'running', attempts = ?
		WHERE instance_id = ? AND kind = ?`, attempts, id, compute.TaskResize); err != nil {
		t.Fatal(err)
	}
	dir, clock := a.App.Config.DataDir, a.Clock
	a.Close()
	a = apptest.New(t, apptest.Options{Database: database, Host: "host-a", DataDir: dir, HostEndpoint: true, Clock: clock})
	return a, b, id
}
