package blockstorage_test

import "testing"

// TestUpdateSnapshotStatus: os-update_snapshot_status moves a snapshot
// being created or deleted as Cinder's status map allows, keeps the
// progress it is given, and refuses other moves and bad percentages.
func TestUpdateSnapshotStatus(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	m := c.member
	vid := obj(t, m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1}}).Expect(t, 202), "volume")["id"].(string)
	c.step(t)
	sid := obj(t, m.do("POST", "/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": vid}}).Expect(t, 202), "snapshot")["id"].(string)
	c.step(t)
	update := func(body map[string]any) map[string]any {
		return map[string]any{"os-update_snapshot_status": body}
	}
	// An available snapshot takes no update.
	fault(t, m.do("POST", "/snapshots/"+sid+"/action", update(map[string]any{"status": "error"})), 400, "badRequest",
		"Snapshot status available not allowed for update_snapshot_status")
	c.admin.do("POST", "/snapshots/"+sid+"/action", map[string]any{"os-reset_status": map[string]any{"status": "creating"}}).Expect(t, 202)
	for _, tc := range []struct {
		body    map[string]any
		message string
	}{
		{map[string]any{"status": "deleting"}, "Provided snapshot status deleting not allowed for snapshot with status creating."},
		{map[string]any{"status": "error", "progress": "x%"}, "Invalid input received: progress must be an integer percentage"},
		{map[string]any{"status": "error", "progress": "101%"}, "Invalid input received: progress must be an integer percentage between 0 and 100"},
		{map[string]any{"status": "error", "bogus": 1}, "Invalid input for field/attribute os-update_snapshot_status. Value: {'bogus': 1, 'status': 'error'}. Additional properties are not allowed ('bogus' was unexpected)"},
	} {
		fault(t, m.do("POST", "/snapshots/"+sid+"/action", update(tc.body)), 400, "badRequest", tc.message)
	}
	m.do("POST", "/snapshots/"+sid+"/action", update(map[string]any{"status": "error", "progress": "80%"})).Expect(t, 202)
	s := obj(t, c.admin.do("GET", "/snapshots/"+sid, nil).Expect(t, 200), "snapshot")
	if s["status"] != "error" || s["os-extended-snapshot-attributes:progress"] != "80%" {
		t.Errorf("after the update: %v, want status error and progress 80%%", s)
	}
}
