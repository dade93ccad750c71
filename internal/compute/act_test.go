package compute_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// TestPowerActions walks one server through every power action and checks
// each lands in Nova's status and power state, refusals included.
func TestPowerActions(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		id := c.CreateServer(t, owner, "walker", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		steps := []struct {
			action state.Action
			status string
			power  state.PowerState
			reject string // a 409 message fragment when the action must be refused
		}{
			{state.ActionStart, "", 0, "Cannot 'start' instance " + id + " while it is in vm_state active"},
			{state.ActionStop, "SHUTOFF", state.PowerShutdown, ""},
			{state.ActionPause, "", 0, "while it is in vm_state stopped"},
			{state.ActionStart, "ACTIVE", state.PowerRunning, ""},
			{state.ActionRebootSoft, "ACTIVE", state.PowerRunning, ""},
			{state.ActionRebootHard, "ACTIVE", state.PowerRunning, ""},
			{state.ActionPause, "PAUSED", state.PowerPaused, ""},
			{state.ActionUnpause, "ACTIVE", state.PowerRunning, ""},
			{state.ActionSuspend, "SUSPENDED", state.PowerSuspended, ""},
			{state.ActionResume, "ACTIVE", state.PowerRunning, ""},
		}
		for _, st := range steps {
			err := c.Compute.Act(ctx, owner, id, st.action, "req-"+string(st.action))
			if st.reject != "" {
				if !errs.Is(err, errs.KindConflict) || !strings.Contains(err.Error(), st.reject) {
					t.Fatalf("%s: error %v, want a 409 containing %q", st.action, err, st.reject)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", st.action, err)
			}
			srv := c.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
			if srv.Status() != st.status || srv.PowerState != st.power {
				t.Fatalf("after %s: status %s power %v, want %s %v", st.action, srv.Status(), srv.PowerState, st.status, st.power)
			}
			if p, err := c.Driver.PowerState(ctx, id); err != nil || int(p) != int(st.power) { // the fake reports Nova's numbers
				t.Fatalf("after %s: guest power %v, %v; want %v", st.action, p, err, st.power)
			}
		}
		actions, err := c.Compute.ListActions(ctx, owner, id, compute.ActionListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(actions) != 9 { // create + 8 accepted actions
			t.Fatalf("%d instance actions recorded, want 9", len(actions))
		}
	})
}

// TestLockRefusesNonAdmins checks a lock holds for the owner's actions
// but not an admin's, and an admin's lock cannot be lifted by the owner.
func TestLockRefusesNonAdmins(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
		id := c.CreateServer(t, owner, "locked", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		reason := "maintenance"
		if err := c.Compute.SetLock(ctx, admin, id, true, &reason, "req-lock"); err != nil {
			t.Fatal(err)
		}
		srv, _ := c.Compute.GetAny(ctx, id)
		if !srv.Locked || srv.LockedBy != "admin" || srv.LockedReason == nil || *srv.LockedReason != reason {
			t.Fatalf("lock not recorded: locked=%v by=%q reason=%v", srv.Locked, srv.LockedBy, srv.LockedReason)
		}
		err := c.Compute.Act(ctx, owner, id, state.ActionStop, "req-stop")
		if !errs.Is(err, errs.KindConflict) || !strings.Contains(err.Error(), "Instance "+id+" is locked") {
			t.Fatalf("owner stop of a locked server: %v", err)
		}
		if err := c.Compute.SetLock(ctx, owner, id, false, nil, "req-unlock"); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("owner unlocking an admin lock: %v, want 403", err)
		}
		if err := c.Compute.Act(ctx, admin, id, state.ActionStop, "req-admin-stop"); err != nil {
			t.Fatalf("admin stop of a locked server: %v", err)
		}
		c.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHUTOFF" })
		if err := c.Compute.SetLock(ctx, admin, id, false, nil, "req-unlock"); err != nil {
			t.Fatal(err)
		}
		if err := c.Compute.Act(ctx, owner, id, state.ActionStart, "req-start"); err != nil {
			t.Fatalf("owner start after unlock: %v", err)
		}
	})
}

// TestFailedActionKeepsState checks a driver failure leaves the server
// as it was, idle, with an Error event.
func TestFailedActionKeepsState(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Fake: fake.Options{Fail: map[string]bool{"pause": true}}})
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		id := c.CreateServer(t, owner, "stubborn", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Act(ctx, owner, id, state.ActionPause, "req-pause"); err != nil {
			t.Fatal(err)
		}
		srv := c.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
		if srv.Status() != "ACTIVE" || srv.PowerState != state.PowerRunning {
			t.Fatalf("after a failed pause: %s power %v, want ACTIVE running", srv.Status(), srv.PowerState)
		}
		action, err := c.Compute.GetAction(ctx, owner, id, "req-pause", false)
		if err != nil {
			t.Fatal(err)
		}
		if action.Message == nil || *action.Message != "Error" || len(action.Events) != 1 || action.Events[0].Result == nil || *action.Events[0].Result != "Error" {
			t.Fatalf("failed pause recorded as %+v", action)
		}
	})
}
