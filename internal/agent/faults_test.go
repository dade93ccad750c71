package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/faults"
)

func driverFault(t *testing.T, c *cloud, r faults.Rule) {
	t.Helper()
	if _, err := c.App.Faults.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// lastEvent is the last event of the server's newest instance action.
func lastEvent(t *testing.T, c *cloud, id string) (*compute.Action, compute.ActionEvent) {
	t.Helper()
	acts, err := c.Compute.ListActions(context.Background(), c.user, id, compute.ActionListOptions{})
	if err != nil || len(acts) == 0 {
		t.Fatalf("actions of %s: %v %v", id, acts, err)
	}
	act, err := c.Compute.GetAction(context.Background(), c.user, id, acts[0].RequestID, false)
	if err != nil || len(act.Events) == 0 {
		t.Fatalf("action %s: %v %v", acts[0].RequestID, act, err)
	}
	return act, act.Events[len(act.Events)-1]
}

// TestDriverFaults: a driver fault fails the operation as a failing
// driver would (build: ERROR with the fault; reboot: Nova's failed
// action, the server as it was) or delays it, then stops once spent.
func TestDriverFaults(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database, computetest.Options{Stopped: true})
		ctx := context.Background()

		driverFault(t, c, faults.Rule{Name: "no build", Operation: "build", ProjectID: "p1", Count: ptr(int64(1)),
			Action: faults.Action{Type: faults.ActionDriverError, Message: "Injected: no valid host"}})
		failed := c.create(t, "doomed", nil)
		stepAll(t, c, "build")
		got, err := c.Compute.GetAny(ctx, failed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status() != "ERROR" || got.Fault == nil || got.Fault.Code != 500 || got.Fault.Message != "Injected: no valid host" {
			t.Fatalf("faulted build: status %s fault %+v", got.Status(), got.Fault)
		}
		if _, ev := lastEvent(t, c, failed.ID); ev.Result == nil || *ev.Result != "Error" {
			t.Fatalf("build event %+v", ev)
		}
		// The count is spent: the next build succeeds.
		srv := c.create(t, "web", nil)
		stepAll(t, c, "build")
		if got := c.WaitFor(t, srv.ID, computetest.Active); got.Fault != nil {
			t.Fatalf("second build: %+v", got.Fault)
		}

		driverFault(t, c, faults.Rule{Name: "no reboot", Operation: "reboot", ServerID: srv.ID,
			Action: faults.Action{Type: faults.ActionDriverError}})
		if err := c.Compute.Act(ctx, c.user, srv.ID, state.ActionRebootSoft, "req-reboot"); err != nil {
			t.Fatal(err)
		}
		stepAll(t, c, "action")
		got, _ = c.Compute.GetAny(ctx, srv.ID)
		if got.VMState != state.VMActive || got.TaskState != "" || got.PowerState != state.PowerRunning {
			t.Fatalf("after the failed reboot: %s/%s power %v", got.VMState, got.TaskState, got.PowerState)
		}
		act, ev := lastEvent(t, c, srv.ID)
		if act.Action != "reboot" || act.Message == nil || *act.Message != "Error" || ev.Result == nil || *ev.Result != "Error" {
			t.Fatalf("reboot action %+v event %+v", act, ev)
		}

		// A hang delays the stop, which then happens.
		driverFault(t, c, faults.Rule{Name: "slow stop", Operation: "stop",
			Action: faults.Action{Type: faults.ActionDriverHang, DelayMS: 300}})
		if err := c.Compute.Act(ctx, c.user, srv.ID, state.ActionStop, "req-stop"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stepAll(t, c, "action")
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Fatalf("the stop took %v, want the rule's 300 ms at least", d)
		}
		if got, _ := c.Compute.GetAny(ctx, srv.ID); got.Status() != "SHUTOFF" {
			t.Fatalf("after the slow stop: %s", got.Status())
		}

		evs, err := c.App.Faults.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 || evs[0].FaultName != "slow stop" || evs[0].Operation != "stop" || evs[0].ServerID != srv.ID ||
			evs[2].Action != faults.ActionDriverError || evs[2].ProjectID != "p1" || evs[1].RequestID != "req-reboot" {
			t.Fatalf("events %+v", evs)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestFaultOperation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		task *compute.Task
		want string
	}{
		{&compute.Task{Kind: compute.TaskBuild}, "build"},
		{&compute.Task{Kind: compute.TaskDelete}, "delete"},
		{&compute.Task{Kind: compute.TaskAction, Params: &compute.ActionParams{TaskPlan: compute.TaskPlan{Action: state.ActionStop}}}, "stop"},
		{&compute.Task{Kind: compute.TaskAction, Params: &compute.ActionParams{TaskPlan: compute.TaskPlan{Action: state.ActionRebootHard}}}, "reboot"},
		{&compute.Task{Kind: compute.TaskCall, Params: &compute.CallParams{Call: compute.CallConsoleOutput}}, "console_output"},
		{&compute.Task{Kind: "resize"}, "resize"},
	} {
		if got := agent.FaultOperation(tc.task); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.task.Kind, got, tc.want)
		}
	}
}
