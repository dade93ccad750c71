package compute_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

var (
	resizeOwner = &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
	resizeAdmin = &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
)

// resizeCloud is a cloud whose resizes take long enough to watch their
// task states, unless o sets the fake's delays.
func resizeCloud(t *testing.T, database string, o computetest.Options) *computetest.Cloud {
	t.Helper()
	if o.Fake.Delays == nil {
		o.Fake.Delays = map[string]time.Duration{"resize": 100 * time.Millisecond}
	}
	return computetest.New(t, database, o)
}

// hostUsage is the fake host's claimed vCPUs, RAM, disk and server count.
type hostUsage struct{ vcpus, ram, disk, vms int }

func usageOf(t *testing.T, c *computetest.Cloud) hostUsage {
	t.Helper()
	var u hostUsage
	if err := c.DB.QueryRowContext(context.Background(), `SELECT vcpus_used, memory_mb_used, local_gb_used, running_vms
		FROM compute_hosts`).Scan(&u.vcpus, &u.ram, &u.disk, &u.vms); err != nil {
		t.Fatal(err)
	}
	return u
}

// onlyMigration is the one migration record of server id.
func onlyMigration(t *testing.T, c *computetest.Cloud, id string) *compute.Migration {
	t.Helper()
	ms, err := c.Compute.ListMigrations(context.Background(), compute.MigrationFilter{InstanceUUID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("%d migrations, want 1", len(ms))
	}
	return ms[0]
}

// eventsOf is the event names and results of the server's action with
// requestID, oldest first.
func eventsOf(t *testing.T, c *computetest.Cloud, id, requestID string) (string, []string) {
	t.Helper()
	a, err := c.Compute.GetAction(context.Background(), resizeAdmin, id, requestID, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range a.Events {
		out = append(out, e.Event+":"+*e.Result)
	}
	slices.Reverse(out)
	return a.Action, out
}

func activeOrShutoff(s *compute.Server) bool {
	return s.TaskState == state.TaskNone && (s.Status() == "ACTIVE" || s.Status() == "SHUTOFF")
}

// TestResizeConfirm resizes running and stopped servers from m1.tiny to
// m1.medium: the task states on the way, VERIFY_RESIZE with the new
// flavor and the same power, both flavors claimed on the host, the
// migration's statuses, the guest, and confirm's outcome.
func TestResizeConfirm(t *testing.T) {
	// Serial: it polls for resize_migrating, held only for the fake's
	// 100 ms resize, which a poll beside parallel tests missed.
	tests := []struct {
		name       string
		stop       bool
		wantPower  state.PowerState
		wantStatus string
	}{
		{"running", false, state.PowerRunning, "ACTIVE"},
		{"stopped", true, state.PowerShutdown, "SHUTOFF"},
	}
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
				c.WaitFor(t, id, computetest.Active)
				if tt.stop {
					if err := c.Compute.Act(ctx, resizeOwner, id, state.ActionStop, "req-stop"); err != nil {
						t.Fatal(err)
					}
					c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" })
				}
				before := usageOf(t, c)
				if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "3", RequestID: "req-resize"}); err != nil {
					t.Fatalf("resize: %v", err)
				}
				seen := map[state.TaskState]bool{}
				srv := c.WaitFor(t, id, func(s *compute.Server) bool {
					seen[s.TaskState] = true
					return s.Status() == "VERIFY_RESIZE"
				})
				for _, ts := range []state.TaskState{state.TaskResizeMigrating} {
					if !seen[ts] {
						t.Errorf("never saw task state %s (saw %v)", ts, seen)
					}
				}
				if srv.Flavor.ID != "3" || srv.Flavor.VCPUs != 2 || srv.PowerState != tt.wantPower {
					t.Errorf("resized server: flavor %+v power %v", srv.Flavor, srv.PowerState)
				}
				wantOld := "active"
				if tt.stop {
					wantOld = "stopped"
				}
				if srv.SystemMetadata["old_vm_state"] != wantOld {
					t.Errorf("old_vm_state = %q, want %q", srv.SystemMetadata["old_vm_state"], wantOld)
				}
				during := usageOf(t, c)
				if want := (hostUsage{before.vcpus + 2, before.ram + 4096, before.disk + 40, before.vms}); during != want {
					t.Errorf("usage in VERIFY_RESIZE = %+v, want %+v", during, want)
				}
				m := onlyMigration(t, c, id)
				if m.Status != compute.MigrationFinished || m.Type != compute.MigrationTypeResize || m.InstanceUUID != id ||
					m.SourceCompute != "fake-host" || m.DestCompute != "fake-host" || m.DestHost != "127.0.0.1" ||
					*m.OldTypeID != 1 || *m.NewTypeID != 3 || m.UserID != "u1" || m.ProjectID != "p1" || m.UpdatedAt == nil {
					t.Errorf("migration = %+v", m)
				}
				g, err := c.Driver.Inspect(id)
				if err != nil || g.VCPUs != 2 || !g.ResizePending {
					t.Errorf("guest after resize: %+v, %v", g, err)
				}
				action, events := eventsOf(t, c, id, "req-resize")
				wantEvents := []string{"conductor_migrate_server:Success", "compute_prep_resize:Success",
					"compute_resize_instance:Success", "compute_finish_resize:Success"}
				if action != "resize" || !slices.Equal(events, wantEvents) {
					t.Errorf("action %s events %v, want resize %v", action, events, wantEvents)
				}

				if err := c.Compute.ConfirmResize(ctx, resizeOwner, id, "req-confirm"); err != nil {
					t.Fatalf("confirm: %v", err)
				}
				srv = c.WaitFor(t, id, activeOrShutoff)
				if srv.Status() != tt.wantStatus || srv.Flavor.ID != "3" || srv.PowerState != tt.wantPower {
					t.Errorf("confirmed: %s flavor %s power %v", srv.Status(), srv.Flavor.ID, srv.PowerState)
				}
				if got, want := usageOf(t, c), (hostUsage{before.vcpus + 1, before.ram + 3584, before.disk + 39, before.vms}); got != want {
					t.Errorf("usage after confirm = %+v, want %+v", got, want)
				}
				if m := onlyMigration(t, c, id); m.Status != compute.MigrationConfirmed {
					t.Errorf("migration after confirm: %s", m.Status)
				}
				if g, _ := c.Driver.Inspect(id); g.ResizePending {
					t.Error("the guest still keeps its old disk")
				}
				if action, events := eventsOf(t, c, id, "req-confirm"); action != "confirmResize" ||
					!slices.Equal(events, []string{"compute_confirm_resize:Success"}) {
					t.Errorf("confirm action %s events %v", action, events)
				}
				err = c.Compute.ConfirmResize(ctx, resizeOwner, id, "req-again")
				assertKind(t, err, errs.KindConflict, "Cannot 'confirmResize' instance "+id+" while it is in vm_state "+string(srv.VMState))
			})
		}
	})
}

