package compute_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/virt"
)

// softDeleteCloud is a cloud whose DELETE is a soft delete (reclaim
// interval one hour), with its quota service.
func softDeleteCloud(t *testing.T, database string) (*computetest.Cloud, *quota.Service) {
	t.Helper()
	c := computetest.New(t, database, computetest.Options{Settings: compute.Settings{ReclaimInterval: time.Hour}})
	return c, c.App.Quotas
}

// activeServer creates a server for snapOwner and waits for ACTIVE.
func activeServer(t *testing.T, c *computetest.Cloud, name string) string {
	t.Helper()
	id := c.CreateServer(t, snapOwner, name, nil).Servers[0].ID
	c.WaitFor(t, id, computetest.Active)
	return id
}

func softDeleted(s *compute.Server) bool {
	return s.VMState == state.VMSoftDeleted && s.TaskState == state.TaskNone
}

// listIDs lists servers of snapOwner's project with o.
func listIDs(t *testing.T, c *computetest.Cloud, o compute.ListOptions) map[string]bool {
	t.Helper()
	o.ProjectID = snapOwner.ProjectID
	servers, err := c.Compute.List(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range servers {
		ids[s.ID] = true
	}
	return ids
}

// TestSoftDeleteThenRestore: DELETE powers the guest off and leaves the
// server SOFT_DELETED on its host (capacity held, hidden from the default
// list, out of the quota count); restore powers it on again.
func TestSoftDeleteThenRestore(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, q := softDeleteCloud(t, database)
		ctx := context.Background()
		id := activeServer(t, c, "soft")
		vcpus, vms := shelfHostUsage(t, c)

		if err := c.Compute.Delete(ctx, snapOwner, id, "req-del"); err != nil {
			t.Fatal(err)
		}
		srv := c.WaitFor(t, id, softDeleted)
		if srv.Deleted || srv.Status() != state.StatusSoftDeleted || srv.PowerState != state.PowerShutdown || srv.DeletedAt == nil {
			t.Fatalf("after delete: deleted %v status %s power %v deleted_at %v", srv.Deleted, srv.Status(), srv.PowerState, srv.DeletedAt)
		}
		if g, err := c.Driver.Inspect(id); err != nil || g.Power != virt.PowerShutdown {
			t.Fatalf("guest %+v, %v; want it shut down", g, err)
		}
		a, events := actionEvents(t, c, id, "req-del")
		if a.Action != "delete" || events["compute_soft_delete_instance"] != "Success" {
			t.Fatalf("delete action %q events %v", a.Action, events)
		}
		if v, n := shelfHostUsage(t, c); v != vcpus || n != vms {
			t.Fatalf("host usage %d/%d after soft delete, want %d/%d held", v, n, vcpus, vms)
		}
		if listIDs(t, c, compute.ListOptions{})[id] {
			t.Fatal("soft-deleted server in the default list")
		}
		yes, no := true, false
		if !listIDs(t, c, compute.ListOptions{SoftDeleted: &yes})[id] {
			t.Fatal("soft_deleted=true does not list the soft-deleted server")
		}
		if !listIDs(t, c, compute.ListOptions{OnlyDeleted: true})[id] {
			t.Fatal("deleted=true does not list the soft-deleted server")
		}
		if listIDs(t, c, compute.ListOptions{OnlyDeleted: true, SoftDeleted: &no})[id] {
			t.Fatal("deleted=true with soft_deleted empty lists the soft-deleted server")
		}
		detail, err := q.Detail(ctx, snapOwner.ProjectID, "")
		if err != nil || detail["instances"].InUse != 0 || detail["cores"].InUse != 0 {
			t.Fatalf("quota usage with a soft-deleted server: %+v, %v", detail, err)
		}

		if err := c.Compute.Restore(ctx, snapOwner, id, "req-restore"); err != nil {
			t.Fatal(err)
		}
		srv = waitIdle(t, c, id)
		if srv.Status() != "ACTIVE" || srv.PowerState != state.PowerRunning || srv.DeletedAt != nil {
			t.Fatalf("after restore: %s power %v deleted_at %v", srv.Status(), srv.PowerState, srv.DeletedAt)
		}
		if g, err := c.Driver.Inspect(id); err != nil || g.Power != virt.PowerRunning {
			t.Fatalf("guest %+v, %v; want it running", g, err)
		}
		if a, events := actionEvents(t, c, id, "req-restore"); a.Action != "restore" || events["compute_restore_instance"] != "Success" {
			t.Fatalf("restore action %q events %v", a.Action, events)
		}
		if !listIDs(t, c, compute.ListOptions{})[id] {
			t.Fatal("restored server missing from the list")
		}
	})
}

