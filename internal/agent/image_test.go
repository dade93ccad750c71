package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/image"
)

// TestRestartResumesUploadedSnapshot interrupts a snapshot after its
// image was uploaded: the restarted agent finishes the task without
// uploading again, and the server ends ACTIVE with the image intact.
func TestRestartResumesUploadedSnapshot(t *testing.T) {
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c := newCloud(t, database, computetest.Options{Stopped: true})
		srv := c.create(t, "snap-crash", nil)
		stepAll(t, c, compute.TaskBuild)
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
		c2 := c.restart(t, computetest.Options{Stopped: true})
		stepAll(t, c2, compute.TaskSnapshot)
		if got := get(t, c2, srv.ID); got.Status() != "ACTIVE" || got.TaskState != state.TaskNone {
			t.Fatalf("after the resumed snapshot: %s task %s, want ACTIVE and none", got.Status(), got.TaskState)
		}
		after, err := c2.Images.Get(ctx, c.user, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != image.StatusActive || *after.Checksum != *uploaded.Checksum {
			t.Fatalf("image after resume: %s checksum %v, want the first upload's %v", after.Status, *after.Checksum, *uploaded.Checksum)
		}
		a, err := c2.Compute.GetAction(ctx, c.user, srv.ID, "req-snap", false)
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
// to queued (image.Recover, which kumo runs at every start) and the
// requeued task takes and uploads the snapshot again; a task out of
// attempts fails and deletes the image. Either way no image is left
// saving or queued.
func TestRestartAfterCrashMidUpload(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attempts   int      // the task's attempts before the crash
		ran        []string // the tasks the restarted agent runs
		wantStatus string
		wantServer string
	}{
		{"resumed", 1, []string{compute.TaskSnapshot}, image.StatusActive, "ACTIVE"},
		{"out of attempts", 3, nil, "", "ACTIVE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apptest.Each(t, func(t *testing.T, database string) {
				ctx := context.Background()
				c := newCloud(t, database, computetest.Options{Stopped: true})
				srv := c.create(t, "snap-crash", nil)
				stepAll(t, c, compute.TaskBuild)
				img, err := c.Compute.Snapshot(ctx, c.user, srv.ID, compute.SnapshotRequest{Name: "mid-upload", RequestID: "req-snap"})
				if err != nil {
					t.Fatal(err)
				}
				tasks, err := c.Compute.ClaimTasks(ctx, c.Agent.Host(), c.Agent.Lease(), 10)
				if err != nil || len(tasks) != 1 {
					t.Fatalf("claim snapshot: %v %d", err, len(tasks))
				}
				for _, ts := range compute.RemainingSteps(tasks[0]) {
					if err := c.Compute.AdvanceTask(ctx, tasks[0], ts); err != nil {
						t.Fatal(err)
					}
				}
				// The upload had begun when kumo died.
				if _, err := c.DB.ExecContext(ctx, `UPDATE images SET status = ? WHERE id = ?`, image.StatusSaving, img.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := c.DB.ExecContext(ctx, `UPDATE tasks SET attempts = ? WHERE id = ?`, tc.attempts, tasks[0].ID); err != nil {
					t.Fatal(err)
				}
				c2 := c.restart(t, computetest.Options{Stopped: true})
				stepAll(t, c2, tc.ran...)
				if got := get(t, c2, srv.ID); got.Status() != tc.wantServer || got.TaskState != state.TaskNone {
					t.Errorf("server after the restart: %s task %s, want %s and none", got.Status(), got.TaskState, tc.wantServer)
				}
				status, err := c2.Images.Status(ctx, img.ID)
				if err != nil || status != tc.wantStatus {
					t.Errorf("image after the restart: %q (%v), want %q", status, err, tc.wantStatus)
				}
			})
		})
	}
}
