package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestServerImageCLI snapshots a server with `openstack server image
// create --wait`, boots a second server from the snapshot, and keeps two
// daily backups with `openstack server backup create --rotate 2`.
func TestServerImageCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t)
	id := gcCreateActive(t, c, "imaged")["imaged"]

	var img obj
	cli.JSON(t, &img, "server", "image", "create", "--name", "imaged-snap", "--property", "purpose=e2e", "--wait", id)
	shown, err := images.Get(context.Background(), c.Image, imageIDByName(t, c, "imaged-snap")).Extract()
	if err != nil {
		t.Fatalf("get the snapshot image: %v", err)
	}
	if shown.Name != "imaged-snap" || shown.Status != images.ImageStatusActive || shown.Visibility != images.ImageVisibilityPrivate || shown.DiskFormat != "raw" {
		t.Fatalf("snapshot image: %+v", shown)
	}
	if props := shown.Properties; props["image_type"] != "snapshot" || props["instance_uuid"] != id || props["purpose"] != "e2e" {
		t.Fatalf("snapshot properties: %v", props)
	}
	var second obj
	cli.JSON(t, &second, osc("server", "create", "--flavor", "m1.tiny", "--image", "imaged-snap", "--nic", "none", "--wait", "from-snap")...)
	if second.str(t, "status") != "ACTIVE" {
		t.Fatalf("server from the snapshot is %s", second.str(t, "status"))
	}

	// The CLI finds the backup by name to wait for it, so each has its own.
	for i := 1; i <= 3; i++ {
		cli.Run(t, "server", "backup", "create", "--name", fmt.Sprintf("imaged-daily-%d", i), "--type", "daily", "--rotate", "2", "--wait", id)
		gcWaitTaskDone(t, c, id)
	}
	cli.Run(t, "server", "backup", "create", "--name", "imaged-weekly", "--type", "weekly", "--rotate", "2", "--wait", id)
	gcWaitTaskDone(t, c, id)
	var list []obj
	cli.JSON(t, &list, "image", "list", "--property", "instance_uuid="+id, "--long")
	var names []string
	for _, row := range list {
		if name := row.str(t, "Name"); strings.HasPrefix(name, "imaged-daily") || name == "imaged-weekly" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "imaged-daily-2,imaged-daily-3,imaged-weekly" {
		t.Fatalf("after 3 daily backups (rotate 2) and a weekly, the backups are %s", got)
	}
	var events []obj
	cli.JSON(t, &events, "server", "event", "list", id)
	seen := map[string]int{}
	for _, e := range events {
		seen[e.str(t, "Action")]++
	}
	if seen["createImage"] != 1 || seen["createBackup"] != 4 {
		t.Fatalf("instance actions %v", seen)
	}
}

// TestServerImageGophercloud snapshots with servers.CreateImage at 2.1
// (image id from the Location header) and 2.45 (from the body) and
// boots from the snapshot.
func TestServerImageGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()
	c.Compute.Microversion = computeVersion
	imageID := imageIDByName(t, c, "kumo-tiny")
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "gc-imaged", FlavorRef: "1", ImageRef: imageID, Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	var snaps []string
	for _, v := range []string{"2.1", "2.45"} {
		c.Compute.Microversion = v
		snap, err := servers.CreateImage(ctx, c.Compute, srv.ID, servers.CreateImageOpts{Name: "gc-snap-" + v,
			Metadata: map[string]string{"made_by": "gophercloud"}}).ExtractImageID()
		if err != nil {
			t.Fatalf("%s: create image: %v", v, err)
		}
		snaps = append(snaps, snap)
		waitImageActive(t, c, snap)
		gcWaitTaskDone(t, c, srv.ID)
	}
	img, err := images.Get(ctx, c.Image, snaps[1]).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if img.Properties["made_by"] != "gophercloud" || img.Properties["image_type"] != "snapshot" || img.Name != "gc-snap-2.45" {
		t.Fatalf("snapshot %+v", img)
	}
	c.Compute.Microversion = computeVersion
	boot, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "gc-from-snap", FlavorRef: "1", ImageRef: snaps[0], Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, boot.ID, "ACTIVE")
	// A stopped server can be snapshotted too; an errored one cannot.
	if err := servers.Stop(ctx, c.Compute, boot.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, boot.ID, "SHUTOFF")
	gcWaitTaskDone(t, c, boot.ID)
	if _, err := servers.CreateImage(ctx, c.Compute, boot.ID, servers.CreateImageOpts{Name: "stopped-snap"}).ExtractImageID(); err != nil {
		t.Fatalf("snapshot of a stopped server: %v", err)
	}
	gcWaitTaskDone(t, c, boot.ID)
	if got := gcWaitStatus(t, c.Compute, boot.ID, "SHUTOFF"); got.Status != "SHUTOFF" {
		t.Fatalf("stopped server after snapshot: %s", got.Status)
	}
}

// waitImageActive polls an image until it is active.
func waitImageActive(t *testing.T, c *Clients, id string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(serverWait)
	for {
		img, err := images.Get(ctx, c.Image, id).Extract()
		if err != nil {
			t.Fatalf("get image %s: %v", id, err)
		}
		if img.Status == images.ImageStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("image %s stuck %s", id, img.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gcWaitTaskDone polls a server until it has no task_state.
func gcWaitTaskDone(t *testing.T, c *Clients, id string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(serverWait)
	for {
		// (ExtractInto fills its argument with the "server" object itself.)
		srv, err := servers.Get(ctx, c.Compute, id).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if srv.TaskState == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s stuck in task %v", id, srv.TaskState)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
