package volume_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

func TestRevertToSnapshot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		want := bytes.Repeat([]byte("old!"), 1024)
		img := e.image(t, alice, want, 0)
		v := e.create(t, alice, volume.CreateRequest{Size: 1, ImageID: img.ID})
		e.step(t)
		v = e.get(t, v.ID)
		wantErr(t, e.s.RevertToSnapshot(e.ctx, alice, v.ID, "x"), errs.KindInvalid, "Volume "+v.ID+" doesn't have any snapshots.")
		first, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: v.ID})
		if err != nil {
			t.Fatal(err)
		}
		e.step(t)
		// The volume's data changes after the snapshot.
		f, err := os.OpenFile(v.Location, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(bytes.Repeat([]byte("new!"), 1024), 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := e.s.RevertToSnapshot(e.ctx, alice, v.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID).Status; got != volume.StatusReverting {
			t.Fatalf("status %s", got)
		}
		err = e.s.RevertToSnapshot(e.ctx, alice, v.ID, first.ID)
		wantErr(t, err, errs.KindConflict, "Volume's status must be 'available'.")
		e.step(t)
		v = e.get(t, v.ID)
		if v.Status != volume.StatusAvailable || !bytes.Equal(head(t, v.Location, len(want)), want) {
			t.Fatalf("reverted: %s", v.Status)
		}
		if sn, _ := e.s.Snapshot(e.ctx, alice, first.ID); sn.Status != volume.SnapshotAvailable {
			t.Fatalf("snapshot after revert: %s", sn.Status)
		}
		second, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: v.ID})
		if err != nil {
			t.Fatal(err)
		}
		e.step(t)
		wantErr(t, e.s.RevertToSnapshot(e.ctx, alice, v.ID, first.ID), errs.KindInvalid,
			"Specified snapshot "+first.ID+" is None or not the latest one of volume "+v.ID+".")
		if err := e.s.Extend(e.ctx, alice, v.ID, 2, false); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		wantErr(t, e.s.RevertToSnapshot(e.ctx, alice, v.ID, second.ID), errs.KindInvalid, "The volume size must be equal to the snapshot size.")
	})
}

func TestReimage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		data := bytes.Repeat([]byte("img2"), 1024)
		img := e.image(t, alice, data, 0)
		// Reserved by Nova for a rebuild.
		a, err := e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: "srv"})
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.Reimage(e.ctx, alice, v.ID, img.ID, false), errs.KindInvalid,
			"Volume "+v.ID+" status must be available or error, but current status is reserved.")
		if err := e.s.Reimage(e.ctx, alice, v.ID, img.ID, true); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		got := e.get(t, v.ID)
		if got.Status != volume.StatusReserved || got.ImageMetadata["image_id"] != img.ID || !got.Bootable ||
			!bytes.Equal(head(t, got.Location, len(data)), data) || len(got.Attachments) != 1 || got.Attachments[0].ID != a.ID {
			t.Fatalf("reimaged: %+v", got)
		}
	})
}

func TestRetypeAndForceDetach(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 2)
		if _, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "gold"}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.Retype(e.ctx, alice, v.ID, "platinum"), errs.KindInvalid, "Invalid volume_type passed: platinum.")
		wantErr(t, e.s.Retype(e.ctx, alice, v.ID, volume.DefaultTypeName), errs.KindInvalid, "Retype needs volume to be in available or in-use state")
		if _, err := e.s.SetQuotas(e.ctx, "pa", map[string]int64{"gigabytes_gold": 1}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.Retype(e.ctx, alice, v.ID, "gold"), errs.KindOverQuota, "gigabytes_gold")
		if _, err := e.s.SetQuotas(e.ctx, "pa", map[string]int64{"gigabytes_gold": -1}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Retype(e.ctx, alice, v.ID, "gold"); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); got.VolumeTypeName != "gold" {
			t.Fatalf("type %s", got.VolumeTypeName)
		}
		if u, _ := e.s.QuotaUsage(e.ctx, "pa"); u["volumes_gold"].InUse != 1 || u["volumes___DEFAULT__"].InUse != 0 {
			t.Fatalf("per-type usage after retype: %+v", u)
		}
		a, err := e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: "srv", Connector: map[string]any{"host": "h"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.ForceDetach(e.ctx, admin, v.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); got.Status != volume.StatusAvailable || len(got.Attachments) != 0 {
			t.Fatalf("force-detached: %+v (attachment %s)", got, a.ID)
		}
	})
}
