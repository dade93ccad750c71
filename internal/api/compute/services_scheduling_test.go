package compute_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

// Disabling the only compute service through os-services leaves the
// scheduler no host: a new server fails with Nova's "No valid host";
// enabling it again lets servers land.
func TestDisabledServiceGetsNoServers(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c, api := newCloud(t, database, computetest.Options{Stopped: true})
		client := api.As(hostsAdmin, "2.1")
		host := computetest.Host

		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member", "reader"}}
		create := func(name string) *compute.Server {
			res, err := c.Compute.Create(ctx, owner, compute.CreateRequest{Name: name, ImageRef: c.ImageID, FlavorRef: "1", RequestID: "req-" + name})
			if err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			return res.Servers[0]
		}
		set := func(action string) {
			client.Do("PUT", "/v2.1/os-services/"+action, map[string]any{"host": host, "binary": "nova-compute"}).Expect(t, http.StatusOK)
		}

		set("disable")
		if srv := create("refused"); srv.Fault == nil || srv.Fault.Message != "No valid host was found. " {
			t.Fatalf("server on a disabled host: fault %+v, host %q", srv.Fault, srv.Host)
		}
		set("enable")
		if srv := create("placed"); srv.Fault != nil || srv.Host != host {
			t.Fatalf("server on the enabled host: fault %+v, host %q", srv.Fault, srv.Host)
		}
	})
}
