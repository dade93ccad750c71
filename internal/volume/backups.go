package volume

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Backup statuses, as Cinder names them.
const (
	BackupCreating      = "creating"
	BackupAvailable     = "available"
	BackupDeleting      = "deleting"
	BackupRestoring     = "restoring"
	BackupError         = "error"
	BackupErrorDeleting = "error_deleting"
)

// Volume and snapshot statuses while a backup is made or restored.
const (
	StatusBackingUp       = "backing-up"
	StatusRestoringBackup = "restoring-backup"
	SnapshotBackingUp     = "backing-up"
)

// BackupService is the backup driver's name, as export_record shows it:
// kumo's store is a directory of files, as Cinder's posix driver keeps.
const BackupService = "cinder.backup.drivers.posix.PosixBackupDriver"

// backupChunkBytes is the posix driver's backup_file_size: object_count
// is the number of such chunks of a backup's data.
const backupChunkBytes = 1999994880

// Backup is one volume backup.
type Backup struct {
	ID               string
	ProjectID        string
	UserID           string
	VolumeID         string
	SnapshotID       *string
	ParentID         *string
	Name             *string
	Description      *string
	Container        *string
	AvailabilityZone *string
	Size             int
	Status           string
	FailReason       *string
	ObjectCount      int
	Host             string
	// DataName is the backup store's name of the data ("backup-<id>");
	// an imported record shares the exported backup's.
	DataName        string
	Location        string
	Format          string
	RestoreVolumeID *string
	EncryptionKeyID *string
	Metadata        map[string]string
	// HasDependentBackups: an incremental backup has this one as parent.
	HasDependentBackups bool
	DataTimestamp       time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// IsIncremental reports whether the backup has a parent.
func (b *Backup) IsIncremental() bool { return b.ParentID != nil }

// BackupCreate asks for a backup.
type BackupCreate struct {
	VolumeID         string
	Name             *string
	Description      *string
	Container        *string
	Incremental      bool
	Force            bool
	SnapshotID       string
	Metadata         map[string]string
	AvailabilityZone *string
}

// BackupUpdate changes a backup's name, description or metadata (nil:
// unchanged).
type BackupUpdate struct {
	Name        *string
	Description *string
	Metadata    map[string]string
}

// BackupListOptions filter and page backups.
type BackupListOptions struct {
	AllTenants bool
	ProjectID  string
	Filters    map[string]string // name, status, volume_id, ...
	Like       map[string]string
	Sort       []SortKey
	Marker     string
	Limit      int
	Offset     int
}

// RestoreResult is a restore's answer.
type RestoreResult struct {
	BackupID   string
	VolumeID   string
	VolumeName *string
}

// backupMeta is what a backup keeps of its volume for a restore, as
// Cinder's backup metadata does: the bootable flag and the metadata.
type backupMeta struct {
	Bootable      bool              `json:"bootable"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	ImageMetadata map[string]string `json:"image_metadata,omitempty"`
}

// backupWork is a backup's pending job.
type backupWork struct {
	Job      string `json:"job"`                 // create, delete, restore, import
	VolumeID string `json:"volume_id,omitempty"` // restore into
	New      bool   `json:"new,omitempty"`       // the restore's volume was made for it
}

const jobRestore, jobImport = "restore", "import"

func backupJSON(w backupWork) string {
	b, _ := json.Marshal(w)
	return string(b)
}

func backupNotFound(id string) error {
	return errs.Named("BackupNotFound", errs.NotFound("Backup %s could not be found.", id))
}

func invalidBackup(format string, args ...any) error {
	return errs.Named("InvalidBackup", errs.Invalid("Invalid backup: %s", fmt.Sprintf(format, args...)))
}

func backupLimitExceeded(allowed int64) error {
	return errs.Named("BackupLimitExceeded", errs.OverQuota("Maximum number of backups allowed (%d) exceeded", allowed))
}

func backupSizeExceedsQuota(requested, quota, consumed int64) error {
	return errs.Named("VolumeBackupSizeExceedsAvailableQuota", errs.OverQuota(
		"Requested backup exceeds allowed Backup gigabytes quota. Requested %dG, quota is %dG and %dG has been consumed.",
		requested, quota, consumed))
}

const backupColumns = `b.id, b.project_id, b.user_id, b.volume_id, b.snapshot_id, b.parent_id, b.name, b.description,
	b.container, b.availability_zone, b.size_gb, b.status, b.fail_reason, b.object_count, b.host, b.data_name,
	b.location, b.format, b.restore_volume_id, b.encryption_key_id, b.data_timestamp, b.created_at, b.updated_at,
	EXISTS (SELECT 1 FROM backups c WHERE c.parent_id = b.id)`

func scanBackup(r scanner) (*Backup, error) {
	var b Backup
	var snap, parent, name, desc, cont, az, fail, restore, key sql.NullString
	var ts, created, updated int64
	if err := r.Scan(&b.ID, &b.ProjectID, &b.UserID, &b.VolumeID, &snap, &parent, &name, &desc, &cont, &az, &b.Size,
		&b.Status, &fail, &b.ObjectCount, &b.Host, &b.DataName, &b.Location, &b.Format, &restore, &key, &ts, &created,
		&updated, &b.HasDependentBackups); err != nil {
		return nil, err
	}
	b.SnapshotID, b.ParentID, b.Name, b.Description = store.StringPtr(snap), store.StringPtr(parent), store.StringPtr(name), store.StringPtr(desc)
	b.Container, b.AvailabilityZone, b.FailReason = store.StringPtr(cont), store.StringPtr(az), store.StringPtr(fail)
	b.RestoreVolumeID, b.EncryptionKeyID = store.StringPtr(restore), store.StringPtr(key)
	b.DataTimestamp, b.CreatedAt, b.UpdatedAt = store.Time(ts), store.Time(created), store.Time(updated)
	return &b, nil
}

// getBackup reads backup id; another project's is not found unless any.
func getBackup(ctx context.Context, q store.Querier, id, projectID string, any bool) (*Backup, error) {
	b, err := scanBackup(q.QueryRowContext(ctx, `SELECT `+backupColumns+` FROM backups b WHERE b.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !any && b.ProjectID != projectID) {
		return nil, backupNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read backup %s: %w", id, err)
	}
	if b.Metadata, err = readMap(ctx, q, "backup_metadata", "backup_id", id); err != nil {
		return nil, err
	}
	return b, nil
}

