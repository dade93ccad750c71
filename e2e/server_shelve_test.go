package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestServerShelveCLI shelves with kumo's default shelved_offload_time 0
// (offloaded at once) and with a server kept on its host
// (--shelved-offload-time -1s, then `shelve --offload`), and unshelves
// both, on SQLite and PostgreSQL.
func TestServerShelveCLI(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engineArgs []string) {
		_, cli, c := startAdminClients(t, append(engineArgs, "--shelved-offload-time", "-1s")...)
		id := gcCreateActive(t, c, "shelf")["shelf"]
		show := func() *servers.Server {
			t.Helper()
			got, err := servers.Get(context.Background(), c.Compute, id).Extract()
			if err != nil {
				t.Fatalf("get server %s: %v", id, err)
			}
			return got
		}

		cli.Run(t, "server", "shelve", "--wait", id)
		gcWaitTaskDone(t, c, id)
		got := show()
		if got.Status != "SHELVED" || got.Host == "" {
			t.Fatalf("shelved server: status %v host %q", got.Status, got.Host)
		}
		if img, err := images.Get(context.Background(), c.Image, imageIDByName(t, c, "shelf-shelved")).Extract(); err != nil || img.Status != images.ImageStatusActive {
			t.Fatalf("shelved image %+v (%v)", img, err)
		}
		// The CLI skips shelving a shelved server; a snapshot of it is refused.
		out := cli.Fail(t, "server", "image", "create", "--name", "too-late", id)
		if !strings.Contains(out, "Cannot 'createImage' instance "+id+" while it is in vm_state shelved") {
			t.Fatalf("snapshot of a shelved server printed %q", out)
		}

		cli.Run(t, "server", "shelve", "--offload", "--wait", id)
		gcWaitTaskDone(t, c, id)
		got = show()
		if got.Status != "SHELVED_OFFLOADED" || got.Host != "" || got.AvailabilityZone != "" {
			t.Fatalf("offloaded server: status %v host %q az %q", got.Status, got.Host, got.AvailabilityZone)
		}
		out = cli.Fail(t, "--os-compute-api-version", "2.77", "server", "unshelve", "--availability-zone", "nowhere", id)
		if !strings.Contains(out, "The requested availability zone is not available") {
			t.Fatalf("unshelve to an unknown zone printed %q", out)
		}
		cli.Run(t, "--os-compute-api-version", "2.77", "server", "unshelve", "--availability-zone", "nova", "--wait", id)
		gcWaitTaskDone(t, c, id)
		got = show()
		if got.Status != "ACTIVE" || got.Host == "" || got.AvailabilityZone != "nova" {
			t.Fatalf("unshelved server: status %v host %q az %q", got.Status, got.Host, got.AvailabilityZone)
		}
		if out := cli.Fail(t, "image", "show", "shelf-shelved"); !strings.Contains(out, "shelf-shelved") {
			t.Fatalf("shelved image still shown after unshelve: %q", out)
		}
		var events []obj
		cli.JSON(t, &events, "server", "event", "list", id)
		seen := map[string]int{}
		for _, e := range events {
			seen[e.str(t, "Action")]++
		}
		for action, n := range map[string]int{"shelve": 1, "shelveOffload": 1, "unshelve": 1} {
			if seen[action] != n {
				t.Errorf("%d %q actions, want %d (all %v)", seen[action], action, n, seen)
			}
		}
	})
}

// TestServerShelveGophercloud shelves (offloaded at once, kumo's default)
// and unshelves with gophercloud's shelve calls, watching the hypervisor
// usage drop and come back.
func TestServerShelveGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()
	c.Compute.Microversion = computeVersion
	imageID := imageIDByName(t, c, "kumo-tiny")
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "gc-shelf", FlavorRef: "1", ImageRef: imageID, Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	used := func() int {
		t.Helper()
		page, err := hypervisors.List(c.Compute, hypervisors.ListOpts{}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		list, err := hypervisors.ExtractHypervisors(page)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, h := range list {
			n += h.VCPUsUsed
		}
		return n
	}
	before := used()
	if err := servers.Shelve(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "SHELVED_OFFLOADED")
	gcWaitTaskDone(t, c, srv.ID)
	if after := used(); after != before-1 {
		t.Fatalf("vcpus used %d after offload, want %d", after, before-1)
	}
	var shelvedImage string
	pages, err := images.List(c.Image, images.ListOpts{Name: "gc-shelf-shelved"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, err := images.ExtractImages(pages)
	if err != nil || len(list) != 1 {
		t.Fatalf("shelved images %v, %v", list, err)
	}
	shelvedImage = list[0].ID
	// Offloading an offloaded server is a state conflict.
	err = servers.ShelveOffload(ctx, c.Compute, srv.ID).ExtractErr()
	if errorStatus(err) != http.StatusConflict {
		t.Fatalf("offload of an offloaded server: %v", err)
	}
	if err := servers.Unshelve(ctx, c.Compute, srv.ID, servers.UnshelveOpts{}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	gcWaitTaskDone(t, c, srv.ID)
	if after := used(); after != before {
		t.Fatalf("vcpus used %d after unshelve, want %d", after, before)
	}
	if _, err := images.Get(ctx, c.Image, shelvedImage).Extract(); errorStatus(err) != http.StatusNotFound {
		t.Fatalf("shelved image after unshelve: %v", err)
	}
	actions := gcActions(t, c.Compute, srv.ID)
	if len(actions) != 3 || actions[0].Action != "unshelve" || actions[1].Action != "shelve" {
		t.Fatalf("instance actions %+v", actions)
	}
}
