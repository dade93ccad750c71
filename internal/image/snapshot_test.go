package image

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestSnapshotImages registers queued images in the caller's
// transaction (shared with a member), uploads snapshots with the driver's
// disk format, lists a server's backups newest first and deletes them
// whoever owns them.
func TestSnapshotImages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newService(t, db)
		ctx := context.Background()
		create := func(name, member string, req CreateRequest) *Image {
			t.Helper()
			req.Name = ptr(name)
			var img *Image
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				img, err = s.CreateQueued(ctx, tx, alice, req, member)
				return err
			})
			if err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			return img
		}
		snap := create("snap", "pb", CreateRequest{Visibility: Shared, Properties: map[string]string{"image_type": "snapshot"}})
		if snap.Status != StatusQueued || snap.DiskFormat != nil {
			t.Fatalf("queued snapshot %+v", snap)
		}
		if _, err := s.Get(ctx, bob, snap.ID); err != nil {
			t.Fatalf("member project cannot see the shared snapshot: %v", err)
		}
		up, err := s.UploadSnapshot(ctx, snap.ID, "qcow2", strings.NewReader("disk"))
		if err != nil {
			t.Fatal(err)
		}
		if up.Status != StatusActive || *up.DiskFormat != "qcow2" || *up.ContainerFormat != "bare" || *up.Size != 4 {
			t.Fatalf("uploaded snapshot %+v", up)
		}
		if _, err := s.UploadSnapshot(ctx, snap.ID, "raw", strings.NewReader("again")); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("second upload: %v, want a conflict", err)
		}
		// A backup keeps the formats it was registered with (ami stays ami).
		ami := create("ami-backup", "", CreateRequest{Visibility: Private, DiskFormat: ptr("ami"), ContainerFormat: ptr("ami")})
		if up, err := s.UploadSnapshot(ctx, ami.ID, "raw", strings.NewReader("x")); err != nil || *up.DiskFormat != "ami" || *up.ContainerFormat != "ami" {
			t.Fatalf("ami backup upload %+v, %v", up, err)
		}

		backup := func(name, kind, server string) {
			t.Helper()
			create(name, "", CreateRequest{Visibility: Private, Properties: map[string]string{
				"image_type": "backup", "backup_type": kind, "instance_uuid": server}})
			time.Sleep(2 * time.Millisecond) // distinct created_at
		}
		backup("d1", "daily", "srv-1")
		backup("w1", "weekly", "srv-1")
		backup("d2", "daily", "srv-1")
		backup("other", "daily", "srv-2")
		list, err := s.Backups(ctx, "srv-1", "daily")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, img := range list {
			names = append(names, *img.Name)
		}
		if got := strings.Join(names, ","); got != "d2,d1" {
			t.Fatalf("daily backups of srv-1: %s, want d2,d1", got)
		}
		if err := s.DeleteSnapshot(ctx, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSnapshot(ctx, list[0].ID); err != nil {
			t.Fatalf("deleting a deleted snapshot: %v", err)
		}
		if st, err := s.Status(ctx, list[0].ID); err != nil || st != "" {
			t.Fatalf("status of a deleted image: %q, %v", st, err)
		}
		if st, err := s.Status(ctx, snap.ID); err != nil || st != StatusActive {
			t.Fatalf("status of the snapshot: %q, %v", st, err)
		}
	})
}
