package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// softWait polls `server show` until the server is idle in status.
func softWait(t *testing.T, cli *CLI, id, status string) obj {
	t.Helper()
	deadline := time.Now().Add(serverWait)
	for {
		var got obj
		cli.JSON(t, &got, "server", "show", id)
		if got["status"] == status && got["OS-EXT-STS:task_state"] == nil {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s is %v (task %v), want %s", id, got["status"], got["OS-EXT-STS:task_state"], status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// listedIDs are the ids `server list` prints with args.
func listedIDs(t *testing.T, cli *CLI, args ...string) []string {
	t.Helper()
	var rows []obj
	cli.JSON(t, &rows, append([]string{"server", "list"}, args...)...)
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.str(t, "ID"))
	}
	return ids
}

// TestServerSoftDeleteCLI runs kumo with --reclaim-interval: `server
// delete` leaves the server SOFT_DELETED (out of the default list, in
// `--deleted`), `server restore` brings it back, `server delete --force`
// deletes it for real; on SQLite and PostgreSQL.
func TestServerSoftDeleteCLI(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engineArgs []string) {
		_, cli := startAdmin(t, append(engineArgs, "--reclaim-interval", "1h")...)
		var s obj
		cli.JSON(t, &s, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "--wait", "soft")...)
		id := s.str(t, "id")

		out := cli.Fail(t, "server", "restore", id)
		if !strings.Contains(out, "Cannot 'restore' instance "+id+" while it is in vm_state active") {
			t.Fatalf("restore of an active server printed %q", out)
		}
		cli.Run(t, "server", "delete", id)
		got := softWait(t, cli, id, "SOFT_DELETED")
		if got["OS-EXT-STS:vm_state"] != "soft-delete" || got["OS-EXT-STS:power_state"] != float64(4) {
			t.Fatalf("soft-deleted server: vm_state %v power %v", got["OS-EXT-STS:vm_state"], got["OS-EXT-STS:power_state"])
		}
		if slices.Contains(listedIDs(t, cli), id) {
			t.Fatal("soft-deleted server in `server list`")
		}
		if !slices.Contains(listedIDs(t, cli, "--deleted"), id) {
			t.Fatal("soft-deleted server missing from `server list --deleted`")
		}

		cli.Run(t, "server", "restore", id)
		got = softWait(t, cli, id, "ACTIVE")
		if got["OS-EXT-STS:power_state"] != float64(1) {
			t.Fatalf("restored server power %v", got["OS-EXT-STS:power_state"])
		}
		if !slices.Contains(listedIDs(t, cli), id) {
			t.Fatal("restored server missing from `server list`")
		}

		cli.Run(t, "server", "delete", id)
		softWait(t, cli, id, "SOFT_DELETED")
		cli.Run(t, "server", "delete", "--force", "--wait", id)
		if out := cli.Fail(t, "server", "show", id); !strings.Contains(out, "No server with a name or ID of") {
			t.Fatalf("show after force delete printed %q", out)
		}

		var events []obj
		cli.JSON(t, &events, "--os-compute-api-version", "2.21", "server", "event", "list", id) // deleted servers from 2.21
		seen := map[string]int{}
		for _, e := range events {
			seen[e.str(t, "Action")]++
		}
		if seen["delete"] != 3 || seen["restore"] != 1 {
			t.Fatalf("instance actions %v, want 3 deletes and a restore", seen)
		}
	})
}

// TestServerSoftDeleteReclaim: a soft-deleted server is deleted for real
// once --reclaim-interval has passed. The interval leaves time to see the
// server SOFT_DELETED first: one CLI command takes seconds on a busy
// machine, and with 2 s the server was sometimes gone before.
func TestServerSoftDeleteReclaim(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t, "--reclaim-interval", "10s")
	var s obj
	cli.JSON(t, &s, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "--wait", "reclaimed")...)
	id := s.str(t, "id")
	cli.Run(t, "server", "delete", id)
	softWait(t, cli, id, "SOFT_DELETED")
	deadline := time.Now().Add(serverWait + time.Minute)
	for {
		r := cli.Exec("server", "show", id)
		if r.Err != nil && strings.Contains(r.Stderr, "No server with a name or ID of") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("soft-deleted server %s not reclaimed: %s %s", id, r.Stdout, r.Stderr)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestServerSoftDeleteGophercloud: servers.Delete soft-deletes, a restore
// action brings the server back, servers.ForceDelete deletes it.
func TestServerSoftDeleteGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t, "--reclaim-interval", "1h")
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()
	c.Compute.Microversion = computeVersion
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "gc-soft", FlavorRef: "1",
		ImageRef: imageIDByName(t, c, "kumo-tiny"), Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	if err := servers.Delete(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got := gcWaitStatus(t, c.Compute, srv.ID, "SOFT_DELETED")
	if got.VmState != "soft-delete" || got.PowerState != servers.SHUTDOWN {
		t.Fatalf("soft-deleted: %s power %v", statusOf(got), got.PowerState)
	}
	restore := func() error {
		_, err := c.Compute.Post(ctx, c.Compute.ServiceURL("servers", srv.ID, "action"), map[string]any{"restore": nil}, nil,
			&gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted}})
		return err
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	if err := restore(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("restore of an active server: %v", err)
	}
	if err := servers.ForceDelete(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitGone(t, c.Compute, srv.ID)
}
