package volume_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

const gib = int64(1) << 30

func TestCreateFromEverySourceAndDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		blank := e.create(t, alice, volume.CreateRequest{Size: 1, Name: ptr("blank"), Metadata: map[string]string{"k": "v"}})
		if blank.Status != volume.StatusCreating || blank.VolumeTypeName != volume.DefaultTypeName || blank.AvailabilityZone != "nova" ||
			len(blank.AdminMetadata) != 0 {
			t.Fatalf("new blank volume: %+v", blank)
		}
		e.step(t)
		blank = e.get(t, blank.ID)
		if blank.Status != volume.StatusAvailable || blank.Format != "raw" || fileSize(t, blank.Location) != gib ||
			blank.Host != e.s.PoolName() || blank.LaunchedAt == nil || blank.Metadata["k"] != "v" {
			t.Fatalf("blank volume after the worker: %+v", blank)
		}

		data := append(bytes.Repeat([]byte("boot"), 1024), make([]byte, 4096)...)
		img := e.image(t, alice, data, 1)
		fromImage := e.create(t, alice, volume.CreateRequest{Size: 1, ImageID: img.ID})
		if fromImage.Status != volume.StatusDownloading || !fromImage.Bootable || fromImage.ImageMetadata["image_id"] != img.ID ||
			fromImage.ImageMetadata["image_name"] != "cirros" || fromImage.ImageMetadata["hw_disk_bus"] != "virtio" ||
			fromImage.ImageMetadata["disk_format"] != "raw" || fromImage.ImageMetadata["min_disk"] != "1" ||
			fromImage.ImageMetadata["checksum"] != *img.Checksum {
			t.Fatalf("volume from image: %+v", fromImage)
		}
		e.step(t)
		fromImage = e.get(t, fromImage.ID)
		if fromImage.Status != volume.StatusAvailable || fileSize(t, fromImage.Location) != gib ||
			!bytes.Equal(head(t, fromImage.Location, len(data)), data) {
			t.Fatalf("volume from image after the worker: %+v", fromImage)
		}

		clone := e.create(t, alice, volume.CreateRequest{SourceVolID: fromImage.ID, Size: 2})
		snap, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: fromImage.ID, Name: ptr("s1")})
		if err != nil {
			t.Fatal(err)
		}
		e.step(t)
		clone = e.get(t, clone.ID)
		if clone.Status != volume.StatusAvailable || !clone.Bootable || clone.ImageMetadata["image_id"] != img.ID ||
			fileSize(t, clone.Location) != 2*gib || !bytes.Equal(head(t, clone.Location, len(data)), data) {
			t.Fatalf("clone: %+v", clone)
		}
		snap, err = e.s.Snapshot(e.ctx, alice, snap.ID)
		if err != nil || snap.Status != volume.SnapshotAvailable || snap.Progress != "100%" || snap.Size != 1 {
			t.Fatalf("snapshot: %+v, %v", snap, err)
		}
		fromSnap := e.create(t, alice, volume.CreateRequest{SnapshotID: snap.ID})
		e.step(t)
		fromSnap = e.get(t, fromSnap.ID)
		if fromSnap.Status != volume.StatusAvailable || fromSnap.Size != 1 || !bytes.Equal(head(t, fromSnap.Location, len(data)), data) {
			t.Fatalf("volume from snapshot: %+v", fromSnap)
		}

		// A volume with snapshots is deleted only with cascade.
		err = e.s.Delete(e.ctx, alice, fromImage.ID, volume.DeleteOptions{})
		wantErr(t, err, errs.KindInvalid, "Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.")
		if err := e.s.Delete(e.ctx, alice, fromImage.ID, volume.DeleteOptions{Cascade: true}); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if _, err := e.s.Get(e.ctx, alice, fromImage.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("deleted volume: %v", err)
		}
		if _, err := e.s.Snapshot(e.ctx, alice, snap.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("cascade-deleted snapshot: %v", err)
		}
		if _, err := os.Stat(fromImage.Location); !os.IsNotExist(err) {
			t.Fatalf("volume file left: %v", err)
		}
		// The volume made from the snapshot lives on.
		if v := e.get(t, fromSnap.ID); v.Status != volume.StatusAvailable {
			t.Fatalf("volume from a deleted snapshot: %s", v.Status)
		}
	})
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		src := e.ready(t, alice, 2)
		img := e.image(t, alice, make([]byte, 1024), 3)
		snap, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: src.ID})
		if err != nil {
			t.Fatal(err)
		}
		pending := snap.ID
		for _, tc := range []struct {
			name string
			req  volume.CreateRequest
			kind errs.Kind
			msg  string
		}{
			{"no size", volume.CreateRequest{}, errs.KindInvalid, "Invalid input received: Volume size '0' must be an integer and greater than 0"},
			{"smaller than source", volume.CreateRequest{Size: 1, SourceVolID: src.ID}, errs.KindInvalid,
				"Volume size '1'GB cannot be smaller than original volume size  2GB. They must be >= original volume size."},
			{"snapshot not available", volume.CreateRequest{SnapshotID: pending}, errs.KindInvalid,
				"Invalid snapshot: Originating snapshot status must be one of 'available' values"},
			{"below min_disk", volume.CreateRequest{Size: 2, ImageID: img.ID}, errs.KindInvalid,
				"Volume size 2GB cannot be smaller than the image minDisk size 3GB."},
			{"missing image", volume.CreateRequest{Size: 2, ImageID: "f0f0f0f0-0000-0000-0000-000000000000"}, errs.KindNotFound,
				"Image f0f0f0f0-0000-0000-0000-000000000000 could not be found."},
			{"other project's source", volume.CreateRequest{SourceVolID: src.ID}, errs.KindNotFound, "could not be found"},
			{"bad zone", volume.CreateRequest{Size: 1, AvailabilityZone: "mars"}, errs.KindInvalid, "Availability zone 'mars' is invalid."},
			{"bad type", volume.CreateRequest{Size: 1, VolumeType: "gold"}, errs.KindInvalid, "Invalid volume_type provided: gold"},
			{"two sources", volume.CreateRequest{Size: 1, ImageID: img.ID, SourceVolID: src.ID}, errs.KindInvalid, ""},
		} {
			p := alice
			if tc.name == "other project's source" {
				p = bob
			}
			_, err := e.s.Create(e.ctx, p, tc.req)
			if err == nil {
				t.Fatalf("%s: created", tc.name)
			}
			wantErr(t, err, tc.kind, tc.msg)
		}
	})
}