// Backup returns a backup p may see.
func (s *Service) Backup(ctx context.Context, p *auth.Principal, id string) (*Backup, error) {
	return getBackup(ctx, s.db, id, p.ProjectID, p.IsAdmin())
}

// CreateBackup backs up a volume (or one of its snapshots) into the
// backup store, as cinder.backup.api.API.create: the volume is
// "backing-up" (the snapshot, when given, instead) and the backup
// "creating" until the worker has copied the data. An incremental backup
// has the volume's latest available backup as parent.
func (s *Service) CreateBackup(ctx context.Context, p *auth.Principal, req BackupCreate) (*Backup, error) {
	var b *Backup
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		b, err = s.createBackup(ctx, tx, p, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Wake()
	return b, nil
}

func (s *Service) createBackup(ctx context.Context, tx *store.Tx, p *auth.Principal, req BackupCreate) (*Backup, error) {
	v, err := getVolume(ctx, tx, req.VolumeID, p.ProjectID, p.IsAdmin())
	if err != nil {
		return nil, err
	}
	var snap *Snapshot
	if req.SnapshotID != "" {
		if snap, err = getSnapshot(ctx, tx, req.SnapshotID, p.ProjectID, p.IsAdmin()); err != nil {
			return nil, err
		}
		if snap.VolumeID != v.ID {
			return nil, invalidVolume("Volume %s does not match with snapshot.volume_id %s.", v.ID, snap.VolumeID)
		}
		if snap.Status != SnapshotAvailable {
			return nil, invalidSnapshot("Snapshot to be backed up must be available, but the current status is \"%s\".", snap.Status)
		}
	} else if v.Status != StatusAvailable && v.Status != StatusInUse {
		return nil, invalidVolume("Volume to be backed up must be available or in-use, but the current status is \"%s\".", v.Status)
	} else if v.Status == StatusInUse && !req.Force {
		return nil, invalidVolume("Backing up an in-use volume must use the force flag.")
	}
	if err := s.reserve(ctx, tx, p.ProjectID, v.VolumeTypeName, usageDelta{backups: 1, backupGigabytes: int64(v.Size)}, 0); err != nil {
		return nil, err
	}
	var parent *string
	if req.Incremental {
		// The latest available backup of the volume (older than the
		// snapshot, backing up one) is the parent.
		q := `SELECT id FROM backups WHERE volume_id = ? AND project_id = ? AND status = ?`
		args := []any{v.ID, p.ProjectID, BackupAvailable}
		if snap != nil {
			q, args = q+` AND data_timestamp < ?`, append(args, snap.CreatedAt.UnixMicro())
		}
		var id string
		err := tx.QueryRowContext(ctx, q+` ORDER BY data_timestamp DESC, created_at DESC LIMIT 1`, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, invalidBackup("No backups available to do an incremental backup.")
		}
		if err != nil {
			return nil, fmt.Errorf("find parent backup: %w", err)
		}
		parent = &id
	}
	now := s.ts()
	b := &Backup{ID: uuid.NewString(), ProjectID: p.ProjectID, UserID: p.UserID, VolumeID: v.ID, ParentID: parent,
		Name: req.Name, Description: req.Description, Container: req.Container, AvailabilityZone: req.AvailabilityZone,
		Size: v.Size, Status: BackupCreating, Metadata: maps.Clone(req.Metadata),
		DataTimestamp: store.Time(now), CreatedAt: store.Time(now), UpdatedAt: store.Time(now)}
	if b.Metadata == nil {
		b.Metadata = map[string]string{}
	}
	b.DataName = "backup-" + b.ID
	if snap != nil {
		b.SnapshotID, b.DataTimestamp = &snap.ID, snap.CreatedAt
		if _, err := tx.ExecContext(ctx, `UPDATE snapshots SET status = ?, updated_at = ? WHERE id = ?`, SnapshotBackingUp, now, snap.ID); err != nil {
			return nil, fmt.Errorf("snapshot %s backing up: %w", snap.ID, err)
		}
	} else if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, previous_status = ?, updated_at = ? WHERE id = ?`,
		StatusBackingUp, v.Status, now, v.ID); err != nil {
		return nil, fmt.Errorf("volume %s backing up: %w", v.ID, err)
	}
	meta, _ := json.Marshal(backupMeta{Bootable: v.Bootable, Metadata: v.Metadata, ImageMetadata: v.ImageMetadata})
	if err := insertBackup(ctx, tx, b, string(meta), backupJSON(backupWork{Job: jobCreate})); err != nil {
		return nil, err
	}
	return b, nil
}

func insertBackup(ctx context.Context, tx *store.Tx, b *Backup, meta, work string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO backups (id, project_id, user_id, volume_id, snapshot_id, parent_id, name,
		description, container, availability_zone, size_gb, status, object_count, host, data_name, location, format,
		volume_meta, work, data_timestamp, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		b.ID, b.ProjectID, b.UserID, b.VolumeID, b.SnapshotID, b.ParentID, b.Name, b.Description, b.Container,
		b.AvailabilityZone, b.Size, b.Status, b.ObjectCount, b.Host, b.DataName, b.Location, b.Format, meta, work,
		b.DataTimestamp.UnixMicro(), b.CreatedAt.UnixMicro(), b.UpdatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("create backup: %w", err)
	}
	return setMapKeys(ctx, tx, "backup_metadata", "backup_id", b.ID, b.Metadata)
}

var backupSortKeys = map[string]string{
	"id": "b.id", "created_at": "b.created_at", "updated_at": "b.updated_at", "size": "b.size_gb",
	"status": "b.status", "name": "COALESCE(b.name, '')", "display_name": "COALESCE(b.name, '')",
	"volume_id": "b.volume_id", "project_id": "b.project_id", "description": "COALESCE(b.description, '')",
	"container": "COALESCE(b.container, '')", "availability_zone": "COALESCE(b.availability_zone, '')",
	"data_timestamp": "b.data_timestamp",
}

var backupFilterColumns = map[string]string{
	"id": "b.id", "name": "b.name", "display_name": "b.name", "status": "b.status", "volume_id": "b.volume_id",
	"project_id": "b.project_id", "user_id": "b.user_id", "description": "b.description",
	"display_description": "b.description", "container": "b.container", "availability_zone": "b.availability_zone",
	"snapshot_id": "b.snapshot_id", "parent_id": "b.parent_id", "host": "b.host",
}

func backupWhere(p *auth.Principal, opts BackupListOptions) ([]string, []any, bool) {
	var where []string
	var args []any
	switch {
	case opts.AllTenants && opts.ProjectID != "":
		where, args = append(where, "b.project_id = ?"), append(args, opts.ProjectID)
	case opts.AllTenants:
	default:
		where, args = append(where, "b.project_id = ?"), append(args, p.ProjectID)
	}
	for k, val := range opts.Filters {
		col, ok := backupFilterColumns[k]
		if !ok {
			return nil, nil, true
		}
		where, args = append(where, col+" = ?"), append(args, val)
	}
	for k, val := range opts.Like {
		col, ok := backupFilterColumns[k]
		if !ok {
			return nil, nil, true
		}
		where, args = append(where, "COALESCE("+col+", '') LIKE ?"), append(args, "%"+likeEscape(val)+"%")
	}
	return where, args, false
}

// Backups lists backups with filters, sorting and paging.
func (s *Service) Backups(ctx context.Context, p *auth.Principal, opts BackupListOptions) ([]*Backup, error) {
	where, args, none := backupWhere(p, opts)
	if none {
		return nil, nil
	}
	page := pageQuery{table: "backups", alias: "b", sortable: backupSortKeys, defaultKey: "created_at", defaultDir: "desc"}
	q, qargs, err := page.build(ctx, s.db, `SELECT `+backupColumns+` FROM backups b`, where, args, opts.Sort, opts.Marker, opts.Limit, opts.Offset, backupNotFound)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	var out []*Backup
	for rows.Next() {
		b, err := scanBackup(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, b := range out {
		if b.Metadata, err = readMap(ctx, s.db, "backup_metadata", "backup_id", b.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// BackupCount is the number of backups Backups would list unpaged.
func (s *Service) BackupCount(ctx context.Context, p *auth.Principal, opts BackupListOptions) (int, error) {
	where, args, none := backupWhere(p, opts)
	if none {
		return 0, nil
	}
	q := `SELECT COUNT(*) FROM backups b`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	var n int
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// UpdateBackup changes a backup's name, description or metadata (3.9,
// metadata 3.43: replaced whole).
func (s *Service) UpdateBackup(ctx context.Context, p *auth.Principal, id string, req BackupUpdate) (*Backup, error) {
	var b *Backup
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if b, err = getBackup(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		if req.Name != nil {
			b.Name = req.Name
		}
		if req.Description != nil {
			b.Description = req.Description
		}
		now := s.ts()
		b.UpdatedAt = store.Time(now)
		if _, err := tx.ExecContext(ctx, `UPDATE backups SET name = ?, description = ?, updated_at = ? WHERE id = ?`, b.Name, b.Description, now, id); err != nil {
			return fmt.Errorf("update backup %s: %w", id, err)
		}
		if req.Metadata != nil {
			if err := replaceMap(ctx, tx, "backup_metadata", "backup_id", id, req.Metadata); err != nil {
				return err
			}
			b.Metadata = maps.Clone(req.Metadata)
		}
		return nil
	})
	return b, err
}

// DeleteBackup deletes a backup (available or error; any status with
// force, os-force_delete): it becomes "deleting" and the worker removes
// its data, then its row. A backup an incremental one depends on stays.
func (s *Service) DeleteBackup(ctx context.Context, p *auth.Principal, id string, force bool) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		b, err := getBackup(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if !force && b.Status != BackupAvailable && b.Status != BackupError {
			return invalidBackup("Backup status must be available or error")
		}
		if b.HasDependentBackups {
			return invalidBackup("Incremental backups exist for this backup.")
		}
		_, err = tx.ExecContext(ctx, `UPDATE backups SET status = ?, work = ?, updated_at = ? WHERE id = ?`,
			BackupDeleting, backupJSON(backupWork{Job: jobDelete}), s.ts(), id)
		return err
	})
	if err == nil {
		s.Wake()
	}
	return err
}

// ResetBackupStatus is the backup's os-reset_status (admin): available
// or error, no job.
func (s *Service) ResetBackupStatus(ctx context.Context, p *auth.Principal, id, status string) error {
	if status != BackupAvailable && status != BackupError {
		return invalidBackup("The status %s is not allowed to reset.", status)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getBackup(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE backups SET status = ?, work = '', updated_at = ? WHERE id = ?`, status, s.ts(), id)
		return err
	})
}

