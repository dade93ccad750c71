package compute_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/api"
	computeapi "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// Disabling the only compute service through os-services leaves the
// scheduler no host: a new server fails with Nova's "No valid host";
// enabling it again lets servers land.
func TestDisabledServiceGetsNoServers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		flavors := flavor.New(db)
		if err := flavors.SeedDefaults(ctx); err != nil {
			t.Fatalf("seed flavors: %v", err)
		}
		images := image.New(db, t.TempDir())
		if err := images.SeedTiny(ctx, "admin-project"); err != nil {
			t.Fatalf("seed image: %v", err)
		}
		adminP := &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
		page, err := images.List(ctx, adminP, image.ListOptions{})
		if err != nil || len(page.Images) == 0 {
			t.Fatalf("list images: %v", err)
		}
		servers := compute.New(compute.Deps{DB: db, Flavors: flavors, Images: images})
		a := agent.New(db, servers, fake.New(fake.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)), agent.Options{})
		if err := a.Start(ctx); err != nil { // registers the host
			t.Fatalf("start agent: %v", err)
		}
		v21, _ := computeapi.NewServices(computeapi.Deps{Hosts: newHosts(db, "ctl")}, api.Options{Auth: auth.NoAuth{}})
		r := allVersions
		v21.Versions = &r
		client := apitest.New(t, v21).As(hostsAdmin, "2.1")

		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member", "reader"}}
		create := func(name string) *compute.Server {
			res, err := servers.Create(ctx, owner, compute.CreateRequest{Name: name, ImageRef: page.Images[0].ID, FlavorRef: "1", RequestID: "req-" + name})
			if err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			return res.Servers[0]
		}
		set := func(action string) {
			client.Do("PUT", "/v2.1/os-services/"+action, map[string]any{"host": a.Host(), "binary": "nova-compute"}).Expect(t, http.StatusOK)
		}

		set("disable")
		if srv := create("refused"); srv.Fault == nil || srv.Fault.Message != "No valid host was found. " {
			t.Fatalf("server on a disabled host: fault %+v, host %q", srv.Fault, srv.Host)
		}
		set("enable")
		if srv := create("placed"); srv.Fault != nil || srv.Host != a.Host() {
			t.Fatalf("server on the enabled host: fault %+v, host %q", srv.Fault, srv.Host)
		}
	})
}
