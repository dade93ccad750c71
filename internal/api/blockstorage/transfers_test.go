package blockstorage_test

import (
	"testing"
)

func TestVolumeTransfer(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	m := c.member.at("3.57")
	id := obj(t, m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1}}).Expect(t, 202), "volume")["id"].(string)
	c.step(t)
	tr := obj(t, m.do("POST", "/volume-transfers", map[string]any{"transfer": map[string]any{"volume_id": id, "name": "gift"}}).Expect(t, 202), "transfer")
	key, _ := tr["auth_key"].(string)
	if key == "" || tr["no_snapshots"] != false || tr["accepted"] != false || tr["source_project_id"] != c.member.project {
		t.Fatalf("transfer %v", tr)
	}
	tid := tr["id"].(string)
	if l := list(t, m.do("GET", "/os-volume-transfer/detail", nil).Expect(t, 200), "transfers"); len(l) != 1 || l[0]["auth_key"] != nil {
		t.Errorf("transfers %v", l)
	}
	// Not before 3.55 under /volume-transfers.
	fault(t, c.member.do("GET", "/volume-transfers", nil), 404, "itemNotFound", "The resource could not be found.")

	// The admin's project takes it.
	fault(t, c.admin.do("POST", "/os-volume-transfer/"+tid+"/accept", map[string]any{"accept": map[string]any{"auth_key": "wrong"}}), 400, "badRequest",
		"Invalid auth key: Attempt to transfer "+tid+" with invalid auth key.")
	r := c.admin.do("POST", "/os-volume-transfer/"+tid+"/accept", map[string]any{"accept": map[string]any{"auth_key": key}}).Expect(t, 202)
	if got := obj(t, r, "transfer"); got["volume_id"] != id {
		t.Errorf("accepted %v", got)
	}
	v := obj(t, c.admin.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
	if v["os-vol-tenant-attr:tenant_id"] != c.admin.project || v["status"] != "available" {
		t.Errorf("after accept %v", v)
	}
	fault(t, m.do("GET", "/volumes/"+id, nil), 404, "itemNotFound", "Volume "+id+" could not be found.")
}
