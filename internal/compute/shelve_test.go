package compute_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/virt"
)

// shelfHostUsage is the fake host's used vCPUs and running servers.
func shelfHostUsage(t *testing.T, c *computetest.Cloud) (vcpus, vms int64) {
	t.Helper()
	h, err := c.App.Hosts.GetByName(context.Background(), c.Agent.Host())
	if err != nil {
		t.Fatal(err)
	}
	return h.VCPUsUsed, h.RunningVMs
}

// TestShelveKeepsHostThenUnshelvePowersOn shelves without offloading
// (shelved_offload_time < 0): SHELVED on its host with the shelved_*
// system metadata and image; unshelve powers it on and drops both.
func TestShelveKeepsHostThenUnshelvePowersOn(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Settings: compute.Settings{ShelvedOffloadTime: -1}})
		ctx := context.Background()
		id := c.CreateServer(t, snapOwner, "shelf", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Shelve(ctx, snapOwner, id, "req-shelve"); err != nil {
			t.Fatal(err)
		}
		srv := waitIdle(t, c, id)
		if srv.Status() != "SHELVED" || srv.PowerState != state.PowerShutdown || srv.Host != c.Agent.Host() {
			t.Fatalf("after shelve: %s power %v host %q", srv.Status(), srv.PowerState, srv.Host)
		}
		imageID := srv.SystemMetadata["shelved_image_id"]
		if imageID == "" || srv.SystemMetadata["shelved_at"] == "" || srv.SystemMetadata["shelved_host"] != c.Agent.Host() {
			t.Fatalf("shelved system metadata %v", srv.SystemMetadata)
		}
		img, err := c.Images.Get(ctx, snapOwner, imageID)
		if err != nil || img.Status != "active" || *img.Name != "shelf-shelved" || img.Properties["image_type"] != "snapshot" {
			t.Fatalf("shelved image %+v, %v", img, err)
		}
		if g, err := c.Driver.Inspect(id); err != nil || g.Power != virt.PowerShutdown {
			t.Fatalf("guest %+v, %v; want it shut down", g, err)
		}
		if _, events := actionEvents(t, c, id, "req-shelve"); events["compute_shelve_instance"] != "Success" {
			t.Fatalf("shelve events %v", events)
		}
		// Only an offloaded server may be given a zone or host.
		az := "nova"
		err = c.Compute.Unshelve(ctx, snapOwner, id, compute.UnshelveRequest{AZPassed: true, AZ: &az})
		want := `Specifying an availability zone or a host when unshelving server "` + id + `" with status "shelved" is not supported. The server status must be SHELVED_OFFLOADED.`
		if !errs.Is(err, errs.KindConflict) || err.Error() != want {
			t.Fatalf("unshelve with az: %v", err)
		}
		if err := c.Compute.Unshelve(ctx, snapOwner, id, compute.UnshelveRequest{RequestID: "req-unshelve"}); err != nil {
			t.Fatal(err)
		}
		srv = waitIdle(t, c, id)
		if srv.Status() != "ACTIVE" || srv.PowerState != state.PowerRunning {
			t.Fatalf("after unshelve: %s power %v", srv.Status(), srv.PowerState)
		}
		for _, k := range []string{"shelved_at", "shelved_image_id", "shelved_host"} {
			if _, ok := srv.SystemMetadata[k]; ok {
				t.Errorf("system metadata %s kept after unshelve", k)
			}
		}
		if _, err := c.Images.Get(ctx, snapOwner, imageID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("shelved image after unshelve: %v", err)
		}
		if _, events := actionEvents(t, c, id, "req-unshelve"); events["compute_start_instance"] != "Success" {
			t.Fatalf("unshelve events %v", events)
		}
	})
}

