package volume

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

const snapshotColumns = `s.id, s.project_id, s.user_id, s.volume_id, s.name, s.description, s.size_gb, s.status,
	s.progress, s.volume_type_id, s.consumes_quota, s.created_at, s.updated_at`

func scanSnapshot(r scanner) (*Snapshot, error) {
	var sn Snapshot
	var name, desc sql.NullString
	var created, updated int64
	if err := r.Scan(&sn.ID, &sn.ProjectID, &sn.UserID, &sn.VolumeID, &name, &desc, &sn.Size, &sn.Status,
		&sn.Progress, &sn.VolumeTypeID, &sn.ConsumesQuota, &created, &updated); err != nil {
		return nil, err
	}
	sn.Name, sn.Description = store.StringPtr(name), store.StringPtr(desc)
	sn.CreatedAt, sn.UpdatedAt = store.Time(created), store.Time(updated)
	return &sn, nil
}

func getSnapshot(ctx context.Context, q store.Querier, id, projectID string, any bool) (*Snapshot, error) {
	sn, err := scanSnapshot(q.QueryRowContext(ctx, `SELECT `+snapshotColumns+` FROM snapshots s WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !any && sn.ProjectID != projectID) {
		return nil, snapshotNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", id, err)
	}
	if sn.Metadata, err = readMap(ctx, q, "snapshot_metadata", "snapshot_id", id); err != nil {
		return nil, err
	}
	return sn, nil
}

// CreateSnapshot snapshots a volume: "creating" until the worker has
// copied its data. An in-use volume needs Force (or 3.66's allowance,
// which the API passes as Force).
func (s *Service) CreateSnapshot(ctx context.Context, p *auth.Principal, req SnapshotCreate) (*Snapshot, error) {
	var sn *Snapshot
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		sn, err = s.CreateSnapshotTx(ctx, tx, p, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Wake()
	return sn, nil
}

// CreateSnapshotTx is CreateSnapshot in the caller's transaction.
func (s *Service) CreateSnapshotTx(ctx context.Context, tx *store.Tx, p *auth.Principal, req SnapshotCreate) (*Snapshot, error) {
	v, err := getVolume(ctx, tx, req.VolumeID, p.ProjectID, p.IsAdmin())
	if err != nil {
		return nil, err
	}
	switch {
	case v.Host == "" && v.Status != StatusAvailable && v.Status != StatusInUse:
		return nil, invalidVolume("The snapshot cannot be created because volume has not been scheduled to any host.")
	case v.Status == StatusMaintenance:
		return nil, invalidVolume("The snapshot cannot be created when the volume is in maintenance mode.")
	case v.MigrationStatus != nil && *v.MigrationStatus != "" && *v.MigrationStatus != "success" && *v.MigrationStatus != "error":
		return nil, invalidVolume("Snapshot cannot be created while volume is migrating.")
	case v.Status == StatusError:
		return nil, invalidVolume("The snapshot cannot be created when the volume is in error status.")
	}
	valid := []string{StatusAvailable}
	if req.Force {
		valid = append(valid, StatusInUse)
	}
	ok := false
	for _, st := range valid {
		ok = ok || v.Status == st
	}
	if !ok {
		return nil, invalidVolume("Volume %s status must be %s, but current status is: %s.", v.ID, strings.Join(valid, ", "), v.Status)
	}
	if err := s.reserve(ctx, tx, v.ProjectID, v.VolumeTypeName, usageDelta{snapshots: 1, gigabytes: int64(v.Size)}, 0); err != nil {
		return nil, err
	}
	now := s.ts()
	sn := &Snapshot{ID: uuid.NewString(), ProjectID: v.ProjectID, UserID: p.UserID, VolumeID: v.ID, Name: req.Name,
		Description: req.Description, Size: v.Size, Status: SnapshotCreating, Progress: "0%", VolumeTypeID: v.VolumeTypeID,
		ConsumesQuota: true, Metadata: maps.Clone(req.Metadata), CreatedAt: store.Time(now), UpdatedAt: store.Time(now)}
	if sn.Metadata == nil {
		sn.Metadata = map[string]string{}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO snapshots (id, project_id, user_id, volume_id, name, description, size_gb,
		status, progress, volume_type_id, consumes_quota, work, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		sn.ID, sn.ProjectID, sn.UserID, sn.VolumeID, sn.Name, sn.Description, sn.Size, sn.Status, sn.Progress,
		sn.VolumeTypeID, sn.ConsumesQuota, jobJSON(jobCreate), now, now); err != nil {
		return nil, fmt.Errorf("create snapshot: %w", err)
	}
	if err := setMapKeys(ctx, tx, "snapshot_metadata", "snapshot_id", sn.ID, sn.Metadata); err != nil {
		return nil, err
	}
	return sn, nil
}

// Snapshot returns a snapshot p may see.
func (s *Service) Snapshot(ctx context.Context, p *auth.Principal, id string) (*Snapshot, error) {
	return getSnapshot(ctx, s.db, id, p.ProjectID, p.IsAdmin())
}

// SnapshotQ is Snapshot read through q (the caller's transaction or
// database).
func (s *Service) SnapshotQ(ctx context.Context, q store.Querier, p *auth.Principal, id string) (*Snapshot, error) {
	return getSnapshot(ctx, q, id, p.ProjectID, p.IsAdmin())
}

var snapshotSortKeys = map[string]string{
	"id": "s.id", "created_at": "s.created_at", "updated_at": "s.updated_at", "size": "s.size_gb",
	"status": "s.status", "name": "COALESCE(s.name, '')", "display_name": "COALESCE(s.name, '')",
	"volume_id": "s.volume_id", "project_id": "s.project_id", "description": "COALESCE(s.description, '')",
}

var snapshotFilterColumns = map[string]string{
	"id": "s.id", "name": "s.name", "display_name": "s.name", "status": "s.status", "volume_id": "s.volume_id",
	"project_id": "s.project_id", "user_id": "s.user_id", "description": "s.description",
	"display_description": "s.description", "progress": "s.progress",
}

// Snapshots lists snapshots with filters, sorting and paging.
func (s *Service) Snapshots(ctx context.Context, p *auth.Principal, opts SnapshotListOptions) ([]*Snapshot, error) {
	where, args, none := snapshotWhere(p, opts)
	if none {
		return nil, nil
	}
	page := pageQuery{table: "snapshots", alias: "s", sortable: snapshotSortKeys, defaultKey: "created_at", defaultDir: "desc"}
	q, qargs, err := page.build(ctx, s.db, `SELECT `+snapshotColumns+` FROM snapshots s`, where, args, opts.Sort, opts.Marker, opts.Limit, opts.Offset, snapshotNotFound)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []*Snapshot
	for rows.Next() {
		sn, err := scanSnapshot(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, sn)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, sn := range out {
		if sn.Metadata, err = readMap(ctx, s.db, "snapshot_metadata", "snapshot_id", sn.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SnapshotCount is the number of snapshots Snapshots would list unpaged.
func (s *Service) SnapshotCount(ctx context.Context, p *auth.Principal, opts SnapshotListOptions) (int, error) {
	where, args, none := snapshotWhere(p, opts)
	if none {
		return 0, nil
	}
	q := `SELECT COUNT(*) FROM snapshots s`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	var n int
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

func snapshotWhere(p *auth.Principal, opts SnapshotListOptions) ([]string, []any, bool) {
	var where []string
	var args []any
	switch {
	case opts.AllTenants && opts.ProjectID != "":
		where, args = append(where, "s.project_id = ?"), append(args, opts.ProjectID)
	case opts.AllTenants:
	default:
		where, args = append(where, "s.project_id = ?"), append(args, p.ProjectID)
	}
	for k, val := range opts.Filters {
		col, ok := snapshotFilterColumns[k]
		if !ok {
			return nil, nil, true
		}
		where, args = append(where, col+" = ?"), append(args, val)
	}
	for k, val := range opts.Like {
		col, ok := snapshotFilterColumns[k]
		if !ok {
			return nil, nil, true
		}
		where, args = append(where, "COALESCE("+col+", '') LIKE ?"), append(args, "%"+likeEscape(val)+"%")
	}
	for k, val := range opts.Metadata {
		where = append(where, "EXISTS (SELECT 1 FROM snapshot_metadata m WHERE m.snapshot_id = s.id AND m.key = ? AND m.value = ?)")
		args = append(args, k, val)
	}
	return where, args, false
}

// UpdateSnapshot changes a snapshot's name or description.
func (s *Service) UpdateSnapshot(ctx context.Context, p *auth.Principal, id string, req SnapshotUpdate) (*Snapshot, error) {
	var sn *Snapshot
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if sn, err = getSnapshot(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		if req.Name != nil {
			sn.Name = req.Name
		}
		if req.Description != nil {
			sn.Description = req.Description
		}
		now := s.ts()
		sn.UpdatedAt = store.Time(now)
		_, err = tx.ExecContext(ctx, `UPDATE snapshots SET name = ?, description = ?, updated_at = ? WHERE id = ?`, sn.Name, sn.Description, now, id)
		return err
	})
	return sn, err
}

// DeleteSnapshot deletes a snapshot (available or error; any status but
// deleting with force, admin): it becomes "deleting" and the worker
// removes its data, then its row.
func (s *Service) DeleteSnapshot(ctx context.Context, p *auth.Principal, id string, force bool) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		sn, err := getSnapshot(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if !force && sn.Status != SnapshotAvailable && sn.Status != SnapshotError {
			return errs.Named("InvalidSnapshot", errs.Invalid("Invalid snapshot: Snapshot status must be available or error and must not be part of a group."))
		}
		_, err = tx.ExecContext(ctx, `UPDATE snapshots SET status = ?, work = ?, updated_at = ? WHERE id = ?`,
			SnapshotDeleting, jobJSON(jobDelete), s.ts(), id)
		return err
	})
	if err == nil {
		s.Wake()
	}
	return err
}

// ResetSnapshotStatus is the snapshot's os-reset_status (admin).
func (s *Service) ResetSnapshotStatus(ctx context.Context, p *auth.Principal, id, status string) error {
	switch status {
	case SnapshotCreating, SnapshotAvailable, SnapshotDeleting, SnapshotError, SnapshotErrorDeleting:
	default:
		return invalidSnapshot("Invalid status: %s", status)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getSnapshot(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE snapshots SET status = ?, work = '', updated_at = ? WHERE id = ?`, status, s.ts(), id)
		return err
	})
}

