package agent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// cloud is the compute test cloud with the member user u1 of p1.
type cloud struct {
	*computetest.Cloud
	user *auth.Principal
}

func newCloud(t *testing.T, database string, o computetest.Options) *cloud {
	t.Helper()
	return &cloud{
		Cloud: computetest.New(t, database, o),
		user:  &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}},
	}
}

// restart is c's kumo restarted on the same data dir and database (as
// after a crash: the new agent takes over the tasks c's agent held).
func (c *cloud) restart(t *testing.T, o computetest.Options) *cloud {
	t.Helper()
	return &cloud{Cloud: c.Restart(t, o), user: c.user}
}

func (c *cloud) create(t *testing.T, name string, extra func(*compute.CreateRequest)) *compute.Server {
	t.Helper()
	res := c.CreateServer(t, c.user, name, extra)
	if len(res.AdminPass) != 12 {
		t.Fatalf("admin pass %q", res.AdminPass)
	}
	return res.Servers[0]
}

// stepAll runs c's agent until nothing is queued and checks the kinds of
// the tasks it ran.
func stepAll(t *testing.T, c *cloud, want ...string) {
	t.Helper()
	if got := c.Step(); !slices.Equal(got, want) {
		t.Fatalf("the agent ran %v, want %v", got, want)
	}
}

// TestCreateBecomesActiveAndDeleteRemovesIt runs the agent's loop as
// `kumo serve` does: it picks up what the API queues without being
// stepped.
func TestCreateBecomesActiveAndDeleteRemovesIt(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database, computetest.Options{})
		ctx := context.Background()
		srv := c.create(t, "web 1", nil)
		if srv.Status() != "BUILD" || srv.Hostname != "web-1" {
			t.Fatalf("new server: status %s hostname %q", srv.Status(), srv.Hostname)
		}
		got := c.WaitFor(t, srv.ID, computetest.Active)
		if got.PowerState != state.PowerRunning || got.LaunchedAt == nil || got.Host != computetest.Host {
			t.Fatalf("active server: power %v launched %v host %q", got.PowerState, got.LaunchedAt, got.Host)
		}
		if p, err := c.Driver.PowerState(ctx, srv.ID); err != nil || p != virt.PowerRunning {
			t.Fatalf("guest power %v, %v", p, err)
		}
		if err := c.Compute.Delete(ctx, c.user, srv.ID, "req-del"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, srv.ID, computetest.Deleted)
		if _, err := c.Compute.Get(ctx, c.user, srv.ID); err == nil {
			t.Fatal("deleted server still visible")
		}
		if ids, _ := c.Driver.List(ctx); len(ids) != 0 {
			t.Fatalf("guest not destroyed: %v", ids)
		}
		var used int
		if err := c.DB.QueryRowContext(ctx, `SELECT vcpus_used FROM compute_hosts`).Scan(&used); err != nil || used != 0 {
			t.Fatalf("capacity not released: vcpus_used=%d err=%v", used, err)
		}
	})
}

func TestSpawnFailureEndsInErrorWithFault(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database, computetest.Options{Stopped: true, Fake: fake.Options{Fail: map[string]bool{"spawn": true}}})
		srv := c.create(t, "doomed", nil)
		stepAll(t, c, compute.TaskBuild)
		got := get(t, c, srv.ID)
		if got.Status() != "ERROR" || got.Fault == nil || !strings.Contains(got.Fault.Message, "injected spawn failure") {
			t.Fatalf("after the build: %s, fault %+v; want ERROR with the spawn failure", got.Status(), got.Fault)
		}
	})
}

func TestNoCapacityIsNoValidHost(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database, computetest.Options{Stopped: true, Configure: func(cfg *app.Config) {
			cfg.HostVCPUs, cfg.HostMemoryMB, cfg.HostDiskGB = 1, 512, 1
		}})
		// cpu ratio 16 lets 16 one-vCPU servers in; RAM (512 MB x 1.5) lets one m1.tiny in.
		first := c.create(t, "fits", nil)
		stepAll(t, c, compute.TaskBuild)
		if got := get(t, c, first.ID); got.Status() != "ACTIVE" {
			t.Fatalf("first server: %s, want ACTIVE", got.Status())
		}
		second := c.create(t, "too-many", nil)
		if second.Status() != "ERROR" || second.Fault == nil || second.Fault.Message != "No valid host was found. " {
			t.Fatalf("second server: %s %+v", second.Status(), second.Fault)
		}
	})
}

