package blockstorage_test

import (
	"encoding/json"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// Cinder's api-ref samples (api-ref/source/v3/samples/qos), which the
// shared references lack.
const (
	qosShowSample = `{"qos_specs": {"specs": {}, "consumer": "back-end", "name": "reliability-spec",
		"id": "0388d6c6-d5d4-42a3-b289-95205c50dd15"},
		"links": [{"href": "http://h/v3/p/qos-specs/0388d6c6-d5d4-42a3-b289-95205c50dd15", "rel": "self"},
		{"href": "http://h/p/qos-specs/0388d6c6-d5d4-42a3-b289-95205c50dd15", "rel": "bookmark"}]}`
	qosListSample = `{"qos_specs": [{"consumer": "back-end", "id": "62c17294-2e52-4877-a01f-a30388749d9d",
		"name": "reliability-spec", "specs": {}}]}`
	qosAssociationsSample = `{"qos_associations": [{"association_type": "volume_type", "name": "x", "id": "y"}]}`
)

func assertSample(t *testing.T, sample string, body []byte, o apisamples.Options) {
	t.Helper()
	var s any
	if err := json.Unmarshal([]byte(sample), &s); err != nil {
		t.Fatal(err)
	}
	if diffs := apisamples.Compare(s, body, o); len(diffs) > 0 {
		t.Errorf("response differs from Cinder's sample: %v\nbody: %s", diffs, body)
	}
}

func TestQoSSpecsAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		a := c.admin
		// Admin only, as Cinder's defaults.
		fault(t, c.member.do("GET", "/qos-specs", nil), 403, "forbidden", "Policy doesn't allow volume_extension:qos_specs_manage:get_all to be performed.")

		r := a.do("POST", "/qos-specs", map[string]any{"qos_specs": map[string]any{"name": "reliability-spec"}}).Expect(t, 200)
		assertSample(t, qosShowSample, r.Body, apisamples.Options{})
		id := obj(t, r, "qos_specs")["id"].(string)
		if l := r.JSON(t)["links"].([]any)[0].(map[string]any)["href"]; l != "http://example.com/volume/v3/"+a.project+"/qos-specs/"+id {
			t.Errorf("self link %v", l)
		}
		assertSample(t, qosShowSample, a.do("GET", "/qos-specs/"+id, nil).Expect(t, 200).Body, apisamples.Options{})
		assertSample(t, qosListSample, a.do("GET", "/qos-specs", nil).Expect(t, 200).Body, apisamples.Options{})

		for _, tc := range []struct {
			name   string
			body   any
			status int
			msg    string
		}{
			{"consumer", map[string]any{"qos_specs": map[string]any{"name": "f", "consumer": "front-end", "read_iops_sec": "20"}}, 200, ""},
			{"duplicate", map[string]any{"qos_specs": map[string]any{"name": " reliability-spec "}}, 409, "QoS Specs reliability-spec already exists."},
			{"bad consumer", map[string]any{"qos_specs": map[string]any{"name": "b", "consumer": "middle"}}, 400,
				"Invalid qos specs: Valid consumer of QoS specs are: QoSConsumerValues(default=<class 'oslo_versionedobjects.fields.UnspecifiedDefault'>,nullable=False,valid_values=('back-end', 'front-end', 'both'))"},
			{"blank name", map[string]any{"qos_specs": map[string]any{"name": "  "}}, 400, "An invalid 'name' value was provided. The 'name' can not be empty."},
			{"no name", map[string]any{"qos_specs": map[string]any{"consumer": "both"}}, 400, "*"},
			{"number", map[string]any{"qos_specs": map[string]any{"name": "n", "iops": 5}}, 400, `Invalid input received: Value for key "iops" is not a string or unicode`},
			{"extra", map[string]any{"qos_specs": map[string]any{"name": "e"}, "x": 1}, 400, "*"},
		} {
			r := a.do("POST", "/qos-specs", tc.body)
			if tc.status == 200 {
				q := obj(t, r.Expect(t, 200), "qos_specs")
				if q["consumer"] != "front-end" || q["specs"].(map[string]any)["read_iops_sec"] != "20" {
					t.Errorf("%s: %v", tc.name, q)
				}
				continue
			}
			name := map[int]string{400: "badRequest", 409: "conflictingRequest"}[tc.status]
			fault(t, r, tc.status, name, tc.msg)
		}

		// Update answers with its body; null values are kept.
		r = a.do("PUT", "/qos-specs/"+id, map[string]any{"qos_specs": map[string]any{"delay": "1", "consumer": "both", "gone": nil}}).Expect(t, 200)
		if got := string(r.Body); got != `{"qos_specs":{"consumer":"both","delay":"1","gone":null}}` {
			t.Errorf("update answer %s", got)
		}
		q := obj(t, a.do("GET", "/qos-specs/"+id, nil).Expect(t, 200), "qos_specs")
		if q["consumer"] != "both" || q["specs"].(map[string]any)["delay"] != "1" {
			t.Errorf("after update %v", q)
		}
		fault(t, a.do("PUT", "/qos-specs/"+id, map[string]any{"qos_specs": map[string]any{"consumer": "x"}}), 400, "badRequest", "Invalid qos specs: Valid consumer*")
		fault(t, a.do("PUT", "/qos-specs/nope", map[string]any{"qos_specs": map[string]any{"a": "1"}}), 404, "itemNotFound", "No such QoS spec nope.")
		a.do("PUT", "/qos-specs/"+id+"/delete_keys", map[string]any{"keys": []string{"delay"}}).Expect(t, 202)
		fault(t, a.do("PUT", "/qos-specs/"+id+"/delete_keys", map[string]any{"keys": []string{"delay"}}), 404, "itemNotFound",
			"QoS spec "+id+" has no spec with key delay.")
		fault(t, a.do("PUT", "/qos-specs/"+id+"/delete_keys", map[string]any{"keys": []string{"a", "a"}}), 400, "badRequest", "*")

		// Associations and the type's qos_specs_id.
		tid := obj(t, a.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "fast"}}).Expect(t, 200), "volume_type")["id"].(string)
		fault(t, a.do("GET", "/qos-specs/"+id+"/associate", nil), 400, "badRequest", "Volume Type id must not be None.")
		fault(t, a.do("GET", "/qos-specs/"+id+"/associate?vol_type_id=missing", nil), 404, "itemNotFound", "Volume type missing could not be found.")
		a.do("GET", "/qos-specs/"+id+"/associate?vol_type_id="+tid, nil).Expect(t, 202)
		assertSample(t, qosAssociationsSample, a.do("GET", "/qos-specs/"+id+"/associations", nil).Expect(t, 200).Body, apisamples.Options{})
		if vt := obj(t, a.do("GET", "/types/"+tid, nil).Expect(t, 200), "volume_type"); vt["qos_specs_id"] != id {
			t.Errorf("type %v", vt)
		}
		if vt := obj(t, c.member.do("GET", "/types/"+tid, nil).Expect(t, 200), "volume_type"); vt["qos_specs_id"] != nil {
			t.Errorf("a member sees qos_specs_id: %v", vt)
		}
		fault(t, a.do("DELETE", "/qos-specs/"+id, nil), 400, "badRequest", "Qos specs still in use.")
		fault(t, a.do("DELETE", "/qos-specs/"+id+"?force=maybe", nil), 400, "badRequest", "Value 'maybe' for 'force' is not a boolean.")
		a.do("GET", "/qos-specs/"+id+"/disassociate?vol_type_id="+tid, nil).Expect(t, 202)
		if l := list(t, a.do("GET", "/qos-specs/"+id+"/associations", nil).Expect(t, 200), "qos_associations"); len(l) != 0 {
			t.Errorf("associations after disassociate %v", l)
		}
		a.do("GET", "/qos-specs/"+id+"/associate?vol_type_id="+tid, nil).Expect(t, 202)
		a.do("GET", "/qos-specs/"+id+"/disassociate_all", nil).Expect(t, 202)
		if vt := obj(t, a.do("GET", "/types/"+tid, nil).Expect(t, 200), "volume_type"); vt["qos_specs_id"] != nil {
			t.Errorf("type after disassociate_all %v", vt)
		}
		a.do("GET", "/qos-specs/"+id+"/associate?vol_type_id="+tid, nil).Expect(t, 202)
		a.do("DELETE", "/qos-specs/"+id+"?force=True", nil).Expect(t, 202)
		fault(t, a.do("GET", "/qos-specs/"+id, nil), 404, "itemNotFound", "No such QoS spec "+id+".")

		// Listing: a limit gives a next link; name is not a filter Cinder's query can use.
		r = a.do("GET", "/qos-specs?limit=1", nil).Expect(t, 200)
		if l := list(t, r, "qos_specs"); len(l) != 1 || r.JSON(t)["qos_specs_links"] == nil {
			t.Errorf("limited list %s", r.Body)
		}
		if l := list(t, a.do("GET", "/qos-specs?name=f", nil).Expect(t, 200), "qos_specs"); len(l) != 0 {
			t.Errorf("list by name %v", l)
		}
	})
}

func TestTypeEncryptionAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		a := c.admin
		tid := obj(t, a.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "secret"}}).Expect(t, 200), "volume_type")["id"].(string)
		if got := string(a.do("GET", "/types/"+tid+"/encryption", nil).Expect(t, 200).Body); got != "{}" {
			t.Errorf("encryption of a plain type %s", got)
		}
		fault(t, c.member.do("GET", "/types/"+tid+"/encryption", nil), 403, "forbidden", "Policy doesn't allow volume_extension:volume_type_encryption:get to be performed.")
		fault(t, a.do("GET", "/types/missing/encryption", nil), 404, "itemNotFound", "Volume type missing could not be found.")
		fault(t, a.do("GET", "/types/"+tid+"/encryption/cipher", nil), 404, "itemNotFound", "Volume type encryption for type "+tid+" does not exist.")

		for _, tc := range []struct {
			name string
			enc  map[string]any
			msg  string
		}{
			{"no provider", map[string]any{"control_location": "front-end"}, "*"},
			{"bad location", map[string]any{"provider": "luks", "control_location": "middle"}, "*"},
			{"bad key size", map[string]any{"provider": "luks", "control_location": "front-end", "key_size": "big"}, "Invalid input received: key_size must be an integer."},
			{"negative key size", map[string]any{"provider": "luks", "control_location": "front-end", "key_size": -1}, "*"},
		} {
			fault(t, a.do("POST", "/types/"+tid+"/encryption", map[string]any{"encryption": tc.enc}), 400, "badRequest", tc.msg)
		}

		// Cinder's api-ref sample request; the answer is it with the ids.
		r := a.do("POST", "/types/"+tid+"/encryption", map[string]any{"encryption": map[string]any{"key_size": "256", "provider": "luks",
			"control_location": "front-end", "cipher": "aes-xts-plain64"}}).Expect(t, 200)
		assertSample(t, `{"encryption": {"volume_type_id": "2d29462d-76cb-417c-8a9f-fb23140f1577", "control_location": "front-end",
			"encryption_id": "81e069c6-7394-4856-8df7-3b237ca61f74", "key_size": 256, "provider": "luks", "cipher": "aes-xts-plain64"}}`,
			r.Body, apisamples.Options{})
		enc := obj(t, r, "encryption")
		if enc["volume_type_id"] != tid || enc["key_size"] != float64(256) {
			t.Errorf("created %v", enc)
		}
		fault(t, a.do("POST", "/types/"+tid+"/encryption", map[string]any{"encryption": map[string]any{"provider": "luks", "control_location": "front-end"}}),
			400, "badRequest", "Volume type encryption for type "+tid+" already exists.")
		r = a.do("GET", "/types/"+tid+"/encryption", nil).Expect(t, 200)
		assertSample(t, `{"volume_type_id": "2d29462d-76cb-417c-8a9f-fb23140f1577", "control_location": "front-end", "deleted": false,
			"created_at": "2016-12-28T02:32:25.000000", "updated_at": null, "encryption_id": "81e069c6-7394-4856-8df7-3b237ca61f74",
			"key_size": 256, "provider": "luks", "deleted_at": null, "cipher": "aes-xts-plain64"}`, r.Body, apisamples.Options{})
		if got := string(a.do("GET", "/types/"+tid+"/encryption/cipher", nil).Expect(t, 200).Body); got != `{"cipher":"aes-xts-plain64"}` {
			t.Errorf("cipher %s", got)
		}

		// A volume of an encrypted type: Cinder's answer without a key manager.
		fault(t, c.member.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1, "volume_type": "secret"}}), 400, "badRequest", "Key manager error")

		r = a.do("PUT", "/types/"+tid+"/encryption/"+enc["encryption_id"].(string), map[string]any{"encryption": map[string]any{"key_size": 64,
			"provider": "luks", "control_location": "back-end", "cipher": "aes-xts-plain64"}}).Expect(t, 200)
		assertSample(t, `{"encryption": {"key_size": 64, "provider": "luks", "control_location": "back-end", "cipher": "aes-xts-plain64"}}`,
			r.Body, apisamples.Options{})
		got := a.do("GET", "/types/"+tid+"/encryption", nil).Expect(t, 200).JSON(t)
		if got["control_location"] != "back-end" || got["key_size"] != float64(64) || got["updated_at"] == nil {
			t.Errorf("after update %v", got)
		}
		a.do("DELETE", "/types/"+tid+"/encryption/"+enc["encryption_id"].(string), nil).Expect(t, 202)
		fault(t, a.do("DELETE", "/types/"+tid+"/encryption/x", nil), 404, "itemNotFound", "Volume type encryption for type "+tid+" does not exist.")
		if got := string(a.do("GET", "/types/"+tid+"/encryption", nil).Expect(t, 200).Body); got != "{}" {
			t.Errorf("after delete %s", got)
		}

		// A type in use keeps its encryption as it is; its volumes are not encrypted.
		v := obj(t, c.member.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1, "volume_type": "secret"}}).Expect(t, 202), "volume")
		if v["encrypted"] != false {
			t.Errorf("volume %v", v)
		}
		fault(t, a.do("POST", "/types/"+tid+"/encryption", map[string]any{"encryption": map[string]any{"provider": "luks", "control_location": "front-end"}}),
			400, "badRequest", "Cannot create encryption specs. Volume type in use.")
	})
}