// snapshotStatusUpdates are the transitions os-update_snapshot_status
// allows (snapshot_actions.py): a snapshot being created may be told it
// is done or failed, one being deleted that its delete failed.
var snapshotStatusUpdates = map[string][]string{
	SnapshotCreating: {SnapshotCreating, SnapshotAvailable, SnapshotError},
	SnapshotDeleting: {SnapshotDeleting, SnapshotErrorDeleting},
}

// UpdateSnapshotStatus is os-update_snapshot_status, by which the service
// that makes a snapshot (Nova, for assisted snapshots) reports its
// status and, when given, its progress ("80%").
func (s *Service) UpdateSnapshotStatus(ctx context.Context, p *auth.Principal, id, status, progress string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		sn, err := getSnapshot(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		allowed, ok := snapshotStatusUpdates[sn.Status]
		if !ok {
			return errs.Invalid("Snapshot status %s not allowed for update_snapshot_status", sn.Status)
		}
		if !slices.Contains(allowed, status) {
			return errs.Invalid("Provided snapshot status %s not allowed for snapshot with status %s.", status, sn.Status)
		}
		q, args := `UPDATE snapshots SET status = ?, updated_at = ? WHERE id = ?`, []any{status, s.ts(), id}
		if progress != "" {
			q, args = `UPDATE snapshots SET status = ?, progress = ?, updated_at = ? WHERE id = ?`, []any{status, progress, s.ts(), id}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("update snapshot %s status: %w", id, err)
		}
		return nil
	})
}

