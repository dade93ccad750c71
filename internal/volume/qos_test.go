package volume_test

import (
	"fmt"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

func TestQoSSpecs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		for _, tc := range []struct {
			name     string
			specs    map[string]*string
			consumer string
			err      string
		}{
			{"default-consumer", map[string]*string{"iops": ptr("100")}, "back-end", ""},
			{"front", map[string]*string{"consumer": ptr("front-end")}, "front-end", ""},
			{"both", map[string]*string{"consumer": ptr("both")}, "both", ""},
			{"null-consumer", map[string]*string{"consumer": nil}, "back-end", ""},
			{"bad", map[string]*string{"consumer": ptr("middle")}, "", "Invalid qos specs: Valid consumer of QoS specs are: QoSConsumerValues("},
			{"long", map[string]*string{"k": ptr(string(make([]byte, 256)))}, "", `Invalid input received: Value for key "k" has 256 characters, more than 255.`},
		} {
			q, err := e.s.CreateQoSSpecs(e.ctx, " "+tc.name+" ", tc.specs)
			if tc.err != "" {
				wantErr(t, err, errs.KindInvalid, tc.err)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if q.Name != tc.name || q.Consumer != tc.consumer {
				t.Errorf("%s: created %+v", tc.name, q)
			}
			if _, ok := q.Specs["consumer"]; ok {
				t.Errorf("%s: consumer kept among specs %v", tc.name, q.Specs)
			}
		}
		_, err := e.s.CreateQoSSpecs(e.ctx, "front", nil)
		wantErr(t, err, errs.KindConflict, "QoS Specs front already exists.")

		q, err := e.s.CreateQoSSpecs(e.ctx, "gold", map[string]*string{"read_iops_sec": ptr("500"), "a": ptr("1"), "b": ptr("2")})
		if err != nil {
			t.Fatal(err)
		}
		// Update: consumer and specs, null values kept as null.
		if _, err := e.s.UpdateQoSSpecs(e.ctx, q.ID, map[string]*string{"consumer": ptr("both"), "read_iops_sec": ptr("600"), "c": nil}); err != nil {
			t.Fatal(err)
		}
		got, err := e.s.QoSSpecs(e.ctx, q.ID)
		if err != nil || got.Consumer != "both" || *got.Specs["read_iops_sec"] != "600" || got.Specs["c"] != nil || len(got.Specs) != 4 {
			t.Fatalf("after update %+v, %v", got, err)
		}
		_, err = e.s.UpdateQoSSpecs(e.ctx, q.ID, map[string]*string{"consumer": ptr("x")})
		wantErr(t, err, errs.KindInvalid, "Valid consumer of QoS specs are")
		_, err = e.s.UpdateQoSSpecs(e.ctx, "nope", map[string]*string{"a": ptr("1")})
		wantErr(t, err, errs.KindNotFound, "No such QoS spec nope.")

		// delete_keys stops at the first missing key, keeping what it removed.
		wantErr(t, e.s.DeleteQoSKeys(e.ctx, q.ID, []string{"a", "zz", "b"}), errs.KindNotFound, "QoS spec "+q.ID+" has no spec with key zz.")
		got, _ = e.s.QoSSpecs(e.ctx, q.ID)
		if _, ok := got.Specs["a"]; ok || got.Specs["b"] == nil {
			t.Fatalf("after delete_keys %v", got.Specs)
		}

		// Associations.
		gold, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "gold"})
		if err != nil {
			t.Fatal(err)
		}
		silver, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "silver"})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{gold.ID, silver.ID, gold.ID} { // twice: no change
			if err := e.s.AssociateQoSSpecs(e.ctx, q.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		wantErr(t, e.s.AssociateQoSSpecs(e.ctx, q.ID, "missing"), errs.KindNotFound, "Volume type missing could not be found.")
		other, _ := e.s.CreateQoSSpecs(e.ctx, "other", nil)
		wantErr(t, e.s.AssociateQoSSpecs(e.ctx, other.ID, gold.ID), errs.KindInvalid,
			"Invalid volume type: Type "+gold.ID+" is already associated with another qos specs: "+q.ID)
		as, err := e.s.QoSAssociations(e.ctx, q.ID)
		if err != nil || len(as) != 2 || as[0].AssociationType != "volume_type" {
			t.Fatalf("associations %+v, %v", as, err)
		}
		if vt, _ := e.s.Type(e.ctx, admin, gold.ID); vt.QoSSpecsID == nil || *vt.QoSSpecsID != q.ID {
			t.Fatalf("type's qos_specs_id %v", vt.QoSSpecsID)
		}
		wantErr(t, e.s.DeleteQoSSpecs(e.ctx, q.ID, false), errs.KindInvalid, "Qos specs still in use.")
		if err := e.s.DisassociateQoSSpecs(e.ctx, q.ID, gold.ID); err != nil {
			t.Fatal(err)
		}
		// Disassociating a type of another specs leaves it.
		if err := e.s.AssociateQoSSpecs(e.ctx, other.ID, gold.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.s.DisassociateQoSSpecs(e.ctx, q.ID, gold.ID); err != nil {
			t.Fatal(err)
		}
		if vt, _ := e.s.Type(e.ctx, admin, gold.ID); vt.QoSSpecsID == nil || *vt.QoSSpecsID != other.ID {
			t.Fatalf("gold's qos_specs_id %v", vt.QoSSpecsID)
		}
		if err := e.s.DisassociateAllQoSSpecs(e.ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.s.DeleteQoSSpecs(e.ctx, q.ID, true); err != nil {
			t.Fatal(err)
		}
		if vt, _ := e.s.Type(e.ctx, admin, silver.ID); vt.QoSSpecsID != nil {
			t.Fatalf("silver still associated with %s", *vt.QoSSpecsID)
		}
		_, err = e.s.QoSSpecs(e.ctx, q.ID)
		wantErr(t, err, errs.KindNotFound, "No such QoS spec")

		// Listing: newest first, by id, none for other filters.
		all, err := e.s.ListQoSSpecs(e.ctx, volume.QoSListOptions{Limit: 1000})
		if err != nil || len(all) != 5 || all[0].Name != "other" {
			t.Fatalf("list %d, %v", len(all), err)
		}
		if l, _ := e.s.ListQoSSpecs(e.ctx, volume.QoSListOptions{ID: other.ID, Limit: 1000}); len(l) != 1 || l[0].ID != other.ID {
			t.Fatalf("list by id %v", l)
		}
		if l, _ := e.s.ListQoSSpecs(e.ctx, volume.QoSListOptions{NoMatch: true, Limit: 1000}); len(l) != 0 {
			t.Fatalf("list no match %v", l)
		}
		page, err := e.s.ListQoSSpecs(e.ctx, volume.QoSListOptions{Limit: 2, Marker: all[1].ID})
		if err != nil || len(page) != 2 || page[0].ID != all[2].ID {
			t.Fatalf("page after marker: %v, %v", page, err)
		}
	})
}

func TestTypeEncryption(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		vt, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		if enc, err := e.s.TypeEncryption(e.ctx, vt.ID); err != nil || enc != nil {
			t.Fatalf("encryption at first: %+v, %v", enc, err)
		}
		_, err = e.s.TypeEncryption(e.ctx, "missing")
		wantErr(t, err, errs.KindNotFound, "Volume type missing could not be found.")

		spec := volume.EncryptionSpec{Provider: ptr("luks"), ControlLocation: ptr("front-end"), KeySize: ptr(int64(256)),
			Set: []string{"provider", "control_location", "key_size"}}
		enc, err := e.s.CreateTypeEncryption(e.ctx, vt.ID, spec)
		if err != nil || enc.EncryptionID == "" || enc.Cipher != nil || enc.UpdatedAt != nil {
			t.Fatalf("create: %+v, %v", enc, err)
		}
		_, err = e.s.CreateTypeEncryption(e.ctx, vt.ID, spec)
		wantErr(t, err, errs.KindInvalid, "Volume type encryption for type "+vt.ID+" already exists.")

		// A volume of the type: no cipher is Cinder's invalid spec, with
		// one its key manager's error (kumo has none).
		_, err = e.s.Create(e.ctx, alice, volume.CreateRequest{Size: 1, VolumeType: vt.ID})
		wantErr(t, err, errs.KindInvalid, "Invalid encryption spec")
		enc, err = e.s.UpdateTypeEncryption(e.ctx, vt.ID, volume.EncryptionSpec{Cipher: ptr("aes-xts-plain64"), KeySize: nil, Set: []string{"cipher", "key_size"}})
		if err != nil || *enc.Cipher != "aes-xts-plain64" || enc.KeySize != nil || *enc.Provider != "luks" || enc.UpdatedAt == nil {
			t.Fatalf("update: %+v, %v", enc, err)
		}
		_, err = e.s.Create(e.ctx, alice, volume.CreateRequest{Size: 1, VolumeType: vt.ID})
		wantErr(t, err, errs.KindInvalid, "Key manager error")
		if vs, _ := e.s.List(e.ctx, admin, volume.ListOptions{AllTenants: true}); len(vs) != 0 {
			t.Fatalf("volumes made: %d", len(vs))
		}

		// A type in use cannot change its encryption.
		plain, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "plain"})
		if err != nil {
			t.Fatal(err)
		}
		pv := e.create(t, alice, volume.CreateRequest{Size: 1, VolumeType: plain.ID})
		e.step(t)
		// A retype to an encrypted type is accepted and fails as Cinder's
		// manager fails it: the volume keeps its type.
		if err := e.s.Retype(e.ctx, alice, pv.ID, vt.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.s.Get(e.ctx, alice, pv.ID); got.VolumeTypeID != plain.ID {
			t.Fatalf("retyped to an encrypted type: %s", got.VolumeTypeID)
		}
		_, err = e.s.CreateTypeEncryption(e.ctx, plain.ID, spec)
		wantErr(t, err, errs.KindInvalid, "Cannot create encryption specs. Volume type in use.")
		_, err = e.s.UpdateTypeEncryption(e.ctx, plain.ID, spec)
		wantErr(t, err, errs.KindInvalid, "Cannot update encryption specs. Volume type in use.")
		wantErr(t, e.s.DeleteTypeEncryption(e.ctx, plain.ID), errs.KindInvalid, "Cannot delete encryption specs. Volume type in use.")

		if err := e.s.DeleteTypeEncryption(e.ctx, vt.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.DeleteTypeEncryption(e.ctx, vt.ID), errs.KindNotFound, "Volume type encryption for type "+vt.ID+" does not exist.")
		_, err = e.s.UpdateTypeEncryption(e.ctx, vt.ID, spec)
		wantErr(t, err, errs.KindNotFound, "does not exist.")
		e.create(t, alice, volume.CreateRequest{Size: 1, VolumeType: vt.ID})
	})
}

