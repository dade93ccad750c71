package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestServerRebuildCLI rebuilds a running server onto another image with
// `openstack server rebuild --wait` and a stopped one without waiting
// (the CLI's --wait only ends on ACTIVE), checking the image, the
// attributes the rebuild set, the instance action and that a stopped
// server comes back SHUTOFF.
func TestServerRebuildCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t)
	ctx := context.Background()
	userData := filepath.Join(t.TempDir(), "user-data")
	if err := os.WriteFile(userData, []byte("#!/bin/sh\necho rebuilt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Set-up with gophercloud: the CLI's subject here is the rebuild.
	imgID := gcUploadImage(t, c, images.CreateOpts{Name: "rebuild-target"}, []byte("rebuild target disk"))
	tinyID := imageIDByName(t, c, "kumo-tiny")
	if _, err := keypairs.Create(ctx, c.Compute, keypairs.CreateOpts{Name: "rebuild-key"}).Extract(); err != nil {
		t.Fatalf("create key pair: %v", err)
	}
	id := gcCreateActive(t, c, "to-rebuild")["to-rebuild"]

	out := cli.Run(t, "--os-compute-api-version", "2.57", "server", "rebuild", "--image", "rebuild-target",
		"--name", "rebuilt", "--property", "role=web", "--key-name", "rebuild-key", "--user-data", userData,
		"--password", "Rebuild-Pass-1", "--wait", id)
	if !strings.Contains(out, "Complete") {
		t.Fatalf("rebuild --wait printed %q", out)
	}
	var got obj
	cli.JSON(t, &got, "--os-compute-api-version", "2.57", "server", "show", id)
	if got.str(t, "status") != "ACTIVE" || got["OS-EXT-STS:task_state"] != nil {
		t.Fatalf("rebuilt server is %v/%v", got["status"], got["OS-EXT-STS:task_state"])
	}
	if image := got.str(t, "image"); !strings.Contains(image, imgID) {
		t.Fatalf("rebuilt server's image %q, want %s", image, imgID)
	}
	if got.str(t, "name") != "rebuilt" || got.str(t, "key_name") != "rebuild-key" || got.property(t, "role") != "web" {
		t.Fatalf("rebuilt server: name %v key %v properties %v", got["name"], got["key_name"], got["properties"])
	}
	wantUserData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho rebuilt\n"))
	if got.str(t, "OS-EXT-SRV-ATTR:user_data") != wantUserData {
		t.Fatalf("user data %v, want %s", got["OS-EXT-SRV-ATTR:user_data"], wantUserData)
	}

	// A stopped server is rebuilt and stays stopped.
	if err := servers.Stop(ctx, c.Compute, id).ExtractErr(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	gcWaitIdle(t, c, id, "SHUTOFF")
	cli.Run(t, "server", "rebuild", "--image", "kumo-tiny", id)
	srv := gcWaitIdleServer(t, c, id, "SHUTOFF")
	if srv.Status != "SHUTOFF" {
		t.Fatalf("stopped server rebuilt to %s, want SHUTOFF", srv.Status)
	}
	if image := fmt.Sprint(srv.Image["id"]); image != tinyID {
		t.Fatalf("image after the second rebuild %q, want kumo-tiny %s", image, tinyID)
	}

	var events []obj
	cli.JSON(t, &events, "server", "event", "list", id)
	rebuilds := 0
	for _, e := range events {
		if e.str(t, "Action") == "rebuild" {
			rebuilds++
		}
	}
	if rebuilds != 2 {
		t.Fatalf("event list has %d rebuild actions, want 2: %v", rebuilds, events)
	}

	// A paused server cannot be rebuilt: Nova's 409.
	if err := servers.Start(ctx, c.Compute, id).ExtractErr(); err != nil {
		t.Fatalf("start: %v", err)
	}
	gcWaitIdle(t, c, id, "ACTIVE")
	if err := servers.Pause(ctx, c.Compute, id).ExtractErr(); err != nil {
		t.Fatalf("pause: %v", err)
	}
	gcWaitIdle(t, c, id, "PAUSED")
	if msg := cli.Fail(t, "server", "rebuild", "--image", "rebuild-target", id); !strings.Contains(msg,
		"Cannot 'rebuild' instance "+id+" while it is in vm_state paused") {
		t.Fatalf("rebuilding a paused server printed %q", msg)
	}
}

// TestServerRebuildGophercloud rebuilds with gophercloud's
// servers.Rebuild, including a personality file (accepted before 2.57),
// and checks the answer, the image, the instance actions and that a
// stopped server comes back SHUTOFF.
func TestServerRebuildGophercloud(t *testing.T) {
	t.Parallel()
	s, cli := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	disk := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(disk, []byte("gophercloud rebuild disk"), 0o600); err != nil {
		t.Fatal(err)
	}
	cli.Run(t, "image", "create", "--file", disk, "--disk-format", "raw", "--container-format", "bare", "gc-target")
	target, tiny := imageIDByName(t, c, "gc-target"), imageIDByName(t, c, "kumo-tiny")
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{
		Name: "gc-rebuild", ImageRef: tiny, FlavorRef: "1", Networks: "none",
	}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")

	rebuilt, err := servers.Rebuild(ctx, c.Compute, srv.ID, servers.RebuildOpts{
		ImageRef: target, Name: "gc-rebuilt", AdminPass: "gc-pass-123", AccessIPv4: "192.0.2.10",
		Metadata:    map[string]string{"rebuilt": "yes"},
		Personality: servers.Personality{{Path: "/etc/motd", Contents: []byte("hello")}},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt.AdminPass != "gc-pass-123" || rebuilt.Name != "gc-rebuilt" || rebuilt.Status != "REBUILD" {
		t.Fatalf("rebuild answered pass %q name %q status %s", rebuilt.AdminPass, rebuilt.Name, rebuilt.Status)
	}
	got := gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	if got.TaskState != "" || got.Image["id"] != target || got.AccessIPv4 != "192.0.2.10" || got.Metadata["rebuilt"] != "yes" || len(got.Metadata) != 1 {
		t.Fatalf("rebuilt server: task %q image %v ipv4 %q metadata %v", got.TaskState, got.Image["id"], got.AccessIPv4, got.Metadata)
	}

	if err := servers.Stop(ctx, c.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "SHUTOFF")
	again, err := servers.Rebuild(ctx, c.Compute, srv.ID, servers.RebuildOpts{ImageRef: tiny}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(again.AdminPass) != 12 {
		t.Fatalf("generated admin password %q", again.AdminPass)
	}
	// The status is REBUILD until the task ends, so SHUTOFF means done.
	if got = gcWaitStatus(t, c.Compute, srv.ID, "SHUTOFF", "ACTIVE", "ERROR"); got.Status != "SHUTOFF" || got.Image["id"] != tiny {
		t.Fatalf("stopped server rebuilt to %s with image %v, want SHUTOFF with %s", got.Status, got.Image["id"], tiny)
	}

	rebuilds := 0
	for _, a := range gcActions(t, c.Compute, srv.ID) {
		if a.Action == "rebuild" {
			rebuilds++
		}
	}
	if rebuilds != 2 {
		t.Fatalf("%d rebuild instance actions, want 2", rebuilds)
	}
}
