package volume

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

const volumeColumns = `v.id, v.project_id, v.user_id, v.name, v.description, v.size_gb, v.status,
	v.previous_status, v.attach_status, v.migration_status, v.availability_zone, v.volume_type_id,
	t.name, v.bootable, v.multiattach, v.image_id, v.snapshot_id, v.source_volid, v.host, v.location, v.format,
	v.consumes_quota, v.launched_at, v.created_at, v.updated_at`

const volumeFrom = ` FROM volumes v JOIN volume_types t ON t.id = v.volume_type_id`

type scanner interface{ Scan(dest ...any) error }

func scanVolume(r scanner) (*Volume, error) {
	var v Volume
	var name, desc, prev, mig, img, snap, src sql.NullString
	var launched sql.NullInt64
	var created, updated int64
	if err := r.Scan(&v.ID, &v.ProjectID, &v.UserID, &name, &desc, &v.Size, &v.Status, &prev, &v.AttachStatus,
		&mig, &v.AvailabilityZone, &v.VolumeTypeID, &v.VolumeTypeName, &v.Bootable, &v.Multiattach, &img, &snap,
		&src, &v.Host, &v.Location, &v.Format, &v.ConsumesQuota, &launched, &created, &updated); err != nil {
		return nil, err
	}
	v.Name, v.Description, v.MigrationStatus = store.StringPtr(name), store.StringPtr(desc), store.StringPtr(mig)
	v.PreviousStatus = prev.String
	v.ImageID, v.SnapshotID, v.SourceVolID = store.StringPtr(img), store.StringPtr(snap), store.StringPtr(src)
	if launched.Valid {
		t := store.Time(launched.Int64)
		v.LaunchedAt = &t
	}
	v.CreatedAt, v.UpdatedAt = store.Time(created), store.Time(updated)
	return &v, nil
}