// TestSoftDeleteRefusals: Nova's 409s for restore, the lock, the quota on
// restore, and the fallbacks to a real delete.
func TestSoftDeleteRefusals(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, q := softDeleteCloud(t, database)
		ctx := context.Background()
		id := activeServer(t, c, "r")

		err := c.Compute.Restore(ctx, snapOwner, id, "")
		if want := "Cannot 'restore' instance " + id + " while it is in vm_state active"; !errs.Is(err, errs.KindConflict) || errs.Message(err) != want {
			t.Fatalf("restore of an active server: %v", err)
		}
		if err := c.Compute.Delete(ctx, snapOwner, id, ""); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, softDeleted)

		// A lock refuses restore to the owner in InstanceInvalidState's words.
		if err := c.Compute.SetLock(ctx, snapAdmin, id, true, nil, ""); err != nil {
			t.Fatal(err)
		}
		err = c.Compute.Restore(ctx, snapOwner, id, "")
		if want := "Instance " + id + " is in an invalid state for 'restore'"; !errs.Is(err, errs.KindConflict) || errs.Message(err) != want {
			t.Fatalf("restore of a locked server: %v", err)
		}
		err = c.Compute.ForceDelete(ctx, snapOwner, id, "")
		if want := "Instance " + id + " is locked"; !errs.Is(err, errs.KindConflict) || errs.Message(err) != want {
			t.Fatalf("forceDelete of a locked server: %v", err)
		}
		if err := c.Compute.SetLock(ctx, snapAdmin, id, false, nil, ""); err != nil {
			t.Fatal(err)
		}

		// Restore counts the server against the quota again.
		other := activeServer(t, c, "other")
		if _, err := q.Set(ctx, snapOwner.ProjectID, "", []quota.Change{{Resource: "instances", Limit: 1}}, false); err != nil {
			t.Fatal(err)
		}
		err = c.Compute.Restore(ctx, snapOwner, id, "")
		if want := "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances"; !errs.Is(err, errs.KindOverQuota) || errs.Message(err) != want {
			t.Fatalf("restore over quota: %v", err)
		}
		if srv := c.WaitFor(t, id, softDeleted); srv.DeletedAt == nil {
			t.Fatal("a refused restore cleared deleted_at")
		}

		// forceDelete deletes at once and frees the host.
		if err := c.Compute.ForceDelete(ctx, snapOwner, id, "req-force"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, computetest.Deleted)
		if a, events := actionEvents(t, c, id, "req-force"); a.Action != "delete" || events["compute_terminate_instance"] != "Success" {
			t.Fatalf("forceDelete action %q events %v", a.Action, events)
		}

		// A server never launched is deleted for real, as Nova falls back.
		if _, err := c.DB.ExecContext(ctx, `UPDATE instances SET launched_at = NULL WHERE id = ?`, other); err != nil {
			t.Fatal(err)
		}
		if err := c.Compute.Delete(ctx, snapOwner, other, ""); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, other, computetest.Deleted)
	})
}

// TestForceDeleteWithoutReclaim: forceDelete works whatever the setting,
// and without one DELETE is a real delete.
func TestForceDeleteWithoutReclaim(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		a, b := activeServer(t, c, "a"), activeServer(t, c, "b")
		if err := c.Compute.ForceDelete(ctx, snapOwner, a, ""); err != nil {
			t.Fatal(err)
		}
		if err := c.Compute.Delete(ctx, snapOwner, b, ""); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, a, computetest.Deleted)
		c.WaitFor(t, b, computetest.Deleted)
		if err := c.Compute.ForceDelete(ctx, snapOwner, a, ""); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("forceDelete of a deleted server: %v", err)
		}
	})
}

