package compute_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/errs"
)

// TestDeleteShelvedServerDropsItsSnapshot: deleting a shelved (offloaded)
// server deletes the snapshot shelve made, as Nova's compute API does.
func TestDeleteShelvedServerDropsItsSnapshot(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		id := c.CreateServer(t, snapOwner, "gone-shelved", nil).Servers[0].ID
		c.WaitFor(t, id, computetest.Active)
		if err := c.Compute.Shelve(ctx, snapOwner, id, "req-shelve"); err != nil {
			t.Fatal(err)
		}
		srv := waitIdle(t, c, id)
		imageID := srv.SystemMetadata["shelved_image_id"]
		if srv.Status() != "SHELVED_OFFLOADED" || imageID == "" {
			t.Fatalf("after shelve: %s, shelved image %q", srv.Status(), imageID)
		}
		if _, err := c.Images.Get(ctx, snapOwner, imageID); err != nil {
			t.Fatalf("shelved image before delete: %v", err)
		}
		if err := c.Compute.Delete(ctx, snapOwner, id, "req-delete"); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, id, computetest.Deleted)
		if _, err := c.Images.Get(ctx, snapOwner, imageID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("shelved image after the server's delete: %v, want not found", err)
		}
	})
}