func assertKind(t *testing.T, err error, kind errs.Kind, msg string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != kind || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error = %v, want %v %q", err, kind, msg)
	}
}

// TestResizeRevert reverts running and stopped servers: the old flavor and
// state come back, old_vm_state is dropped, the new claim is released.
func TestResizeRevert(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Stopped: true})
		for _, stop := range []bool{false, true} {
			t.Run("stopped="+strconv.FormatBool(stop), func(t *testing.T) { revertOnce(t, c, stop) })
		}
	})
}

// revertOnce resizes a server of c, a stepped cloud, (stopped first if
// stop) and reverts it.
func revertOnce(t *testing.T, c *computetest.Cloud, stop bool) {
	ctx := context.Background()
	id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
	c.Step()
	want := "ACTIVE"
	if stop {
		want = "SHUTOFF"
		if err := c.Compute.Act(ctx, resizeOwner, id, state.ActionStop, "req-stop"); err != nil {
			t.Fatal(err)
		}
		c.Step()
	}
	before := usageOf(t, c)
	if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-resize"}); err != nil {
		t.Fatal(err)
	}
	c.Step()
	if err := c.Compute.RevertResize(ctx, resizeOwner, id, "req-revert"); err != nil {
		t.Fatalf("revert: %v", err)
	}
	if srv, err := c.Compute.GetAny(ctx, id); err != nil || srv.Status() != "REVERT_RESIZE" {
		t.Fatalf("accepted revert: %v, %v; want REVERT_RESIZE", srv, err)
	}
	if got := c.Step(); !slices.Equal(got, []string{compute.TaskRevertResize}) {
		t.Fatalf("revert ran %v", got)
	}
	srv, err := c.Compute.GetAny(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Status() != want || srv.TaskState != state.TaskNone || srv.Flavor.ID != "1" || srv.SystemMetadata["old_vm_state"] != "" {
		t.Errorf("reverted: %s/%s flavor %s sysmeta %v", srv.Status(), srv.TaskState, srv.Flavor.ID, srv.SystemMetadata)
	}
	if got := usageOf(t, c); got != before {
		t.Errorf("usage after revert = %+v, want %+v", got, before)
	}
	if m := onlyMigration(t, c, id); m.Status != compute.MigrationReverted {
		t.Errorf("migration after revert: %s", m.Status)
	}
	if g, _ := c.Driver.Inspect(id); g.MemoryMB != 512 || g.ResizePending {
		t.Errorf("guest after revert: %+v", g)
	}
	if action, events := eventsOf(t, c, id, "req-revert"); action != "revertResize" ||
		!slices.Equal(events, []string{"compute_revert_resize:Success", "compute_finish_revert_resize:Success"}) {
		t.Errorf("revert action %s events %v", action, events)
	}
}

