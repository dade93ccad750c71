package volume_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/volume"
)

// backup makes a backup and runs the worker until it is available.
func (e *env) backup(t *testing.T, p *auth.Principal, req volume.BackupCreate) *volume.Backup {
	t.Helper()
	b, err := e.s.CreateBackup(e.ctx, p, req)
	if err != nil {
		t.Fatalf("backup %+v: %v", req, err)
	}
	e.step(t)
	if b, err = e.s.Backup(e.ctx, p, b.ID); err != nil {
		t.Fatal(err)
	}
	if b.Status != volume.BackupAvailable {
		t.Fatalf("backup %s is %s (%v)", b.ID, b.Status, b.FailReason)
	}
	return b
}

func overwrite(t *testing.T, path string, data []byte) {
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

func TestBackupRestoreRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		want := bytes.Repeat([]byte("backed up data. "), 4096)
		img := e.image(t, alice, want, 0)
		v := e.create(t, alice, volume.CreateRequest{Size: 1, ImageID: img.ID, Metadata: map[string]string{"k": "v"}})
		e.step(t)
		v = e.get(t, v.ID)
		b, err := e.s.CreateBackup(e.ctx, alice, volume.BackupCreate{VolumeID: v.ID, Name: ptr("b1"), Metadata: map[string]string{"m": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, v.ID); got.Status != volume.StatusBackingUp || b.Status != volume.BackupCreating {
			t.Fatalf("while backing up: volume %s, backup %s", got.Status, b.Status)
		}
		e.step(t)
		if b, err = e.s.Backup(e.ctx, alice, b.ID); err != nil {
			t.Fatal(err)
		}
		if b.Status != volume.BackupAvailable || b.ObjectCount != 1 || b.Container == nil || b.IsIncremental() ||
			b.AvailabilityZone == nil || *b.AvailabilityZone != "nova" ||
			b.Metadata["m"] != "1" || b.Size != 1 {
			t.Fatalf("backup %+v", b)
		}
		if got := e.get(t, v.ID).Status; got != volume.StatusAvailable {
			t.Fatalf("volume after backup: %s", got)
		}
		// The volume changes after its backup; restoring brings the data back.
		overwrite(t, v.Location, bytes.Repeat([]byte("overwritten!!!! "), 4096))
		res, err := e.s.RestoreBackup(e.ctx, alice, b.ID, v.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.VolumeID != v.ID || e.get(t, v.ID).Status != volume.StatusRestoringBackup {
			t.Fatalf("restore %+v: volume %s", res, e.get(t, v.ID).Status)
		}
		e.step(t)
		v = e.get(t, v.ID)
		if v.Status != volume.StatusAvailable || !bytes.Equal(head(t, v.Location, len(want)), want) {
			t.Fatalf("restored in place: %s", v.Status)
		}
		// Into a new volume: named after the backup, bootable with the
		// source's metadata.
		res, err = e.s.RestoreBackup(e.ctx, alice, b.ID, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.VolumeName == nil || *res.VolumeName != "restore_backup_"+b.ID {
			t.Fatalf("restore name %v", res.VolumeName)
		}
		e.step(t)
		nv := e.get(t, res.VolumeID)
		if nv.Status != volume.StatusAvailable || !nv.Bootable || nv.Metadata["k"] != "v" || nv.Size != 1 ||
			!bytes.Equal(head(t, nv.Location, len(want)), want) {
			t.Fatalf("restored volume %+v", nv)
		}
		if b, _ = e.s.Backup(e.ctx, alice, b.ID); b.Status != volume.BackupAvailable || b.RestoreVolumeID == nil || *b.RestoreVolumeID != nv.ID {
			t.Fatalf("backup after restore %+v", b)
		}
		// Deleting removes the data.
		loc := b.Location
		if err := e.s.DeleteBackup(e.ctx, alice, b.ID, false); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if _, err := os.Stat(loc); !os.IsNotExist(err) {
			t.Fatalf("backup data after delete: %v", err)
		}
		wantErr(t, func() error { _, err := e.s.Backup(e.ctx, alice, b.ID); return err }(), errs.KindNotFound, "Backup "+b.ID+" could not be found.")
	})
}

func TestBackupChecks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 1)
		other := e.ready(t, alice, 1)
		snap, err := e.s.CreateSnapshot(e.ctx, alice, volume.SnapshotCreate{VolumeID: other.ID})
		if err != nil {
			t.Fatal(err)
		}
		inUse := e.ready(t, alice, 1)
		if err := e.s.ResetStatus(e.ctx, admin, inUse.ID, volume.ResetStatusRequest{Status: ptr(volume.StatusInUse)}); err != nil {
			t.Fatal(err)
		}
		small := e.ready(t, alice, 1)
		e.step(t)
		for _, tc := range []struct {
			name string
			p    *auth.Principal
			req  volume.BackupCreate
			kind errs.Kind
			msg  string
		}{
			{"other project", bob, volume.BackupCreate{VolumeID: v.ID}, errs.KindNotFound, "Volume " + v.ID + " could not be found."},
			{"in-use without force", alice, volume.BackupCreate{VolumeID: inUse.ID}, errs.KindInvalid, "Backing up an in-use volume must use the force flag."},
			{"incremental without a full backup", alice, volume.BackupCreate{VolumeID: v.ID, Incremental: true}, errs.KindInvalid,
				"Invalid backup: No backups available to do an incremental backup."},
			{"snapshot of another volume", alice, volume.BackupCreate{VolumeID: v.ID, SnapshotID: snap.ID}, errs.KindInvalid,
				"Volume " + v.ID + " does not match with snapshot.volume_id " + other.ID + "."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.s.CreateBackup(e.ctx, tc.p, tc.req)
				wantErr(t, err, tc.kind, tc.msg)
			})
		}
		// A forced backup of an in-use volume gives it its status back.
		e.backup(t, alice, volume.BackupCreate{VolumeID: inUse.ID, Force: true})
		if got := e.get(t, inUse.ID).Status; got != volume.StatusInUse {
			t.Fatalf("in-use volume after backup: %s", got)
		}
		// A snapshot's backup: the snapshot is backing-up, then available.
		sb, err := e.s.CreateBackup(e.ctx, alice, volume.BackupCreate{VolumeID: other.ID, SnapshotID: snap.ID})
		if err != nil {
			t.Fatal(err)
		}
		if sn, _ := e.s.Snapshot(e.ctx, alice, snap.ID); sn.Status != volume.SnapshotBackingUp {
			t.Fatalf("snapshot while backed up: %s", sn.Status)
		}
		e.step(t)
		if sn, _ := e.s.Snapshot(e.ctx, alice, snap.ID); sn.Status != volume.SnapshotAvailable {
			t.Fatalf("snapshot after backup: %s", sn.Status)
		}
		if got, _ := e.s.Backup(e.ctx, alice, sb.ID); got.Status != volume.BackupAvailable || got.SnapshotID == nil || !got.DataTimestamp.Equal(snap.CreatedAt) {
			t.Fatalf("snapshot backup %+v", got)
		}
		// Incremental backups depend on their parent.
		full := e.backup(t, alice, volume.BackupCreate{VolumeID: v.ID})
		incr := e.backup(t, alice, volume.BackupCreate{VolumeID: v.ID, Incremental: true})
		if incr.ParentID == nil || *incr.ParentID != full.ID || !incr.IsIncremental() {
			t.Fatalf("incremental %+v", incr)
		}
		if full, _ = e.s.Backup(e.ctx, alice, full.ID); !full.HasDependentBackups {
			t.Fatal("full backup has no dependents")
		}
		wantErr(t, e.s.DeleteBackup(e.ctx, alice, full.ID, false), errs.KindInvalid, "Invalid backup: Incremental backups exist for this backup.")
		// Restore checks.
		if _, err := e.s.CreateBackup(e.ctx, alice, volume.BackupCreate{VolumeID: small.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.RestoreBackup(e.ctx, alice, full.ID, small.ID, nil)
		wantErr(t, err, errs.KindInvalid, "Volume to be restored to must be available")
		e.step(t)
		if err := e.s.ResetBackupStatus(e.ctx, admin, full.ID, volume.BackupError); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.RestoreBackup(e.ctx, alice, full.ID, small.ID, nil)
		wantErr(t, err, errs.KindInvalid, "Invalid backup: Backup status must be available")
		wantErr(t, e.s.ResetBackupStatus(e.ctx, admin, full.ID, volume.BackupCreating), errs.KindInvalid, "")
		if err := e.s.DeleteBackup(e.ctx, alice, incr.ID, false); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if err := e.s.DeleteBackup(e.ctx, alice, full.ID, false); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBackupQuotas(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		v := e.ready(t, alice, 2)
		for _, tc := range []struct {
			name  string
			quota map[string]int64
			msg   string
		}{
			{"backups", map[string]int64{"backups": 0, "backup_gigabytes": 100}, "Maximum number of backups allowed (0) exceeded"},
			{"backup_gigabytes", map[string]int64{"backups": 10, "backup_gigabytes": 3},
				"Requested backup exceeds allowed Backup gigabytes quota. Requested 2G, quota is 3G and 2G has been consumed."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := e.s.SetQuotas(e.ctx, alice.ProjectID, tc.quota); err != nil {
					t.Fatal(err)
				}
				_, err := e.s.CreateBackup(e.ctx, alice, volume.BackupCreate{VolumeID: v.ID})
				wantErr(t, err, errs.KindOverQuota, tc.msg)
			})
			if tc.name == "backups" {
				if _, err := e.s.SetQuotas(e.ctx, alice.ProjectID, map[string]int64{"backups": 10}); err != nil {
					t.Fatal(err)
				}
				e.backup(t, alice, volume.BackupCreate{VolumeID: v.ID})
			}
		}
		u, err := e.s.QuotaUsage(e.ctx, alice.ProjectID)
		if err != nil {
			t.Fatal(err)
		}
		if u["backups"].InUse != 1 || u["backup_gigabytes"].InUse != 2 {
			t.Fatalf("usage %+v %+v", u["backups"], u["backup_gigabytes"])
		}
	})
}

func TestBackupExportImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, volume.Config{})
		want := bytes.Repeat([]byte("exported "), 1000)
		img := e.image(t, alice, want, 0)
		v := e.create(t, alice, volume.CreateRequest{Size: 1, ImageID: img.ID})
		e.step(t)
		b := e.backup(t, alice, volume.BackupCreate{VolumeID: v.ID})
		service, url, err := e.s.ExportBackup(e.ctx, admin, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if service != volume.BackupService {
			t.Fatalf("service %s", service)
		}
		_, err = e.s.ImportBackup(e.ctx, admin, service, url)
		wantErr(t, err, errs.KindInvalid, "Invalid backup: Backup already exists in database.")
		// The record under another id, as Tempest imports it.
		raw, _ := base64.StdEncoding.DecodeString(url)
		var rec map[string]any
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		rec["id"] = "7f4e0a44-29a4-4f4e-a1d9-8d0e3b1f0c11"
		raw, _ = json.Marshal(rec)
		imp, err := e.s.ImportBackup(e.ctx, admin, service, base64.StdEncoding.EncodeToString(raw))
		if err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if imp, _ = e.s.Backup(e.ctx, admin, imp.ID); imp.Status != volume.BackupAvailable || imp.Size != 1 {
			t.Fatalf("imported %+v", imp)
		}
		// Deleting the exported backup leaves the data the import shares.
		if err := e.s.DeleteBackup(e.ctx, alice, b.ID, false); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		res, err := e.s.RestoreBackup(e.ctx, admin, imp.ID, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		e.step(t)
		nv := e.get(t, res.VolumeID)
		if nv.Status != volume.StatusAvailable || !bytes.Equal(head(t, nv.Location, len(want)), want) {
			t.Fatalf("restored from import: %s", nv.Status)
		}
		if err := e.s.DeleteBackup(e.ctx, admin, imp.ID, false); err != nil {
			t.Fatal(err)
		}
		e.step(t)
		if _, err := os.Stat(imp.Location); !os.IsNotExist(err) {
			t.Fatalf("data after the last delete: %v", err)
		}
		// A record is the caller's text: one naming a file outside the
		// backup store imports nothing and leaves the file alone.
		outside := filepath.Join(t.TempDir(), "outside.raw")
		if err := os.WriteFile(outside, want, 0o600); err != nil {
			t.Fatal(err)
		}
		for i, dataName := range []string{"../" + filepath.Base(filepath.Dir(outside)) + "/outside", "backup-missing"} {
			rec["id"] = fmt.Sprintf("7f4e0a44-29a4-4f4e-a1d9-8d0e3b1f0c2%d", i)
			rec["service_metadata"], rec["location"] = dataName, outside
			raw, _ = json.Marshal(rec)
			bad, err := e.s.ImportBackup(e.ctx, admin, service, base64.StdEncoding.EncodeToString(raw))
			if err != nil {
				t.Fatal(err)
			}
			e.step(t)
			if bad, _ = e.s.Backup(e.ctx, admin, bad.ID); bad.Status != volume.BackupError || bad.Location == outside {
				t.Errorf("import of %s: status %s, location %s; want error, not the record's file", dataName, bad.Status, bad.Location)
			}
			if err := e.s.DeleteBackup(e.ctx, admin, bad.ID, false); err != nil {
				t.Fatal(err)
			}
			e.step(t)
		}
		if _, err := os.Stat(outside); err != nil {
			t.Errorf("the file a record named: %v", err)
		}
		_, err = e.s.ImportBackup(e.ctx, admin, "cinder.backup.drivers.swift.SwiftBackupDriver", url)
		wantErr(t, err, errs.KindInvalid, "cannot find backup service")
	})
}
