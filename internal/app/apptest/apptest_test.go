package apptest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute"
)

// TestCloudLifecycle: on each engine the fixture's cloud serves its
// clients, does no work until stepped, and moves time only when told:
// a soft-deleted server is reclaimed once the clock passes the reclaim
// interval and the agent's periodic jobs run.
func TestCloudLifecycle(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := apptest.New(t, apptest.Options{Database: database, Configure: func(cfg *app.Config) {
			cfg.Lifecycle.ReclaimInterval = time.Hour
		}})
		id := c.CreateServer(c.Member, "fixture-vm", nil)
		if s := c.Server(id); s.Status != "BUILD" {
			t.Fatalf("before a step: %s, want BUILD", s.Status)
		}
		if got := c.Step(); !slices.Equal(got, []string{compute.TaskBuild}) {
			t.Fatalf("step ran %v, want one build", got)
		}
		if s := c.Server(id); s.Status != "ACTIVE" || s.Host != "apptest-host" {
			t.Fatalf("after a step: %s on %q, want ACTIVE on apptest-host", s.Status, s.Host)
		}
		// The member sees its server; the host is for admins only.
		member := c.Member.Do(http.MethodGet, "/v2.1/servers/"+id, nil).Expect(t, http.StatusOK).JSON(t)
		if srv, _ := member["server"].(map[string]any); srv["tenant_id"] != c.MemberProject || srv["OS-EXT-SRV-ATTR:host"] != nil {
			t.Fatalf("member's view: tenant %v, host %v; want %s and no host", srv["tenant_id"], srv["OS-EXT-SRV-ATTR:host"], c.MemberProject)
		}

		c.Member.Do(http.MethodDelete, "/v2.1/servers/"+id, nil).Expect(t, http.StatusNoContent)
		if got := c.Step(); !slices.Equal(got, []string{compute.TaskSoftDelete}) {
			t.Fatalf("delete ran %v, want a soft delete", got)
		}
		if s := c.Server(id); s == nil || s.Status != "SOFT_DELETED" {
			t.Fatalf("after delete: %+v, want SOFT_DELETED", s)
		}
		for _, tc := range []struct {
			advance time.Duration
			want    []string
		}{
			{30 * time.Minute, nil},
			{31 * time.Minute, []string{compute.TaskDelete}},
		} {
			c.Clock.Advance(tc.advance)
			if err := c.App.Agent.RunPeriodics(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := c.Step(); !slices.Equal(got, tc.want) {
				t.Fatalf("%v later: ran %v, want %v", tc.advance, got, tc.want)
			}
		}
		if s := c.Server(id); s != nil {
			t.Fatalf("reclaimed server still shown: %+v", s)
		}
		if ids, err := c.App.Driver.List(context.Background()); err != nil || len(ids) != 0 {
			t.Fatalf("guests left: %v, %v", ids, err)
		}
	})
}

// TestHostKeepsTheCloudsTime: the agent registers its host on the
// cloud's clock, the one the compute service judges hosts by, so a test
// that moves the clock does not see its host fall down.
func TestHostKeepsTheCloudsTime(t *testing.T) {
	t.Parallel()
	start := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	c := apptest.New(t, apptest.Options{Clock: clock.NewFake(start)})
	var got struct {
		Services []struct {
			Binary    string `json:"binary"`
			Host      string `json:"host"`
			State     string `json:"state"`
			UpdatedAt string `json:"updated_at"`
		} `json:"services"`
	}
	if err := json.Unmarshal(c.Admin.Do(http.MethodGet, "/v2.1/os-services?binary=nova-compute", nil).Expect(t, http.StatusOK).Body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Services) != 1 {
		t.Fatalf("services: %+v, want the one compute host", got.Services)
	}
	s := got.Services[0]
	if s.Host != "apptest-host" || s.State != "up" || !strings.HasPrefix(s.UpdatedAt, "2031-02-03T04:05:06") {
		t.Fatalf("compute service %+v, want apptest-host up, updated at the cloud's 2031-02-03T04:05:06", s)
	}
}