func TestCapacityLeavesVolumesInError(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{CapacityGB: 5})
		a := e.create(t, alice, volume.CreateRequest{Size: 3})
		b := e.create(t, alice, volume.CreateRequest{Size: 3})
		e.step(t)
		if got := []string{e.get(t, a.ID).Status, e.get(t, b.ID).Status}; got[0] == got[1] {
			t.Fatalf("statuses %v: one volume must fit and the other not", got)
		}
		c, err := e.s.Capacity(e.ctx)
		if err != nil || c.TotalGB != 5 || c.UsedGB != 3 || c.FreeGB != 2 {
			t.Fatalf("capacity %+v, %v", c, err)
		}
	})
}

func TestWorkerResumesAfterRestart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.create(t, alice, volume.CreateRequest{Size: 1})
		// A new service and worker over the same database and files, as
		// after a restart, find the pending create.
		e2 := newEnv(t, db, volume.Config{})
		e2.step(t)
		if got := e2.get(t, v.ID).Status; got != volume.StatusAvailable {
			t.Fatalf("status %s", got)
		}
	})
}

func TestWorkersShareADatabaseByHost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newEnv(t, db, volume.Config{Host: "a@volfile"})
		b := newEnv(t, db, volume.Config{Host: "b@volfile"})
		v := a.create(t, alice, volume.CreateRequest{Size: 1})
		a.step(t) // a places and writes it
		if got := a.get(t, v.ID); got.Host != "a@volfile#volfile" || got.Status != volume.StatusAvailable {
			t.Fatalf("placed: %s %s", got.Host, got.Status)
		}
		sn, err := b.s.CreateSnapshot(b.ctx, alice, volume.SnapshotCreate{VolumeID: v.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.s.Extend(b.ctx, alice, v.ID, 2, false); err != nil {
			t.Fatal(err)
		}
		b.step(t) // not b's: nothing happens
		if got := b.get(t, v.ID); got.Status != volume.StatusExtending {
			t.Fatalf("b's worker extended a's volume: %s", got.Status)
		}
		if got, _ := b.s.Snapshot(b.ctx, alice, sn.ID); got.Status != volume.SnapshotCreating {
			t.Fatalf("b's worker took a's snapshot: %s", got.Status)
		}
		a.step(t)
		if got := a.get(t, v.ID); got.Status != volume.StatusAvailable || got.Size != 2 {
			t.Fatalf("a's worker: %s %d", got.Status, got.Size)
		}
		if got, _ := a.s.Snapshot(a.ctx, alice, sn.ID); got.Status != volume.SnapshotAvailable {
			t.Fatalf("snapshot: %s", got.Status)
		}
	})
}

// TestCascadeDeleteWhileSnapshotsGo runs the worker's jobs concurrently,
// as kumo does: a volume's delete job may run while its snapshots' jobs
// remove their rows, and must wait for them rather than fail (CI once
// left a cascade-deleted volume in error_deleting).
func TestCascadeDeleteWhileSnapshotsGo(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		var ids []string
		for i := 0; i < 3; i++ { // 9 snapshots: the default quota is 10
			v := e.create(t, alice, volume.CreateRequest{Size: 1})
			e.step(t)
			for j := 0; j < 3; j++ {
				if _, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: v.ID}); err != nil {
					t.Fatal(err)
				}
			}
			e.step(t)
			ids = append(ids, v.ID)
		}
		ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
		defer cancel()
		w := volume.NewWorker(e.s, e.b, volume.WorkerOptions{Concurrency: 8, Interval: 10 * time.Millisecond})
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		defer func() { cancel(); <-done }()
		for _, id := range ids {
			if err := e.s.Delete(e.ctx, alice, id, volume.DeleteOptions{Cascade: true}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			for {
				v, err := e.s.Get(ctx, admin, id)
				if errs.Is(err, errs.KindNotFound) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if v.Status != volume.StatusDeleting {
					t.Fatalf("cascade-deleted volume %s: status %s", id, v.Status)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
}
