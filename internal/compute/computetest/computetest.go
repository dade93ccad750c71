// Package computetest is the compute domain's view of the test cloud of
// package apptest (kumo wired exactly as `kumo serve` does, on the fake
// driver, host "fake-host" in zone "nova"): its services at hand, and
// helpers to create a server as a principal and wait for its state.
package computetest

import (
	"context"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// Host is the test cloud's compute host (in zone "nova").
const Host = "fake-host"

// Options chooses what differs from a default test cloud: one whose
// agent runs its loop on the wall clock, APIs served with noauth.
type Options struct {
	// Fake is how the fake driver behaves (delays, failures).
	Fake fake.Options
	// Stopped starts the agent (host registered, interrupted tasks
	// requeued) without running its loop: the test steps it or claims
	// tasks itself.
	Stopped bool
	// Clock, when set, is the compute service's clock.
	Clock *clock.Fake
	// Settings are the lifecycle settings (soft delete, shelve offload,
	// resize auto-confirm).
	Settings compute.Settings
	// Configure, when set, changes the rest of the configuration.
	Configure func(*app.Config)
	// Volumes, when set, is the volume service compute uses (a fake one
	// of NewVolumes), set before any request.
	Volumes compute.Volumes
	// HostEndpoint serves the cloud on a listener of its own, the host
	// endpoint included (guests' consoles are reached through it).
	HostEndpoint bool
}

// Cloud is the built cloud with its services at hand.
type Cloud struct {
	*apptest.Cloud
	DB      *store.DB
	Flavors *flavor.Service
	Images  *image.Service
	Compute *compute.Service
	Agent   *agent.Agent
	Driver  *fake.Driver

	database, dataDir string
	opts              Options
}

// New opens a test cloud on database (a DSN from apptest.Each); it
// closes when the test ends.
func New(t *testing.T, database string, o Options) *Cloud {
	t.Helper()
	return open(t, database, t.TempDir(), o)
}

// Restart closes c and opens kumo again on its data dir and database,
// as `kumo serve` restarted (after a crash, as far as the tasks c's
// agent held are concerned: the new agent takes them over).
func (c *Cloud) Restart(t *testing.T, o Options) *Cloud {
	t.Helper()
	c.Close()
	return open(t, c.database, c.dataDir, o)
}

func open(t *testing.T, database, dataDir string, o Options) *Cloud {
	t.Helper()
	base := apptest.New(t, apptest.Options{Database: database, DataDir: dataDir, Host: Host,
		Clock: o.Clock, WallClock: o.Clock == nil, Run: !o.Stopped, NoAuth: true,
		HostEndpoint: o.HostEndpoint,
		Configure: func(cfg *app.Config) {
			cfg.Fake = o.Fake
			cfg.Lifecycle = o.Settings
			if o.Configure != nil {
				o.Configure(cfg)
			}
		}})
	a := base.App
	if o.Volumes != nil {
		a.Compute.Volumes = o.Volumes
	}
	drv, ok := a.Driver.(*fake.Driver)
	if !ok {
		t.Fatalf("the test cloud's driver is %T, want the fake one", a.Driver)
	}
	return &Cloud{Cloud: base, DB: a.DB, Flavors: a.Flavors, Images: a.Images, Compute: a.Compute,
		Agent: a.Agent, Driver: drv, database: database, dataDir: dataDir, opts: o}
}

// CreateServer creates one server named name for p from kumo-tiny and
// flavor "1" with request id "req-test"; tweak, when not nil, changes the
// request first.
func (c *Cloud) CreateServer(t *testing.T, p *auth.Principal, name string, tweak func(*compute.CreateRequest)) *compute.CreateResult {
	t.Helper()
	req := compute.CreateRequest{Name: name, ImageRef: c.ImageID, FlavorRef: "1", RequestID: "req-test"}
	if tweak != nil {
		tweak(&req)
	}
	res, err := c.Compute.Create(context.Background(), p, req)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return res
}

// WaitFor polls the server (deleted or not) until cond holds, for at most
// ten seconds.
func (c *Cloud) WaitFor(t *testing.T, id string, cond func(*compute.Server) bool) *compute.Server {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := c.Compute.GetAny(context.Background(), id)
		if err != nil {
			t.Fatalf("get %s: %v", id, err)
		}
		if cond(srv) {
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s stuck in %s/%s (status %s)", id, srv.VMState, srv.TaskState, srv.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Active and Deleted are the usual WaitFor conditions.
func Active(s *compute.Server) bool  { return s.Status() == "ACTIVE" }
func Deleted(s *compute.Server) bool { return s.Deleted }
