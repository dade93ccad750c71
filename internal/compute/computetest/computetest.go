// Package computetest builds a small in-process cloud for compute tests:
// the store, seeded flavors, the kumo-tiny image, the compute service and
// an agent on the fake driver (host "fake-host" in zone "nova"), plus
// helpers to create a server and wait for its state.
package computetest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/secret"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// Options chooses what the cloud is built with; the zero value is a
// cloud without quotas, addresses or key pairs whose agent runs.
type Options struct {
	// Driver is the agent's hypervisor (default fake.New with defaults).
	Driver *fake.Driver
	// Quotas, Addresses and KeyPairs are passed to the compute service.
	Quotas    compute.Quotas
	Addresses compute.Addresses
	KeyPairs  compute.KeyPairs
	// ImageOwner is the project that owns kumo-tiny (default
	// "admin-project").
	ImageOwner string
	// Stopped starts the agent (host registered, interrupted tasks
	// requeued) without running its loop, so tests can claim tasks.
	Stopped bool
	// Predecessor is the lease token of an agent of the host this one
	// replaces (a restart); "" when the host is new.
	Predecessor string
	// Now is the compute service's clock (nil: time.Now).
	Now func() time.Time
	// Settings are the compute service's, set before the agent starts
	// (the agent reads them while it runs).
	Settings compute.Settings
}

// Cloud is the built cloud.
type Cloud struct {
	DB      *store.DB
	Flavors *flavor.Service
	Images  *image.Service
	Compute *compute.Service
	Agent   *agent.Agent
	Driver  *fake.Driver
	// ImageID is the id of the seeded kumo-tiny image.
	ImageID string
}

// New builds the cloud over db; the agent stops when the test ends.
func New(t *testing.T, db *store.DB, o Options) *Cloud {
	t.Helper()
	ctx := context.Background()
	if o.Driver == nil {
		o.Driver = fake.New(fake.Options{})
	}
	if o.ImageOwner == "" {
		o.ImageOwner = "admin-project"
	}
	box, err := secret.LoadOrCreate(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatalf("secret key: %v", err)
	}
	c := &Cloud{DB: db, Driver: o.Driver, Flavors: flavor.New(db), Images: image.New(db, t.TempDir())}
	if err := c.Flavors.SeedDefaults(ctx); err != nil {
		t.Fatalf("seed flavors: %v", err)
	}
	if err := c.Images.SeedTiny(ctx, o.ImageOwner); err != nil {
		t.Fatalf("seed image: %v", err)
	}
	admin := &auth.Principal{UserID: "admin", ProjectID: o.ImageOwner, Roles: []string{"admin"}}
	page, err := c.Images.List(ctx, admin, image.ListOptions{})
	if err != nil || len(page.Images) == 0 {
		t.Fatalf("list images: %v", err)
	}
	c.ImageID = page.Images[0].ID
	// The agent is built after the service it serves, so Wake reaches it
	// through c once it exists.
	c.Compute = compute.New(compute.Deps{DB: db, Flavors: c.Flavors, Images: c.Images,
		Quotas: o.Quotas, Addresses: o.Addresses, KeyPairs: o.KeyPairs, Secrets: box, Now: o.Now, Settings: o.Settings,
		Wake: func(string) {
			if c.Agent != nil {
				c.Agent.Wake()
			}
		}})
	a := agent.New(db, c.Compute, o.Driver, slog.New(slog.NewTextHandler(io.Discard, nil)), agent.Options{Poll: 20 * time.Millisecond, Predecessor: o.Predecessor})
	c.Agent = a
	if err := a.Start(ctx); err != nil {
		t.Fatalf("start agent: %v", err)
	}
	if !o.Stopped {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { a.Run(runCtx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return c
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
