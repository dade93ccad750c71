package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// computeVersion is the microversion the server tests ask for: 2.37 is
// the first where networks "none" and "auto" exist, which both the CLI
// (--nic none|auto) and gophercloud (Networks: "none") need.
const computeVersion = "2.37"

// serverWait bounds how long a build, delete or recovery may take in
// the tests (the fake driver is instant unless slowed down).
const serverWait = 60 * time.Second

// osc prepends the compute microversion the server tests use to a CLI
// argument list.
func osc(args ...string) []string {
	return append([]string{"--os-compute-api-version", computeVersion}, args...)
}

// startAdminClients starts kumo like startAdmin and adds gophercloud
// clients logged in as its admin, at the server tests' microversion, for
// set-up and polling where the CLI is not what is tested.
func startAdminClients(t *testing.T, args ...string) (*Server, *CLI, *Clients) {
	t.Helper()
	s, cli := startAdmin(t, args...)
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	return s, cli, c
}

// newProjectUser creates a project and a member user in it as kumo's
// admin (with gophercloud: this is set-up, not what the tests test) and
// returns a clouds.yaml logging in as that user, and the project's id.
func newProjectUser(t *testing.T, s *Server, project, user string) (cloudsFile, projectID string) {
	t.Helper()
	ctx := context.Background()
	admin := NewClients(t, s.CloudsFile(), "kumo").Identity
	p, err := projects.Create(ctx, admin, projects.CreateOpts{Name: project}).Extract()
	if err != nil {
		t.Fatalf("create project %s: %v", project, err)
	}
	u, err := users.Create(ctx, admin, users.CreateOpts{Name: user, Password: "pw-" + user, DefaultProjectID: p.ID}).Extract()
	if err != nil {
		t.Fatalf("create user %s: %v", user, err)
	}
	member := roleIDByName(t, admin, "member")
	if err := roles.Assign(ctx, admin, member, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr(); err != nil {
		t.Fatalf("give %s the member role on %s: %v", user, project, err)
	}
	authURL := strings.TrimSuffix(s.URL, "/") + "/identity/v3"
	return writeClouds(t, authURL, user, "pw-"+user, project), p.ID
}

// roleIDByName finds a role's id with gophercloud.
func roleIDByName(t *testing.T, c *gophercloud.ServiceClient, name string) string {
	t.Helper()
	pages, err := roles.List(c, roles.ListOpts{Name: name}).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list roles named %s: %v", name, err)
	}
	list, err := roles.ExtractRoles(pages)
	if err != nil || len(list) != 1 {
		t.Fatalf("roles named %s: %d (%v), want one", name, len(list), err)
	}
	return list[0].ID
}

// gcWaitIdle polls a server with gophercloud until it shows status want
// with no task running, and returns the last status seen: want, or
// another once serverWait has passed (the caller says what that means).
func gcWaitIdle(t *testing.T, c *Clients, id, want string) string {
	t.Helper()
	return gcWaitIdleServer(t, c, id, want).Status
}

// gcWaitIdleServer is gcWaitIdle returning the server last read.
func gcWaitIdleServer(t *testing.T, c *Clients, id, want string) *servers.Server {
	t.Helper()
	return gcWaitIdleWithin(t, c, id, want, serverWait)
}

