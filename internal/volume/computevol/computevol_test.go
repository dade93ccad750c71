package computevol

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
	"github.com/kumocloud/kumo/internal/volume/volfile"
)

func TestNovasVolumeFlow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := volume.New(db, volume.Config{})
		b, err := volfile.New(filepath.Join(t.TempDir(), "volumes"), volfile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		w := volume.NewWorker(s, b, volume.WorkerOptions{Concurrency: 2, Interval: time.Hour})
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		var vols compute.Volumes = Volumes{Service: s}
		const server = "0b7c2b2e-0000-4000-8000-00000000000a"

		var v compute.Volume
		inTx(t, db, func(tx *store.Tx) error {
			v, err = vols.CreateVolume(ctx, tx, compute.VolumeRequest{ProjectID: "p1", UserID: "u1", Name: "root", SizeGB: 1})
			return err
		})
		if v.Status != volume.StatusCreating || v.VolumeType != volume.DefaultTypeName {
			t.Fatalf("created: %+v", v)
		}
		// The worker wakes on its own (no Step): Run answers Wake.
		v, err = vols.AwaitVolume(ctx, v.ID)
		if err != nil || v.Status != volume.StatusAvailable {
			t.Fatalf("awaited: %+v, %v", v, err)
		}
		if _, err := vols.Volume(ctx, db, "p2", v.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another project reads the volume: %v", err)
		}

		var attachment string
		inTx(t, db, func(tx *store.Tx) error {
			_, err := vols.ReserveVolume(ctx, tx, "p1", v.ID, server, "elsewhere")
			if !errs.Is(err, errs.KindInvalid) {
				t.Errorf("reserve across zones: %v", err)
			}
			attachment, err = vols.ReserveVolume(ctx, tx, "p1", v.ID, server, "nova")
			return err
		})
		inTx(t, db, func(tx *store.Tx) error {
			conn, err := vols.ConnectVolume(ctx, tx, attachment, "kumo-host", "/dev/vdb")
			if err != nil {
				return err
			}
			if conn.Format != "raw" || conn.Path == "" || conn.ReadOnly {
				t.Errorf("connection %+v", conn)
			}
			return vols.CompleteAttachment(ctx, tx, attachment)
		})
		v, err = vols.Volume(ctx, db, "p1", v.ID)
		if err != nil || v.Status != volume.StatusInUse || len(v.Attachments) != 1 || v.Attachments[0].ServerID != server ||
			v.Attachments[0].Status != volume.AttachAttached {
			t.Fatalf("attached: %+v, %v", v, err)
		}

		var snap string
		inTx(t, db, func(tx *store.Tx) error {
			snap, err = vols.SnapshotVolume(ctx, tx, "p1", v.ID, "snapshot for root")
			return err
		})
		sn, err := s.AwaitSnapshot(ctx, snap)
		if err != nil || sn.Status != volume.SnapshotAvailable {
			t.Fatalf("snapshot: %+v, %v", sn, err)
		}
		// Nova reads a mapping's snapshot as the project sees it.
		if got, err := vols.Snapshot(ctx, db, "p1", snap); err != nil || got.ID != snap || got.VolumeID != v.ID ||
			got.SizeGB != 1 || got.ProjectID != "p1" || got.Status != volume.SnapshotAvailable {
			t.Errorf("snapshot read %+v, %v", got, err)
		}
		if _, err := vols.Snapshot(ctx, db, "p2", snap); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("another project reads the snapshot: %v", err)
		}

		inTx(t, db, func(tx *store.Tx) error {
			if err := vols.BeginDetaching(ctx, tx, v.ID); err != nil {
				return err
			}
			return vols.DeleteAttachment(ctx, tx, attachment)
		})
		if v, _ = vols.Volume(ctx, db, "p1", v.ID); v.Status != volume.StatusAvailable || len(v.Attachments) != 0 {
			t.Fatalf("detached: %+v", v)
		}

		// A readonly volume connects read-only (Cinder's access_mode "ro").
		if err := s.SetReadonly(ctx, service, v.ID, true); err != nil {
			t.Fatal(err)
		}
		inTx(t, db, func(tx *store.Tx) error {
			a, err := vols.ReserveVolume(ctx, tx, "p1", v.ID, server, "")
			if err != nil {
				return err
			}
			conn, err := vols.ConnectVolume(ctx, tx, a, "kumo-host", "/dev/vdb")
			if err != nil {
				return err
			}
			if !conn.ReadOnly {
				t.Errorf("a readonly volume connected %+v", conn)
			}
			return vols.DeleteAttachment(ctx, tx, a)
		})

		// A volume from the snapshot, then delete_on_termination.
		var fromSnap compute.Volume
		inTx(t, db, func(tx *store.Tx) error {
			fromSnap, err = vols.CreateVolume(ctx, tx, compute.VolumeRequest{ProjectID: "p1", SnapshotID: snap})
			return err
		})
		if fromSnap, err = vols.AwaitVolume(ctx, fromSnap.ID); err != nil || fromSnap.Status != volume.StatusAvailable || fromSnap.SizeGB != 1 {
			t.Fatalf("from snapshot: %+v, %v", fromSnap, err)
		}
		// Nova names its volumes "" (not null), as Cinder shows them.
		if got, err := s.Get(ctx, service, fromSnap.ID); err != nil || got.Name == nil || *got.Name != "" ||
			got.Description == nil || *got.Description != "" {
			t.Errorf("a volume Nova made has name %v and description %v (%v), want \"\" for both", got.Name, got.Description, err)
		}
		inTx(t, db, func(tx *store.Tx) error { return vols.DeleteVolume(ctx, tx, "p1", fromSnap.ID) })
		for {
			_, err := vols.Volume(ctx, db, "p1", fromSnap.ID)
			if errs.Is(err, errs.KindNotFound) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("volume never deleted: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestReimageForRebuild is Nova's rebuild of a volume-backed server at
// 2.93 over the volume service: a second attachment for the same server
// replaces the in-use volume's, leaving it reserved; ReimageVolume
// writes the image into it (downloading, then reserved again with the
// image's metadata); the host connects and completes the new attachment.
func TestReimageForRebuild(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		dir := t.TempDir()
		images := image.New(db, filepath.Join(dir, "images"))
		s := volume.New(db, volume.Config{Images: images})
		b, err := volfile.New(filepath.Join(dir, "volumes"), volfile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		w := volume.NewWorker(s, b, volume.WorkerOptions{Concurrency: 2, Interval: time.Hour})
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		admin := &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
		name, raw, bare := "next", "raw", "bare"
		img, err := images.CreateFromReader(ctx, admin, image.CreateRequest{Name: &name, Visibility: image.Public,
			DiskFormat: &raw, ContainerFormat: &bare}, strings.NewReader("the next image"))
		if err != nil {
			t.Fatal(err)
		}
		var vols compute.Volumes = Volumes{Service: s}
		const server = "0b7c2b2e-0000-4000-8000-00000000000b"

		var v compute.Volume
		inTx(t, db, func(tx *store.Tx) error {
			v, err = vols.CreateVolume(ctx, tx, compute.VolumeRequest{ProjectID: "p1", UserID: "u1", SizeGB: 1})
			return err
		})
		if v, err = vols.AwaitVolume(ctx, v.ID); err != nil || v.Status != volume.StatusAvailable {
			t.Fatalf("awaited: %+v, %v", v, err)
		}
		var old string
		inTx(t, db, func(tx *store.Tx) error {
			if old, err = vols.ReserveVolume(ctx, tx, "p1", v.ID, server, ""); err != nil {
				return err
			}
			if _, err := vols.ConnectVolume(ctx, tx, old, "kumo-host", "/dev/vda"); err != nil {
				return err
			}
			return vols.CompleteAttachment(ctx, tx, old)
		})
		// An in-use volume is not re-imaged, nor another project's.
		inTx(t, db, func(tx *store.Tx) error {
			if err := vols.ReimageVolume(ctx, tx, "p1", v.ID, img.ID); !errs.Is(err, errs.KindInvalid) {
				t.Errorf("re-image of an in-use volume: %v", err)
			}
			if err := vols.ReimageVolume(ctx, tx, "p2", v.ID, img.ID); !errs.Is(err, errs.KindNotFound) {
				t.Errorf("re-image of another project's volume: %v", err)
			}
			return nil
		})

		var attachment string
		inTx(t, db, func(tx *store.Tx) error {
			if attachment, err = vols.ReserveVolume(ctx, tx, "p1", v.ID, server, ""); err != nil {
				return err
			}
			if err := vols.DeleteAttachment(ctx, tx, old); err != nil {
				return err
			}
			got, err := vols.Volume(ctx, tx, "p1", v.ID)
			if err != nil {
				return err
			}
			if got.Status != volume.StatusReserved || len(got.Attachments) != 1 || got.Attachments[0].ID != attachment {
				t.Errorf("attachment replaced: %+v, want reserved by the new attachment", got)
			}
			return vols.ReimageVolume(ctx, tx, "p1", v.ID, img.ID)
		})
		if v, err = vols.AwaitVolume(ctx, v.ID); err != nil || v.Status != volume.StatusReserved ||
			v.ImageMetadata["image_id"] != img.ID || !v.Bootable {
			t.Fatalf("re-imaged: %+v, %v", v, err)
		}
		inTx(t, db, func(tx *store.Tx) error {
			conn, err := vols.ConnectVolume(ctx, tx, attachment, "kumo-host", "/dev/vda")
			if err != nil {
				return err
			}
			if conn.Path == "" {
				t.Errorf("connection %+v", conn)
			}
			return vols.CompleteAttachment(ctx, tx, attachment)
		})
		v, err = vols.Volume(ctx, db, "p1", v.ID)
		if err != nil || v.Status != volume.StatusInUse || len(v.Attachments) != 1 || v.Attachments[0].ID != attachment {
			t.Fatalf("attached again: %+v, %v", v, err)
		}
	})
}

// TestVolumeTypeLookup: Nova finds a mapping's volume type by id or by
// name among the types the project may use: the public ones (__DEFAULT__
// always) and the private ones shared with it.
func TestVolumeTypeLookup(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := volume.New(db, volume.Config{})
		vols := Volumes{Service: s}
		private := false
		secret, err := s.CreateType(ctx, volume.TypeCreate{Name: "secret", IsPublic: &private})
		if err != nil {
			t.Fatal(err)
		}
		fast, err := s.CreateType(ctx, volume.TypeCreate{Name: "fast"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddTypeAccess(ctx, secret.ID, "p2"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			project, ref, want string // want "": not found
		}{
			{"p1", volume.DefaultTypeName, volume.DefaultTypeName},
			{"p1", "fast", "fast"},
			{"p1", fast.ID, "fast"},
			{"p1", "slow", ""},
			{"p1", "secret", ""},
			{"p1", secret.ID, ""},
			{"p2", "secret", "secret"},
			{"p2", secret.ID, "secret"},
		} {
			got, err := vols.VolumeType(ctx, db, tc.project, tc.ref)
			switch {
			case tc.want == "" && !errs.Is(err, errs.KindNotFound):
				t.Errorf("%s looks up %s: %+v, %v; want not found", tc.project, tc.ref, got, err)
			case tc.want != "" && (err != nil || got.Name != tc.want || got.ID == ""):
				t.Errorf("%s looks up %s: %+v, %v; want %s", tc.project, tc.ref, got, err, tc.want)
			}
		}
	})
}

func inTx(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}