// TestResizeRefused: Nova's answers to resizes, confirms and reverts it
// does not accept, checked in Nova's order.
func TestResizeRefused(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{})
		ctx := context.Background()
		if _, err := c.Flavors.Create(ctx, flavor.CreateInput{Name: "zero", ID: "zero", VCPUs: 1, RAM: 256, IsPublic: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Flavors.Create(ctx, flavor.CreateInput{Name: "private", ID: "private", VCPUs: 1, RAM: 256, Disk: 1}); err != nil {
			t.Fatal(err)
		}
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		resize := func(p *auth.Principal, ref string) error {
			return c.Compute.Resize(ctx, p, id, compute.ResizeRequest{FlavorRef: ref, RequestID: "req-x"})
		}
		other := &auth.Principal{UserID: "u2", ProjectID: "p2", Roles: []string{"member"}}
		assertKind(t, resize(other, "2"), errs.KindNotFound, "Instance "+id+" could not be found.")
		assertKind(t, resize(resizeOwner, "1"), errs.KindInvalid, "When resizing, instances must change flavor!")
		assertKind(t, resize(resizeOwner, "99"), errs.KindInvalid, "Flavor 99 could not be found.")
		assertKind(t, resize(resizeOwner, "private"), errs.KindInvalid, "Flavor private could not be found.")
		assertKind(t, resize(resizeOwner, "zero"), errs.KindInvalid,
			"Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.")
		assertKind(t, c.Compute.ConfirmResize(ctx, resizeOwner, id, "req-c"), errs.KindConflict,
			"Cannot 'confirmResize' instance "+id+" while it is in vm_state active")
		assertKind(t, c.Compute.RevertResize(ctx, resizeOwner, id, "req-r"), errs.KindConflict,
			"Cannot 'revertResize' instance "+id+" while it is in vm_state active")
		if _, err := c.App.Quotas.Set(ctx, "p1", "", []quota.Change{{Resource: quota.Cores, Limit: 2}}, true); err != nil {
			t.Fatal(err)
		}
		assertKind(t, resize(resizeOwner, "4"), errs.KindOverQuota,
			"Quota exceeded for cores: Requested 3, but already used 1 of 2 cores")
		if err := c.Compute.SetLock(ctx, resizeOwner, id, true, nil, "req-lock"); err != nil {
			t.Fatal(err)
		}
		assertKind(t, resize(resizeOwner, "2"), errs.KindConflict, "Instance "+id+" is locked")
		if err := c.Compute.SetLock(ctx, resizeOwner, id, false, nil, "req-unlock"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DB.ExecContext(ctx, `UPDATE compute_hosts SET forced_down = TRUE`); err != nil {
			t.Fatal(err)
		}
		assertKind(t, resize(resizeOwner, "2"), errs.KindConflict, "Service is unavailable at this time.")
		if _, err := c.Compute.ListActions(ctx, resizeAdmin, id, compute.ActionListOptions{}); err != nil {
			t.Fatal(err)
		}
		if ms, _ := c.Compute.ListMigrations(ctx, compute.MigrationFilter{}); len(ms) != 0 {
			t.Errorf("refused resizes left %d migrations", len(ms))
		}
	})
}

