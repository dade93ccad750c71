package volume_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

func TestExtend(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		told := &serverEvents{}
		e.w.TellServers(told)
		v := e.ready(t, alice, 1)
		wantErr(t, e.s.Extend(e.ctx, alice, v.ID, 1, false), errs.KindInvalid,
			"New size for extend must be greater than current size. (current: 1, extended: 1).")
		if err := e.s.Extend(e.ctx, alice, v.ID, 2, false); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); got.Status != volume.StatusExtending || got.Size != 1 {
			t.Fatalf("extending: %s %d", got.Status, got.Size)
		}
		e.step(t)
		if got := e.get(t, v.ID); got.Status != volume.StatusAvailable || got.Size != 2 || fileSize(t, got.Location) != 2*gib {
			t.Fatalf("extended: %+v", got)
		}
		if len(told.extended) != 0 {
			t.Errorf("an available volume's extend told servers %v", told.extended)
		}
		// In use: only when the caller allows it (3.42).
		a, err := e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: "srv",
			Connector: map[string]any{"host": "h"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.CompleteAttachment(e.ctx, alice, a.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.Extend(e.ctx, alice, v.ID, 3, false), errs.KindInvalid,
			"Invalid volume: Volume "+v.ID+" status must be '{'status': 'available'}' to extend, currently in-use.")
		if err := e.s.Extend(e.ctx, alice, v.ID, 3, true); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if got := e.get(t, v.ID); got.Status != volume.StatusInUse || got.Size != 3 {
			t.Fatalf("extended in use: %s %d", got.Status, got.Size)
		}
		// Its server hears of it ("volume-extended").
		if len(told.extended) != 1 || told.extended[0] != v.ID+" srv" {
			t.Errorf("servers told %v, want volume %s extended on srv", told.extended, v.ID)
		}
	})
}

// serverEvents records what the worker tells servers.
type serverEvents struct{ extended []string }

func (s *serverEvents) VolumeExtended(ctx context.Context, volumeID string, serverIDs []string) error {
	s.extended = append(s.extended, volumeID+" "+strings.Join(serverIDs, ","))
	return nil
}

func TestUploadToImage(t *testing.T) {
	t.Parallel()
	_, noQemuImg := exec.LookPath("qemu-img")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, format := range []string{"raw", "qcow2"} {
			// A raw upload moves the whole GiB through the image service
			// (slow on CI): it runs where qcow2 cannot, and on SQLite only;
			// volfile's tests read raw disks.
			if format == "raw" && (noQemuImg == nil || db.Dialect() != store.SQLite) {
				continue
			}
			if format == "qcow2" && noQemuImg != nil {
				t.Log("qemu-img is not installed: no qcow2 upload")
				continue
			}
			e := newEnv(t, db, volume.Config{})
			data := bytes.Repeat([]byte("disk"), 2048)
			img := e.image(t, alice, data, 0)
			v := e.create(t, alice, volume.CreateRequest{Size: 1, ImageID: img.ID})
			e.step(t)
			res, err := e.s.UploadToImage(e.ctx, alice, v.ID, volume.UploadRequest{ImageName: "backup", DiskFormat: format})
			if err != nil {
				t.Fatal(err)
			}
			if res.Volume.Status != volume.StatusUploading || res.DiskFormat != format || res.ContainerFormat != "bare" ||
				res.Visibility != "private" || res.ImageName != "backup" {
				t.Fatalf("upload answer: %+v", res)
			}
			_, err = e.s.UploadToImage(e.ctx, alice, v.ID, volume.UploadRequest{ImageName: "again"})
			wantErr(t, err, errs.KindInvalid, "Invalid volume: Volume "+v.ID+" status must be available")
			e.step(t)
			if got := e.get(t, v.ID).Status; got != volume.StatusAvailable {
				t.Fatalf("after upload: %s", got)
			}
			up, err := e.images.Get(e.ctx, alice, res.ImageID)
			if err != nil || up.Status != image.StatusActive || *up.DiskFormat != format || up.Properties["hw_disk_bus"] != "virtio" {
				t.Fatalf("uploaded image: %+v, %v", up, err)
			}
			// The image makes a volume with the same data again.
			back := e.create(t, alice, volume.CreateRequest{Size: 1, ImageID: up.ID})
			e.step(t)
			back = e.get(t, back.ID)
			if back.Status != volume.StatusAvailable || !bytes.Equal(head(t, back.Location, len(data)), data) {
				t.Fatalf("%s: volume from the uploaded image: %+v", format, back)
			}
		}
	})
}

