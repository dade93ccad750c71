package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestServerActionsCLI walks a server through the power actions and the
// lock with the openstack CLI, checking the status after each.
func TestServerActionsCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t)
	id := gcCreateActive(t, c, "acts")["acts"]
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"server", "stop", id}, "SHUTOFF"},
		{[]string{"server", "start", id}, "ACTIVE"},
		{[]string{"server", "reboot", "--soft", "--wait", id}, "ACTIVE"},
		{[]string{"server", "reboot", "--hard", "--wait", id}, "ACTIVE"},
		{[]string{"server", "pause", id}, "PAUSED"},
		{[]string{"server", "unpause", id}, "ACTIVE"},
		{[]string{"server", "suspend", id}, "SUSPENDED"},
		{[]string{"server", "resume", id}, "ACTIVE"},
	}
	for _, st := range steps {
		cli.Run(t, st.args...)
		// This CLI has --wait only on reboot: poll without a Python start-up.
		if got := gcWaitIdle(t, c, id, st.want); got != st.want {
			t.Fatalf("after %v: status %s, want %s", st.args, got, st.want)
		}
	}
	cli.Run(t, "--os-compute-api-version", "2.73", "server", "lock", "--reason", "audit", id)
	var locked obj
	cli.JSON(t, &locked, "--os-compute-api-version", "2.73", "server", "show", id)
	if locked["locked"] != true || locked.str(t, "locked_reason") != "audit" {
		t.Fatalf("locked server shows locked=%v reason=%v", locked["locked"], locked["locked_reason"])
	}
	cli.Run(t, "server", "unlock", id)
	var events []obj
	cli.JSON(t, &events, "server", "event", "list", id)
	seen := map[string]int{}
	for _, e := range events {
		seen[e.str(t, "Action")]++
	}
	for action, n := range map[string]int{"create": 1, "stop": 1, "start": 1, "reboot": 2, "pause": 1, "unpause": 1, "suspend": 1, "resume": 1, "lock": 1, "unlock": 1} {
		if seen[action] != n {
			t.Errorf("event list has %d %q actions, want %d (all: %v)", seen[action], action, n, seen)
		}
	}
	out := cli.Fail(t, "server", "start", id)
	if !strings.Contains(out, "Cannot 'start' instance "+id+" while it is in vm_state active") {
		t.Fatalf("starting an active server printed %q, want Nova's 409 message", out)
	}
}

// TestServerActionsGophercloud uses gophercloud's action functions.
func TestServerActionsGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{
		Name: "gc-acts", ImageRef: imageIDByName(t, c, "kumo-tiny"), FlavorRef: "1", Networks: "none",
	}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"stop", func() error { return servers.Stop(ctx, c.Compute, srv.ID).ExtractErr() }, "SHUTOFF"},
		{"start", func() error { return servers.Start(ctx, c.Compute, srv.ID).ExtractErr() }, "ACTIVE"},
		{"reboot", func() error {
			return servers.Reboot(ctx, c.Compute, srv.ID, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr()
		}, "ACTIVE"},
		{"pause", func() error { return servers.Pause(ctx, c.Compute, srv.ID).ExtractErr() }, "PAUSED"},
		{"unpause", func() error { return servers.Unpause(ctx, c.Compute, srv.ID).ExtractErr() }, "ACTIVE"},
		{"suspend", func() error { return servers.Suspend(ctx, c.Compute, srv.ID).ExtractErr() }, "SUSPENDED"},
		{"resume", func() error { return servers.Resume(ctx, c.Compute, srv.ID).ExtractErr() }, "ACTIVE"},
		{"lock", func() error { return servers.Lock(ctx, c.Compute, srv.ID).ExtractErr() }, "ACTIVE"},
		{"unlock", func() error { return servers.Unlock(ctx, c.Compute, srv.ID).ExtractErr() }, "ACTIVE"},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		// The status changes in the transaction that ends the task, so
		// reaching it means the action is done.
		if got := gcWaitStatus(t, c.Compute, srv.ID, st.want); got.TaskState != "" {
			t.Fatalf("%s: status %s with task_state %q still set", st.name, got.Status, got.TaskState)
		}
	}
}
