package volume_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

// host is the volume service's host of newEnv's service, with its pool.
const host = "kumo@volfile#volfile"

func (e *env) volumesDir() string { return filepath.Join(e.dir, "volumes") }

// foreign puts a raw disk of size bytes named name in the backend, as
// an administrator leaves one there for kumo to manage.
func (e *env) foreign(t *testing.T, name string, size int64) string {
	t.Helper()
	p := filepath.Join(e.volumesDir(), name+".raw")
	if err := os.WriteFile(p, []byte("foreign data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) manageable(t *testing.T, opts volume.ManageableOptions) []volume.Manageable {
	t.Helper()
	if opts.Limit == 0 {
		opts.Limit = 1000
	}
	list, err := e.s.ManageableVolumes(e.ctx, host, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func inUse(t *testing.T, e *env, project, resource string) int64 {
	t.Helper()
	u, err := e.s.QuotaUsage(e.ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	return u[resource].InUse
}

// TestUnmanageThenManage: an unmanaged volume's row goes with its quota
// while its file stays, listed as manageable; managed again, the file is
// the new volume's, renamed, its size and data kept.
func TestUnmanageThenManage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 2)
		kept := e.ready(t, alice, 1)
		data := bytes.Repeat([]byte("keep"), 256)
		if err := os.WriteFile(v.Location, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(v.Location, 2<<30); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Unmanage(e.ctx, admin, v.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID).Status; got != volume.StatusUnmanaging {
			t.Fatalf("status %s, want unmanaging", got)
		}
		e.step(t)
		if _, err := e.s.Get(e.ctx, admin, v.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("unmanaged volume: %v", err)
		}
		if _, err := os.Stat(v.Location); err != nil {
			t.Fatalf("the unmanaged volume's file: %v", err)
		}
		if n := inUse(t, e, alice.ProjectID, "volumes"); n != 1 {
			t.Fatalf("volumes in use %d, want 1", n)
		}
		list := e.manageable(t, volume.ManageableOptions{Sort: []volume.SortKey{{Key: "reference", Dir: "asc"}}})
		byName := map[string]volume.Manageable{}
		for _, m := range list {
			byName[m.SourceName] = m
		}
		if m := byName["volume-"+v.ID]; !m.SafeToManage || m.Size != 2 || m.CinderID != nil {
			t.Fatalf("unmanaged volume listed as %+v", m)
		}
		if m := byName["volume-"+kept.ID]; m.SafeToManage || m.ReasonNotSafe == nil || *m.ReasonNotSafe != "already managed" ||
			m.CinderID == nil || *m.CinderID != kept.ID {
			t.Fatalf("managed volume listed as %+v", m)
		}

		m, err := e.s.Manage(e.ctx, alice, volume.ManageRequest{Host: host, Ref: map[string]any{"source-name": "volume-" + v.ID},
			Name: ptr("back"), Description: ptr("again"), Bootable: true, Metadata: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != volume.StatusManaging || m.Size != 0 || m.Host != host {
			t.Fatalf("managing volume %+v", m)
		}
		e.step(t)
		m = e.get(t, m.ID)
		if m.Status != volume.StatusAvailable || m.Size != 2 || !m.Bootable || *m.Name != "back" || *m.Description != "again" ||
			m.Metadata["k"] != "v" || m.VolumeTypeName != volume.DefaultTypeName || m.AvailabilityZone != "nova" {
			t.Fatalf("managed volume %+v", m)
		}
		if want := filepath.Join(e.volumesDir(), "volume-"+m.ID+".raw"); m.Location != want {
			t.Fatalf("location %s, want %s", m.Location, want)
		}
		if !bytes.Equal(head(t, m.Location, len(data)), data) || fileSize(t, m.Location) != 2<<30 {
			t.Fatal("the managed volume's data changed")
		}
		if _, err := os.Stat(v.Location); !os.IsNotExist(err) {
			t.Fatalf("the old file stays: %v", err)
		}
		if n := inUse(t, e, alice.ProjectID, "gigabytes"); n != 3 {
			t.Fatalf("gigabytes in use %d, want 3", n)
		}
		// Deleting it removes the file, as any volume's.
		if err := e.s.Delete(e.ctx, alice, m.ID, volume.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if _, err := os.Stat(m.Location); !os.IsNotExist(err) {
			t.Fatalf("deleted managed volume's file: %v", err)
		}
	})
}

// TestManageErrors: what Cinder refuses at once (the API's 400s) and
// what turns the volume to error_managing later (the driver's).
func TestManageErrors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{Defaults: map[string]int64{"gigabytes": 5}})
		owned := e.ready(t, alice, 1)
		e.foreign(t, "big", 6<<30)
		e.foreign(t, "good", 1)
		for _, tc := range []struct {
			name    string
			req     volume.ManageRequest
			kind    errs.Kind // 0: accepted
			msg     string
			managed string // the status after the worker: error_managing or available
		}{
			{name: "unknown host", req: volume.ManageRequest{Host: "elsewhere@lvm", Ref: map[string]any{"source-name": "good"}},
				kind: errs.KindInvalid, msg: "Host 'elsewhere@lvm' not found"},
			{name: "cluster", req: volume.ManageRequest{Cluster: "c1", Ref: map[string]any{"source-name": "good"}},
				kind: errs.KindInvalid, msg: "Cluster 'c1' not found"},
			{name: "unknown type", req: volume.ManageRequest{Host: host, VolumeType: "gold", Ref: map[string]any{"source-name": "good"}},
				kind: errs.KindInvalid, msg: "Invalid volume type: Cannot find requested 'gold' volume type"},
			{name: "already managed", req: volume.ManageRequest{Host: host, Ref: map[string]any{"source-name": "volume-" + owned.ID}},
				kind: errs.KindInvalid, msg: "Invalid volume: Unable to manage existing volume. The volume is already managed"},
			{name: "no source-name", req: volume.ManageRequest{Host: host, Ref: map[string]any{"source-id": "x"}}, managed: volume.StatusErrorManaging},
			{name: "no such disk", req: volume.ManageRequest{Host: host, Ref: map[string]any{"source-name": "nothing"}}, managed: volume.StatusErrorManaging},
			{name: "over quota", req: volume.ManageRequest{Host: "kumo@volfile", Ref: map[string]any{"source-name": "big"}}, managed: volume.StatusErrorManaging},
			{name: "host without pool", req: volume.ManageRequest{Host: "kumo@volfile", Ref: map[string]any{"source-name": "good"}}, managed: volume.StatusAvailable},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v, err := e.s.Manage(e.ctx, alice, tc.req)
				if tc.kind != 0 {
					wantErr(t, err, tc.kind, tc.msg)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				e.step(t)
				if got := e.get(t, v.ID); got.Status != tc.managed || got.Host != host {
					t.Fatalf("status %s on %s, want %s", got.Status, got.Host, tc.managed)
				}
			})
		}
		// The disk over quota stays where it was, still manageable.
		if _, err := os.Stat(filepath.Join(e.volumesDir(), "big.raw")); err != nil {
			t.Fatalf("disk over quota: %v", err)
		}
		// An error_managing volume holds no quota and deletes.
		if n := inUse(t, e, alice.ProjectID, "volumes"); n != 2 {
			t.Fatalf("volumes in use %d, want 2", n)
		}
	})
}

