package blockstorage_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestUnmanageAndManage: os-unmanage drops the volume and keeps its
// disk, which manageable_volumes lists and POST /manageable_volumes
// takes back, as gophercloud's TestManageableVolumes does.
func TestUnmanageAndManage(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		a, m := c.admin.at("3.8"), c.member.at("3.8")
		orig := obj(t, a.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1, "name": "v1", "description": "d1",
			"metadata": map[string]string{"k": "v"}}}).Expect(t, 202), "volume")
		id := orig["id"].(string)
		c.step(t)
		a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-set_bootable": map[string]any{"bootable": true}}).Expect(t, 200)
		orig = obj(t, a.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")
		host := orig["os-vol-host-attr:host"].(string)
		kept := c.newVolume(t, a, "")

		fault(t, m.do("POST", "/volumes/"+kept["id"].(string)+"/action", map[string]any{"os-unmanage": map[string]any{}}), 404, "itemNotFound", "*")
		a.do("POST", "/volumes/"+id+"/action", map[string]any{"os-unmanage": map[string]any{}}).Expect(t, 202)
		if st := obj(t, a.do("GET", "/volumes/"+id, nil).Expect(t, 200), "volume")["status"]; st != "unmanaging" {
			t.Fatalf("status %v, want unmanaging", st)
		}
		c.step(t)
		fault(t, a.do("GET", "/volumes/"+id, nil), 404, "itemNotFound", "Volume "+id+" could not be found.")

		// The listing: summary and detail, sorted by reference.
		q := "?host=" + url.QueryEscape(host) + "&sort=reference:asc"
		summary := list(t, a.do("GET", "/manageable_volumes"+q, nil).Expect(t, 200), "manageable-volumes")
		detail := list(t, a.do("GET", "/manageable_volumes/detail"+q, nil).Expect(t, 200), "manageable-volumes")
		if len(summary) != 2 || len(detail) != 2 {
			t.Fatalf("listed %v / %v", summary, detail)
		}
		for _, d := range summary {
			if len(d) != 3 {
				t.Errorf("summary entry %v", d)
			}
		}
		for _, d := range detail {
			ref := d["reference"].(map[string]any)["source-name"]
			switch ref {
			case "volume-" + id:
				if d["safe_to_manage"] != true || d["size"] != 1.0 || d["reason_not_safe"] != nil || d["cinder_id"] != nil || d["extra_info"] != nil {
					t.Errorf("unmanaged entry %v", d)
				}
			case "volume-" + kept["id"].(string):
				if d["safe_to_manage"] != false || d["reason_not_safe"] != "already managed" || d["cinder_id"] != kept["id"] {
					t.Errorf("managed entry %v", d)
				}
			default:
				t.Errorf("entry %v", d)
			}
			if _, ok := d["extra_info"]; !ok {
				t.Errorf("detail entry without extra_info: %v", d)
			}
		}
		marker := url.QueryEscape(`{"source-name": "` + detail[0]["reference"].(map[string]any)["source-name"].(string) + `"}`)
		if rest := list(t, a.do("GET", "/manageable_volumes"+q+"&marker="+marker, nil).Expect(t, 200), "manageable-volumes"); len(rest) != 1 ||
			rest[0]["reference"].(map[string]any)["source-name"] != detail[1]["reference"].(map[string]any)["source-name"] {
			t.Errorf("after the marker %v", rest)
		}

		// Managed back with the original's attributes, as gophercloud's
		// acceptance test sends them.
		r := a.do("POST", "/manageable_volumes", map[string]any{"volume": map[string]any{"host": host,
			"ref": map[string]any{"source-name": "volume-" + id}, "name": orig["name"], "description": orig["description"],
			"availability_zone": orig["availability_zone"], "volume_type": orig["volume_type"], "bootable": true,
			"metadata": orig["metadata"]}}).Expect(t, 202)
		managed := obj(t, r, "volume")
		if managed["status"] != "creating" || managed["size"] != 0.0 {
			t.Errorf("managing %v", managed)
		}
		c.step(t)
		got := obj(t, a.do("GET", "/volumes/"+managed["id"].(string), nil).Expect(t, 200), "volume")
		for _, k := range []string{"name", "description", "availability_zone", "volume_type", "bootable", "size", "os-vol-host-attr:host"} {
			if got[k] != orig[k] {
				t.Errorf("%s = %v, want %v", k, got[k], orig[k])
			}
		}
		if got["status"] != "available" || got["metadata"].(map[string]any)["k"] != "v" {
			t.Errorf("managed %v", got)
		}
		// The quota counts it (and no longer the unmanaged one).
		usage := obj(t, a.do("GET", "/os-quota-sets/"+c.admin.project+"?usage=True", nil).Expect(t, 200), "quota_set")
		if n := usage["volumes"].(map[string]any)["in_use"]; n != 2.0 {
			t.Errorf("volumes in use %v, want 2", n)
		}
	})
}