// TestReclaimSoftDeleted: the agent's periodic deletes soft-deleted
// servers older than the interval, and only those; a second delete
// restarts a server's reclaim clock.
func TestReclaimSoftDeleted(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		clk := clock.NewFake(time.Now())
		c := computetest.New(t, database, computetest.Options{Stopped: true, Clock: clk,
			Settings: compute.Settings{ReclaimInterval: time.Hour}})
		ctx := context.Background()
		old := c.CreateServer(t, snapOwner, "old", nil).Servers[0].ID
		fresh := c.CreateServer(t, snapOwner, "fresh", nil).Servers[0].ID
		c.Step()
		_, vms := shelfHostUsage(t, c)
		// reclaim advances the clock, runs the periodics and the tasks
		// they queue, and returns the kinds run.
		reclaim := func(d time.Duration) []string {
			t.Helper()
			clk.Advance(d)
			if err := c.App.Agent.RunPeriodics(ctx); err != nil {
				t.Fatal(err)
			}
			return c.Step()
		}
		softDelete := func(id, requestID string) {
			t.Helper()
			if err := c.Compute.Delete(ctx, snapOwner, id, requestID); err != nil {
				t.Fatal(err)
			}
			if got := c.Step(); !slices.Equal(got, []string{compute.TaskSoftDelete}) {
				t.Fatalf("delete of %s ran %v, want a soft delete", id, got)
			}
		}
		softDelete(old, "")
		reclaim(30 * time.Minute)
		softDelete(fresh, "")
		if got := reclaim(31 * time.Minute); !slices.Equal(got, []string{compute.TaskDelete}) {
			t.Fatalf("61 and 31 minutes after the deletes: ran %v, want one delete", got)
		}
		if srv, err := c.Compute.GetAny(ctx, old); err != nil || !srv.Deleted {
			t.Fatalf("old server %+v, %v; want it reclaimed", srv, err)
		}
		if _, err := c.Driver.Inspect(old); err == nil {
			t.Fatal("reclaimed guest still on the fake hypervisor")
		}
		if srv, err := c.Compute.GetAny(ctx, fresh); err != nil || !softDeleted(srv) {
			t.Fatalf("fresh server %+v, %v; want it still soft-deleted", srv, err)
		}
		if _, n := shelfHostUsage(t, c); n != vms-1 {
			t.Fatalf("running vms %d after reclaim, want %d", n, vms-1)
		}
		// A deleted server is soft-deleted again: the reclaim clock restarts.
		softDelete(fresh, "req-again")
		now := clk.Now().Truncate(time.Microsecond) // as stored
		srv, err := c.Compute.GetAny(ctx, fresh)
		if err != nil {
			t.Fatal(err)
		}
		if srv.DeletedAt == nil || !srv.DeletedAt.Equal(now) {
			t.Fatalf("after a second delete: deleted_at %v, want now (%v)", srv.DeletedAt, now)
		}
		if _, events := actionEvents(t, c, fresh, "req-again"); events["compute_soft_delete_instance"] != "Success" {
			t.Fatalf("second delete events %v", events)
		}
		if got := reclaim(59 * time.Minute); got != nil {
			t.Fatalf("59 minutes after the second delete: ran %v", got)
		}
		if got := reclaim(2 * time.Minute); !slices.Equal(got, []string{compute.TaskDelete}) {
			t.Fatalf("61 minutes after the second delete: ran %v, want its delete", got)
		}
	})
}

// TestSoftDeleteConfirmsResize: soft-deleting a server in VERIFY_RESIZE
// confirms the resize first, as Nova does: the migration is confirmed,
// the old flavor's claim released, and a restore brings it back ACTIVE.
func TestSoftDeleteConfirmsResize(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c, _ := softDeleteCloud(t, database)
		ctx := context.Background()
		id := activeServer(t, c, "resized")
		before := usageOf(t, c)
		if err := c.Compute.Resize(ctx, snapOwner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "VERIFY_RESIZE" && s.TaskState == state.TaskNone })
		if err := c.Compute.Delete(ctx, snapOwner, id, "req-del"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, softDeleted)
		if m := onlyMigration(t, c, id); m.Status != compute.MigrationConfirmed {
			t.Fatalf("migration %s after a soft delete, want confirmed", m.Status)
		}
		actions, err := c.Compute.ListActions(ctx, snapAdmin, id, compute.ActionListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range actions {
			names = append(names, a.Action)
		}
		if !slices.Contains(names, "confirmResize") || !slices.Contains(names, "delete") {
			t.Fatalf("actions %v, want a confirmResize with the delete", names)
		}
		if g, err := c.Driver.Inspect(id); err != nil || g.ResizePending || g.Power != virt.PowerShutdown {
			t.Fatalf("guest %+v, %v: want the old disk dropped and the guest off", g, err)
		}
		srv, err := c.Compute.GetAny(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		after := usageOf(t, c)
		if after.ram-before.ram != srv.Flavor.RAM-512 || after.vms != before.vms { // flavor 1 has 512 MB
			t.Fatalf("host usage %+v, was %+v with flavor 1: the old flavor's claim is still held", after, before)
		}
		if err := c.Compute.Restore(ctx, snapOwner, id, ""); err != nil {
			t.Fatal(err)
		}
		if srv := waitIdle(t, c, id); srv.Status() != "ACTIVE" || srv.Flavor.ID != "2" {
			t.Fatalf("restored: %s flavor %s", srv.Status(), srv.Flavor.ID)
		}
	})
}