// TestResizeFailures: shrinking the disk rolls the server back (libvirt's
// "Unable to resize disk down."), a driver failure puts it in ERROR, and a
// flavor the host cannot hold fails as Nova's conductor fails it; each
// leaves the migration in error and the host's usage as before.
func TestResizeFailures(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{Configure: func(cfg *app.Config) {
			cfg.HostMemoryMB, cfg.HostDiskGB = 8192, 1000
		}})
		ctx := context.Background()
		failing, err := c.Images.CreateFromReader(ctx, resizeAdmin, image.CreateRequest{Name: ptr("failing"), Visibility: image.Public,
			DiskFormat: ptr("raw"), ContainerFormat: ptr("bare"), Properties: map[string]string{"kumo_fake_fail": "resize"}},
			strings.NewReader("disk"))
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, from, to, image string
			wantStatus            string
			wantEvent             string
		}{
			{"disk down", "3", "2", "", "ACTIVE", "compute_resize_instance:Error"},
			{"driver failure", "2", "3", failing.ID, "ERROR", "compute_resize_instance:Error"},
			{"no valid host", "3", "5", "", "ACTIVE", "conductor_migrate_server:Error"},
		}
		for i, tt := range tests {
			id := c.CreateServer(t, resizeOwner, tt.name, func(r *compute.CreateRequest) {
				r.FlavorRef = tt.from
				if tt.image != "" {
					r.ImageRef = tt.image
				}
			}).Servers[0].ID
			c.WaitFor(t, id, computetest.Active)
			before := usageOf(t, c)
			if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: tt.to, RequestID: "req-" + tt.name}); err != nil {
				t.Fatalf("%s: resize: %v", tt.name, err)
			}
			srv := c.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
			if srv.Status() != tt.wantStatus || srv.Flavor.ID != tt.from {
				t.Errorf("%s: server %s with flavor %s, want %s with %s", tt.name, srv.Status(), srv.Flavor.ID, tt.wantStatus, tt.from)
			}
			if got := usageOf(t, c); got != before {
				t.Errorf("%s: usage %+v, want %+v", tt.name, got, before)
			}
			ms, err := c.Compute.ListMigrations(ctx, compute.MigrationFilter{InstanceUUID: id})
			if err != nil || len(ms) != 1 || ms[0].Status != compute.MigrationError {
				t.Errorf("%s: migrations %v, %v", tt.name, ms, err)
			}
			_, events := eventsOf(t, c, id, "req-"+tt.name)
			if !slices.Contains(events, tt.wantEvent) {
				t.Errorf("%s: events %v, want %s", tt.name, events, tt.wantEvent)
			}
			if i == 0 {
				a, _ := c.Compute.GetAction(ctx, resizeAdmin, id, "req-"+tt.name, false)
				for _, e := range a.Events {
					if e.Event == "compute_resize_instance" && !strings.Contains(*e.Traceback, "Resize error: Unable to resize disk down.") {
						t.Errorf("disk down traceback %q", *e.Traceback)
					}
				}
			}
		}
	})
}

