package volume_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

func TestVolumeTypes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		types, err := e.s.Types(e.ctx, alice, volume.TypeListOptions{})
		if err != nil || len(types) != 1 || types[0].Name != volume.DefaultTypeName || !types[0].IsPublic ||
			*types[0].Description != "Default Volume Type" {
			t.Fatalf("types at first: %+v, %v", types, err)
		}
		def := types[0]
		gold, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "gold", IsPublic: ptr(false), ExtraSpecs: map[string]string{"tier": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.s.CreateType(e.ctx, volume.TypeCreate{Name: "gold"})
		wantErr(t, err, errs.KindConflict, "Volume Type gold already exists.")

		// Private: alice neither lists nor uses it until given access.
		if ts, _ := e.s.Types(e.ctx, alice, volume.TypeListOptions{}); len(ts) != 1 {
			t.Fatalf("alice lists %d types", len(ts))
		}
		_, err = e.s.Create(e.ctx, alice, volume.CreateRequest{Size: 1, VolumeType: "gold"})
		wantErr(t, err, errs.KindInvalid, "Invalid volume_type provided: gold")
		if err := e.s.AddTypeAccess(e.ctx, gold.ID, alice.ProjectID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.AddTypeAccess(e.ctx, gold.ID, alice.ProjectID), errs.KindConflict, "already exists")
		wantErr(t, e.s.AddTypeAccess(e.ctx, def.ID, alice.ProjectID), errs.KindInvalid, "public volume type")
		acc, err := e.s.TypeAccess(e.ctx, gold.ID)
		if err != nil || len(acc) != 1 || acc[0].ProjectID != "pa" {
			t.Fatalf("access: %v, %v", acc, err)
		}
		if ts, _ := e.s.Types(e.ctx, alice, volume.TypeListOptions{}); len(ts) != 2 {
			t.Fatalf("alice lists %d types after access", len(ts))
		}
		v := e.create(t, alice, volume.CreateRequest{Size: 1, VolumeType: "gold"})
		if v.VolumeTypeID != gold.ID || v.VolumeTypeName != "gold" {
			t.Fatalf("volume type %s %s", v.VolumeTypeID, v.VolumeTypeName)
		}

		// Extra specs.
		if _, err := e.s.SetExtraSpecs(e.ctx, gold.ID, map[string]string{"tier": "2", "x": "y"}); err != nil {
			t.Fatal(err)
		}
		if got, err := e.s.ExtraSpec(e.ctx, admin, gold.ID, "tier"); err != nil || got != "2" {
			t.Fatalf("extra spec: %q, %v", got, err)
		}
		wantErr(t, e.s.DeleteExtraSpec(e.ctx, gold.ID, "nope"), errs.KindNotFound, "has no extra specs with key nope")

		// Deletion rules.
		wantErr(t, e.s.DeleteType(e.ctx, def.ID), errs.KindInvalid, "is a default volume type and cannot be deleted.")
		wantErr(t, e.s.DeleteType(e.ctx, gold.ID), errs.KindInvalid, "deletion is not allowed with volumes present with the type.")
		e.step(t)
		silver, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "silver"})
		if err != nil {
			t.Fatal(err)
		}

		// Project defaults (3.62).
		if _, err := e.s.SetProjectDefaultType(e.ctx, "pb", "silver"); err != nil {
			t.Fatal(err)
		}
		if d, err := e.s.DefaultType(e.ctx, bob); err != nil || d.ID != silver.ID {
			t.Fatalf("bob's default type: %+v, %v", d, err)
		}
		if bv := e.create(t, bob, volume.CreateRequest{Size: 1}); bv.VolumeTypeName != "silver" {
			t.Fatalf("bob's volume type %s", bv.VolumeTypeName)
		}
		if d, err := e.s.DefaultType(e.ctx, alice); err != nil || d.ID != def.ID {
			t.Fatalf("alice's default type: %+v, %v", d, err)
		}
		wantErr(t, e.s.DeleteType(e.ctx, silver.ID), errs.KindInvalid, "is a default volume type")
		if err := e.s.UnsetProjectDefaultType(e.ctx, "pb"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.UnsetProjectDefaultType(e.ctx, "pb"), errs.KindNotFound, "Default type for project pb not found.")

		// Update.
		_, err = e.s.UpdateType(e.ctx, def.ID, volume.TypeUpdate{Name: ptr("renamed")})
		wantErr(t, err, errs.KindInvalid, "")
		up, err := e.s.UpdateType(e.ctx, gold.ID, volume.TypeUpdate{Description: ptr("fast"), IsPublic: ptr(true)})
		if err != nil || *up.Description != "fast" || !up.IsPublic {
			t.Fatalf("update: %+v, %v", up, err)
		}
		if _, err := e.s.Type(e.ctx, bob, "gold"); err != nil {
			t.Fatalf("bob reads a public type by name: %v", err)
		}
		_, err = e.s.Type(e.ctx, bob, "platinum")
		wantErr(t, err, errs.KindNotFound, "Volume type with name platinum could not be found.")
	})
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		q, err := e.s.Quotas(e.ctx, "pa")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000,
			"per_volume_gigabytes": -1, "groups": 10, "volumes___DEFAULT__": -1, "gigabytes___DEFAULT__": -1, "snapshots___DEFAULT__": -1}
		if len(q) != len(want) {
			t.Fatalf("quota set %v", q)
		}
		for k, v := range want {
			if q[k] != v {
				t.Fatalf("quota %s = %d, want %d", k, q[k], v)
			}
		}
		if _, err := e.s.SetQuotas(e.ctx, "pa", map[string]int64{"volumes": 2, "gigabytes": 5, "per_volume_gigabytes": 4, "snapshots": 1}); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.SetQuotas(e.ctx, "pa", map[string]int64{"nope": 1})
		wantErr(t, err, errs.KindInvalid, "Bad key(s) in quota set: nope")

		for _, tc := range []struct {
			size int
			name string
			msg  string
		}{
			{5, "per volume", "Requested volume size 5G is larger than maximum allowed limit 4G."},
			{3, "", ""},
			{3, "gigabytes", "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 3G, quota is 5G and 3G has been consumed."},
			{1, "", ""},
			{1, "volumes", "Maximum number of volumes allowed (2) exceeded for quota 'volumes'."},
		} {
			_, err := e.s.Create(e.ctx, alice, volume.CreateRequest{Size: tc.size})
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("create %dG: %v", tc.size, err)
				}
				continue
			}
			wantErr(t, err, errs.KindOverQuota, tc.msg)
			if errs.NameOf(err) == "" {
				t.Fatalf("%s: unnamed error", tc.name)
			}
		}
		e.step(t)
		usage, err := e.s.QuotaUsage(e.ctx, "pa")
		if err != nil || usage["volumes"].InUse != 2 || usage["gigabytes"].InUse != 4 || usage["volumes"].Limit != 2 ||
			usage["gigabytes___DEFAULT__"].InUse != 4 {
			t.Fatalf("usage %+v, %v", usage, err)
		}
		_, err = e.s.SetQuotas(e.ctx, "pa", map[string]int64{"volumes": 1})
		wantErr(t, err, errs.KindInvalid, "must be greater than or equal to already used and reserved 2.")

		vs, _ := e.s.List(e.ctx, alice, volume.ListOptions{})
		// A snapshot counts against snapshots and gigabytes.
		_, err = e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: vs[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: vs[0].ID})
		wantErr(t, err, errs.KindOverQuota, "")
		// Extending beyond the gigabytes left is refused.
		wantErr(t, e.s.Extend(e.ctx, alice, vs[0].ID, 4, false), errs.KindOverQuota, "exceeds allowed gigabytes quota")

		// Class defaults apply to projects without limits of their own.
		if _, err := e.s.SetQuotaClass(e.ctx, "default", map[string]int64{"volumes": 3}); err != nil {
			t.Fatal(err)
		}
		if q, _ := e.s.Quotas(e.ctx, "pz"); q["volumes"] != 3 {
			t.Fatalf("class default: %d", q["volumes"])
		}
		if err := e.s.DeleteQuotas(e.ctx, "pa"); err != nil {
			t.Fatal(err)
		}
		if q, _ := e.s.Quotas(e.ctx, "pa"); q["gigabytes"] != 1000 || q["volumes"] != 3 {
			t.Fatalf("after delete: %v", q)
		}
	})
}