// gcWaitIdleWithin is gcWaitIdleServer with its own bound, for drivers
// slower than the fake one.
func gcWaitIdleWithin(t *testing.T, c *Clients, id, want string, wait time.Duration) *servers.Server {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		srv, err := servers.Get(context.Background(), c.Compute, id).Extract()
		if err != nil {
			t.Fatalf("get server %s while waiting for %s: %v", id, want, err)
		}
		if (srv.Status == want && srv.TaskState == "") || time.Now().After(deadline) {
			return srv
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gcWaitStatus polls a server with gophercloud until its status is one of
// want, and returns it; it fails the test on an error or a timeout.
func gcWaitStatus(t *testing.T, c *gophercloud.ServiceClient, id string, want ...string) *servers.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverWait)
	defer cancel()
	var last *servers.Server
	for {
		srv, err := servers.Get(ctx, c, id).Extract()
		if err != nil {
			t.Fatalf("get server %s while waiting for %v (last seen %s): %v", id, want, statusOf(last), err)
		}
		last = srv
		if slices.Contains(want, srv.Status) {
			return srv
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server %s is %s after %v, want one of %v", id, statusOf(last), serverWait, want)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// gcCreateActive creates a server of kumo-tiny on flavor 1 without a
// network for each name, waits until all are ACTIVE and returns their ids
// by name.
func gcCreateActive(t *testing.T, c *Clients, names ...string) map[string]string {
	t.Helper()
	imageID := imageIDByName(t, c, "kumo-tiny")
	ids := map[string]string{}
	for _, name := range names {
		srv, err := servers.Create(context.Background(), c.Compute, servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		ids[name] = srv.ID
	}
	for _, id := range ids {
		gcWaitStatus(t, c.Compute, id, "ACTIVE")
	}
	return ids
}

// gcWaitGone polls a server until GET answers 404.
func gcWaitGone(t *testing.T, c *gophercloud.ServiceClient, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), serverWait)
	defer cancel()
	for {
		srv, err := servers.Get(ctx, c, id).Extract()
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("get server %s while waiting for 404: %v", id, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server %s still answers (status %s, task %s) %v after delete", id, srv.Status, srv.TaskState, serverWait)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func statusOf(s *servers.Server) string {
	if s == nil {
		return "(never read)"
	}
	return fmt.Sprintf("%s (vm_state %s, task_state %q)", s.Status, s.VmState, s.TaskState)
}

// gcListAll lists every server of the caller's project (detail), with
// opts, following pagination.
func gcListAll(t *testing.T, c *gophercloud.ServiceClient, opts servers.ListOpts) []servers.Server {
	t.Helper()
	pages, err := servers.List(c, opts).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list servers %+v: %v", opts, err)
	}
	list, err := servers.ExtractServers(pages)
	if err != nil {
		t.Fatalf("extract servers: %v", err)
	}
	return list
}

// gcActions lists a server's instance actions.
func gcActions(t *testing.T, c *gophercloud.ServiceClient, id string) []instanceactions.InstanceAction {
	t.Helper()
	pages, err := instanceactions.List(c, id, nil).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list instance actions of %s: %v", id, err)
	}
	actions, err := instanceactions.ExtractInstanceActions(pages)
	if err != nil {
		t.Fatalf("extract instance actions of %s: %v", id, err)
	}
	return actions
}

// errorStatus is the HTTP status of a gophercloud error, or 0.
func errorStatus(err error) int {
	var e gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &e) {
		return e.Actual
	}
	return 0
}

// serverNames returns the names of servers, sorted.
func serverNames(list []servers.Server) []string {
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// imageIDByName finds an image's id with gophercloud.
func imageIDByName(t *testing.T, c *Clients, name string) string {
	t.Helper()
	pages, err := images.List(c.Image, images.ListOpts{Name: name}).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list images named %s: %v", name, err)
	}
	list, err := images.ExtractImages(pages)
	if err != nil || len(list) != 1 {
		t.Fatalf("images named %s: %d (%v), want one", name, len(list), err)
	}
	return list[0].ID
}

// eachEngine runs fn as parallel subtests on SQLite (kumo's default) and
// on a private PostgreSQL schema, with the `kumo serve` flags that select
// the engine.
func eachEngine(t *testing.T, fn func(t *testing.T, engineArgs []string)) {
	t.Helper()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			var args []string
			if engine == "postgres" {
				dsn, _ := postgresSchema(t)
				args = []string{"--database", dsn}
			}
			fn(t, args)
		})
	}
}

// gcUploadImage creates a raw, bare image with opts and uploads data to
// it with gophercloud, and returns its id once it is active.
func gcUploadImage(t *testing.T, c *Clients, opts images.CreateOpts, data []byte) string {
	t.Helper()
	ctx := context.Background()
	opts.DiskFormat, opts.ContainerFormat = "raw", "bare"
	img, err := images.Create(ctx, c.Image, opts).Extract()
	if err != nil {
		t.Fatalf("create image %s: %v", opts.Name, err)
	}
	if err := imagedata.Upload(ctx, c.Image, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("upload image %s: %v", opts.Name, err)
	}
	waitImageActive(t, c, img.ID)
	return img.ID
}
