package agent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// cloud is the shared compute test cloud with the member user u1 of p1.
type cloud struct {
	*computetest.Cloud
	user *auth.Principal
}

func newCloud(t *testing.T, db *store.DB, drv *fake.Driver, run bool) *cloud {
	t.Helper()
	return &cloud{
		Cloud: computetest.New(t, db, computetest.Options{Driver: drv, Stopped: !run}),
		user:  &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}},
	}
}

// restartCloud is a new cloud on prev's database and driver whose agent
// replaces prev's, as kumo restarted on the same data dir.
func restartCloud(t *testing.T, db *store.DB, drv *fake.Driver, prev *cloud) *cloud {
	t.Helper()
	return &cloud{
		Cloud: computetest.New(t, db, computetest.Options{Driver: drv, Predecessor: prev.Agent.Lease()}),
		user:  prev.user,
	}
}

func (c *cloud) create(t *testing.T, name string, extra func(*compute.CreateRequest)) *compute.Server {
	t.Helper()
	res := c.CreateServer(t, c.user, name, extra)
	if len(res.AdminPass) != 12 {
		t.Fatalf("admin pass %q", res.AdminPass)
	}
	return res.Servers[0]
}

func TestCreateBecomesActiveAndDeleteRemovesIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCloud(t, db, fake.New(fake.Options{}), true)
		ctx := context.Background()
		srv := c.create(t, "web 1", nil)
		if srv.Status() != "BUILD" || srv.Hostname != "web-1" {
			t.Fatalf("new server: status %s hostname %q", srv.Status(), srv.Hostname)
		}
		got := c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
		if got.PowerState != state.PowerRunning || got.LaunchedAt == nil || got.Host != "fake-host" {
			t.Fatalf("active server: power %v launched %v host %q", got.PowerState, got.LaunchedAt, got.Host)
		}
		if p, err := c.Driver.PowerState(ctx, srv.ID); err != nil || p != virt.PowerRunning {
			t.Fatalf("guest power %v, %v", p, err)
		}
		if err := c.Compute.Delete(ctx, c.user, srv.ID, "req-del"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Deleted })
		if _, err := c.Compute.Get(ctx, c.user, srv.ID); err == nil {
			t.Fatal("deleted server still visible")
		}
		if ids, _ := c.Driver.List(ctx); len(ids) != 0 {
			t.Fatalf("guest not destroyed: %v", ids)
		}
		var used int
		if err := db.QueryRowContext(ctx, `SELECT vcpus_used FROM compute_hosts`).Scan(&used); err != nil || used != 0 {
			t.Fatalf("capacity not released: vcpus_used=%d err=%v", used, err)
		}
	})
}

func TestSpawnFailureEndsInErrorWithFault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCloud(t, db, fake.New(fake.Options{Fail: map[string]bool{"spawn": true}}), true)
		srv := c.create(t, "doomed", nil)
		got := c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ERROR" })
		if got.Fault == nil || !strings.Contains(got.Fault.Message, "injected spawn failure") {
			t.Fatalf("fault = %+v", got.Fault)
		}
	})
}

func TestNoCapacityIsNoValidHost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCloud(t, db, fake.New(fake.Options{VCPUs: 1, MemoryMB: 512, DiskGB: 1}), true)
		// cpu ratio 16 lets 16 one-vCPU servers in; RAM (512 MB x 1.5) lets one m1.tiny in.
		first := c.create(t, "fits", nil)
		c.WaitFor(t, first.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
		second := c.create(t, "too-many", nil)
		if second.Status() != "ERROR" || second.Fault == nil || second.Fault.Message != "No valid host was found. " {
			t.Fatalf("second server: %s %+v", second.Status(), second.Fault)
		}
	})
}

func TestRestartRecoversInterruptedBuilds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		drv := fake.New(fake.Options{})
		c := newCloud(t, db, drv, false)
		srv := c.create(t, "interrupted", nil)
		// An agent claims the build and dies before finishing it.
		claimed, err := c.Compute.ClaimTasks(ctx, c.Agent.Host(), c.Agent.Lease(), 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %d", err, len(claimed))
		}
		// A restarted agent requeues it and finishes it exactly once.
		c2 := restartCloud(t, db, drv, c)
		c2.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
		var tasks int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks WHERE instance_id = ?`, srv.ID).Scan(&tasks); err != nil || tasks != 1 {
			t.Fatalf("tasks for the server: %d, %v", tasks, err)
		}
		if ids, _ := drv.List(ctx); len(ids) != 1 {
			t.Fatalf("guests: %v", ids)
		}
	})
}

func TestParallelCreatesNeverExceedQuota(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCloud(t, db, fake.New(fake.Options{}), true)
		c.Compute.Quotas = quota.New(db, quota.Options{Instances: compute.NewInventory(db)})
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
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM instances WHERE project_id = ?`, c.user.ProjectID).Scan(&n); err != nil {
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
func TestAgentStopsWhenHostTakenOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		drv := fake.New(fake.Options{})
		c := newCloud(t, db, drv, false)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		first := agent.New(db, c.Compute, drv, log, agent.Options{Poll: 10 * time.Millisecond, Predecessor: c.Agent.Lease()})
		if err := first.Start(ctx); err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := make(chan error, 1)
		go func() { stopped <- first.Run(runCtx) }()

		c2 := restartCloud(t, db, drv, &cloud{Cloud: &computetest.Cloud{Agent: first}, user: c.user})
		select {
		case err := <-stopped:
			if !errors.Is(err, hosts.ErrLeaseLost) {
				t.Fatalf("first agent stopped with %v, want ErrLeaseLost", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the first agent still runs after its host was taken over")
		}
		srv := c2.create(t, "after-takeover", nil)
		c2.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
	})
}
