package compute_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

var (
	snapOwner = &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
	snapAdmin = &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
)

// waitIdle waits for the server's task_state to clear.
func waitIdle(t *testing.T, c *computetest.Cloud, id string) *compute.Server {
	t.Helper()
	return c.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
}

// actionEvents returns the events of the server's action recorded for requestID.
func actionEvents(t *testing.T, c *computetest.Cloud, id, requestID string) (*compute.Action, map[string]string) {
	t.Helper()
	a, err := c.Compute.GetAction(context.Background(), snapAdmin, id, requestID, true)
	if err != nil {
		t.Fatalf("action %s: %v", requestID, err)
	}
	events := map[string]string{}
	for _, e := range a.Events {
		events[e.Event] = *e.Result
	}
	return a, events
}

// TestCreateImage snapshots a server: the image is queued at once with
// the server's image properties and Nova's snapshot properties, becomes
// active with the guest's disk, and boots a second server.
func TestCreateImage(t *testing.T) {
	// Serial: it polls for the agent's snapshot task states, held only
	// for the fake's 100 ms snapshot, which polls beside parallel tests
	// missed.
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Fake: fake.Options{Delays: map[string]time.Duration{"snapshot": 100 * time.Millisecond}}})
		ctx := context.Background()
		id := c.CreateServer(t, snapOwner, "snappy", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		img, err := c.Compute.Snapshot(ctx, snapOwner, id, compute.SnapshotRequest{Name: "snap-1",
			Metadata: map[string]string{"meta_var": "meta_val"}, RequestID: "req-snap"})
		if err != nil {
			t.Fatal(err)
		}
		if img.Status != image.StatusQueued || img.Visibility != image.Private || img.Owner != "p1" {
			t.Fatalf("image %s/%s/%s, want queued private owned by p1", img.Status, img.Visibility, img.Owner)
		}
		if img.DiskFormat != nil || img.ContainerFormat != nil {
			t.Fatalf("snapshot image has formats %v/%v before the upload", img.DiskFormat, img.ContainerFormat)
		}
		seen := map[state.TaskState]bool{}
		srv := c.WaitFor(t, id, func(s *compute.Server) bool { seen[s.TaskState] = true; return s.TaskState == state.TaskNone })
		if srv.Status() != "ACTIVE" || srv.PowerState != state.PowerRunning {
			t.Fatalf("after snapshot: %s power %v", srv.Status(), srv.PowerState)
		}
		// The agent's states last the fake's 100 ms or less: a poll on a busy
		// machine may see only one of them.
		if !seen[state.TaskImageSnapshot] && !seen[state.TaskImagePendingUpload] && !seen[state.TaskImageUploading] {
			t.Fatalf("never saw the snapshot task states, saw %v", seen)
		}
		got, err := c.Images.Get(ctx, snapOwner, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != image.StatusActive || got.Checksum == nil || got.Size == nil || *got.Size == 0 ||
			got.DiskFormat == nil || *got.DiskFormat != "raw" || *got.ContainerFormat != "bare" {
			t.Fatalf("uploaded image: %+v", got)
		}
		want := map[string]string{"image_type": "snapshot", "instance_uuid": id, "user_id": "u1",
			"base_image_ref": c.ImageID, "meta_var": "meta_val"}
		for k, v := range want {
			if got.Properties[k] != v {
				t.Errorf("property %s = %q, want %q", k, got.Properties[k], v)
			}
		}
		if got.MinDisk != 1 { // flavor 1's root disk
			t.Errorf("min_disk %d, want the flavor's 1", got.MinDisk)
		}
		data, err := c.Images.Open(ctx, snapOwner, img.ID)
		if err != nil || data == nil {
			t.Fatalf("open image: %v", err)
		}
		b, _ := io.ReadAll(data)
		data.Close()
		if !strings.Contains(string(b), id) {
			t.Fatalf("image data %q is not the server's disk", b)
		}
		if _, events := actionEvents(t, c, id, "req-snap"); events["compute_snapshot_instance"] != "Success" {
			t.Fatalf("events %v", events)
		}
		second := c.CreateServer(t, snapOwner, "from-snap", func(r *compute.CreateRequest) { r.ImageRef = img.ID }).Servers[0].ID
		if s := c.WaitFor(t, second, func(s *compute.Server) bool { return s.TaskState == state.TaskNone }); s.Status() != "ACTIVE" {
			t.Fatalf("server from snapshot is %s", s.Status())
		}
	})
}