// TestDeleteMidResize: deleting a server waiting in VERIFY_RESIZE frees
// both flavors and confirms its migration, as Nova's delete does.
func TestDeleteMidResize(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{})
		ctx := context.Background()
		before := usageOf(t, c)
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "VERIFY_RESIZE" })
		if err := c.Compute.Delete(ctx, resizeOwner, id, "req-delete"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, computetest.Deleted)
		if got := usageOf(t, c); got != before {
			t.Errorf("usage after delete = %+v, want %+v", got, before)
		}
		if m := onlyMigration(t, c, id); m.Status != compute.MigrationConfirmed {
			t.Errorf("migration after delete: %s", m.Status)
		}
	})
}

// TestConfirmStaleResizes: with a resize confirm window the agent's
// periodic confirms resizes left in VERIFY_RESIZE longer than the
// window, as Nova's _poll_unconfirmed_resizes, and no sooner.
func TestConfirmStaleResizes(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		const window = time.Hour
		clk := clock.NewFake(time.Now())
		c := computetest.New(t, database, computetest.Options{Stopped: true, Clock: clk,
			Settings: compute.Settings{ResizeConfirmWindow: window}})
		ctx := context.Background()
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.Step()
		if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		c.Step()
		if srv, err := c.Compute.GetAny(ctx, id); err != nil || srv.Status() != "VERIFY_RESIZE" {
			t.Fatalf("after the resize: %v, %v; want VERIFY_RESIZE", srv, err)
		}
		for _, tc := range []struct {
			advance time.Duration
			want    []string
		}{
			{window - time.Second, nil},
			{2 * time.Second, []string{compute.TaskConfirmResize}},
		} {
			clk.Advance(tc.advance)
			// The host stayed up meanwhile: its agent's loop would have
			// heartbeated (the stopped agent has no loop, so the test does).
			if err := c.App.Hosts.Heartbeat(ctx, c.Agent.Host(), c.Agent.Lease(), clk.Now()); err != nil {
				t.Fatal(err)
			}
			if err := c.App.Agent.RunPeriodics(ctx); err != nil {
				t.Fatal(err)
			}
			if got := c.Step(); !slices.Equal(got, tc.want) {
				t.Fatalf("%v later: ran %v, want %v", tc.advance, got, tc.want)
			}
		}
		srv, err := c.Compute.GetAny(ctx, id)
		if err != nil || !activeOrShutoff(srv) || srv.Flavor.ID != "2" {
			t.Fatalf("auto-confirmed server %v, %v; want it idle with flavor 2", srv, err)
		}
		if m := onlyMigration(t, c, id); m.Status != compute.MigrationConfirmed {
			t.Errorf("migration: %s", m.Status)
		}
		acts, err := c.Compute.ListActions(ctx, resizeAdmin, id, compute.ActionListOptions{})
		if err != nil || acts[0].Action != "confirmResize" || acts[0].UserID != "" {
			t.Errorf("newest action %+v (%v), want confirmResize by no user", acts[0], err)
		}
	})
}

