package compute_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// TestConfirmResizeFailure: a confirm the driver fails puts the server in
// ERROR with the failure as its fault, as Nova's confirm_resize does, and
// not back in VERIFY_RESIZE with a migration nobody can confirm or revert;
// the migration ends in error, the old flavor's claim is released all the
// same, and an admin's os-resetState makes the server usable again with
// its new flavor.
func TestConfirmResizeFailure(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := resizeCloud(t, database, computetest.Options{Fake: fake.Options{Fail: map[string]bool{"confirm_resize": true}}})
		ctx := context.Background()
		before := usageOf(t, c)
		id := c.CreateServer(t, resizeOwner, "r1", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Resize(ctx, resizeOwner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "VERIFY_RESIZE" })
		if err := c.Compute.ConfirmResize(ctx, resizeOwner, id, "req-confirm"); err != nil {
			t.Fatal(err)
		}
		srv := c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() != "VERIFY_RESIZE" })
		if srv.VMState != state.VMError || srv.TaskState != state.TaskNone {
			t.Fatalf("after a failed confirm: vm_state %s, task_state %q; want error and none", srv.VMState, srv.TaskState)
		}
		if srv.Fault == nil || !strings.Contains(srv.Fault.Message, "injected confirm_resize failure") {
			t.Errorf("fault %+v, want the driver's failure", srv.Fault)
		}
		if m := onlyMigration(t, c, id); m.Status != compute.MigrationError {
			t.Errorf("migration %s, want error", m.Status)
		}
		if got, want := usageOf(t, c), (hostUsage{before.vcpus + 1, before.ram + 2048, before.disk + 20, before.vms + 1}); got != want {
			t.Errorf("usage after the failed confirm %+v, want %+v (m1.small only)", got, want)
		}
		if _, events := eventsOf(t, c, id, "req-confirm"); len(events) != 1 || !strings.HasSuffix(events[0], ":Error") {
			t.Errorf("confirm events %v, want one error", events)
		}
		for name, call := range map[string]func() error{
			"confirm": func() error { return c.Compute.ConfirmResize(ctx, resizeOwner, id, "req-confirm-2") },
			"revert":  func() error { return c.Compute.RevertResize(ctx, resizeOwner, id, "req-revert") },
		} {
			if err := call(); errs.KindOf(err) != errs.KindConflict {
				t.Errorf("%s of the ERROR server: %v, want a conflict (409)", name, err)
			}
		}
		if err := c.Compute.ResetState(ctx, resizeAdmin, id, state.VMActive, "req-reset"); err != nil {
			t.Fatal(err)
		}
		srv = c.WaitFor(t, id, computetest.Active)
		if srv.Flavor.ID != "2" {
			t.Errorf("flavor after the reset %s, want the new one", srv.Flavor.ID)
		}
		if err := c.Compute.Act(ctx, resizeOwner, id, state.ActionStop, "req-stop"); err != nil {
			t.Fatalf("stop after the reset: %v", err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" && s.TaskState == state.TaskNone })
	})
}
