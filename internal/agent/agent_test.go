package agent_test

import (
	"context"
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
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

type cloud struct {
	db      *store.DB
	compute *compute.Service
	agent   *agent.Agent
	driver  *fake.Driver
	imageID string
	user    *auth.Principal
}

func newCloud(t *testing.T, db *store.DB, drv *fake.Driver, run bool) *cloud {
	t.Helper()
	ctx := context.Background()
	flavors := flavor.New(db)
	if err := flavors.SeedDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	images := image.New(db, t.TempDir())
	if err := images.SeedTiny(ctx, "admin-project"); err != nil {
		t.Fatal(err)
	}
	admin := &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
	page, err := images.List(ctx, admin, image.ListOptions{})
	if err != nil || len(page.Images) == 0 {
		t.Fatalf("list images: %v", err)
	}
	c := &cloud{db: db, driver: drv, imageID: page.Images[0].ID,
		user: &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}}
	var a *agent.Agent
	c.compute = compute.New(compute.Deps{DB: db, Flavors: flavors, Images: images, Wake: func(string) {
		if a != nil {
			a.Wake()
		}
	}})
	a = agent.New(db, c.compute, drv, slog.New(slog.NewTextHandler(io.Discard, nil)), agent.Options{Poll: 20 * time.Millisecond})
	c.agent = a
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if run {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return c
}

func (c *cloud) create(t *testing.T, name string, extra func(*compute.CreateRequest)) *compute.Server {
	t.Helper()
	req := compute.CreateRequest{Name: name, ImageRef: c.imageID, FlavorRef: "1", RequestID: "req-test"}
	if extra != nil {
		extra(&req)
	}
	res, err := c.compute.Create(context.Background(), c.user, req)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(res.AdminPass) != 12 {
		t.Fatalf("admin pass %q", res.AdminPass)
	}
	return res.Servers[0]
}

// waitFor polls the server until cond holds.
func (c *cloud) waitFor(t *testing.T, id string, cond func(*compute.Server) bool) *compute.Server {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := c.compute.GetAny(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(srv) {
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s stuck in %s/%s", id, srv.VMState, srv.TaskState)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCreateBecomesActiveAndDeleteRemovesIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCloud(t, db, fake.New(fake.Options{}), true)
		ctx := context.Background()
		srv := c.create(t, "web 1", nil)
		if srv.Status() != "BUILD" || srv.Hostname != "web-1" {
			t.Fatalf("new server: status %s hostname %q", srv.Status(), srv.Hostname)
		}
		got := c.waitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
		if got.PowerState != state.PowerRunning || got.LaunchedAt == nil || got.Host != "fake-host" {
			t.Fatalf("active server: power %v launched %v host %q", got.PowerState, got.LaunchedAt, got.Host)
		}
		if p, err := c.driver.PowerState(ctx, srv.ID); err != nil || p != state.PowerRunning {
			t.Fatalf("guest power %v, %v", p, err)
		}
		if err := c.compute.Delete(ctx, c.user, srv.ID, "req-del"); err != nil {
			t.Fatal(err)
		}
		c.waitFor(t, srv.ID, func(s *compute.Server) bool { return s.Deleted })
		if _, err := c.compute.Get(ctx, c.user, srv.ID); err == nil {
			t.Fatal("deleted server still visible")
		}
		if ids, _ := c.driver.List(ctx); len(ids) != 0 {
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
		got := c.waitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ERROR" })
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
		c.waitFor(t, first.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
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
		claimed, err := c.compute.ClaimTasks(ctx, c.agent.Host(), 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %d", err, len(claimed))
		}
		// A restarted agent requeues it and finishes it exactly once.
		c2 := newCloud(t, db, drv, true)
		c2.waitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
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
		c.compute.Quotas = quota.New(db, quota.Options{})
		const attempts = 16
		errs := make(chan error, attempts)
		var wg sync.WaitGroup
		for i := 0; i < attempts; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := c.compute.Create(context.Background(), c.user, compute.CreateRequest{
					Name: fmt.Sprintf("s%d", i), ImageRef: c.imageID, FlavorRef: "1", RequestID: "req-race"})
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
