// Package apptest builds kumo for tests exactly as `kumo serve` does:
// app.Open on a temp data dir (the store migrated, the cloud bootstrapped,
// every service and API wired, the fake driver's host registered), on
// SQLite or PostgreSQL. The compute service runs on a fake clock and the
// agent does nothing until the test steps it (Options.Run runs its loop
// as serve does instead), so tests say when work happens and when time
// passes rather than sleeping and polling.
package apptest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// Options choose what differs from a default test cloud.
type Options struct {
	// Database is the database the cloud opens ("": a SQLite file in its
	// data dir); Each hands out one per engine, and clouds given the same
	// one are hosts of one deployment.
	Database string
	// Host is the compute host's name (default "apptest-host").
	Host string
	// Clock is the compute service's clock (default a fake one showing
	// the time the cloud was built).
	Clock *clock.Fake
	// WallClock runs the compute service on the real time instead (for
	// tests that order what they make by when they made it); Cloud.Clock
	// is then nil.
	WallClock bool
	// DataDir is the cloud's data dir ("": a new temp dir); a cloud
	// opened on the dir of a closed one is that kumo restarted.
	DataDir string
	// NoAuth serves the APIs with `--auth noauth`, as Nova's noauth2:
	// a token "user:project" is that user in that project, admin when
	// the user is "admin". Admin and Member then use such tokens.
	NoAuth bool
	// Run runs the agent's loop, polling and woken, as `kumo serve`
	// does, until the test ends; without it the test calls Step.
	Run bool
	// Configure, when set, changes the configuration before the app
	// opens (lifecycle settings, fake delays, floating IPs).
	Configure func(*app.Config)
	// HostEndpoint serves the cloud's handler (with its host endpoint)
	// on a test HTTP server started before the app opens, so the host
	// registers its URL and other hosts can send it moving servers;
	// URL then answers that server's address.
	HostEndpoint bool
}

// Cloud is a built kumo and clients of its APIs.
type Cloud struct {
	App   *app.App
	Clock *clock.Fake
	// Admin is an admin of the admin project, Member a member of
	// MemberProject; both speak to App.Handler at the base microversion.
	Admin, Member *apitest.Client
	MemberProject string
	// ImageID is kumo-tiny's id.
	ImageID string
	t       *testing.T
	stop    func() // ends the agent's loop
	closed  bool
	server  *httptest.Server // started by URL
}

// Each runs fn once per engine, in parallel, with the DSN of a fresh,
// empty database: a SQLite file and a private PostgreSQL schema.
func Each(t *testing.T, fn func(t *testing.T, database string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, filepath.Join(t.TempDir(), "kumo.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, storetest.PostgresDSN(t))
	})
}

// New opens a cloud on a new data dir; it closes when the test ends.
func New(t *testing.T, o Options) *Cloud {
	t.Helper()
	if o.Host == "" {
		o.Host = "apptest-host"
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	cfg := app.Config{DataDir: o.DataDir, Database: o.Database, Driver: "fake", Host: o.Host, PasswordHashCost: 4}
	switch {
	case o.WallClock:
		o.Clock = nil
	case o.Clock == nil:
		o.Clock = clock.NewFake(time.Now())
		fallthrough
	default:
		cfg.Clock = o.Clock.Now
	}
	if o.NoAuth {
		cfg.Auth = "noauth"
	}
	if o.Database != "" {
		// Clouds on one database are one cloud: they hold one secret key,
		// here derived from the database's name.
		cfg.SecretKeyFile = filepath.Join(o.DataDir, "shared-secret.key")
		key := sha256.Sum256([]byte(o.Database))
		if err := os.WriteFile(cfg.SecretKeyFile, key[:], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	var server *httptest.Server
	var handler atomic.Pointer[http.Handler]
	if o.HostEndpoint {
		server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h := handler.Load(); h != nil {
				(*h).ServeHTTP(w, r)
				return
			}
			http.Error(w, "kumo is not open yet", http.StatusServiceUnavailable)
		}))
		t.Cleanup(server.Close)
		cfg.HostURL = server.URL
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open kumo: %v", err)
	}
	handler.Store(&a.Handler)
	stop := func() {}
	if o.Run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		volumesDone := make(chan struct{})
		go func() { _ = a.Agent.Run(ctx); close(done) }()
		go func() { _ = a.VolumeWorker.Run(ctx); close(volumesDone) }()
		stop = func() { cancel(); <-done; <-volumesDone }
	}
	c := &Cloud{App: a, Clock: o.Clock, t: t, stop: stop, server: server}
	t.Cleanup(c.Close)
	c.signIn(o.Host, o.NoAuth)
	return c
}

// Stop ends the agent's loop (Options.Run) as a host going down does;
// its host's tasks then wait. Safe to call again.
func (c *Cloud) Stop() {
	c.stop()
	c.stop = func() {}
}

// Close stops the agent and closes the app, releasing its data dir (for
// a restart on it); the test's end does it too. Safe to call again.
func (c *Cloud) Close() {
	c.Stop()
	if c.closed {
		return
	}
	c.closed = true
	if err := c.App.Close(); err != nil {
		c.t.Errorf("close kumo: %v", err)
	}
}

// URL is the base URL of an HTTP server serving App.Handler, started at
// the first call, for clients that speak HTTP (gophercloud, net/http).
func (c *Cloud) URL() string {
	if c.server == nil {
		c.server = httptest.NewServer(c.App.Handler)
		c.t.Cleanup(c.server.Close)
	}
	return c.server.URL
}

