package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/migrations"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// hypervisorUsageCLI is the only hypervisor's vCPUs and RAM in use, as
// `openstack hypervisor list --long` reports them (2.87 is the last
// version with usage).
func hypervisorUsageCLI(t *testing.T, cli *CLI) (vcpus, ramMB int) {
	t.Helper()
	var hvs []obj
	cli.JSON(t, &hvs, "--os-compute-api-version", "2.87", "hypervisor", "list", "--long")
	if len(hvs) != 1 {
		t.Fatalf("%d hypervisors, want 1", len(hvs))
	}
	return int(hvs[0].num(t, "vCPUs Used")), int(hvs[0].num(t, "Memory MB Used"))
}

// hypervisorUsage is hypervisorUsageCLI without a Python start-up, read
// with gophercloud at 2.87 (the last microversion that shows them).
func hypervisorUsage(t *testing.T, c *Clients) (vcpus, ramMB int) {
	t.Helper()
	compute := *c.Compute
	compute.Microversion = "2.87"
	pages, err := hypervisors.List(&compute, hypervisors.ListOpts{}).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list hypervisors: %v", err)
	}
	hvs, err := hypervisors.ExtractHypervisors(pages)
	if err != nil || len(hvs) != 1 {
		t.Fatalf("%d hypervisors (%v), want 1", len(hvs), err)
	}
	return hvs[0].VCPUsUsed, hvs[0].MemoryMBUsed
}

// TestServerResizeCLI resizes with `openstack server resize --flavor
// --wait`, confirms and reverts with `openstack server resize confirm` and
// `revert`, checks the flavor, the hypervisor's usage on the way, the
// migration records of `openstack server migration list` and the events.
func TestServerResizeCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t)
	id := gcCreateActive(t, c, "to-resize")["to-resize"]
	flavorOf := func() string {
		var got obj
		cli.JSON(t, &got, "server", "show", id)
		return got.str(t, "flavor")
	}

	if msg := cli.Fail(t, "server", "resize", "--flavor", "m1.tiny", id); !strings.Contains(msg, "When resizing, instances must change flavor!") {
		t.Fatalf("resize to the same flavor printed %q", msg)
	}
	cli.Run(t, "server", "resize", "--flavor", "m1.small", "--wait", id)
	if status := gcWaitIdle(t, c, id, "VERIFY_RESIZE"); status != "VERIFY_RESIZE" {
		t.Fatalf("resized server is %s, want VERIFY_RESIZE", status)
	}
	if f := flavorOf(); !strings.Contains(f, "m1.small") {
		t.Fatalf("flavor in VERIFY_RESIZE %q, want m1.small", f)
	}
	if vcpus, ram := hypervisorUsageCLI(t, cli); vcpus != 2 || ram != 512+2048 {
		t.Fatalf("hypervisor in VERIFY_RESIZE uses %d vCPUs and %d MB, want both flavors (2, 2560)", vcpus, ram)
	}
	cli.Run(t, "server", "resize", "confirm", id)
	gcWaitIdle(t, c, id, "ACTIVE")
	if vcpus, ram := hypervisorUsage(t, c); vcpus != 1 || ram != 2048 {
		t.Fatalf("hypervisor after confirm uses %d vCPUs and %d MB, want m1.small's", vcpus, ram)
	}

	cli.Run(t, "server", "resize", "--flavor", "m1.medium", "--wait", id)
	gcWaitIdle(t, c, id, "VERIFY_RESIZE")
	cli.Run(t, "server", "resize", "revert", id)
	if status := gcWaitIdle(t, c, id, "ACTIVE"); status != "ACTIVE" {
		t.Fatalf("reverted server is %s", status)
	}
	if f := flavorOf(); !strings.Contains(f, "m1.small") {
		t.Fatalf("flavor after revert %q, want m1.small", f)
	}
	if vcpus, ram := hypervisorUsage(t, c); vcpus != 1 || ram != 2048 {
		t.Fatalf("hypervisor after revert uses %d vCPUs and %d MB, want m1.small's", vcpus, ram)
	}
	if msg := cli.Fail(t, "server", "resize", "confirm", id); !strings.Contains(msg, "Cannot 'confirmResize' instance "+id+" while it is in vm_state active") {
		t.Fatalf("confirming an active server printed %q", msg)
	}

	var rows []obj
	cli.JSON(t, &rows, "--os-compute-api-version", "2.80", "server", "migration", "list", "--server", id)
	var statuses []string
	for _, r := range rows {
		statuses = append(statuses, r.str(t, "Status"))
		if r.str(t, "Type") != "resize" || r.str(t, "Server UUID") != id {
			t.Fatalf("migration row %v", r)
		}
	}
	if !slices.Equal(statuses, []string{"reverted", "confirmed"}) {
		t.Fatalf("migration statuses newest first %v, want [reverted confirmed]", statuses)
	}
	cli.JSON(t, &rows, "server", "migration", "list", "--status", "confirmed")
	if len(rows) != 1 {
		t.Fatalf("%d confirmed migrations, want 1: %v", len(rows), rows)
	}

	var events []obj
	cli.JSON(t, &events, "server", "event", "list", id)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.str(t, "Action"))
	}
	for _, want := range []string{"resize", "confirmResize", "revertResize"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("event list %v lacks %s", actions, want)
		}
	}
}

