package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// softWait polls the server with gophercloud until it is idle in status.
func softWait(t *testing.T, c *Clients, id, status string) *servers.Server {
	t.Helper()
	got := gcWaitIdleServer(t, c, id, status)
	if got.Status != status || got.TaskState != "" {
		t.Fatalf("server %s is %v (task %q), want %s", id, got.Status, got.TaskState, status)
	}
	return got
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
		_, cli, c := startAdminClients(t, append(engineArgs, "--reclaim-interval", "1h")...)
		id := gcCreateActive(t, c, "soft")["soft"]

		out := cli.Fail(t, "server", "restore", id)
		if !strings.Contains(out, "Cannot 'restore' instance "+id+" while it is in vm_state active") {
			t.Fatalf("restore of an active server printed %q", out)
		}
		cli.Run(t, "server", "delete", id)
		got := softWait(t, c, id, "SOFT_DELETED")
		if got.VmState != "soft-delete" || got.PowerState != 4 {
			t.Fatalf("soft-deleted server: vm_state %v power %v", got.VmState, got.PowerState)
		}
		if slices.Contains(listedIDs(t, cli), id) {
			t.Fatal("soft-deleted server in `server list`")
		}
		if !slices.Contains(listedIDs(t, cli, "--deleted"), id) {
			t.Fatal("soft-deleted server missing from `server list --deleted`")
		}

		cli.Run(t, "server", "restore", id)
		got = softWait(t, c, id, "ACTIVE")
		if got.PowerState != 1 {
			t.Fatalf("restored server power %v", got.PowerState)
		}
		if !slices.Contains(listedIDs(t, cli), id) {
			t.Fatal("restored server missing from `server list`")
		}

		cli.Run(t, "server", "delete", id)
		softWait(t, c, id, "SOFT_DELETED")
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
// server SOFT_DELETED first: it is polled with gophercloud, but one CLI
// command (the delete) takes seconds on a busy machine, and with 2 s the
// server was sometimes gone before.
func TestServerSoftDeleteReclaim(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t, "--reclaim-interval", "5s")
	id := gcCreateActive(t, c, "reclaimed")["reclaimed"]
	cli.Run(t, "server", "delete", id)
	softWait(t, c, id, "SOFT_DELETED")
	gcWaitGone(t, c.Compute, id)
	if out := cli.Fail(t, "server", "show", id); !strings.Contains(out, "No server with a name or ID of") {
		t.Fatalf("show of the reclaimed server printed %q", out)
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