// TestShelveOffloadAtOnceAndUnshelve shelves with shelved_offload_time 0:
// the server ends SHELVED_OFFLOADED with no host, zone or guest and its
// capacity back on the host; unshelve schedules and spawns it again from
// the shelved image.
func TestShelveOffloadAtOnceAndUnshelve(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		id := c.CreateServer(t, snapOwner, "away", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		vcpus, vms := shelfHostUsage(t, c)
		if err := c.Compute.Shelve(ctx, snapOwner, id, "req-shelve"); err != nil {
			t.Fatal(err)
		}
		srv := waitIdle(t, c, id)
		if srv.Status() != "SHELVED_OFFLOADED" || srv.Host != "" || srv.Node != "" || srv.AZ != "" {
			t.Fatalf("after shelve: %s host %q node %q az %q", srv.Status(), srv.Host, srv.Node, srv.AZ)
		}
		if _, err := c.Driver.Inspect(id); err == nil {
			t.Fatal("guest still on the hypervisor after offload")
		}
		if v, n := shelfHostUsage(t, c); v != vcpus-1 || n != vms-1 {
			t.Fatalf("host usage %d vcpus %d vms, want %d %d", v, n, vcpus-1, vms-1)
		}
		imageID := srv.SystemMetadata["shelved_image_id"]
		if err := c.Compute.Unshelve(ctx, snapOwner, id, compute.UnshelveRequest{RequestID: "req-unshelve"}); err != nil {
			t.Fatal(err)
		}
		srv = waitIdle(t, c, id)
		if srv.Status() != "ACTIVE" || srv.Host != c.Agent.Host() || srv.AZ != "nova" {
			t.Fatalf("after unshelve: %s host %q az %q", srv.Status(), srv.Host, srv.AZ)
		}
		if g, err := c.Driver.Inspect(id); err != nil || g.ImageID != imageID || g.Power != virt.PowerRunning {
			t.Fatalf("guest %+v, %v; want it running from %s", g, err, imageID)
		}
		if v, n := shelfHostUsage(t, c); v != vcpus || n != vms {
			t.Fatalf("host usage after unshelve %d vcpus %d vms, want %d %d", v, n, vcpus, vms)
		}
		if _, err := c.Images.Get(ctx, snapOwner, imageID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("shelved image after unshelve: %v", err)
		}
		_, events := actionEvents(t, c, id, "req-unshelve")
		for _, e := range []string{"get_image_info", "schedule_instances", "compute_unshelve_instance"} {
			if events[e] != "Success" {
				t.Fatalf("unshelve events %v, want %s", events, e)
			}
		}
		// The conductor's events carry its host, as Nova's (CONF.host).
		a, err := c.Compute.GetAction(ctx, snapOwner, id, "req-unshelve", false)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range a.Events {
			if e.Host != computetest.Host {
				t.Errorf("unshelve event %s on host %q, want %q", e.Event, e.Host, computetest.Host)
			}
		}
	})
}

// TestShelveOffloadActionAndPeriodic offloads a shelved server on request
// and another once shelved_offload_time has passed.
func TestShelveOffloadActionAndPeriodic(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		clk := clock.NewFake(time.Now())
		c := computetest.New(t, database, computetest.Options{Stopped: true, Clock: clk,
			Settings: compute.Settings{ShelvedOffloadTime: time.Hour}})
		ctx := context.Background()
		first := c.CreateServer(t, snapOwner, "one", nil).Servers[0].ID
		second := c.CreateServer(t, snapOwner, "two", nil).Servers[0].ID
		c.Step()
		for _, id := range []string{first, second} {
			if err := c.Compute.Shelve(ctx, snapOwner, id, "req-shelve"); err != nil {
				t.Fatal(err)
			}
		}
		c.Step()
		for _, id := range []string{first, second} {
			if s, _ := c.Compute.GetAny(ctx, id); s.Status() != "SHELVED" {
				t.Fatalf("%s after shelve: %s", id, s.Status())
			}
		}
		if err := c.Compute.ShelveOffload(ctx, snapAdmin, first, "req-offload"); err != nil {
			t.Fatal(err)
		}
		c.Step()
		if s, _ := c.Compute.GetAny(ctx, first); s.Status() != "SHELVED_OFFLOADED" || s.Host != "" {
			t.Fatalf("after shelveOffload: %s host %q", s.Status(), s.Host)
		}
		if _, events := actionEvents(t, c, first, "req-offload"); events["compute_shelve_offload_instance"] != "Success" {
			t.Fatalf("offload events %v", events)
		}
		err := c.Compute.ShelveOffload(ctx, snapAdmin, first, "req-again")
		if !errs.Is(err, errs.KindConflict) || !strings.Contains(err.Error(), "Cannot 'shelveOffload' instance "+first+" while it is in vm_state shelved_offloaded") {
			t.Fatalf("offload of an offloaded server: %v", err)
		}
		// The periodic offloads the second server once its hour is over.
		for _, tc := range []struct {
			advance time.Duration
			want    []string
		}{
			{time.Hour - time.Second, nil},
			{2 * time.Second, []string{compute.TaskShelveOffload}},
		} {
			clk.Advance(tc.advance)
			if err := c.App.Agent.RunPeriodics(ctx); err != nil {
				t.Fatal(err)
			}
			if got := c.Step(); !slices.Equal(got, tc.want) {
				t.Fatalf("%v later: ran %v, want %v", tc.advance, got, tc.want)
			}
		}
		if s, _ := c.Compute.GetAny(ctx, second); s.Status() != "SHELVED_OFFLOADED" || s.Host != "" {
			t.Fatalf("after the periodic offload: %s host %q", s.Status(), s.Host)
		}
		// A shelved server's delete drops its snapshot (the delete path calls this).
		s, err := c.Compute.GetAny(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Compute.DropShelvedImage(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Images.Get(ctx, snapAdmin, s.SystemMetadata["shelved_image_id"]); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("shelved image after DropShelvedImage: %v", err)
		}
	})
}