// SnapshotMetadata returns a snapshot's metadata.
func (s *Service) SnapshotMetadata(ctx context.Context, p *auth.Principal, id string) (map[string]string, error) {
	sn, err := s.Snapshot(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return sn.Metadata, nil
}

// SetSnapshotMetadata sets metadata keys (replace: the whole set).
func (s *Service) SetSnapshotMetadata(ctx context.Context, p *auth.Principal, id string, md map[string]string, replace bool) (map[string]string, error) {
	var out map[string]string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getSnapshot(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		var err error
		if replace {
			err = replaceMap(ctx, tx, "snapshot_metadata", "snapshot_id", id, md)
		} else {
			err = setMapKeys(ctx, tx, "snapshot_metadata", "snapshot_id", id, md)
		}
		if err != nil {
			return err
		}
		out, err = readMap(ctx, tx, "snapshot_metadata", "snapshot_id", id)
		return err
	})
	return out, err
}

// DeleteSnapshotMetadataKey removes one metadata key.
func (s *Service) DeleteSnapshotMetadataKey(ctx context.Context, p *auth.Principal, id, key string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getSnapshot(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM snapshot_metadata WHERE snapshot_id = ? AND key = ?`, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Named("SnapshotMetadataNotFound", errs.NotFound("Snapshot %s has no metadata with key %s.", id, key))
		}
		return nil
	})
}

// SnapshotMetadataKey returns one metadata value of a snapshot.
func (s *Service) SnapshotMetadataKey(ctx context.Context, p *auth.Principal, id, key string) (string, error) {
	md, err := s.SnapshotMetadata(ctx, p, id)
	if err != nil {
		return "", err
	}
	v, ok := md[key]
	if !ok {
		return "", errs.Named("SnapshotMetadataNotFound", errs.NotFound("Snapshot %s has no metadata with key %s.", id, key))
	}
	return v, nil
}
