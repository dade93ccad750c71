package volume

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// pendingBackups adds the backups with a job to jobs: this host's, and
// new ones of its volumes (a backup is made where its volume's data is).
func (w *Worker) pendingBackups(ctx context.Context, jobs []job) ([]job, error) {
	pool := w.s.PoolName()
	rows, err := w.s.db.QueryContext(ctx, `SELECT b.id FROM backups b WHERE b.status IN (?, ?, ?) AND b.work <> ''
		AND (b.host = ? OR (b.host = '' AND EXISTS (SELECT 1 FROM volumes v WHERE v.id = b.volume_id AND v.host IN ('', ?))))
		ORDER BY b.updated_at`, BackupCreating, BackupDeleting, BackupRestoring, pool, pool)
	if err != nil {
		return nil, fmt.Errorf("scan backups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		jobs = append(jobs, job{key: "backup:" + id, kind: "backup", id: id})
	}
	return jobs, rows.Err()
}

// backupRow is what the worker reads of a backup.
type backupRow struct {
	status, volumeID, dataName, location, format, volumeMeta, work string
	snapshotID, container                                          sql.NullString
	size                                                           int
}

func (w *Worker) readBackup(ctx context.Context, id string) (*backupRow, error) {
	var r backupRow
	err := w.s.db.QueryRowContext(ctx, `SELECT status, volume_id, snapshot_id, container, data_name, location, format,
		volume_meta, work, size_gb FROM backups WHERE id = ?`, id).Scan(&r.status, &r.volumeID, &r.snapshotID, &r.container,
		&r.dataName, &r.location, &r.format, &r.volumeMeta, &r.work, &r.size)
	return &r, err
}

func (w *Worker) doBackup(ctx context.Context, id string) error {
	r, err := w.readBackup(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	var wk backupWork
	_ = json.Unmarshal([]byte(r.work), &wk)
	switch {
	case r.status == BackupCreating && wk.Job == jobImport:
		return w.importBackup(ctx, id, r)
	case r.status == BackupCreating:
		return w.createBackup(ctx, id, r)
	case r.status == BackupDeleting:
		return w.deleteBackup(ctx, id, r)
	case r.status == BackupRestoring:
		return w.restoreBackup(ctx, id, r, wk)
	}
	return nil
}

// backupFailed ends a backup's job in status with the reason shown as
// fail_reason.
func (w *Worker) backupFailed(ctx context.Context, id, from, status string, cause error) error {
	if err := w.finish(ctx, "backups", id, from, "status = ?, fail_reason = ?", status, cause.Error()); err != nil {
		return err
	}
	return cause
}

// createBackup copies the volume's (or snapshot's) data into the backup
// store, then gives the source its status back, as the backup manager's
// create_backup does.
func (w *Worker) createBackup(ctx context.Context, id string, r *backupRow) error {
	if _, err := w.s.db.ExecContext(ctx, `UPDATE backups SET host = ? WHERE id = ? AND host = ''`, w.s.PoolName(), id); err != nil {
		return fmt.Errorf("backup %s host: %w", id, err)
	}
	var src *row
	var err error
	if r.snapshotID.Valid {
		src, err = w.readSnapshot(ctx, w.s.db, r.snapshotID.String)
	} else {
		src, err = w.readVolume(ctx, w.s.db, r.volumeID)
	}
	if err == nil && src.location == "" {
		err = errors.New("the volume has no data")
	}
	var d Disk
	if err == nil && w.backups == nil {
		err = errors.New("no backup store")
	}
	if err == nil {
		d, err = w.backups.Clone(ctx, r.dataName, Disk{Location: src.location, Format: src.format}, r.size)
	}
	if err != nil && ctx.Err() != nil {
		return err
	}
	if rerr := w.releaseBackupSource(ctx, r); rerr != nil {
		return rerr
	}
	if err != nil {
		if w.backups != nil {
			_ = w.backups.Delete(context.WithoutCancel(ctx), r.dataName)
		}
		return w.backupFailed(ctx, id, BackupCreating, BackupError, fmt.Errorf("backup of volume %s: %w", r.volumeID, err))
	}
	container := r.container.String
	if !r.container.Valid {
		// The posix driver's default container: the id's first
		// characters as directories.
		container = id[0:2] + "/" + id[2:4] + "/" + id
	}
	objects := (int64(r.size)*gib + backupChunkBytes - 1) / backupChunkBytes
	// The backup service's zone when none was asked for, as its manager sets it.
	return w.finish(ctx, "backups", id, BackupCreating, "status = ?, location = ?, format = ?, object_count = ?, container = ?, availability_zone = COALESCE(availability_zone, ?)",
		BackupAvailable, d.Location, d.Format, objects, container, w.s.cfg.AvailabilityZone)
}

// releaseBackupSource gives the backed up volume or snapshot its status
// back.
func (w *Worker) releaseBackupSource(ctx context.Context, r *backupRow) error {
	if r.snapshotID.Valid {
		_, err := w.s.db.ExecContext(ctx, `UPDATE snapshots SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			SnapshotAvailable, w.s.ts(), r.snapshotID.String, SnapshotBackingUp)
		return err
	}
	v, err := w.readVolume(ctx, w.s.db, r.volumeID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = w.s.db.ExecContext(ctx, `UPDATE volumes SET status = ?, previous_status = ?, updated_at = ? WHERE id = ? AND status = ?`,
		statusFor(v.prev), StatusBackingUp, w.s.ts(), r.volumeID, StatusBackingUp)
	return err
}

// deleteBackup removes the backup's data unless an imported record
// shares it, then its row.
func (w *Worker) deleteBackup(ctx context.Context, id string, r *backupRow) error {
	var sharing int
	if err := w.s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM backups WHERE data_name = ? AND id <> ?`, r.dataName, id).Scan(&sharing); err != nil {
		return err
	}
	if sharing == 0 && w.backups != nil {
		if err := w.backups.Delete(ctx, r.dataName); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return w.backupFailed(ctx, id, BackupDeleting, BackupErrorDeleting, err)
		}
	}
	if _, err := w.s.db.ExecContext(ctx, `DELETE FROM backups WHERE id = ? AND status = ?`, id, BackupDeleting); err != nil {
		return fmt.Errorf("delete backup %s: %w", id, err)
	}
	return nil
}

// restoreBackup writes the backup's data into the volume and gives it
// the backed up volume's bootable flag and metadata, as the backup
// manager's restore_backup: the backup is available again after, the
// volume available, or error_restoring when the copy failed.
func (w *Worker) restoreBackup(ctx context.Context, id string, r *backupRow, wk backupWork) error {
	backToAvailable := func() error {
		_, err := w.s.db.ExecContext(ctx, `UPDATE backups SET status = ?, work = '', updated_at = ? WHERE id = ? AND status = ?`,
			BackupAvailable, w.s.ts(), id, BackupRestoring)
		return err
	}
	v, err := w.readVolume(ctx, w.s.db, wk.VolumeID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && v.status != StatusRestoringBackup) {
		return backToAvailable() // the volume went away or was reset
	}
	if err != nil {
		return err
	}
	if wk.New {
		placed, err := w.place(ctx, "volumes", wk.VolumeID, StatusRestoringBackup, StatusErrorRestoring)
		if err != nil {
			return err
		}
		if !placed {
			return backToAvailable()
		}
	}
	d, err := w.b.Clone(ctx, volumeName(wk.VolumeID), Disk{Location: r.location, Format: r.format}, v.size)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if ferr := w.finish(ctx, "volumes", wk.VolumeID, StatusRestoringBackup, "status = ?", StatusErrorRestoring); ferr != nil {
			return ferr
		}
		if berr := backToAvailable(); berr != nil {
			return berr
		}
		return fmt.Errorf("restore backup %s to volume %s: %w", id, wk.VolumeID, err)
	}
	var meta backupMeta
	_ = json.Unmarshal([]byte(r.volumeMeta), &meta)
	err = w.s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := setMapKeys(ctx, tx, "volume_metadata", "volume_id", wk.VolumeID, meta.Metadata); err != nil {
			return err
		}
		if err := setMapKeys(ctx, tx, "volume_image_metadata", "volume_id", wk.VolumeID, meta.ImageMetadata); err != nil {
			return err
		}
		now := w.s.ts()
		if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, location = ?, format = ?, bootable = ?,
			launched_at = COALESCE(launched_at, ?), work = '', updated_at = ? WHERE id = ? AND status = ?`,
			StatusAvailable, d.Location, d.Format, meta.Bootable, now, now, wk.VolumeID, StatusRestoringBackup); err != nil {
			return fmt.Errorf("volume %s restored: %w", wk.VolumeID, err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE backups SET status = ?, work = '', updated_at = ? WHERE id = ? AND status = ?`,
			BackupAvailable, now, id, BackupRestoring)
		return err
	})
	return err
}

// importBackup makes an imported record available once its data is
// found in the store.
func (w *Worker) importBackup(ctx context.Context, id string, r *backupRow) error {
	d, err := w.storedBackup(ctx, r.dataName)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return w.backupFailed(ctx, id, BackupCreating, BackupError, fmt.Errorf("the backup's data is not in the backup store: %w", err))
	}
	// The data is where the store keeps it, not where the record says:
	// a record is the caller's text and must not name any other file.
	return w.finish(ctx, "backups", id, BackupCreating, "status = ?, location = ?, format = ?", BackupAvailable, d.Location, d.Format)
}

// storedBackup is the backup store's disk named name (ErrNoDisk when it
// keeps none).
func (w *Worker) storedBackup(ctx context.Context, name string) (StoredDisk, error) {
	inv, ok := w.backups.(Inventory)
	if !ok || name == "" {
		return StoredDisk{}, ErrNoDisk
	}
	disks, err := inv.Disks(ctx)
	if err != nil {
		return StoredDisk{}, err
	}
	for _, d := range disks {
		if d.Name == name {
			return d, nil
		}
	}
	return StoredDisk{}, ErrNoDisk
}
