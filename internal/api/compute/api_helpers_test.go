package compute_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/quota"
)

// newCloud opens kumo as `kumo serve --auth noauth` does (the fake driver,
// host "fake-host") and returns it with a client of its whole handler:
// /v2.1 and /v2 at microversions 2.1–2.104, tokens "user:project". The
// host's capacity is fixed (o.Configure may change it), not the machine's,
// so that what fits on it does not depend on where the tests run.
func newCloud(t *testing.T, database string, o computetest.Options) (*computetest.Cloud, *apitest.Client) {
	t.Helper()
	configure := o.Configure
	o.Configure = func(cfg *app.Config) {
		cfg.HostVCPUs, cfg.HostMemoryMB, cfg.HostDiskGB = 16, 64*1024, 1000
		if configure != nil {
			configure(cfg)
		}
	}
	c := computetest.New(t, database, o)
	return c, apitest.Over(t, c.App.Handler)
}

// unlimitedQuota lifts the instance, core and RAM quotas of project, for
// tests that make more servers than Nova's defaults allow.
func unlimitedQuota(t *testing.T, c *apptest.Cloud, project string) {
	t.Helper()
	unlimited := []quota.Change{{Resource: quota.Instances, Limit: -1}, {Resource: quota.Cores, Limit: -1}, {Resource: quota.RAM, Limit: -1}}
	if _, err := c.App.Quotas.Set(context.Background(), project, "", unlimited, true); err != nil {
		t.Fatalf("lift the quotas of %s: %v", project, err)
	}
}

// faultMessage is the message of a Nova fault body.
func faultMessage(t *testing.T, r *apitest.Response) string {
	t.Helper()
	for _, v := range r.JSON(t) {
		if m, ok := v.(map[string]any); ok {
			s, _ := m["message"].(string)
			return s
		}
	}
	t.Fatalf("not a fault body: %s", r.Body)
	return ""
}

// withIPv6 gives servers' ports an IPv6 address too, as Nova's samples
// show them.
func withIPv6(cfg *app.Config) { cfg.Network.IPv6 = true }