// RestoreBackup restores an available backup into volume volumeID, or
// ("" ) into a new volume named name (default restore_backup_<id>), as
// cinder.backup.api.API.restore: the backup is "restoring" and the
// volume "restoring-backup" until the worker has copied the data.
func (s *Service) RestoreBackup(ctx context.Context, p *auth.Principal, id, volumeID string, name *string) (*RestoreResult, error) {
	var res *RestoreResult
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		b, err := getBackup(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if b.Status != BackupAvailable {
			return invalidBackup("Backup status must be available")
		}
		var v *Volume
		isNew := volumeID == ""
		if isNew {
			if name == nil {
				n := "restore_backup_" + id
				name = &n
			}
			desc := "auto-created_from_restore_from_backup"
			if v, err = s.CreateTx(ctx, tx, p, CreateRequest{Name: name, Description: &desc, Size: b.Size}); err != nil {
				return err
			}
		} else {
			if v, err = getVolume(ctx, tx, volumeID, p.ProjectID, p.IsAdmin()); err != nil {
				return err
			}
			if v.Status != StatusAvailable {
				return invalidVolume("Volume to be restored to must be available")
			}
			if b.Size > v.Size {
				return invalidVolume("volume size %d is too small to restore backup of size %d.", v.Size, b.Size)
			}
		}
		now := s.ts()
		if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, work = '', updated_at = ? WHERE id = ?`, StatusRestoringBackup, now, v.ID); err != nil {
			return fmt.Errorf("volume %s restoring: %w", v.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE backups SET status = ?, restore_volume_id = ?, work = ?, updated_at = ? WHERE id = ?`,
			BackupRestoring, v.ID, backupJSON(backupWork{Job: jobRestore, VolumeID: v.ID, New: isNew}), now, id); err != nil {
			return fmt.Errorf("backup %s restoring: %w", id, err)
		}
		res = &RestoreResult{BackupID: id, VolumeID: v.ID, VolumeName: v.Name}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Wake()
	return res, nil
}

