package blockstorage_test

import (
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// newVolume creates an available volume of typ ("" default) as cl.
func (c *cloud) newVolume(t *testing.T, cl *client, typ string) map[string]any {
	t.Helper()
	body := map[string]any{"size": 1}
	if typ != "" {
		body["volume_type"] = typ
	}
	v := obj(t, cl.do("POST", "/volumes", map[string]any{"volume": body}).Expect(t, 202), "volume")
	c.step(t)
	return v
}

func TestRetype(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		a, m := c.admin.at("3.71"), c.member.at("3.71")
		src := obj(t, a.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "volume-type-1"}}).Expect(t, 200), "volume_type")
		dst := obj(t, a.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "volume-type-2"}}).Expect(t, 200), "volume_type")
		a.do("POST", "/types", map[string]any{"volume_type": map[string]any{"name": "multi", "extra_specs": map[string]string{"multiattach": "<is> True"}}}).Expect(t, 200)
		v := c.newVolume(t, m, src["name"].(string))
		id := v["id"].(string)
		before := obj(t, a.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")

		tests := []struct {
			name   string
			body   map[string]any
			status int
			fault  string
			msg    string
		}{
			{"no new_type", map[string]any{"migration_policy": "never"}, 400, "badRequest", "*"},
			{"bad policy", map[string]any{"new_type": "volume-type-2", "migration_policy": "sometimes"}, 400, "badRequest", "*"},
			{"extra key", map[string]any{"new_type": "volume-type-2", "x": 1}, 400, "badRequest", "*"},
			{"unknown type", map[string]any{"new_type": "nope"}, 404, "itemNotFound", "Volume type with name nope could not be found."},
			{"same type", map[string]any{"new_type": src["id"]}, 400, "badRequest",
				"Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change."},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				fault(t, m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-retype": tc.body}), tc.status, tc.fault, tc.msg)
			})
		}
		// Tempest's VolumeRetypeWithoutMigrationTest: 202, the type
		// changes, the host and migration status do not.
		r := m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-retype": map[string]any{"new_type": "volume-type-2", "migration_policy": "never"}}).Expect(t, 202)
		if len(r.Body) != 0 {
			t.Errorf("retype answer %s", r.Body)
		}
		after := obj(t, a.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
		if after["volume_type"] != dst["name"] || after["os-vol-host-attr:host"] != before["os-vol-host-attr:host"] ||
			after["migration_status"] != nil || after["os-vol-mig-status-attr:migstat"] != nil || after["status"] != "available" {
			t.Errorf("after retype %v", after)
		}
		// By id, on-demand; to a multiattach type as the admin.
		a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-retype": map[string]any{"new_type": src["id"], "migration_policy": "on-demand"}}).Expect(t, 202)
		a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-retype": map[string]any{"new_type": "multi"}}).Expect(t, 202)
		if v := obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume"); v["multiattach"] != true || v["volume_type"] != "multi" {
			t.Errorf("retyped to multi %v", v)
		}
		// Another project's volume is not found.
		other := c.newVolume(t, a, "")
		fault(t, m.do("POST", "/volumes/"+other["id"].(string)+"/action", map[string]any{"os-retype": map[string]any{"new_type": "multi"}}),
			404, "itemNotFound", "Volume "+other["id"].(string)+" could not be found.")
	})
}

func TestForceDetach(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		a, m := c.admin.at("3.0"), c.member.at("3.0")
		v := c.newVolume(t, m, "")
		id := v["id"].(string)
		const server = "0b8f6a8e-4f0e-4d7e-9c6c-5b0d2f3e1a01"
		m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-attach": map[string]any{"instance_uuid": server, "mountpoint": "/dev/vdb"}}).Expect(t, 202)
		att := obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")["attachments"].([]any)[0].(map[string]any)
		// Admin only.
		fault(t, m.do("POST", "/volumes/"+id+"/action", map[string]any{"os-force_detach": map[string]any{"attachment_id": att["attachment_id"]}}),
			403, "forbidden", "Policy doesn't allow volume_extension:volume_admin_actions:force_detach to be performed.")
		fault(t, a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-force_detach": map[string]any{"bogus": 1}}), 400, "badRequest", "*")
		// Tempest's test_force_detach_volume: in error, force detached,
		// available without attachments.
		a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-reset_status": map[string]any{"status": "error"}}).Expect(t, 202)
		a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-force_detach": map[string]any{"connector": nil, "attachment_id": att["attachment_id"]}}).Expect(t, 202)
		got := obj(t, m.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
		if got["status"] != "available" || len(got["attachments"].([]any)) != 0 {
			t.Errorf("force detached %v", got)
		}
		a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-reset_status": map[string]any{"status": "maintenance"}}).Expect(t, 202)
		fault(t, a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-force_detach": map[string]any{}}), 400, "badRequest",
			"Invalid volume: The volume cannot be detached in maintenance mode.")
	})
}
