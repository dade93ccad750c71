package compute_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// TestDeleteDuringSnapshot: a server deleted right after createImage
// takes its unfinished snapshot image with it, whether the agent had not
// started the snapshot yet (the delete cancels it) or was taking it (it
// stops at its next step, as Nova's snapshot does when the instance
// disappears), for a delete and a soft delete; no image is left queued.
func TestDeleteDuringSnapshot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		started bool          // the agent is taking the snapshot when the delete comes
		reclaim time.Duration // soft delete
		gone    func(*compute.Server) bool
	}{
		{"delete before the agent starts", false, 0, nil},
		{"delete while the agent snapshots", true, 0, func(s *compute.Server) bool { return s.Deleted }},
		{"soft delete while the agent snapshots", true, time.Hour, func(s *compute.Server) bool {
			return s.Status() == "SOFT_DELETED" && s.TaskState == state.TaskNone
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apptest.Each(t, func(t *testing.T, database string) {
				c := computetest.New(t, database, computetest.Options{Stopped: !tc.started,
					Fake:     fake.Options{Delays: map[string]time.Duration{"snapshot": 300 * time.Millisecond}},
					Settings: compute.Settings{ReclaimInterval: tc.reclaim}})
				ctx := context.Background()
				id := c.CreateServer(t, snapOwner, "doomed", nil).Servers[0].ID
				if tc.started {
					c.WaitFor(t, id, computetest.Active)
				} else {
					c.Step() // the build only: the snapshot is not asked for yet
				}
				img, err := c.Compute.Snapshot(ctx, snapOwner, id, compute.SnapshotRequest{Name: "snap", RequestID: "req-snap"})
				if err != nil {
					t.Fatal(err)
				}
				if tc.started {
					c.WaitFor(t, id, func(s *compute.Server) bool { return s.TaskState == state.TaskImagePendingUpload })
				}
				if err := c.Compute.Delete(ctx, snapOwner, id, "req-delete"); err != nil {
					t.Fatal(err)
				}
				if tc.gone != nil {
					c.WaitFor(t, id, tc.gone)
					if _, events := actionEvents(t, c, id, "req-snap"); events["compute_snapshot_instance"] != "Error" {
						t.Errorf("snapshot events %v, want an error", events)
					}
				}
				if got, err := c.Images.Get(ctx, snapAdmin, img.ID); !errs.Is(err, errs.KindNotFound) {
					t.Errorf("snapshot image of the deleted server: %v (status %v), want it deleted", err, statusOfImage(got))
				}
			})
		})
	}
}

func statusOfImage(img *image.Image) string {
	if img == nil {
		return "gone"
	}
	return img.Status
}