// TestUnmanageRefusals: as Cinder's delete with unmanage_only.
func TestUnmanageRefusals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		withSnap := e.ready(t, alice, 1)
		if _, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: withSnap.ID}); err != nil {
			t.Fatal(err)
		}
		reserved := e.ready(t, alice, 1)
		if err := e.s.Reserve(e.ctx, alice, reserved.ID); err != nil {
			t.Fatal(err)
		}
		// A volume never placed has nothing in the backend: its row
		// just goes, whatever its status, as Cinder's delete does.
		unplaced := e.create(t, alice, volume.CreateRequest{Size: 1})
		if err := e.s.Unmanage(e.ctx, admin, unplaced.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Get(e.ctx, admin, unplaced.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("unplaced volume unmanaged: %v", err)
		}
		for _, tc := range []struct {
			name, id string
			kind     errs.Kind
		}{
			{"has snapshots", withSnap.ID, errs.KindInvalid},
			{"reserved", reserved.ID, errs.KindInvalid},
			{"missing", "00000000-0000-0000-0000-000000000000", errs.KindNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, e.s.Unmanage(e.ctx, admin, tc.id), tc.kind, "")
			})
		}
	})
}

// TestManageableVolumesPaging: sorted by reference or size, a marker,
// limit and offset as paginate_entries_list; an unknown host is not
// found; snapshots' disks are not volumes'.
func TestManageableVolumesPaging(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		e.foreign(t, "a", 3<<30)
		e.foreign(t, "b", 1<<30+1)
		e.foreign(t, "c", 1)
		e.foreign(t, "snapshot-x", 1)
		names := func(list []volume.Manageable) string {
			s := ""
			for _, m := range list {
				s += m.SourceName
			}
			return s
		}
		for _, tc := range []struct {
			name string
			opts volume.ManageableOptions
			want string
		}{
			{"default reference desc", volume.ManageableOptions{}, "cba"},
			{"size asc", volume.ManageableOptions{Sort: []volume.SortKey{{Key: "size", Dir: "asc"}}}, "cba"},
			{"size desc", volume.ManageableOptions{Sort: []volume.SortKey{{Key: "size", Dir: "desc"}}}, "abc"},
			{"marker", volume.ManageableOptions{Sort: []volume.SortKey{{Key: "reference", Dir: "asc"}}, Marker: ptr("a")}, "bc"},
			{"limit offset", volume.ManageableOptions{Sort: []volume.SortKey{{Key: "reference", Dir: "asc"}}, Limit: 1, Offset: 1}, "b"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := names(e.manageable(t, tc.opts)); got != tc.want {
					t.Fatalf("listed %s, want %s", got, tc.want)
				}
			})
		}
		if got := e.manageable(t, volume.ManageableOptions{Sort: []volume.SortKey{{Key: "size", Dir: "desc"}}}); got[1].Size != 2 {
			t.Fatalf("1 GiB and a byte is listed as %d GiB", got[1].Size)
		}
		_, err := e.s.ManageableVolumes(e.ctx, host, "", volume.ManageableOptions{Marker: ptr("zz"), Limit: 10})
		wantErr(t, err, errs.KindInvalid, "marker not found")
		_, err = e.s.ManageableVolumes(e.ctx, "other@lvm#pool", "", volume.ManageableOptions{Limit: 10})
		wantErr(t, err, errs.KindNotFound, "Service None could not be found on host other@lvm#pool.")
	})
}

// TestUnmanageSnapshot: the snapshot's row goes, its file stays.
func TestUnmanageSnapshot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		sn, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: v.ID})
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.s.UnmanageSnapshot(e.ctx, admin, sn.ID), errs.KindInvalid,
			"Invalid snapshot: Snapshot status must be available or error and must not be part of a group.")
		e.step(t)
		if err := e.s.UnmanageSnapshot(e.ctx, admin, sn.ID); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if _, err := e.s.Snapshot(e.ctx, admin, sn.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("unmanaged snapshot: %v", err)
		}
		if _, err := os.Stat(filepath.Join(e.volumesDir(), "snapshot-"+sn.ID+".raw")); err != nil {
			t.Fatalf("the unmanaged snapshot's file: %v", err)
		}
		// The volume has no snapshot left: it may go.
		if err := e.s.Unmanage(e.ctx, admin, v.ID); err != nil {
			t.Fatal(err)
		}
	})
}