// backupRecord is an exported backup (export_record's backup_url, base64
// JSON as Cinder's Backup.encode_record): the fields of the row, and
// where the data is.
type backupRecord struct {
	ID                 string            `json:"id"`
	UserID             string            `json:"user_id,omitempty"`
	ProjectID          string            `json:"project_id,omitempty"`
	VolumeID           string            `json:"volume_id,omitempty"`
	SnapshotID         *string           `json:"snapshot_id"`
	ParentID           *string           `json:"parent_id"`
	DisplayName        *string           `json:"display_name"`
	DisplayDescription *string           `json:"display_description"`
	Container          *string           `json:"container"`
	AvailabilityZone   *string           `json:"availability_zone"`
	Size               *int              `json:"size"`
	ObjectCount        int               `json:"object_count"`
	Service            string            `json:"service"`
	ServiceMetadata    string            `json:"service_metadata"`
	Location           string            `json:"location,omitempty"`
	Format             string            `json:"format,omitempty"`
	VolumeMeta         string            `json:"volume_meta,omitempty"`
	DataTimestamp      *time.Time        `json:"data_timestamp,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
}

// ExportBackup is export_record (admin): the backup service and the
// record an import needs.
func (s *Service) ExportBackup(ctx context.Context, p *auth.Principal, id string) (service, url string, err error) {
	b, err := getBackup(ctx, s.db, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return "", "", err
	}
	if b.Status != BackupAvailable {
		return "", "", invalidBackup("Backup status must be available and not %s.", b.Status)
	}
	var meta string
	if err := s.db.QueryRowContext(ctx, `SELECT volume_meta FROM backups WHERE id = ?`, id).Scan(&meta); err != nil {
		return "", "", fmt.Errorf("read backup %s: %w", id, err)
	}
	size, ts := b.Size, b.DataTimestamp
	rec := backupRecord{ID: b.ID, UserID: b.UserID, ProjectID: b.ProjectID, VolumeID: b.VolumeID, SnapshotID: b.SnapshotID,
		ParentID: b.ParentID, DisplayName: b.Name, DisplayDescription: b.Description, Container: b.Container,
		AvailabilityZone: b.AvailabilityZone, Size: &size, ObjectCount: b.ObjectCount, Service: BackupService,
		ServiceMetadata: b.DataName, Location: b.Location, Format: b.Format, VolumeMeta: meta, DataTimestamp: &ts, Metadata: b.Metadata}
	raw, err := json.Marshal(rec)
	if err != nil {
		return "", "", err
	}
	return BackupService, base64.StdEncoding.EncodeToString(raw), nil
}

// ImportBackup is import_record (admin): a backup row from an exported
// record, "creating" until the worker has found its data in the store.
func (s *Service) ImportBackup(ctx context.Context, p *auth.Principal, service, url string) (*Backup, error) {
	raw, err := base64.StdEncoding.DecodeString(url)
	var rec backupRecord
	if err == nil {
		err = json.Unmarshal(raw, &rec)
	}
	if err != nil {
		return nil, invalidInput("Can't parse backup record.")
	}
	if rec.ID == "" {
		return nil, invalidInput("Provided backup record is missing an id")
	}
	if rec.Size == nil {
		return nil, invalidInput("Provided backup record is missing size attribute")
	}
	if service != BackupService || rec.ServiceMetadata == "" {
		return nil, invalidBackup("Import record failed, cannot find backup service to perform the import. Request service %s.", service)
	}
	var b *Backup
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM backups WHERE id = ?`, rec.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return invalidBackup("Backup already exists in database.")
		}
		if err := s.reserve(ctx, tx, p.ProjectID, "", usageDelta{backups: 1, backupGigabytes: int64(*rec.Size)}, 0); err != nil {
			return err
		}
		now := s.ts()
		b = &Backup{ID: rec.ID, ProjectID: p.ProjectID, UserID: p.UserID, VolumeID: rec.VolumeID, SnapshotID: rec.SnapshotID,
			ParentID: rec.ParentID, Name: rec.DisplayName, Description: rec.DisplayDescription, Container: rec.Container,
			AvailabilityZone: rec.AvailabilityZone, Size: *rec.Size, Status: BackupCreating, ObjectCount: rec.ObjectCount,
			// Where the data is comes from the store (the worker's import),
			// never from the record's text.
			Host: s.PoolName(), DataName: rec.ServiceMetadata, Format: rec.Format,
			Metadata: maps.Clone(rec.Metadata), DataTimestamp: store.Time(now), CreatedAt: store.Time(now), UpdatedAt: store.Time(now)}
		if b.VolumeID == "" {
			b.VolumeID = "00000000-0000-0000-0000-000000000000"
		}
		if rec.DataTimestamp != nil {
			b.DataTimestamp = *rec.DataTimestamp
		}
		if b.Metadata == nil {
			b.Metadata = map[string]string{}
		}
		return insertBackup(ctx, tx, b, rec.VolumeMeta, backupJSON(backupWork{Job: jobImport}))
	})
	if err != nil {
		return nil, err
	}
	s.Wake()
	return b, nil
}

// backupUsage is what projectID's backups consume.
func backupUsage(ctx context.Context, q store.Querier, projectID string) (n, gb int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(size_gb), 0) FROM backups WHERE project_id = ?`, projectID).Scan(&n, &gb)
	if err != nil {
		err = fmt.Errorf("count backups: %w", err)
	}
	return n, gb, err
}