// TestConnectionQoS: a connection carries the front-end QoS specs of the
// volume's type, per-GB options computed, as Cinder's
// initialize_connection; back-end specs stay out.
func TestConnectionQoS(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		vt, err := e.s.CreateType(e.ctx, volume.TypeCreate{Name: "tuned"})
		if err != nil {
			t.Fatal(err)
		}
		v := e.create(t, alice, volume.CreateRequest{Size: 3, VolumeType: vt.ID})
		e.step(t)
		for i, tc := range []struct {
			consumer string
			specs    map[string]*string
			want     map[string]any
		}{
			{"back-end", map[string]*string{"read_iops_sec": ptr("10")}, nil},
			{"front-end", map[string]*string{"read_iops_sec": ptr("10")}, map[string]any{"read_iops_sec": "10"}},
			{"both", map[string]*string{"total_iops_sec_per_gb": ptr("100"), "total_iops_sec_max": ptr("250"), "x": ptr("y")},
				map[string]any{"total_iops_sec": int64(250), "x": "y"}},
			{"front-end", map[string]*string{"read_bytes_sec_per_gb": ptr("1"), "read_bytes_sec_per_gb_min": ptr("5")},
				map[string]any{"read_bytes_sec": int64(5)}},
		} {
			q, err := e.s.CreateQoSSpecs(e.ctx, fmt.Sprintf("q%d", i), withConsumer(tc.specs, tc.consumer))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.s.AssociateQoSSpecs(e.ctx, q.ID, vt.ID); err != nil {
				t.Fatal(err)
			}
			info, err := e.s.InitializeConnection(e.ctx, alice, v.ID, map[string]any{"host": "h"})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := info["data"].(map[string]any)["qos_specs"].(map[string]any)
			if len(got) != len(tc.want) {
				t.Errorf("%s %v: qos_specs %v, want %v", tc.consumer, tc.specs, got, tc.want)
			}
			for k, w := range tc.want {
				if got[k] != w {
					t.Errorf("%s %v: qos_specs %v, want %v", tc.consumer, tc.specs, got, tc.want)
				}
			}
			if err := e.s.DeleteQoSSpecs(e.ctx, q.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func withConsumer(specs map[string]*string, consumer string) map[string]*string {
	out := map[string]*string{"consumer": &consumer}
	for k, v := range specs {
		out[k] = v
	}
	return out
}
