package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestServerRescueCLI drives rescue, unrescue, the password change, the
// console log, the crash dump and the admin state reset with the
// openstack CLI.
func TestServerRescueCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t)
	id := gcCreateActive(t, c, "rescued")["rescued"]
	waitStatus := func(want string) {
		t.Helper()
		if got := gcWaitIdleServer(t, c, id, want); got.Status != want || got.TaskState != "" {
			t.Fatalf("server is %s (task %q), want %s", got.Status, got.TaskState, want)
		}
	}

	cli.Run(t, "server", "rescue", id)
	waitStatus("RESCUE")
	out := cli.Fail(t, "server", "rescue", id)
	if !strings.Contains(out, "Cannot 'rescue' instance "+id+" while it is in vm_state rescued") {
		t.Fatalf("rescuing a rescued server printed %q", out)
	}
	cli.Run(t, "server", "unrescue", id)
	waitStatus("ACTIVE")
	cli.Run(t, "server", "rescue", "--image", "kumo-tiny", "--password", "rescue-pw", id)
	waitStatus("RESCUE")
	cli.Run(t, "server", "unrescue", id)
	waitStatus("ACTIVE")

	// changePassword answers once the guest has the password.
	cli.Run(t, "server", "set", "--password", "n3w-pass", id)
	waitStatus("ACTIVE")

	all := cli.Run(t, "console", "log", "show", id)
	lines := strings.Split(strings.TrimRight(all, "\n"), "\n")
	if len(lines) < 3 || !strings.Contains(all, "rescue") {
		t.Fatalf("console log %q: want the guest's boot, rescue and unrescue lines", all)
	}
	// The log ends with a newline, so its last "line" is empty, as in
	// Nova: two lines are the last text line and that empty one.
	last := cli.Run(t, "console", "log", "show", "--lines", "2", id)
	if strings.TrimRight(last, "\n") != lines[len(lines)-1] {
		t.Fatalf("--lines 2 printed %q, want the log's last line %q", last, lines[len(lines)-1])
	}

	cli.Run(t, "--os-compute-api-version", "2.17", "server", "dump", "create", id)

	cli.Run(t, "server", "set", "--state", "error", id)
	waitStatus("ERROR")
	cli.Run(t, "server", "set", "--state", "active", id)
	waitStatus("ACTIVE")

	var events []obj
	cli.JSON(t, &events, "server", "event", "list", id)
	seen := map[string]int{}
	for _, e := range events {
		seen[e.str(t, "Action")]++
	}
	for action, n := range map[string]int{"rescue": 2, "unrescue": 2, "changePassword": 1, "trigger_crash_dump": 1, "resetState": 2} {
		if seen[action] != n {
			t.Errorf("event list has %d %q actions, want %d (all: %v)", seen[action], action, n, seen)
		}
	}
	// The password change and the dump ran on the host and succeeded.
	for _, e := range events {
		action := e.str(t, "Action")
		if action != "changePassword" && action != "trigger_crash_dump" {
			continue
		}
		want := map[string]string{"changePassword": "compute_set_admin_password", "trigger_crash_dump": "compute_trigger_crash_dump"}[action]
		deadline := time.Now().Add(serverWait)
		for {
			var detail obj
			cli.JSON(t, &detail, "server", "event", "show", id, e.str(t, "Request ID"))
			if eventResult(detail, want) == "Success" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no successful %s event: %v", action, want, detail["events"])
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// eventResult is the result of the named event in an `event show` body.
func eventResult(detail obj, name string) string {
	list, _ := detail["events"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["event"] == name {
			r, _ := m["result"].(string)
			return r
		}
	}
	return ""
}

// TestServerRescueGophercloud uses gophercloud's rescue, password,
// console, reset-state and network-injection calls, and a raw 2.17 crash
// dump (gophercloud has no function for it).
func TestServerRescueGophercloud(t *testing.T) {
	t.Parallel()
	s, admin := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	imageID := imageIDByName(t, c, "kumo-tiny")
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{
		Name: "gc-rescue", ImageRef: imageID, FlavorRef: "1", Networks: "none",
	}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")

	pass, err := servers.Rescue(ctx, c.Compute, srv.ID, servers.RescueOpts{AdminPass: "gc-pass", RescueImageRef: imageID}).Extract()
	if err != nil || pass != "gc-pass" {
		t.Fatalf("rescue: %q, %v", pass, err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "RESCUE")
	if err := servers.Unrescue(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	pass, err = servers.Rescue(ctx, c.Compute, srv.ID, servers.RescueOpts{}).Extract()
	if err != nil || len(pass) != 12 {
		t.Fatalf("rescue without a password: %q, %v; want a generated one", pass, err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "RESCUE")
	if err := servers.Unrescue(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got := gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	unknown := "11111111-2222-3333-4444-555555555555"
	_, err = servers.Rescue(ctx, c.Compute, srv.ID, servers.RescueOpts{RescueImageRef: unknown}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "Requested rescue image '"+unknown+"' is not supported") {
		t.Fatalf("rescue with an unknown image: %v", err)
	}

	if err := servers.ChangeAdminPassword(ctx, c.Compute, srv.ID, "gc-new-pass").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got = gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE"); got.TaskState != "" {
		t.Fatalf("task_state %q after changePassword answered", got.TaskState)
	}

	out, err := servers.ShowConsoleOutput(ctx, c.Compute, srv.ID, servers.ShowConsoleOutputOpts{}).Extract()
	if err != nil || !strings.Contains(out, "\n") {
		t.Fatalf("console output %q, %v", out, err)
	}
	lines := strings.Split(out, "\n")
	tail, err := servers.ShowConsoleOutput(ctx, c.Compute, srv.ID, servers.ShowConsoleOutputOpts{Length: 2}).Extract()
	if err != nil || tail != strings.Join(lines[len(lines)-2:], "\n") {
		t.Fatalf("last two lines %q, %v; want those of %q", tail, err, out)
	}

	dump := func(version string) error {
		at := *c.Compute
		at.Microversion = version
		resp, err := at.Post(ctx, at.ServiceURL("servers", srv.ID, "action"), map[string]any{"trigger_crash_dump": nil}, nil,
			&gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted}})
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := dump("2.17"); err != nil {
		t.Fatalf("crash dump at 2.17: %v", err)
	}
	if err := dump("2.16"); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("crash dump at 2.16: %v, want 404", err)
	}

	if err := servers.InjectNetworkInfo(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := servers.ResetState(ctx, c.Compute, srv.ID, servers.StateError).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ERROR")
	if err := servers.ResetState(ctx, c.Compute, srv.ID, servers.StateActive).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")

	// A member may not reset states or inject network info.
	member := NewClients(t, mustMemberClouds(t, s, admin), "kumo")
	member.Compute.Microversion = computeVersion
	mine, err := servers.Create(ctx, member.Compute, servers.CreateOpts{
		Name: "members", ImageRef: imageID, FlavorRef: "1", Networks: "none",
	}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, member.Compute, mine.ID, "ACTIVE")
	err = servers.ResetState(ctx, member.Compute, mine.ID, servers.StateError).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) || !strings.Contains(err.Error(), "os_compute_api:os-admin-actions:reset_state") {
		t.Fatalf("a member's reset: %v, want 403", err)
	}
	err = servers.InjectNetworkInfo(ctx, member.Compute, mine.ID).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("a member's inject: %v, want 403", err)
	}
	if err := servers.ChangeAdminPassword(ctx, member.Compute, mine.ID, "mine").ExtractErr(); err != nil {
		t.Fatalf("a member's changePassword: %v", err)
	}
}

// mustMemberClouds makes a project with a member user and returns its
// clouds.yaml.
func mustMemberClouds(t *testing.T, s *Server, admin *CLI) string {
	t.Helper()
	clouds, _ := newProjectUser(t, s, "rescue-members", "rescue-member")
	return clouds
}