func TestMetadataAndResetStatus(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		md, err := e.s.SetMetadata(e.ctx, alice, v.ID, map[string]string{"a": "1", "b": "2"}, false)
		if err != nil || len(md) != 2 {
			t.Fatalf("set: %v, %v", md, err)
		}
		md, err = e.s.SetMetadata(e.ctx, alice, v.ID, map[string]string{"c": "3"}, true)
		if err != nil || len(md) != 1 || md["c"] != "3" {
			t.Fatalf("replace: %v, %v", md, err)
		}
		wantErr(t, e.s.DeleteMetadataKey(e.ctx, alice, v.ID, "a"), errs.KindNotFound, "Volume "+v.ID+" has no metadata with key a.")
		if _, err := e.s.SetMetadata(e.ctx, bob, v.ID, map[string]string{"x": "y"}, false); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("bob sets alice's metadata: %v", err)
		}
		if _, err := e.s.SetImageMetadata(e.ctx, alice, v.ID, map[string]string{"hw_qemu_guest_agent": "yes"}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.DeleteImageMetadataKey(e.ctx, alice, v.ID, "nope"), errs.KindNotFound, "Glance metadata")

		// reset-status to error, then a plain delete is accepted.
		st := volume.StatusError
		if err := e.s.ResetStatus(e.ctx, admin, v.ID, volume.ResetStatusRequest{Status: &st}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Delete(e.ctx, alice, v.ID, volume.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.Delete(e.ctx, alice, v.ID, volume.DeleteOptions{}), errs.KindInvalid, "Volume status must be available")
		e.step(t)
		if _, err := e.s.Get(e.ctx, alice, v.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("deleted: %v", err)
		}
		// force-delete takes a volume stuck in a transient status.
		w := e.create(t, alice, volume.CreateRequest{Size: 1})
		if err := e.s.ForceDelete(e.ctx, admin, w.ID); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if _, err := e.s.Get(e.ctx, alice, w.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("force-deleted: %v", err)
		}
	})
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		a, err := e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: "srv", Connector: map[string]any{"host": "h"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.CompleteAttachment(e.ctx, alice, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: v.ID})
		wantErr(t, err, errs.KindInvalid, "Invalid volume: Volume "+v.ID+" status must be available, but current status is: in-use.")
		sn, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: v.ID, Force: true, Name: ptr("s"), Metadata: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.DeleteSnapshot(e.ctx, alice, sn.ID, false), errs.KindInvalid, "")
		e.step(t)
		list, err := e.s.Snapshots(e.ctx, alice, volume.SnapshotListOptions{Filters: map[string]string{"volume_id": v.ID}})
		if err != nil || len(list) != 1 || list[0].Status != volume.SnapshotAvailable || list[0].Metadata["k"] != "v" {
			t.Fatalf("snapshots: %+v, %v", list, err)
		}
		if l, _ := e.s.Snapshots(e.ctx, bob, volume.SnapshotListOptions{}); len(l) != 0 {
			t.Fatalf("bob lists %d snapshots", len(l))
		}
		up, err := e.s.UpdateSnapshot(e.ctx, alice, sn.ID, volume.SnapshotUpdate{Description: ptr("d")})
		if err != nil || *up.Description != "d" || *up.Name != "s" {
			t.Fatalf("update: %+v, %v", up, err)
		}
		if md, err := e.s.SetSnapshotMetadata(e.ctx, alice, sn.ID, map[string]string{"x": "y"}, false); err != nil || len(md) != 2 {
			t.Fatalf("metadata: %v, %v", md, err)
		}
		if err := e.s.DeleteSnapshot(e.ctx, alice, sn.ID, false); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if _, err := e.s.Snapshot(e.ctx, alice, sn.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("deleted snapshot: %v", err)
		}
	})
}

func TestZonesAndServices(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	e := newEnv(t, db, volume.Config{AvailabilityZone: "az1", Host: "node@volfile"})
	zs, _ := e.s.AvailabilityZones(e.ctx)
	if len(zs) != 1 || zs[0].Name != "az1" || !zs[0].Available {
		t.Fatalf("zones %+v", zs)
	}
	ss, _ := e.s.Services(e.ctx)
	if len(ss) != 2 || ss[0].Binary != "cinder-scheduler" || ss[0].Host != "node" || ss[1].Binary != "cinder-volume" ||
		ss[1].Host != "node@volfile" || ss[1].State != "up" || ss[1].Zone != "az1" {
		t.Fatalf("services %+v", ss)
	}
	if v := e.create(t, alice, volume.CreateRequest{Size: 1}); v.AvailabilityZone != "az1" {
		t.Fatalf("zone %s", v.AvailabilityZone)
	}
}

func TestResetStatusStartsNoJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		for _, st := range []string{volume.StatusCreating, volume.StatusDeleting, volume.StatusExtending} {
			if err := e.s.ResetStatus(e.ctx, admin, v.ID, volume.ResetStatusRequest{Status: ptr(st)}); err != nil {
				t.Fatal(err)
			}
			e.step(t)
			got := e.get(t, v.ID)
			if got.Status != st || fileSize(t, got.Location) != gib {
				t.Fatalf("reset to %s: the worker acted (%s)", st, got.Status)
			}
		}
		// An admin's force delete of the stuck volume does run.
		if err := e.s.ForceDelete(e.ctx, admin, v.ID); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if _, err := e.s.Get(e.ctx, admin, v.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("force-deleted: %v", err)
		}
	})
}

func TestForceUploadNeedsItsOption(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	for _, enabled := range []bool{false, true} {
		e := newEnv(t, db, volume.Config{EnableForceUpload: enabled})
		v := e.ready(t, alice, 1)
		a, err := e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: "srv", Connector: map[string]any{"host": "h"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.CompleteAttachment(e.ctx, alice, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.UploadToImage(e.ctx, alice, v.ID, volume.UploadRequest{ImageName: "i", Force: true, DiskFormat: "qcow2"})
		if enabled && err != nil {
			t.Fatalf("force upload with enable_force_upload: %v", err)
		}
		if !enabled {
			wantErr(t, err, errs.KindInvalid, "status must be available")
		}
	}
}
