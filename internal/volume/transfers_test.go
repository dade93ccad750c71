package volume_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

func TestTransfers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		sn, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: v.ID})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.s.CreateTransfer(e.ctx, alice, volume.TransferCreate{VolumeID: v.ID})
		wantErr(t, err, errs.KindInvalid, "Invalid snapshot: snapshot: "+sn.ID+" status must be available")
		e.step(t)
		tr, err := e.s.CreateTransfer(e.ctx, alice, volume.TransferCreate{VolumeID: v.ID, Name: ptr("gift")})
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.AuthKey) != 16 || e.get(t, v.ID).Status != volume.StatusAwaitingTransfer {
			t.Fatalf("transfer %+v", tr)
		}
		wantErr(t, e.s.Delete(e.ctx, alice, v.ID, volume.DeleteOptions{Cascade: true}), errs.KindInvalid, "awaiting a transfer")
		if l, _ := e.s.Transfers(e.ctx, alice, volume.TransferListOptions{}); len(l) != 1 || l[0].AuthKey != "" {
			t.Fatalf("alice's transfers: %+v", l)
		}
		if l, _ := e.s.Transfers(e.ctx, bob, volume.TransferListOptions{}); len(l) != 0 {
			t.Fatalf("bob's transfers: %+v", l)
		}
		_, err = e.s.AcceptTransfer(e.ctx, bob, tr.ID, "0000000000000000")
		wantErr(t, err, errs.KindInvalid, "Invalid auth key: Attempt to transfer "+tr.ID+" with invalid auth key.")
		// Bob's quota must hold the volume and its snapshot.
		if _, err := e.s.SetQuotas(e.ctx, "pb", map[string]int64{"snapshots": 0}); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.AcceptTransfer(e.ctx, bob, tr.ID, tr.AuthKey)
		wantErr(t, err, errs.KindOverQuota, "Maximum number of snapshots allowed (0) exceeded")
		if err := e.s.DeleteQuotas(e.ctx, "pb"); err != nil {
			t.Fatal(err)
		}
		got, err := e.s.AcceptTransfer(e.ctx, bob, tr.ID, tr.AuthKey)
		if err != nil || !got.Accepted || *got.DestinationProjectID != "pb" {
			t.Fatalf("accept: %+v, %v", got, err)
		}
		bv, err := e.s.Get(e.ctx, bob, v.ID)
		if err != nil || bv.Status != volume.StatusAvailable || bv.ProjectID != "pb" {
			t.Fatalf("bob's volume: %+v, %v", bv, err)
		}
		if _, err := e.s.Snapshot(e.ctx, bob, sn.ID); err != nil {
			t.Fatalf("bob's snapshot: %v", err)
		}
		if _, err := e.s.Get(e.ctx, alice, v.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("alice still sees the volume: %v", err)
		}
		if _, err := e.s.Transfer(e.ctx, admin, tr.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("accepted transfer still listed: %v", err)
		}
		// A withdrawn offer gives the volume back its status.
		tr2, err := e.s.CreateTransfer(e.ctx, bob, volume.TransferCreate{VolumeID: v.ID, NoSnapshots: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.DeleteTransfer(e.ctx, bob, tr2.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID).Status; got != volume.StatusAvailable {
			t.Fatalf("after withdrawing: %s", got)
		}
	})
}
