package volume_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

func TestRetypeChecks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		mk := func(name string, public bool, specs map[string]string) *volume.VolumeType {
			vt, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: name, IsPublic: &public, ExtraSpecs: specs})
			if err != nil {
				t.Fatal(err)
			}
			return vt
		}
		silver := mk("silver", true, nil)
		mk("hidden", false, nil)
		mk("multi", true, map[string]string{"multiattach": "<is> True"})
		mk("small", true, map[string]string{"provisioning:max_vol_size": "1"})
		mk("big", true, map[string]string{"provisioning:min_vol_size": "5"})
		v := e.ready(t, alice, 2)
		tests := []struct {
			name, to string
			kind     errs.Kind
			msg      string
		}{
			{"unknown name", "platinum", errs.KindNotFound, "Volume type with name platinum could not be found."},
			{"unknown id", "0b8f6a8e-4f0e-4d7e-9c6c-5b0d2f3e1a77", errs.KindNotFound, "Volume type 0b8f6a8e-4f0e-4d7e-9c6c-5b0d2f3e1a77 could not be found."},
			{"same type", volume.DefaultTypeName, errs.KindInvalid, "Invalid volume: Retype needs volume to be in available or in-use state"},
			{"too big", "small", errs.KindInvalid, "Invalid input received: Specified volume size of '2' is greater than the maximum allowable size of '1' for volume type 'small'."},
			{"too small", "big", errs.KindInvalid, "Invalid input received: Specified volume size of '2' is less than the minimum required size of '5' for volume type 'big'."},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, e.s.Retype(e.ctx, alice, v.ID, tc.to), tc.kind, tc.msg)
			})
		}
		// By id; a private type is found (Cinder looks it up elevated).
		if err := e.s.Retype(e.ctx, alice, v.ID, silver.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Retype(e.ctx, alice, v.ID, "hidden"); err != nil {
			t.Fatal(err)
		}
		got := e.get(t, v.ID)
		if got.VolumeTypeName != "hidden" || got.Status != volume.StatusAvailable || got.MigrationStatus != nil {
			t.Fatalf("retyped: %+v", got)
		}
		// To a multiattach type while available: the volume is multiattach.
		if err := e.s.Retype(e.ctx, alice, v.ID, "multi"); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); !got.Multiattach {
			t.Fatalf("not multiattach after retype: %+v", got)
		}
		// In use: the type may change, multiattach may not.
		if err := e.s.Attach(e.ctx, admin, v.ID, volume.AttachRequest{InstanceUUID: "0b8f6a8e-4f0e-4d7e-9c6c-5b0d2f3e1a78", Mountpoint: "/dev/vdb"}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.Retype(e.ctx, alice, v.ID, "silver"), errs.KindInvalid,
			"Invalid input received: Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, the specified volume however currently has a status of: in-use.")
		// Not available or in use.
		st := volume.StatusError
		if err := e.s.ResetStatus(e.ctx, admin, v.ID, volume.ResetStatusRequest{Status: &st}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.Retype(e.ctx, alice, v.ID, "multi"), errs.KindInvalid, "Retype needs volume to be in available or in-use state")
	})
}

func TestRetypeQuotasMove(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		if _, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "gold"}); err != nil {
			t.Fatal(err)
		}
		a := e.ready(t, alice, 1)
		b := e.ready(t, alice, 1)
		if _, err := e.s.SetQuotas(e.ctx, "pa", map[string]int64{"volumes_gold": 1}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Retype(e.ctx, alice, a.ID, "gold"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.Retype(e.ctx, alice, b.ID, "gold"), errs.KindOverQuota, "Maximum number of volumes allowed (1) exceeded for quota 'volumes_gold'.")
		u, err := e.s.QuotaUsage(e.ctx, "pa")
		if err != nil {
			t.Fatal(err)
		}
		if u["volumes_gold"].InUse != 1 || u["gigabytes_gold"].InUse != 1 || u["volumes___DEFAULT__"].InUse != 1 || u["volumes"].InUse != 2 {
			t.Fatalf("usage after retype: %+v", u)
		}
	})
}

