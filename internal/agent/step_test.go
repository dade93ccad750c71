package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
)

// step runs one Step (one round) and checks the kinds of the tasks it ran.
func step(t *testing.T, c *cloud, want ...string) {
	t.Helper()
	tasks, err := c.Agent.Step(context.Background())
	if err != nil {
		t.Fatalf("step: %v", err)
	}
	var got []string
	for _, task := range tasks {
		got = append(got, task.Kind)
	}
	if len(got) != len(want) {
		t.Fatalf("step ran %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("step ran %v, want %v", got, want)
		}
	}
}

// get reads a server, deleted or not, with no waiting: after a Step its
// state is final.
func get(t *testing.T, c *cloud, id string) *compute.Server {
	t.Helper()
	srv, err := c.Compute.GetAny(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return srv
}

// TestStepRunsQueuedTasks: a stopped agent does nothing until stepped;
// each Step runs what is queued then, to its committed outcome.
func TestStepRunsQueuedTasks(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database, computetest.Options{Stopped: true})
		ctx := context.Background()
		step(t, c) // nothing queued
		srv := c.create(t, "stepped", nil)
		if got := get(t, c, srv.ID); got.Status() != "BUILD" {
			t.Fatalf("before a step: %s, want BUILD", got.Status())
		}
		step(t, c, compute.TaskBuild)
		if got := get(t, c, srv.ID); got.Status() != "ACTIVE" || got.PowerState != state.PowerRunning {
			t.Fatalf("after a step: %s power %v, want ACTIVE and running", got.Status(), got.PowerState)
		}
		step(t, c)
		if err := c.Compute.Delete(ctx, c.user, srv.ID, "req-del"); err != nil {
			t.Fatal(err)
		}
		step(t, c, compute.TaskDelete)
		if !get(t, c, srv.ID).Deleted {
			t.Fatal("server not deleted after the delete task's step")
		}
		if _, err := c.Driver.Inspect(srv.ID); err == nil {
			t.Fatal("guest still on the hypervisor")
		}
	})
}

// TestRunPeriodicsWithAdvancedClock: a soft-deleted server is reclaimed
// by the periodic job only once the clock has passed the reclaim
// interval; no sleeping, no polling.
func TestRunPeriodicsWithAdvancedClock(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		clk := clock.NewFake(time.Now())
		c := newCloud(t, database, computetest.Options{Stopped: true, Clock: clk,
			Settings: compute.Settings{ReclaimInterval: time.Hour}})
		ctx := context.Background()
		srv := c.create(t, "reclaimed", nil)
		step(t, c, compute.TaskBuild)
		if err := c.Compute.Delete(ctx, c.user, srv.ID, "req-del"); err != nil {
			t.Fatal(err)
		}
		step(t, c, compute.TaskSoftDelete)
		for _, tc := range []struct {
			advance time.Duration
			want    []string // tasks the periodics queued
		}{
			{0, nil},
			{59 * time.Minute, nil},
			{2 * time.Minute, []string{compute.TaskDelete}},
		} {
			clk.Advance(tc.advance)
			if err := c.Agent.RunPeriodics(ctx); err != nil {
				t.Fatalf("periodics: %v", err)
			}
			step(t, c, tc.want...)
		}
		if !get(t, c, srv.ID).Deleted {
			t.Fatal("soft-deleted server not reclaimed after the interval")
		}
	})
}