// TestManageErrors: Cinder's refusals of manage, listing and unmanage.
func TestManageErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		a, m := c.admin.at("3.8"), c.member.at("3.8")
		v := c.newVolume(t, a, "")
		host := obj(t, a.do("GET", "/volumes/"+v["id"].(string), nil).Expect(t, 200), "volume")["os-vol-host-attr:host"].(string)
		manage := func(body map[string]any) map[string]any { return map[string]any{"volume": body} }
		ref := map[string]any{"source-name": "nothing"}
		for _, tc := range []struct {
			name, method, path, version string
			body                        any
			status                      int
			fault, message              string
		}{
			{"list before 3.8", "GET", "/manageable_volumes?host=" + host, "3.7", nil, 404, "itemNotFound", "*"},
			{"list by a member", "GET", "/manageable_volumes?host=" + host, "member", nil, 403, "forbidden", "*"},
			{"list without host", "GET", "/manageable_volumes", "3.8", nil, 400, "badRequest", "Invalid input received: Host field is missing."},
			{"list with host and cluster", "GET", "/manageable_volumes?host=x&cluster=y", "3.17", nil, 400, "badRequest",
				"Invalid input received: One and only one of cluster and host must be set."},
			{"list unknown host", "GET", "/manageable_volumes?host=other", "3.8", nil, 404, "itemNotFound", "Service None could not be found on host other."},
			{"list bad sort key", "GET", "/manageable_volumes/detail?host=" + host + "&sort=name", "3.8", nil, 400, "badRequest", "Invalid sort keys passed: name"},
			{"list bad marker", "GET", "/manageable_volumes?host=" + host + "&marker=x", "3.8", nil, 400, "badRequest",
				"Invalid input received: marker x can not be analysed, please use json like format"},
			{"manage before 3.8", "POST", "/manageable_volumes", "3.7", manage(map[string]any{"host": host, "ref": ref}), 404, "itemNotFound", "*"},
			{"manage by a member", "POST", "/manageable_volumes", "member", manage(map[string]any{"host": host, "ref": ref}), 403, "forbidden", "*"},
			{"manage without ref", "POST", "/manageable_volumes", "3.8", manage(map[string]any{"host": host}), 400, "badRequest", "*"},
			{"manage without host", "POST", "/manageable_volumes", "3.8", manage(map[string]any{"ref": ref}), 400, "badRequest", "Invalid input received: Host field is missing."},
			{"manage unknown host", "POST", "/manageable_volumes", "3.8", manage(map[string]any{"host": "other@lvm#p", "ref": ref}), 400, "badRequest", "Host 'other@lvm#p' not found"},
			{"manage unknown type", "POST", "/manageable_volumes", "3.8", manage(map[string]any{"host": host, "ref": ref, "volume_type": "gold"}), 400, "badRequest",
				"Invalid volume type: Cannot find requested 'gold' volume type"},
			{"manage a managed volume", "POST", "/os-volume-manage", "3.0", manage(map[string]any{"host": host, "ref": map[string]any{"source-name": "volume-" + v["id"].(string)}}),
				400, "badRequest", "Invalid volume: Unable to manage existing volume. The volume is already managed"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cl := c.admin.at(tc.version)
				if tc.version == "member" {
					cl = m
				}
				fault(t, cl.do(tc.method, tc.path, tc.body), tc.status, tc.fault, tc.message)
			})
		}

		// A reference the backend does not know: accepted, then "error"
		// (error_managing), which deletes.
		bad := obj(t, c.admin.at("3.0").do("POST", "/os-volume-manage", manage(map[string]any{"host": host, "ref": ref})).Expect(t, 202), "volume")
		c.step(t)
		if st := obj(t, a.do("GET", "/volumes/"+bad["id"].(string), nil).Expect(t, 200), "volume")["status"]; st != "error" {
			t.Errorf("status %v, want error", st)
		}
		a.do("DELETE", "/volumes/"+bad["id"].(string), nil).Expect(t, 202)
		c.step(t)
		fault(t, a.do("GET", "/volumes/"+bad["id"].(string), nil), 404, "itemNotFound", "*")

		// Unmanage: admin only, not with snapshots.
		mine := c.newVolume(t, m, "")
		fault(t, m.do("POST", "/volumes/"+mine["id"].(string)+"/action", map[string]any{"os-unmanage": nil}), 403, "forbidden", "*")
		sn := obj(t, a.do("POST", "/snapshots", map[string]any{"snapshot": map[string]any{"volume_id": v["id"]}}).Expect(t, 202), "snapshot")
		c.step(t)
		fault(t, a.do("POST", "/volumes/"+v["id"].(string)+"/action", map[string]any{"os-unmanage": map[string]any{}}), 400, "badRequest",
			"Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.")

		// The snapshot's os-unmanage: admin only; the row goes.
		fault(t, m.do("POST", "/snapshots/"+sn["id"].(string)+"/action", map[string]any{"os-unmanage": map[string]any{}}), 404, "itemNotFound", "*")
		a.do("POST", "/snapshots/"+sn["id"].(string)+"/action", map[string]any{"os-unmanage": map[string]any{}}).Expect(t, 202)
		c.step(t)
		fault(t, a.do("GET", "/snapshots/"+sn["id"].(string), nil), 404, "itemNotFound", "*")
		// Its disk is a snapshot's: not among the manageable volumes.
		for _, d := range list(t, a.do("GET", "/manageable_volumes?host="+url.QueryEscape(host), nil).Expect(t, 200), "manageable-volumes") {
			if name := d["reference"].(map[string]any)["source-name"].(string); slices.Contains([]string{"snapshot-" + sn["id"].(string)}, name) {
				t.Errorf("listed the snapshot's disk %v", d)
			}
		}
	})
}
