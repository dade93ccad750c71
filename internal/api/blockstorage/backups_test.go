package blockstorage_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
)

var operator = &auth.Principal{UserID: "test", ProjectID: "test", Roles: []string{"admin"}}

// volumeFile is where volume id's data is kept.
func (c *cloud) volumeFile(t *testing.T, id string) string {
	t.Helper()
	v, err := c.App.Volumes.Get(context.Background(), operator, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Location == "" {
		t.Fatalf("volume %s (%s) has no data", id, v.Status)
	}
	return v.Location
}

func writeAt0(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
}

func readHead(t *testing.T, path string, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBackupsAPI(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		m, a := c.member, c.admin
		vid := obj(t, m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1, "metadata": map[string]any{"k": "v"}}}).Expect(t, 202), "volume")["id"].(string)
		c.step(t)
		want := bytes.Repeat([]byte("kumo backup "), 2000)
		writeAt0(t, c.volumeFile(t, vid), want)

		// Create: the summary view; the volume is backing-up until done.
		r := m.at("3.51").do("POST", "/backups", map[string]any{"backup": map[string]any{"volume_id": vid, "name": " b1 ",
			"description": "first", "container": "c1", "metadata": map[string]any{"m": "1"}, "availability_zone": "nova"}}).Expect(t, 202)
		b := obj(t, r, "backup")
		bid := b["id"].(string)
		if got := keys(b); !slices.Equal(got, []string{"id", "links", "name"}) || b["name"] != "b1" {
			t.Fatalf("create view %v", b)
		}
		if st := obj(t, m.do("GET", "/volumes/"+vid, nil).Expect(t, 200), "volume")["status"]; st != "backing-up" {
			t.Fatalf("volume while backed up: %v", st)
		}
		c.step(t)
		if st := obj(t, m.do("GET", "/volumes/"+vid, nil).Expect(t, 200), "volume")["status"]; st != "available" {
			t.Fatalf("volume after backup: %v", st)
		}

		// Show: fields by microversion and by policy.
		for _, tc := range []struct {
			name    string
			cl      *client
			version string
			has     []string
			hasnt   []string
		}{
			{"3.0", m, "3.0", []string{"status", "container", "object_count", "is_incremental", "has_dependent_backups", "data_timestamp", "fail_reason", "snapshot_id"},
				[]string{"metadata", "user_id", "os-backup-project-attr:project_id"}},
			{"member 3.56", m, "3.56", []string{"metadata"}, []string{"user_id", "os-backup-project-attr:project_id"}},
			{"admin 3.56", a, "3.56", []string{"metadata", "user_id", "os-backup-project-attr:project_id"}, nil},
			{"admin 3.18", a, "3.18", []string{"os-backup-project-attr:project_id"}, []string{"user_id", "metadata"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := obj(t, tc.cl.at(tc.version).do("GET", "/backups/"+bid, nil).Expect(t, 200), "backup")
				for _, k := range tc.has {
					if _, ok := got[k]; !ok {
						t.Errorf("no %s in %v", k, got)
					}
				}
				for _, k := range tc.hasnt {
					if _, ok := got[k]; ok {
						t.Errorf("%s in %v", k, got)
					}
				}
				if got["status"] != "available" || got["container"] != "c1" || got["size"] != float64(1) || got["object_count"] != float64(1) ||
					got["volume_id"] != vid || got["is_incremental"] != false || got["description"] != "first" || got["availability_zone"] != "nova" {
					t.Errorf("backup %v", got)
				}
			})
		}

		// The key sets of Cinder's api-ref samples (backups/v3.x/
		// backup-show-response.json, made by an admin).
		base := []string{"availability_zone", "container", "created_at", "data_timestamp", "description", "fail_reason",
			"has_dependent_backups", "id", "is_incremental", "links", "name", "object_count", "size", "snapshot_id", "status",
			"updated_at", "volume_id"}
		for _, tc := range []struct {
			version string
			extra   []string
		}{
			{"3.0", nil}, {"3.9", nil},
			{"3.18", []string{"os-backup-project-attr:project_id"}},
			{"3.43", []string{"os-backup-project-attr:project_id", "metadata"}},
			{"3.45", []string{"os-backup-project-attr:project_id", "metadata"}},
			{"3.56", []string{"os-backup-project-attr:project_id", "metadata", "user_id"}},
		} {
			want := append(append([]string{}, base...), tc.extra...)
			slices.Sort(want)
			if got := keys(obj(t, a.at(tc.version).do("GET", "/backups/"+bid, nil).Expect(t, 200), "backup")); !slices.Equal(got, want) {
				t.Errorf("%s: keys %v, want %v", tc.version, got, want)
			}
		}

		// Restore into the volume, changed since: its bytes come back.
		writeAt0(t, c.volumeFile(t, vid), bytes.Repeat([]byte("overwritten "), 2000))
		res := obj(t, m.do("POST", "/backups/"+bid+"/restore", map[string]any{"restore": map[string]any{"volume_id": vid}}).Expect(t, 202), "restore")
		if res["backup_id"] != bid || res["volume_id"] != vid {
			t.Fatalf("restore %v", res)
		}
		if st := obj(t, m.do("GET", "/backups/"+bid, nil).Expect(t, 200), "backup")["status"]; st != "restoring" {
			t.Fatalf("backup while restoring: %v", st)
		}
		c.step(t)
		if got := readHead(t, c.volumeFile(t, vid), len(want)); !bytes.Equal(got, want) {
			t.Fatal("restored volume's data differs from the backed up data")
		}
		// Into a new volume (restore: null).
		res = obj(t, m.do("POST", "/backups/"+bid+"/restore", map[string]any{"restore": nil}).Expect(t, 202), "restore")
		if res["volume_name"] != "restore_backup_"+bid {
			t.Fatalf("restore to a new volume %v", res)
		}
		c.step(t)
		nv := obj(t, m.do("GET", "/volumes/"+res["volume_id"].(string), nil).Expect(t, 200), "volume")
		if nv["status"] != "available" || nv["metadata"].(map[string]any)["k"] != "v" {
			t.Fatalf("new volume %v", nv)
		}
		if got := readHead(t, c.volumeFile(t, nv["id"].(string)), len(want)); !bytes.Equal(got, want) {
			t.Fatal("new volume's data differs from the backed up data")
		}

		// Incremental, then lists.
		inc := obj(t, m.do("POST", "/backups", map[string]any{"backup": map[string]any{"volume_id": vid, "name": "b2", "incremental": true}}).Expect(t, 202), "backup")["id"].(string)
		c.step(t)
		if got := obj(t, m.do("GET", "/backups/"+inc, nil).Expect(t, 200), "backup"); got["is_incremental"] != true {
			t.Fatalf("incremental %v", got)
		}
		if got := obj(t, m.do("GET", "/backups/"+bid, nil).Expect(t, 200), "backup"); got["has_dependent_backups"] != true {
			t.Fatalf("parent %v", got)
		}
		fault(t, m.do("DELETE", "/backups/"+bid, nil), 400, "badRequest", "Invalid backup: Incremental backups exist for this backup.")
		all := list(t, m.do("GET", "/backups", nil).Expect(t, 200), "backups")
		if len(all) != 2 || !slices.ContainsFunc(all, func(b map[string]any) bool { return b["id"] == inc }) ||
			!slices.Equal(keys(all[0]), []string{"id", "links", "name"}) {
			t.Fatalf("list %v", all)
		}
		lr := m.at("3.45").do("GET", "/backups/detail?with_count=true&limit=1&sort=name:asc", nil).Expect(t, 200)
		page := list(t, lr, "backups")
		body := lr.JSON(t)
		if len(page) != 1 || page[0]["id"] != bid || body["count"] != float64(2) || body["backups_links"] == nil {
			t.Fatalf("page %s", lr.Body)
		}
		if got := list(t, m.do("GET", "/backups/detail?name=b2", nil).Expect(t, 200), "backups"); len(got) != 1 || got[0]["id"] != inc {
			t.Fatalf("name filter %v", got)
		}

		// Update from 3.9 (metadata from 3.43).
		m.at("3.8").do("PUT", "/backups/"+inc, map[string]any{"backup": map[string]any{"name": "x"}}).Expect(t, 404)
		u := obj(t, m.at("3.43").do("PUT", "/backups/"+inc, map[string]any{"backup": map[string]any{"name": "renamed", "metadata": map[string]any{"a": "b"}}}).Expect(t, 200), "backup")
		if u["name"] != "renamed" {
			t.Fatalf("update %v", u)
		}
		if md := obj(t, m.at("3.43").do("GET", "/backups/"+inc, nil).Expect(t, 200), "backup")["metadata"]; md.(map[string]any)["a"] != "b" {
			t.Fatalf("metadata %v", md)
		}

		// Refusals.
		errVol := obj(t, m.do("POST", "/volumes", map[string]any{"volume": map[string]any{"size": 1}}).Expect(t, 202), "volume")["id"].(string)
		c.step(t)
		a.do("POST", "/volumes/"+errVol+"/action", map[string]any{"os-reset_status": map[string]any{"status": "error"}}).Expect(t, 202)
		for _, tc := range []struct {
			name, path string
			body       any
			status     int
			fault, msg string
		}{
			{"volume in error", "/backups", map[string]any{"backup": map[string]any{"volume_id": errVol}}, 400, "badRequest",
				`Invalid volume: Volume to be backed up must be available or in-use, but the current status is "error".`},
			{"incremental of a volume never backed up", "/backups", map[string]any{"backup": map[string]any{"volume_id": errVol, "incremental": true, "snapshot_id": nil}},
				400, "badRequest", `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "error".`},
			{"missing volume", "/backups", map[string]any{"backup": map[string]any{"volume_id": "2f1f4d0e-8c55-4f0b-9d3c-6b1d1f0a7e21"}}, 404, "itemNotFound",
				"Volume 2f1f4d0e-8c55-4f0b-9d3c-6b1d1f0a7e21 could not be found."},
			{"metadata before 3.43", "/backups", map[string]any{"backup": map[string]any{"volume_id": vid, "metadata": map[string]any{}}}, 400, "badRequest", ""},
			{"restore into a volume in error", "/backups/" + bid + "/restore", map[string]any{"restore": map[string]any{"volume_id": errVol}}, 400, "badRequest",
				"Invalid volume: Volume to be restored to must be available"},
			{"restore of a missing backup", "/backups/x/restore", map[string]any{"restore": map[string]any{}}, 404, "itemNotFound", "Backup x could not be found."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				fault(t, m.do("POST", tc.path, tc.body), tc.status, tc.fault, tc.msg)
			})
		}

		// Quotas: os-quota-sets and limits show backups; 413 over them.
		qs := obj(t, a.do("GET", "/os-quota-sets/"+m.project+"?usage=True", nil).Expect(t, 200), "quota_set")
		if u := qs["backups"].(map[string]any); u["in_use"] != float64(2) || u["limit"] != float64(10) {
			t.Fatalf("backups usage %v", u)
		}
		a.do("PUT", "/os-quota-sets/"+m.project, map[string]any{"quota_set": map[string]any{"backups": 2}}).Expect(t, 200)
		fault(t, m.do("POST", "/backups", map[string]any{"backup": map[string]any{"volume_id": vid}}), 413, "overLimit",
			"BackupLimitExceeded: Maximum number of backups allowed (2) exceeded")
		abs := obj(t, m.do("GET", "/limits", nil).Expect(t, 200), "limits")["absolute"].(map[string]any)
		if abs["maxTotalBackups"] != float64(2) || abs["totalBackupsUsed"] != float64(2) || abs["totalBackupGigabytesUsed"] != float64(2) {
			t.Fatalf("limits %v", abs)
		}

		// Export and import (admin), under another id as Tempest does.
		fault(t, m.do("GET", "/backups/"+bid+"/export_record", nil), 403, "forbidden", "")
		rec := obj(t, a.do("GET", "/backups/"+bid+"/export_record", nil).Expect(t, 200), "backup-record")
		raw, _ := base64.StdEncoding.DecodeString(rec["backup_url"].(string))
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		fields["id"] = "5d2c7b0e-3f3a-4a53-9c38-0e6f7d5f2b10"
		raw, _ = json.Marshal(fields)
		a.do("PUT", "/os-quota-sets/"+a.project, map[string]any{"quota_set": map[string]any{"backups": -1}}).Expect(t, 200)
		imp := obj(t, a.do("POST", "/backups/import_record", map[string]any{"backup-record": map[string]any{
			"backup_service": rec["backup_service"], "backup_url": base64.StdEncoding.EncodeToString(raw)}}).Expect(t, 201), "backup")
		if imp["id"] != fields["id"] {
			t.Fatalf("import %v", imp)
		}
		c.step(t)
		if st := obj(t, a.do("GET", "/backups/"+fields["id"].(string), nil).Expect(t, 200), "backup")["status"]; st != "available" {
			t.Fatalf("imported backup %v", st)
		}

		// Admin actions: members may not; os-force_delete deletes in any status.
		fault(t, m.do("POST", "/backups/"+inc+"/action", map[string]any{"os-reset_status": map[string]any{"status": "error"}}), 403, "forbidden", "")
		a.do("POST", "/backups/"+inc+"/action", map[string]any{"os-reset_status": map[string]any{"status": "Error"}}).Expect(t, 202)
		if st := obj(t, m.do("GET", "/backups/"+inc, nil).Expect(t, 200), "backup")["status"]; st != "error" {
			t.Fatalf("after reset: %v", st)
		}
		a.do("POST", "/backups/"+inc+"/action", map[string]any{"os-force_delete": map[string]any{}}).Expect(t, 202)
		c.step(t)
		m.do("GET", "/backups/"+inc, nil).Expect(t, 404)
		m.do("DELETE", "/backups/"+bid, nil).Expect(t, 202)
		c.step(t)
		m.do("GET", "/backups/"+bid, nil).Expect(t, 404)

		exts := list(t, m.do("GET", "/extensions", nil).Expect(t, 200), "extensions")
		if !slices.ContainsFunc(exts, func(e map[string]any) bool { return e["alias"] == "backups" }) {
			t.Fatal("no Backups extension")
		}
	})
}
