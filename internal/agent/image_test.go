package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// TestRestartResumesUploadedSnapshot interrupts a snapshot after its
// image was uploaded: the restarted agent finishes the task without
// uploading again, and the server ends ACTIVE with the image intact.
func TestRestartResumesUploadedSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		drv := fake.New(fake.Options{})
		c := newCloud(t, db, drv, false)
		srv := c.create(t, "snap-crash", nil)
		build, err := c.Compute.ClaimTasks(ctx, c.Agent.Host(), c.Agent.Lease(), 10)
		if err != nil || len(build) != 1 {
			t.Fatalf("claim build: %v %d", err, len(build))
		}
		g, err := c.Agent.Guest(ctx, build[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := drv.Spawn(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := c.Compute.FinishBuild(ctx, build[0], time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		img, err := c.Compute.Snapshot(ctx, c.user, srv.ID, compute.SnapshotRequest{Name: "resumed", RequestID: "req-snap"})
		if err != nil {
			t.Fatal(err)
		}
		// The agent takes the task, reaches image_uploading, uploads, and dies.
		tasks, err := c.Compute.ClaimTasks(ctx, c.Agent.Host(), c.Agent.Lease(), 10)
		if err != nil || len(tasks) != 1 {
			t.Fatalf("claim snapshot: %v %d", err, len(tasks))
		}
		for _, ts := range compute.RemainingSteps(tasks[0]) {
			if err := c.Compute.AdvanceTask(ctx, tasks[0], ts); err != nil {
				t.Fatal(err)
			}
		}
		uploaded, err := c.Images.UploadSnapshot(ctx, img.ID, "raw", strings.NewReader("first upload"))
		if err != nil {
			t.Fatal(err)
		}
		c2 := restartCloud(t, db, drv, c)
		got := c2.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
		if got.Status() != "ACTIVE" {
			t.Fatalf("after the resumed snapshot: %s", got.Status())
		}
		after, err := c.Images.Get(ctx, c.user, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != image.StatusActive || *after.Checksum != *uploaded.Checksum {
			t.Fatalf("image after resume: %s checksum %v, want the first upload's %v", after.Status, *after.Checksum, *uploaded.Checksum)
		}
		a, err := c.Compute.GetAction(ctx, c.user, srv.ID, "req-snap", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Events) != 1 || *a.Events[0].Result != "Success" {
			t.Fatalf("snapshot events %+v", a.Events)
		}
	})
}

// TestRestartAfterCrashMidUpload: kumo dies while a snapshot's data is
// streaming into its image (status saving). On start the image goes back
// to queued (image.Recover, as kumo serve does) and the requeued task
// takes and uploads the snapshot again; a task out of attempts fails and
// deletes the image. Either way no image is left saving or queued.
func TestRestartAfterCrashMidUpload(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attempts   int // the task's attempts before the crash
		wantStatus string
		wantServer string
	}{
		{"resumed", 1, image.StatusActive, "ACTIVE"},
		{"out of attempts", 3, "", "ACTIVE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				drv := fake.New(fake.Options{})
				c := newCloud(t, db, drv, true)
				srv := c.create(t, "snap-crash", nil)
				c.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "ACTIVE" })
				// The agent is replaced by one the test claims tasks for.
				stopped := restartStopped(t, db, drv, c)
				img, err := c.Compute.Snapshot(ctx, c.user, srv.ID, compute.SnapshotRequest{Name: "mid-upload", RequestID: "req-snap"})
				if err != nil {
					t.Fatal(err)
				}
				tasks, err := c.Compute.ClaimTasks(ctx, stopped.Agent.Host(), stopped.Agent.Lease(), 10)
				if err != nil || len(tasks) != 1 {
					t.Fatalf("claim snapshot: %v %d", err, len(tasks))
				}
				for _, ts := range compute.RemainingSteps(tasks[0]) {
					if err := c.Compute.AdvanceTask(ctx, tasks[0], ts); err != nil {
						t.Fatal(err)
					}
				}
				// The upload had begun when kumo died.
				if _, err := db.ExecContext(ctx, `UPDATE images SET status = ? WHERE id = ?`, image.StatusSaving, img.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, `UPDATE tasks SET attempts = ? WHERE id = ?`, tc.attempts, tasks[0].ID); err != nil {
					t.Fatal(err)
				}
				if err := c.Images.Recover(ctx); err != nil {
					t.Fatal(err)
				}
				c2 := restartCloud(t, db, drv, stopped)
				got := c2.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
				if got.Status() != tc.wantServer {
					t.Errorf("server after the restart: %s, want %s", got.Status(), tc.wantServer)
				}
				status, err := c.Images.Status(ctx, img.ID)
				if err != nil || status != tc.wantStatus {
					t.Errorf("image after the restart: %q (%v), want %q", status, err, tc.wantStatus)
				}
			})
		})
	}
}

// restartStopped is prev's agent replaced by one that does not run its
// loop, so the test claims its tasks.
func restartStopped(t *testing.T, db *store.DB, drv *fake.Driver, prev *cloud) *cloud {
	t.Helper()
	return &cloud{
		Cloud: computetest.New(t, db, computetest.Options{Driver: drv, Predecessor: prev.Agent.Lease(), Stopped: true}),
		user:  prev.user,
	}
}