// TestListMigrations: filters, Nova's 2.59 order and paging by marker.
func TestListMigrations(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{})
		ctx := context.Background()
		var ids []string
		for _, name := range []string{"a", "b", "c"} {
			id := c.CreateServer(t, resizeOwner, name, nil).Servers[0].ID
			c.WaitFor(t, id, computetest.Active)
			if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-" + name}); err != nil {
				t.Fatal(err)
			}
			c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "VERIFY_RESIZE" })
			ids = append(ids, id)
		}
		if err := c.Compute.ConfirmResize(ctx, resizeOwner, ids[0], "req-confirm"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, ids[0], activeOrShutoff)
		list := func(f compute.MigrationFilter) []string {
			t.Helper()
			ms, err := c.Compute.ListMigrations(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range ms {
				out = append(out, m.InstanceUUID)
			}
			return out
		}
		two := 2
		newestFirst := []string{ids[2], ids[1], ids[0]}
		tests := []struct {
			name string
			f    compute.MigrationFilter
			want []string
		}{
			{"all in id order", compute.MigrationFilter{}, ids},
			{"sorted", compute.MigrationFilter{Sorted: true}, newestFirst},
			{"status", compute.MigrationFilter{Status: []string{"finished"}, Sorted: true}, newestFirst[:2]},
			{"host", compute.MigrationFilter{Host: "fake-host"}, ids},
			{"other host", compute.MigrationFilter{Host: "elsewhere"}, nil},
			{"source", compute.MigrationFilter{SourceCompute: "fake-host"}, ids},
			{"instance", compute.MigrationFilter{InstanceUUID: ids[1]}, ids[1:2]},
			{"type", compute.MigrationFilter{Type: "migration"}, nil},
			{"project", compute.MigrationFilter{ProjectID: "p1", UserID: "u1"}, ids},
			{"limit", compute.MigrationFilter{Sorted: true, Limit: &two}, newestFirst[:2]},
		}
		for _, tt := range tests {
			if got := list(tt.f); !slices.Equal(got, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}
		ms, _ := c.Compute.ListMigrations(ctx, compute.MigrationFilter{Sorted: true})
		if got := list(compute.MigrationFilter{Sorted: true, Limit: &two, Marker: ms[0].UUID}); !slices.Equal(got, newestFirst[1:]) {
			t.Errorf("after marker: %v", got)
		}
		_, err := c.Compute.ListMigrations(ctx, compute.MigrationFilter{Marker: "nope"})
		assertKind(t, err, errs.KindInvalid, "Marker nope could not be found.")
		future := time.Now().Add(time.Hour)
		if got := list(compute.MigrationFilter{ChangesSince: &future}); got != nil {
			t.Errorf("changes-since the future: %v", got)
		}
		if got := list(compute.MigrationFilter{ChangesBefore: &future}); len(got) != 3 {
			t.Errorf("changes-before the future: %v", got)
		}
	})
}

// TestResizeClaimsSurviveRestart: an agent starting again recounts its
// host's usage from the servers and adds back what unconfirmed resizes
// hold, whatever the counts were.
func TestResizeClaimsSurviveRestart(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Stopped: true})
		ctx := context.Background()
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.Step()
		if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "3", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		c.Step()
		before := usageOf(t, c)
		if before.vcpus != 3 {
			t.Fatalf("usage in VERIFY_RESIZE %+v, want both flavors", before)
		}
		// Lose the counts, then start the agent again (as after a crash;
		// c.Restart would reopen the whole app, which apptest cannot yet
		// do on the same database).
		if _, err := c.DB.ExecContext(ctx, `UPDATE compute_hosts SET vcpus_used = 0, memory_mb_used = 0, local_gb_used = 0, running_vms = 0`); err != nil {
			t.Fatal(err)
		}
		if err := c.Agent.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if got := usageOf(t, c); got != before {
			t.Errorf("usage after a restart %+v, want %+v", got, before)
		}
	})
}