func TestMultiattachType(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	e := newEnv(t, db, volume.Config{})
	if _, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "multi", ExtraSpecs: map[string]string{"multiattach": "<is> True"}}); err != nil {
		t.Fatal(err)
	}
	v := e.create(t, alice, volume.CreateRequest{Size: 1, VolumeType: "multi"})
	if !v.Multiattach {
		t.Fatal("a volume of a multiattach type is not multiattach")
	}
	e.step(t)
	// Two servers attach it.
	for _, srv := range []string{"s1", "s2"} {
		a, err := e.s.CreateAttachment(e.ctx, alice, volume.AttachmentCreate{VolumeID: v.ID, InstanceUUID: srv, Connector: map[string]any{"host": srv}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.CompleteAttachment(e.ctx, alice, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	got := e.get(t, v.ID)
	if got.Status != volume.StatusInUse || len(got.Attachments) != 2 {
		t.Fatalf("multiattached: %s, %d attachments", got.Status, len(got.Attachments))
	}
	if _, err := e.s.DeleteAttachment(e.ctx, alice, got.Attachments[0].ID); err != nil {
		t.Fatal(err)
	}
	if got = e.get(t, v.ID); got.Status != volume.StatusInUse || len(got.Attachments) != 1 {
		t.Fatalf("one detached: %s, %d attachments", got.Status, len(got.Attachments))
	}
}

func TestRenamedTypeKeepsItsQuotas(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	e := newEnv(t, db, volume.Config{})
	gold, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "gold"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SetQuotas(e.ctx, "pa", map[string]int64{"volumes_gold": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.UpdateType(e.ctx, gold.ID, volume.TypeUpdate{Name: ptr("platinum")}); err != nil {
		t.Fatal(err)
	}
	q, err := e.s.Quotas(e.ctx, "pa")
	if err != nil || q["volumes_platinum"] != 1 {
		t.Fatalf("quotas after rename: %v, %v", q, err)
	}
	if _, ok := q["volumes_gold"]; ok {
		t.Fatalf("old name's quota left: %v", q)
	}
}