// TestServerResizeGophercloud resizes a stopped server with gophercloud's
// servers.Resize, reverts it (it comes back SHUTOFF), resizes and confirms
// a running one, and reads the records with the migrations package.
func TestServerResizeGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = "2.80"
	ctx := context.Background()
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "gc-resize", FlavorRef: "1",
		ImageRef: imageIDByName(t, c, "kumo-tiny"), Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")

	if err := servers.Stop(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "SHUTOFF")
	if err := servers.Resize(ctx, c.Compute, srv.ID, servers.ResizeOpts{FlavorRef: "2"}).ExtractErr(); err != nil {
		t.Fatalf("resize: %v", err)
	}
	got := gcWaitStatus(t, c.Compute, srv.ID, "VERIFY_RESIZE")
	if got.Flavor["original_name"] != "m1.small" {
		t.Fatalf("flavor in VERIFY_RESIZE %v", got.Flavor)
	}
	if err := servers.RevertResize(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatalf("revert: %v", err)
	}
	got = gcWaitStatus(t, c.Compute, srv.ID, "SHUTOFF")
	if got.Flavor["original_name"] != "m1.tiny" {
		t.Fatalf("flavor after revert %v", got.Flavor)
	}

	if err := servers.Start(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	if err := servers.Resize(ctx, c.Compute, srv.ID, servers.ResizeOpts{FlavorRef: "3"}).ExtractErr(); err != nil {
		t.Fatalf("resize: %v", err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "VERIFY_RESIZE")
	if err := servers.ConfirmResize(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	got = gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	if got.Flavor["original_name"] != "m1.medium" {
		t.Fatalf("flavor after confirm %v", got.Flavor)
	}
	if err := servers.ConfirmResize(ctx, c.Compute, srv.ID).ExtractErr(); errorStatus(err) != 409 {
		t.Fatalf("second confirm: %v, want 409", err)
	}

	pages, err := migrations.List(c.Compute, migrations.ListOpts{InstanceID: &srv.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.ExtractMigrations(pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("%d migrations, want 2: %+v", len(ms), ms)
	}
	newest, oldest := ms[0], ms[1]
	if newest.Status != "confirmed" || newest.OldInstanceTypeID != 1 || newest.NewInstanceTypeID != 3 ||
		oldest.Status != "reverted" || oldest.NewInstanceTypeID != 2 || newest.MigrationType != "resize" ||
		newest.UUID == "" || newest.ProjectID == "" || newest.UserID == "" || newest.CreatedAt.IsZero() {
		t.Fatalf("migrations %+v", ms)
	}
	var names []string
	for _, a := range gcActions(t, c.Compute, srv.ID) {
		names = append(names, a.Action)
	}
	if !slices.Contains(names, "revertResize") || !slices.Contains(names, "confirmResize") {
		t.Fatalf("instance actions %v", names)
	}
}

// TestServerResizeAutoConfirmAndMigrateCLI: with --resize-confirm-window
// kumo confirms a resize nobody confirmed (Nova's resize_confirm_window),
// and `openstack server migrate` on kumo's single host ends as Nova ends
// it: the server stays ACTIVE and the cold migration is in error.
func TestServerResizeAutoConfirmAndMigrateCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t, "--resize-confirm-window", "1s")
	id := gcCreateActive(t, c, "auto-confirm")["auto-confirm"]
	cli.Run(t, "server", "resize", "--flavor", "m1.small", id)
	if status := gcWaitIdle(t, c, id, "ACTIVE"); status != "ACTIVE" {
		t.Fatalf("server is %s, want ACTIVE once the resize is confirmed by itself", status)
	}
	var rows []obj
	cli.JSON(t, &rows, "server", "migration", "list", "--server", id, "--status", "confirmed")
	if len(rows) != 1 {
		t.Fatalf("confirmed migrations %v, want one", rows)
	}

	cli.Run(t, "server", "migrate", id)
	if status := gcWaitIdle(t, c, id, "ACTIVE"); status != "ACTIVE" {
		t.Fatalf("server is %s after a cold migration with no other host", status)
	}
	cli.JSON(t, &rows, "--os-compute-api-version", "2.80", "server", "migration", "list", "--server", id, "--type", "cold-migration")
	if len(rows) != 1 || rows[0].str(t, "Status") != "error" {
		t.Fatalf("cold migrations %v, want one in error", rows)
	}
	var events []obj
	cli.JSON(t, &events, "server", "event", "list", id)
	if findBy(events, "Action", "migrate") == nil {
		t.Fatalf("no migrate action in %v", events)
	}
}