func TestRestartRecoversInterruptedBuilds(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := newCloud(t, database, computetest.Options{Stopped: true})
		srv := c.create(t, "interrupted", nil)
		// An agent claims the build and dies before finishing it.
		claimed, err := c.Compute.ClaimTasks(ctx, c.Agent.Host(), c.Agent.Lease(), 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %d", err, len(claimed))
		}
		// The restarted agent requeues it and finishes it exactly once.
		c2 := c.restart(t, computetest.Options{Stopped: true})
		stepAll(t, c2, compute.TaskBuild)
		if got := get(t, c2, srv.ID); got.Status() != "ACTIVE" {
			t.Fatalf("after the restarted agent's step: %s, want ACTIVE", got.Status())
		}
		var tasks int
		if err := c2.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks WHERE instance_id = ?`, srv.ID).Scan(&tasks); err != nil || tasks != 1 {
			t.Fatalf("tasks for the server: %d, %v", tasks, err)
		}
		if ids, _ := c2.Driver.List(ctx); len(ids) != 1 {
			t.Fatalf("guests: %v", ids)
		}
	})
}

func TestParallelCreatesNeverExceedQuota(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database, computetest.Options{Stopped: true})
		const attempts = 16
		errs := make(chan error, attempts)
		var wg sync.WaitGroup
		for i := 0; i < attempts; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := c.Compute.Create(context.Background(), c.user, compute.CreateRequest{
					Name: fmt.Sprintf("s%d", i), ImageRef: c.ImageID, FlavorRef: "1", RequestID: "req-race"})
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		failed := 0
		for err := range errs {
			if err == nil {
				continue
			}
			failed++
			if !strings.Contains(err.Error(), "Quota exceeded for instances") {
				t.Errorf("unexpected create error: %v", err)
			}
		}
		var n int
		if err := c.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM instances WHERE project_id = ?`, c.user.ProjectID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 10 || failed != attempts-10 {
			t.Fatalf("%d servers created, %d creates refused; want 10 and %d (default quota)", n, failed, attempts-10)
		}
	})
}

// TestAgentStopsWhenHostTakenOver: an agent whose host another agent took
// over (it named the first as its predecessor) finds out at its next claim
// and stops with hosts.ErrLeaseLost; the new agent runs the host's tasks.
// The first is the cloud's own agent, run as serve runs it; the second is
// built here, since one cloud has one agent and a restart would close the
// first's database rather than take its host.
func TestAgentStopsWhenHostTakenOver(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := newCloud(t, database, computetest.Options{Stopped: true})
		first := c.Agent
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := make(chan error, 1)
		go func() { stopped <- first.Run(runCtx) }()

		second := agent.New(c.App.Hosts, c.Compute, c.Driver, slog.New(slog.NewTextHandler(io.Discard, nil)),
			agent.Options{Predecessor: first.Lease()})
		if err := second.Start(ctx); err != nil {
			t.Fatal(err)
		}
		first.Wake() // its next claim, now rather than at its next poll
		select {
		case err := <-stopped:
			if !errors.Is(err, hosts.ErrLeaseLost) {
				t.Fatalf("first agent stopped with %v, want ErrLeaseLost", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the first agent still runs after its host was taken over")
		}
		srv := c.create(t, "after-takeover", nil)
		tasks, err := second.Step(ctx)
		if err != nil || len(tasks) != 1 || tasks[0].Kind != compute.TaskBuild {
			t.Fatalf("the second agent's step ran %v, %v; want the build", tasks, err)
		}
		if got := get(t, c, srv.ID); got.Status() != "ACTIVE" {
			t.Fatalf("server built by the second agent: %s, want ACTIVE", got.Status())
		}
	})
}