// TestMigrate: the admin's cold migration with one compute host ends as
// Nova's conductor ends it (No valid host; the server keeps its state,
// the migration is in error); a target host that is the server's own or
// unknown is a 400.
func TestMigrate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{})
		ctx := context.Background()
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		before := usageOf(t, c)
		assertKind(t, c.Compute.Migrate(ctx, resizeAdmin, id, "fake-host", "req-m"), errs.KindInvalid,
			"Cannot migrate to the host where the server exists.")
		assertKind(t, c.Compute.Migrate(ctx, resizeAdmin, id, "elsewhere", "req-m"), errs.KindInvalid,
			"Compute host elsewhere could not be found.")
		if err := c.Compute.Migrate(ctx, resizeAdmin, id, "", "req-migrate"); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		srv := c.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
		if srv.Status() != "ACTIVE" || srv.Flavor.ID != "1" {
			t.Errorf("server after migrate: %s flavor %s", srv.Status(), srv.Flavor.ID)
		}
		m := onlyMigration(t, c, id)
		if m.Type != compute.MigrationTypeMigration || m.Status != compute.MigrationError || m.DestCompute != "" ||
			*m.OldTypeID != 1 || *m.NewTypeID != 1 || m.UserID != "admin" {
			t.Errorf("migration %+v", m)
		}
		action, events := eventsOf(t, c, id, "req-migrate")
		if action != "migrate" || !slices.Equal(events, []string{"conductor_migrate_server:Error"}) {
			t.Errorf("action %s events %v", action, events)
		}
		a, _ := c.Compute.GetAction(ctx, resizeAdmin, id, "req-migrate", false)
		if tb := *a.Events[0].Traceback; tb != "No valid host was found. No valid host found for cold migrate" {
			t.Errorf("traceback %q", tb)
		}
		if got := usageOf(t, c); got != before {
			t.Errorf("usage %+v, want %+v", got, before)
		}
		if err := c.Compute.Act(ctx, resizeOwner, id, state.ActionPause, "req-pause"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "PAUSED" })
		assertKind(t, c.Compute.Migrate(ctx, resizeAdmin, id, "", "req-m2"), errs.KindConflict,
			"Cannot 'migrate' instance "+id+" while it is in vm_state paused")
	})
}

// TestMigrateToHostWithoutEndpoint: a migrate goes to the other host
// with room; when the source cannot send it the guest (that host serves
// no host endpoint), the move fails as Nova's resize_instance does: the
// migration in error, the destination's claim released, the server in
// ERROR with the failure as its fault.
func TestMigrateToHostWithoutEndpoint(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{})
		ctx := context.Background()
		if _, err := c.App.Hosts.Register(ctx, hosts.Registration{Info: hosts.HostInfo{Hostname: "second", HypervisorType: "fake",
			VCPUs: 8, MemoryMB: 8192, DiskGB: 100, CPUInfo: `{"arch": "x86_64"}`}, IP: "127.0.0.2"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		id := c.CreateServer(t, resizeOwner, "r1", func(r *compute.CreateRequest) { r.Host = "fake-host" }).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Migrate(ctx, resizeAdmin, id, "", "req-m"); err != nil {
			t.Fatal(err)
		}
		srv := c.WaitFor(t, id, func(s *compute.Server) bool { return s.VMState == state.VMError })
		if srv.Fault == nil || !strings.Contains(srv.Fault.Message, "serves no host endpoint") || srv.Host != "fake-host" {
			t.Errorf("server after the failed move: host %s, fault %+v", srv.Host, srv.Fault)
		}
		m := onlyMigration(t, c, id)
		if m.Status != compute.MigrationError || m.DestCompute != "second" || m.Type != compute.MigrationTypeMigration {
			t.Errorf("migration = %+v", m)
		}
		var vcpus int
		if err := c.DB.QueryRowContext(ctx, `SELECT vcpus_used FROM compute_hosts WHERE hostname = 'second'`).Scan(&vcpus); err != nil || vcpus != 0 {
			t.Errorf("second's claim after the failed move: %d vCPUs (%v)", vcpus, err)
		}
	})
}