func TestForceDetach(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		if _, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "multi", ExtraSpecs: map[string]string{"multiattach": "<is> True"}}); err != nil {
			t.Fatal(err)
		}
		v := e.create(t, alice, volume.CreateRequest{Size: 1, VolumeType: "multi", Multiattach: true})
		e.step(t)
		const s1, s2 = "0b8f6a8e-4f0e-4d7e-9c6c-5b0d2f3e1a01", "0b8f6a8e-4f0e-4d7e-9c6c-5b0d2f3e1a02"
		for _, srv := range []string{s1, s2} {
			if err := e.s.Attach(e.ctx, admin, v.ID, volume.AttachRequest{InstanceUUID: srv, Mountpoint: "/dev/vdb"}); err != nil {
				t.Fatal(err)
			}
		}
		got := e.get(t, v.ID)
		if len(got.Attachments) != 2 {
			t.Fatalf("attachments: %+v", got.Attachments)
		}
		wantErr(t, e.s.ForceDetach(e.ctx, admin, v.ID, ""), errs.KindInvalid, "Detach volume failed: More than one attachment, but no attachment_id provided.")
		other := e.ready(t, alice, 1)
		wantErr(t, e.s.ForceDetach(e.ctx, admin, other.ID, got.Attachments[0].ID), errs.KindInvalid, "Invalid input received: Mismatched volume and attachment")
		if n := len(e.get(t, v.ID).Attachments); n != 2 {
			t.Fatalf("attachments after a mismatched force detach: %d", n)
		}
		// In error (Tempest's test_force_detach_volume): the status follows
		// the attachments left.
		st := volume.StatusError
		if err := e.s.ResetStatus(e.ctx, admin, v.ID, volume.ResetStatusRequest{Status: &st}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.ForceDetach(e.ctx, admin, v.ID, got.Attachments[0].ID); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); got.Status != volume.StatusInUse || got.AttachStatus != volume.AttachAttached || len(got.Attachments) != 1 {
			t.Fatalf("one detached: %s %s %+v", got.Status, got.AttachStatus, got.Attachments)
		}
		if err := e.s.ResetStatus(e.ctx, admin, v.ID, volume.ResetStatusRequest{Status: &st}); err != nil {
			t.Fatal(err)
		}
		// A gone attachment only resets the statuses.
		if err := e.s.ForceDetach(e.ctx, admin, v.ID, got.Attachments[0].ID); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); got.Status != volume.StatusInUse || len(got.Attachments) != 1 {
			t.Fatalf("gone attachment: %s %+v", got.Status, got.Attachments)
		}
		if err := e.s.ResetStatus(e.ctx, admin, v.ID, volume.ResetStatusRequest{Status: &st}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.ForceDetach(e.ctx, admin, v.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); got.Status != volume.StatusAvailable || got.AttachStatus != volume.AttachDetached || len(got.Attachments) != 0 {
			t.Fatalf("last detached: %s %s %+v", got.Status, got.AttachStatus, got.Attachments)
		}
		// Nothing attached: available.
		if err := e.s.ResetStatus(e.ctx, admin, v.ID, volume.ResetStatusRequest{Status: &st}); err != nil {
			t.Fatal(err)
		}
		if err := e.s.ForceDetach(e.ctx, admin, v.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); got.Status != volume.StatusAvailable {
			t.Fatalf("nothing attached: %s", got.Status)
		}
		st = volume.StatusMaintenance
		if err := e.s.ResetStatus(e.ctx, admin, v.ID, volume.ResetStatusRequest{Status: &st}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.ForceDetach(e.ctx, admin, v.ID, ""), errs.KindInvalid, "The volume cannot be detached in maintenance mode.")
	})
}