// TestCreateImageRefusals checks Nova's state rule (409, no image left)
// and that a failed snapshot deletes its image and records the error.
func TestCreateImageRefusals(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Fake: fake.Options{Fail: map[string]bool{"snapshot": true}}})
		ctx := context.Background()
		id := c.CreateServer(t, snapOwner, "failing", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if _, err := c.Compute.Snapshot(ctx, &auth.Principal{UserID: "x", ProjectID: "other", Roles: []string{"member"}}, id,
			compute.SnapshotRequest{Name: "n"}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("foreign project: %v, want 404", err)
		}
		img, err := c.Compute.Snapshot(ctx, snapOwner, id, compute.SnapshotRequest{Name: "doomed", RequestID: "req-fail"})
		if err != nil {
			t.Fatal(err)
		}
		srv := waitIdle(t, c, id)
		if srv.Status() != "ACTIVE" {
			t.Fatalf("after failed snapshot: %s", srv.Status())
		}
		if _, err := c.Images.Get(ctx, snapOwner, img.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("failed snapshot's image: %v, want deleted", err)
		}
		a, events := actionEvents(t, c, id, "req-fail")
		if events["compute_snapshot_instance"] != "Error" || a.Message == nil || *a.Message != "Error" {
			t.Fatalf("events %v message %v", events, a.Message)
		}
		// A server in a state Nova refuses gets its 409 and no image.
		if err := c.Compute.ResetState(ctx, snapAdmin, id, state.VMError, "req-reset"); err != nil {
			t.Fatal(err)
		}
		_, err = c.Compute.Snapshot(ctx, snapOwner, id, compute.SnapshotRequest{Name: "refused"})
		want := "Cannot 'createImage' instance " + id + " while it is in vm_state error"
		if !errs.Is(err, errs.KindConflict) || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("createImage in error: %v, want %q", err, want)
		}
		if backups, err := c.Images.List(ctx, snapAdmin, image.ListOptions{Names: []string{"refused"}}); err != nil || len(backups.Images) != 0 {
			t.Fatalf("refused createImage left images %v, %v", backups, err)
		}
	})
}

// TestBackupRotation keeps the newest `rotation` backups of a type and
// leaves other types alone; rotation 0 deletes every backup, the new one
// too, as Nova does.
func TestBackupRotation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		id := c.CreateServer(t, snapOwner, "backed", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		backup := func(name, kind string, rotation int) string {
			t.Helper()
			img, err := c.Compute.Snapshot(ctx, snapOwner, id, compute.SnapshotRequest{Name: name, Backup: true,
				BackupType: kind, Rotation: rotation, RequestID: "req-" + name})
			if err != nil {
				t.Fatal(err)
			}
			waitIdle(t, c, id)
			if _, events := actionEvents(t, c, id, "req-"+name); events["compute_backup_instance"] != "Success" {
				t.Fatalf("%s events %v", name, events)
			}
			return img.ID
		}
		names := func(kind string) []string {
			t.Helper()
			imgs, err := c.Images.Backups(ctx, id, kind)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, img := range imgs {
				out = append(out, *img.Name)
			}
			return out
		}
		backup("w1", "weekly", 5)
		backup("d1", "daily", 2)
		time.Sleep(2 * time.Millisecond) // distinct created_at
		backup("d2", "daily", 2)
		time.Sleep(2 * time.Millisecond)
		d3 := backup("d3", "daily", 2)
		if got := strings.Join(names("daily"), ","); got != "d3,d2" {
			t.Fatalf("daily backups %s, want d3,d2", got)
		}
		img, err := c.Images.Get(ctx, snapOwner, d3)
		if err != nil {
			t.Fatal(err)
		}
		if img.Properties["image_type"] != "backup" || img.Properties["backup_type"] != "daily" || img.DiskFormat == nil {
			t.Fatalf("backup image: %+v", img)
		}
		backup("d4", "daily", 0)
		if got := names("daily"); len(got) != 0 {
			t.Fatalf("rotation 0 left %v", got)
		}
		if got := strings.Join(names("weekly"), ","); got != "w1" {
			t.Fatalf("weekly backups %s, want w1", got)
		}
	})
}

// TestAdminSnapshotIsSharedWithOwner checks Nova's rule for a snapshot
// taken by another project (an admin): the image belongs to the caller's
// project, is shared, names the server's project in instance_owner and
// is visible to that project as a member.
func TestAdminSnapshotIsSharedWithOwner(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		id := c.CreateServer(t, snapOwner, "admin-snapped", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		img, err := c.Compute.Snapshot(ctx, snapAdmin, id, compute.SnapshotRequest{Name: "by-admin",
			Metadata: map[string]string{"instance_owner": "spoofed"}})
		if err != nil {
			t.Fatal(err)
		}
		waitIdle(t, c, id)
		got, err := c.Images.Get(ctx, snapOwner, img.ID)
		if err != nil {
			t.Fatalf("the server's project cannot see the admin's snapshot: %v", err)
		}
		if got.Owner != "admin-project" || got.Visibility != image.Shared || got.Properties["instance_owner"] != "p1" ||
			got.Properties["user_id"] != "admin" || got.Status != image.StatusActive {
			t.Fatalf("admin snapshot: owner %s visibility %s props %v status %s", got.Owner, got.Visibility, got.Properties, got.Status)
		}
	})
}