// signIn makes the admin and member users (named after host, so hosts
// sharing a database each have their own) and their clients; with
// noauth their tokens only name them.
func (c *Cloud) signIn(host string, noauth bool) {
	t, ctx, ids := c.t, context.Background(), c.App.Identity
	role := func(name string) string {
		rs, err := ids.ListRoles(ctx, name, "")
		if err != nil || len(rs) != 1 {
			t.Fatalf("role %s: %v %v", name, rs, err)
		}
		return rs[0].ID
	}
	projects, err := ids.ListProjects(ctx, identity.ProjectFilter{Name: "admin", DomainID: "default"})
	if err != nil || len(projects) != 1 {
		t.Fatalf("admin project: %v %v", projects, err)
	}
	c.MemberProject = c.memberProject("member-" + host)
	client := func(user, project, roleName string) *apitest.Client {
		if noauth {
			return apitest.Over(t, c.App.Handler).As(user+":"+project, "")
		}
		pw := randomHex(12)
		u, err := ids.CreateUser(ctx, identity.User{Name: user + "-" + host, DomainID: "default", Enabled: true}, &pw)
		if errs.Is(err, errs.KindConflict) { // a cloud before a restart on the same database made it
			u, err = ids.CreateUser(ctx, identity.User{Name: user + "-" + host + "-" + randomHex(4), DomainID: "default", Enabled: true}, &pw)
		}
		if err != nil {
			t.Fatalf("create user %s: %v", user, err)
		}
		if err := ids.Grant(ctx, identity.Target{Project: project}, u.ID, role(roleName)); err != nil {
			t.Fatalf("grant %s: %v", roleName, err)
		}
		tok, err := ids.IssueToken(ctx, identity.AuthRequest{Methods: []string{"password"},
			Password: &identity.PasswordAuth{UserID: u.ID, Password: pw}, Scope: identity.ScopeRequest{ProjectID: project}})
		if err != nil {
			t.Fatalf("issue token for %s: %v", user, err)
		}
		return apitest.Over(t, c.App.Handler).As(tok.ID, "")
	}
	c.Admin = client("admin", projects[0].ID, "admin")
	c.Member = client("member", c.MemberProject, "member")
	var images struct {
		Images []struct {
			ID string `json:"id"`
		} `json:"images"`
	}
	decode(t, c.Admin.Do(http.MethodGet, "/image/v2/images?name="+image.TinyName, nil).Expect(t, http.StatusOK), &images)
	if len(images.Images) != 1 {
		t.Fatalf("%d images named %s, want 1", len(images.Images), image.TinyName)
	}
	c.ImageID = images.Images[0].ID
}

// memberProject is the id of the project named name, made unless a
// cloud before a restart on the same database made it.
func (c *Cloud) memberProject(name string) string {
	t, ctx, ids := c.t, context.Background(), c.App.Identity
	found, err := ids.ListProjects(ctx, identity.ProjectFilter{Name: name, DomainID: "default"})
	if err != nil {
		t.Fatalf("find project %s: %v", name, err)
	}
	if len(found) == 1 {
		return found[0].ID
	}
	p, err := ids.CreateProject(ctx, identity.Project{Name: name, DomainID: "default", Enabled: true})
	if err != nil {
		t.Fatalf("create project %s: %v", name, err)
	}
	return p.ID
}

// Step runs the agent's rounds until one finds nothing queued (tasks may
// queue more) and returns the kinds of the tasks run, in order.
func (c *Cloud) Step() []string {
	c.t.Helper()
	var kinds []string
	for round := 0; ; round++ {
		tasks, err := c.App.Agent.Step(context.Background())
		if err != nil {
			c.t.Fatalf("step the agent of %s: %v", c.App.Agent.Host(), err)
		}
		if len(tasks) == 0 {
			return kinds
		}
		if round == 100 {
			c.t.Fatalf("the agent of %s still has work after 100 rounds: %v", c.App.Agent.Host(), kinds)
		}
		for _, task := range tasks {
			kinds = append(kinds, task.Kind)
		}
	}
}

// CreateServer creates a server from kumo-tiny with flavor 1 as client,
// with extra fields in its body, and returns its id.
func (c *Cloud) CreateServer(client *apitest.Client, name string, extra map[string]any) string {
	c.t.Helper()
	body := map[string]any{"name": name, "imageRef": c.ImageID, "flavorRef": "1"}
	for k, v := range extra {
		body[k] = v
	}
	var created struct {
		Server struct {
			ID string `json:"id"`
		} `json:"server"`
	}
	decode(c.t, client.Do(http.MethodPost, "/v2.1/servers", map[string]any{"server": body}).Expect(c.t, http.StatusAccepted), &created)
	if created.Server.ID == "" {
		c.t.Fatalf("create %s: no server id", name)
	}
	return created.Server.ID
}

// Server is what a test usually reads of a server.
type Server struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Host   string `json:"OS-EXT-SRV-ATTR:host"`
}

// Server reads server id as admin (who sees its host); nil when it is
// gone (404).
func (c *Cloud) Server(id string) *Server {
	c.t.Helper()
	r := c.Admin.Do(http.MethodGet, "/v2.1/servers/"+id, nil)
	if r.Status == http.StatusNotFound {
		return nil
	}
	var got struct{ Server Server }
	decode(c.t, r.Expect(c.t, http.StatusOK), &got)
	return &got.Server
}

func decode(t *testing.T, r *apitest.Response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