// TestDeleteWhileResizing: a server deleted while its resize is under way
// frees both flavors, and the resize finishing afterwards changes
// nothing: the migration stays in error.
func TestDeleteWhileResizing(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{Fake: fake.Options{Delays: map[string]time.Duration{"resize": 400 * time.Millisecond}}})
		ctx := context.Background()
		before := usageOf(t, c)
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "3", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskResizeMigrating })
		if err := c.Compute.Delete(ctx, resizeOwner, id, "req-delete"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, computetest.Deleted)
		deadline := time.Now().Add(10 * time.Second)
		for {
			var open int
			if err := c.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks WHERE instance_id = ? AND state IN ('pending', 'running')`, id).Scan(&open); err != nil {
				t.Fatal(err)
			}
			if open == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d tasks of the deleted server still open", open)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := usageOf(t, c); got != before {
			t.Errorf("usage after delete = %+v, want %+v", got, before)
		}
		if m := onlyMigration(t, c, id); m.Status != compute.MigrationError {
			t.Errorf("migration after delete: %s", m.Status)
		}
		srv, err := c.Compute.GetAny(ctx, id)
		if err != nil || srv.Flavor.ID != "1" {
			t.Errorf("deleted server's flavor %v (%v), want the old one", srv.Flavor.ID, err)
		}
	})
}

// TestConfirmWhileConfirming: a confirm sets no task state, so while one
// is under way (accepted, its task not yet run) the server is still in
// VERIFY_RESIZE but its migration is no longer finished: a second
// confirm or a revert is Nova's 400 "Instance has not been resized.".
func TestConfirmWhileConfirming(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Stopped: true})
		ctx := context.Background()
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.Step()
		if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		c.Step()
		if err := c.Compute.ConfirmResize(ctx, resizeOwner, id, "req-confirm"); err != nil {
			t.Fatal(err)
		}
		if srv, err := c.Compute.GetAny(ctx, id); err != nil || srv.Status() != "VERIFY_RESIZE" {
			t.Fatalf("while confirming: %v, %v; want VERIFY_RESIZE", srv, err)
		}
		assertKind(t, c.Compute.ConfirmResize(ctx, resizeOwner, id, "req-confirm-2"), errs.KindInvalid, "Instance has not been resized.")
		assertKind(t, c.Compute.RevertResize(ctx, resizeOwner, id, "req-revert"), errs.KindInvalid, "Instance has not been resized.")
		if got := c.Step(); !slices.Equal(got, []string{compute.TaskConfirmResize}) {
			t.Fatalf("ran %v, want the one confirm", got)
		}
		if srv, err := c.Compute.GetAny(ctx, id); err != nil || !activeOrShutoff(srv) {
			t.Fatalf("after the confirm: %v, %v", srv, err)
		}
		if m := onlyMigration(t, c, id); m.Status != compute.MigrationConfirmed {
			t.Errorf("migration %s", m.Status)
		}
	})
}

// TestSoftDeleteResized: a server soft-deleted in VERIFY_RESIZE has its
// resize confirmed first, as Nova's _delete does: the old flavor is freed
// and the migration confirmed; restored, it keeps the new flavor.
func TestSoftDeleteResized(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{})
		c.Compute.Settings.ReclaimInterval = time.Hour
		ctx := context.Background()
		before := usageOf(t, c)
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "VERIFY_RESIZE" })
		if err := c.Compute.Delete(ctx, resizeOwner, id, "req-delete"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SOFT_DELETED" && s.TaskState == state.TaskNone })
		if m := onlyMigration(t, c, id); m.Status != compute.MigrationConfirmed {
			t.Errorf("migration after soft delete: %s", m.Status)
		}
		if got, want := usageOf(t, c), (hostUsage{before.vcpus + 1, before.ram + 2048, before.disk + 20, before.vms + 1}); got != want {
			t.Errorf("usage after soft delete %+v, want %+v (m1.small only)", got, want)
		}
	})
}