// TestUnshelveChecks walks Nova's unshelve validation for an offloaded
// server, then a failed scheduling (no enabled host) that leaves it
// offloaded with the failure recorded.
func TestUnshelveChecks(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		id := c.CreateServer(t, snapOwner, "picky", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Shelve(ctx, snapOwner, id, "req-shelve"); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, c, id)
		str := func(s string) *string { return &s }
		host := c.Agent.Host()
		cases := []struct {
			name string
			p    *auth.Principal
			req  compute.UnshelveRequest
			kind errs.Kind
			msg  string
		}{
			{"unknown zone", snapOwner, compute.UnshelveRequest{AZPassed: true, AZ: str("nowhere")}, errs.KindInvalid,
				"The requested availability zone is not available"},
			{"host as member", snapOwner, compute.UnshelveRequest{Host: host}, errs.KindForbidden,
				"Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed."},
			{"unknown host", snapAdmin, compute.UnshelveRequest{Host: "nohost", AdminHost: true}, errs.KindInvalid,
				"Compute host nohost could not be found."},
			{"foreign project", &auth.Principal{UserID: "x", ProjectID: "other", Roles: []string{"member"}},
				compute.UnshelveRequest{}, errs.KindNotFound, "Instance " + id + " could not be found."},
		}
		for _, tc := range cases {
			err := c.Compute.Unshelve(ctx, tc.p, id, tc.req)
			if !errs.Is(err, tc.kind) || err.Error() != tc.msg {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
			}
		}
		disabled := true
		if _, err := c.App.Hosts.UpdateService(ctx, host, hosts.ServiceChange{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		if err := c.Compute.Unshelve(ctx, snapOwner, id, compute.UnshelveRequest{RequestID: "req-nohost"}); err != nil {
			t.Fatal(err)
		}
		srv := waitIdle(t, c, id)
		if srv.Status() != "SHELVED_OFFLOADED" || srv.Host != "" {
			t.Fatalf("after unschedulable unshelve: %s host %q", srv.Status(), srv.Host)
		}
		if _, events := actionEvents(t, c, id, "req-nohost"); events["schedule_instances"] != "Error" {
			t.Fatalf("events %v", events)
		}
		enabled := false
		if _, err := c.App.Hosts.UpdateService(ctx, host, hosts.ServiceChange{Disabled: &enabled}); err != nil {
			t.Fatal(err)
		}
		// Unpinning and naming the host as an admin.
		if err := c.Compute.Unshelve(ctx, snapAdmin, id, compute.UnshelveRequest{AZPassed: true, Host: host, AdminHost: true}); err != nil {
			t.Fatal(err)
		}
		if srv := waitIdle(t, c, id); srv.Status() != "ACTIVE" || srv.Host != host || srv.PinnedAZ() != nil {
			t.Fatalf("after unshelve to host: %s host %q pinned %v", srv.Status(), srv.Host, srv.PinnedAZ())
		}
	})
}

// TestShelveFromEveryAllowedState shelves servers that are active,
// stopped, paused and suspended (Nova's allowed states) and checks each
// ends SHELVED with its guest shut down; a locked server is refused.
func TestShelveFromEveryAllowedState(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Settings: compute.Settings{ShelvedOffloadTime: -1}})
		ctx := context.Background()
		for _, tc := range []struct {
			name   string
			before state.Action
			status string
		}{
			{"active", "", "ACTIVE"},
			{"stopped", state.ActionStop, "SHUTOFF"},
			{"paused", state.ActionPause, "PAUSED"},
			{"suspended", state.ActionSuspend, "SUSPENDED"},
		} {
			id := c.CreateServer(t, snapOwner, tc.name, nil).Servers[0].ID
			c.WaitFor(t, id, computetest.Active)
			if tc.before != "" {
				if err := c.Compute.Act(ctx, snapOwner, id, tc.before, "req-before"); err != nil {
					t.Fatal(err)
				}
			}
			if s := waitIdle(t, c, id); s.Status() != tc.status {
				t.Fatalf("%s: %s before shelve", tc.name, s.Status())
			}
			if err := c.Compute.Shelve(ctx, snapOwner, id, "req-shelve"); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if s := waitIdle(t, c, id); s.Status() != "SHELVED" || s.PowerState != state.PowerShutdown {
				t.Fatalf("%s: after shelve %s power %v", tc.name, s.Status(), s.PowerState)
			}
			if g, err := c.Driver.Inspect(id); err != nil || g.Power != virt.PowerShutdown {
				t.Fatalf("%s: guest %+v, %v", tc.name, g, err)
			}
		}
		id := c.CreateServer(t, snapOwner, "locked", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.SetLock(ctx, snapAdmin, id, true, nil, "req-lock"); err != nil {
			t.Fatal(err)
		}
		if err := c.Compute.Shelve(ctx, snapOwner, id, "req-shelve"); !errs.Is(err, errs.KindConflict) ||
			!strings.Contains(err.Error(), "Instance "+id+" is locked") {
			t.Fatalf("shelve of a locked server: %v", err)
		}
		// Snapshots are not lock-checked.
		if _, err := c.Compute.Snapshot(ctx, snapOwner, id, compute.SnapshotRequest{Name: "locked-snap"}); err != nil {
			t.Fatalf("snapshot of a locked server: %v", err)
		}
		waitIdle(t, c, id)
	})
}