// getVolume reads volume id with its metadata and attachments; another
// project's volume is not found unless any is true.
func getVolume(ctx context.Context, q store.Querier, id, projectID string, any bool) (*Volume, error) {
	v, err := scanVolume(q.QueryRowContext(ctx, `SELECT `+volumeColumns+volumeFrom+` WHERE v.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !any && v.ProjectID != projectID) {
		return nil, volumeNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read volume %s: %w", id, err)
	}
	if err := fillVolumes(ctx, q, []*Volume{v}); err != nil {
		return nil, err
	}
	return v, nil
}

// fillVolumes loads the metadata, image and admin metadata and
// attachments of vs.
func fillVolumes(ctx context.Context, q store.Querier, vs []*Volume) error {
	if len(vs) == 0 {
		return nil
	}
	byID := make(map[string]*Volume, len(vs))
	ids := make([]string, 0, len(vs))
	for _, v := range vs {
		byID[v.ID] = v
		ids = append(ids, v.ID)
		v.Metadata, v.ImageMetadata, v.AdminMetadata = map[string]string{}, map[string]string{}, map[string]string{}
		v.Attachments = nil
	}
	in, args := inList(ids)
	for _, m := range []struct {
		table string
		get   func(v *Volume) map[string]string
	}{
		{"volume_metadata", func(v *Volume) map[string]string { return v.Metadata }},
		{"volume_image_metadata", func(v *Volume) map[string]string { return v.ImageMetadata }},
		{"volume_admin_metadata", func(v *Volume) map[string]string { return v.AdminMetadata }},
	} {
		rows, err := q.QueryContext(ctx, `SELECT volume_id, key, value FROM `+m.table+` WHERE volume_id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("read %s: %w", m.table, err)
		}
		for rows.Next() {
			var id, k, val string
			if err := rows.Scan(&id, &k, &val); err != nil {
				rows.Close()
				return err
			}
			m.get(byID[id])[k] = val
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT `+attachmentColumns+` FROM volume_attachments a WHERE a.volume_id IN (`+in+`) ORDER BY a.created_at, a.id`, args...)
	if err != nil {
		return fmt.Errorf("read attachments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return err
		}
		v := byID[a.VolumeID]
		v.Attachments = append(v.Attachments, *a)
	}
	return rows.Err()
}

const attachmentColumns = `a.id, a.volume_id, a.project_id, a.instance_uuid, a.attached_host, a.mountpoint,
	a.attach_mode, a.attach_status, a.connector, a.connection_info, a.attach_time, a.detach_time, a.created_at, a.updated_at`

func scanAttachment(r scanner) (*Attachment, error) {
	var a Attachment
	var inst, host, mp, conn, info sql.NullString
	var at, dt sql.NullInt64
	var created, updated int64
	if err := r.Scan(&a.ID, &a.VolumeID, &a.ProjectID, &inst, &host, &mp, &a.AttachMode, &a.AttachStatus,
		&conn, &info, &at, &dt, &created, &updated); err != nil {
		return nil, err
	}
	a.InstanceUUID, a.AttachedHost, a.Mountpoint = store.StringPtr(inst), store.StringPtr(host), store.StringPtr(mp)
	if conn.Valid && conn.String != "" {
		if err := json.Unmarshal([]byte(conn.String), &a.Connector); err != nil {
			return nil, fmt.Errorf("attachment %s connector: %w", a.ID, err)
		}
	}
	if info.Valid && info.String != "" {
		if err := json.Unmarshal([]byte(info.String), &a.ConnectionInfo); err != nil {
			return nil, fmt.Errorf("attachment %s connection info: %w", a.ID, err)
		}
	}
	a.AttachTime, a.DetachTime = timePtr(at), timePtr(dt)
	a.CreatedAt, a.UpdatedAt = store.Time(created), store.Time(updated)
	return &a, nil
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := store.Time(n.Int64)
	return &t
}

// inList is "?,?,?" for ids and the arguments.
func inList(ids []string) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","), args
}

// replaceMap replaces the key/value rows of owner in table with m.
func replaceMap(ctx context.Context, tx *store.Tx, table, ownerCol, owner string, m map[string]string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+ownerCol+` = ?`, owner); err != nil {
		return fmt.Errorf("clear %s: %w", table, err)
	}
	return setMapKeys(ctx, tx, table, ownerCol, owner, m)
}

// setMapKeys sets the keys of m in table for owner, leaving others.
func setMapKeys(ctx context.Context, tx *store.Tx, table, ownerCol, owner string, m map[string]string) error {
	for k, v := range m {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+ownerCol+` = ? AND key = ?`, owner, k); err != nil {
			return fmt.Errorf("set %s: %w", table, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+ownerCol+`, key, value) VALUES (?, ?, ?)`, owner, k, v); err != nil {
			return fmt.Errorf("set %s: %w", table, err)
		}
	}
	return nil
}

// readMap reads the key/value rows of owner in table.
func readMap(ctx context.Context, q store.Querier, table, ownerCol, owner string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM `+table+` WHERE `+ownerCol+` = ?`, owner)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}

// setStatus moves volume id to status (and attach status when not "").
func (s *Service) setStatus(ctx context.Context, q store.Querier, id, status string) error {
	if _, err := q.ExecContext(ctx, `UPDATE volumes SET status = ?, updated_at = ? WHERE id = ?`, status, s.ts(), id); err != nil {
		return fmt.Errorf("volume %s status %s: %w", id, status, err)
	}
	return nil
}

// casStatus moves volume id from one of from to status; false when it
// was in none of them (someone else moved it).
func (s *Service) casStatus(ctx context.Context, q store.Querier, id string, from []string, status string) (bool, error) {
	in, args := inList(from)
	res, err := q.ExecContext(ctx, `UPDATE volumes SET status = ?, updated_at = ? WHERE id = ? AND status IN (`+in+`)`,
		append([]any{status, s.ts(), id}, args...)...)
	if err != nil {
		return false, fmt.Errorf("volume %s status %s: %w", id, status, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
