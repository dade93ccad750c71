package volume

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// The attachments API (3.27) and the old attach flow (os-reserve,
// os-attach, os-begin_detaching, os-detach, ...) keep the same records:
// an attachment is reserved, then connected (attaching, with the host's
// connector and the connection info), then attached; deleting the last
// one makes the volume available again.

func getAttachment(ctx context.Context, q store.Querier, id, projectID string, any bool) (*Attachment, error) {
	a, err := scanAttachment(q.QueryRowContext(ctx, `SELECT `+attachmentColumns+` FROM volume_attachments a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !any && a.ProjectID != projectID) {
		return nil, attachmentNotFound("id = " + id)
	}
	if err != nil {
		return nil, fmt.Errorf("read attachment %s: %w", id, err)
	}
	return a, nil
}

// reserveAttachment is Cinder's _attachment_reserve: the volume becomes
// "reserved" and a reserved attachment names instanceUUID.
func (s *Service) reserveAttachment(ctx context.Context, tx *store.Tx, v *Volume, instanceUUID string) (*Attachment, error) {
	allowed := []string{StatusAvailable, StatusDownloading}
	if v.Multiattach {
		allowed = []string{StatusAvailable, StatusInUse, StatusDownloading}
	}
	ok, err := s.casStatus(ctx, tx, v.ID, allowed, StatusReserved)
	if err != nil {
		return nil, err
	}
	if !ok {
		override := false
		if instanceUUID != "" && (v.Status == StatusInUse || v.Status == StatusReserved) {
			// The same server attaching again (a migration) is allowed.
			for _, a := range v.Attachments {
				if a.InstanceUUID != nil && *a.InstanceUUID == instanceUUID {
					override = true
				}
			}
		}
		if !override {
			return nil, invalidVolume("Volume %s status must be %s to reserve, but the current status is %s.", v.ID, orList(allowed), v.Status)
		}
	}
	now := s.ts()
	a := &Attachment{ID: uuid.NewString(), VolumeID: v.ID, ProjectID: v.ProjectID, AttachMode: "null",
		AttachStatus: AttachReserved, CreatedAt: store.Time(now), UpdatedAt: store.Time(now)}
	if instanceUUID != "" {
		a.InstanceUUID = &instanceUUID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO volume_attachments (id, volume_id, project_id, instance_uuid, attach_mode,
		attach_status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)`,
		a.ID, a.VolumeID, a.ProjectID, a.InstanceUUID, a.AttachMode, a.AttachStatus, now, now); err != nil {
		return nil, fmt.Errorf("reserve volume %s: %w", v.ID, err)
	}
	return a, nil
}

// orList is Cinder's build_or_str: "a or b or c".
func orList(xs []string) string { return strings.Join(xs, " or ") }

// CreateAttachment is the attachments API's create (3.27).
func (s *Service) CreateAttachment(ctx context.Context, p *auth.Principal, req AttachmentCreate) (*Attachment, error) {
	var a *Attachment
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		a, err = s.CreateAttachmentTx(ctx, tx, p, req)
		return err
	})
	return a, err
}

// CreateAttachmentTx is CreateAttachment in the caller's transaction.
func (s *Service) CreateAttachmentTx(ctx context.Context, tx *store.Tx, p *auth.Principal, req AttachmentCreate) (*Attachment, error) {
	v, err := getVolume(ctx, tx, req.VolumeID, p.ProjectID, p.IsAdmin())
	if err != nil {
		return nil, err
	}
	if strings.Contains(v.Status, "error") {
		return nil, invalidVolume("Volume attachments can not be created if the volume is in an error state. The Volume %s currently has a status of: %s ", v.ID, v.Status)
	}
	a, err := s.reserveAttachment(ctx, tx, v, req.InstanceUUID)
	if err != nil {
		return nil, err
	}
	mode := req.Mode
	if mode == "" {
		mode = "null"
	}
	if v.Readonly() {
		mode = "ro"
	}
	a.AttachMode = mode
	if _, err := tx.ExecContext(ctx, `UPDATE volume_attachments SET attach_mode = ? WHERE id = ?`, mode, a.ID); err != nil {
		return nil, fmt.Errorf("attachment %s mode: %w", a.ID, err)
	}
	if req.Connector != nil {
		return s.connect(ctx, tx, v.ID, a.ID, req.Connector)
	}
	return a, nil
}

// UpdateAttachment is the attachments API's update: the host's
// connector connects the attachment (volume "attaching") and the answer
// carries the connection info.
func (s *Service) UpdateAttachment(ctx context.Context, p *auth.Principal, id string, connector map[string]any) (*Attachment, error) {
	var a *Attachment
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		a, err = s.UpdateAttachmentTx(ctx, tx, p, id, connector)
		return err
	})
	return a, err
}

// UpdateAttachmentTx is UpdateAttachment in the caller's transaction.
func (s *Service) UpdateAttachmentTx(ctx context.Context, tx *store.Tx, p *auth.Principal, id string, connector map[string]any) (*Attachment, error) {
	a, err := getAttachment(ctx, tx, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return nil, err
	}
	v, err := getVolume(ctx, tx, a.VolumeID, "", true)
	if err != nil {
		return nil, err
	}
	if strings.Contains(v.Status, "error") {
		return nil, errs.Named("ResourceConflict", errs.Conflict("Resource conflict: Volume attachments can not be updated if the volume is in an error state. The Volume %s currently has a status of: %s ", v.ID, v.Status))
	}
	if len(v.Attachments) > 1 && !v.Multiattach {
		for _, o := range v.Attachments {
			if o.ID != a.ID && o.ConnectionInfo != nil {
				return nil, errs.Named("ResourceConflict", errs.Conflict("Resource conflict: duplicate connectors detected on volume %s", v.ID))
			}
		}
	}
	return s.connect(ctx, tx, v.ID, a.ID, connector)
}

// connect is the volume manager's attachment_update: the attachment
// records the connector and connection info, both become "attaching".
func (s *Service) connect(ctx context.Context, tx *store.Tx, volumeID, attachmentID string, connector map[string]any) (*Attachment, error) {
	v, err := getVolume(ctx, tx, volumeID, "", true)
	if err != nil {
		return nil, err
	}
	a, err := getAttachment(ctx, tx, attachmentID, "", true)
	if err != nil {
		return nil, err
	}
	mode, _ := connector["mode"].(string)
	if mode == "" {
		mode = "rw"
	}
	if a.AttachMode != "null" {
		mode = a.AttachMode
		connector["mode"] = mode
	}
	info := s.connectionData(v, mode)
	if info["qos_specs"], err = connectionQoS(ctx, tx, v); err != nil {
		return nil, err
	}
	info["driver_volume_type"] = "local"
	info["attachment_id"] = a.ID
	enforce, _ := connector["enforce_multipath"].(bool)
	info["enforce_multipath"] = enforce
	host, _ := connector["host"].(string)
	mountpoint, _ := connector["mountpoint"].(string)
	if mountpoint == "" {
		mountpoint = "na"
	}
	conn, err := json.Marshal(connector)
	if err != nil {
		return nil, fmt.Errorf("connector: %w", err)
	}
	infoJSON, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("connection info: %w", err)
	}
	now := s.ts()
	if _, err := tx.ExecContext(ctx, `UPDATE volume_attachments SET attach_status = ?, connector = ?, connection_info = ?,
		attached_host = ?, mountpoint = ?, attach_mode = ?, attach_time = ?, updated_at = ? WHERE id = ?`,
		AttachAttaching, string(conn), string(infoJSON), host, mountpoint, mode, now, now, a.ID); err != nil {
		return nil, fmt.Errorf("connect attachment %s: %w", a.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, attach_status = ?, updated_at = ? WHERE id = ?`,
		StatusAttaching, AttachAttaching, now, v.ID); err != nil {
		return nil, fmt.Errorf("volume %s attaching: %w", v.ID, err)
	}
	return getAttachment(ctx, tx, a.ID, "", true)
}

// connectionData is the data part of a volume's connection info: where
// its file is and how it is kept (os-brick's local connector reads
// device_path).
func (s *Service) connectionData(v *Volume, mode string) map[string]any {
	format := v.Format
	if format == "" {
		format = "raw"
	}
	return map[string]any{
		"device_path": v.Location, "format": format, "name": "volume-" + v.ID, "volume_id": v.ID,
		"access_mode": mode, "encrypted": false, "discard": true, "qos_specs": nil, "cacheable": false,
	}
}

// CompleteAttachment is the attachments API's complete: the attachment
// is attached and the volume "in-use".
func (s *Service) CompleteAttachment(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.CompleteAttachmentTx(ctx, tx, p, id)
	})
}

// CompleteAttachmentTx is CompleteAttachment in the caller's transaction.
func (s *Service) CompleteAttachmentTx(ctx context.Context, tx *store.Tx, p *auth.Principal, id string) error {
	a, err := getAttachment(ctx, tx, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return err
	}
	now := s.ts()
	if _, err := tx.ExecContext(ctx, `UPDATE volume_attachments SET attach_status = ?, updated_at = ? WHERE id = ?`,
		AttachAttached, now, a.ID); err != nil {
		return fmt.Errorf("complete attachment %s: %w", id, err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE volumes SET status = ?, attach_status = ?, launched_at = COALESCE(launched_at, ?), updated_at = ? WHERE id = ?`,
		StatusInUse, AttachAttached, now, now, a.VolumeID)
	return err
}

// DeleteAttachment is the attachments API's delete (and the end of every
// detach): the attachment goes; the volume is "available" when it was
// the last, else "in-use". It returns the volume's remaining attachments.
func (s *Service) DeleteAttachment(ctx context.Context, p *auth.Principal, id string) ([]Attachment, error) {
	var out []Attachment
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.DeleteAttachmentTx(ctx, tx, p, id)
		return err
	})
	return out, err
}

// DeleteAttachmentTx is DeleteAttachment in the caller's transaction.
func (s *Service) DeleteAttachmentTx(ctx context.Context, tx *store.Tx, p *auth.Principal, id string) ([]Attachment, error) {
	a, err := getAttachment(ctx, tx, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return nil, err
	}
	if err := s.finishDetach(ctx, tx, a.VolumeID, a.ID); err != nil {
		return nil, err
	}
	v, err := getVolume(ctx, tx, a.VolumeID, "", true)
	if err != nil {
		return nil, err
	}
	return v.Attachments, nil
}

// finishDetach is Cinder's volume_detached: the attachment is removed
// and the volume's status follows what attachments remain, as Cinder's
// _get_statuses_from_attachments: the first of their attach statuses in
// alphabetical order (attached > attaching > detaching > reserved), so a
// volume whose one attachment left is reserved (Nova's rebuild of a
// volume-backed server swaps the attachment) is "reserved".
func (s *Service) finishDetach(ctx context.Context, tx *store.Tx, volumeID, attachmentID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM volume_attachments WHERE id = ?`, attachmentID); err != nil {
		return fmt.Errorf("delete attachment %s: %w", attachmentID, err)
	}
	var left int
	var first sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), MIN(attach_status) FROM volume_attachments
		WHERE volume_id = ? AND attach_status NOT LIKE 'error%'`, volumeID).Scan(&left, &first); err != nil {
		return fmt.Errorf("count attachments: %w", err)
	}
	status, attach := StatusAvailable, AttachDetached
	if left > 0 {
		status, attach = first.String, first.String
		if attach == AttachAttached {
			status = StatusInUse
		}
	}
	now := s.ts()
	// A volume being deleted or in error keeps its status.
	if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = CASE WHEN status IN (?, ?, ?, ?, ?) THEN ? ELSE status END,
		attach_status = ?, updated_at = ? WHERE id = ?`,
		StatusReserved, StatusAttaching, StatusInUse, StatusDetaching, StatusAvailable, status, attach, now, volumeID); err != nil {
		return fmt.Errorf("volume %s detached: %w", volumeID, err)
	}
	if left == 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM volume_admin_metadata WHERE volume_id = ? AND key = ?`, volumeID, "attached_mode"); err != nil {
			return fmt.Errorf("volume %s detached: %w", volumeID, err)
		}
	}
	return nil
}

// Attachment returns one attachment p may see.
func (s *Service) Attachment(ctx context.Context, p *auth.Principal, id string) (*Attachment, error) {
	return getAttachment(ctx, s.db, id, p.ProjectID, p.IsAdmin())
}

var attachmentSortKeys = map[string]string{"id": "a.id", "created_at": "a.created_at", "updated_at": "a.updated_at",
	"volume_id": "a.volume_id", "instance_uuid": "COALESCE(a.instance_uuid, '')", "attach_status": "a.attach_status",
	"status": "a.attach_status"}

var attachmentFilterColumns = map[string]string{"volume_id": "a.volume_id", "instance_id": "a.instance_uuid",
	"instance_uuid": "a.instance_uuid", "status": "a.attach_status", "attach_status": "a.attach_status",
	"project_id": "a.project_id", "id": "a.id", "attached_host": "a.attached_host"}

// Attachments lists attachments with filters, sorting and paging.
func (s *Service) Attachments(ctx context.Context, p *auth.Principal, opts AttachmentListOptions) ([]*Attachment, error) {
	var where []string
	var args []any
	switch {
	case opts.AllTenants && opts.ProjectID != "":
		where, args = append(where, "a.project_id = ?"), append(args, opts.ProjectID)
	case opts.AllTenants:
	default:
		where, args = append(where, "a.project_id = ?"), append(args, p.ProjectID)
	}
	for k, v := range opts.Filters {
		col, ok := attachmentFilterColumns[k]
		if !ok {
			return nil, nil
		}
		where, args = append(where, col+" = ?"), append(args, v)
	}
	page := pageQuery{table: "volume_attachments", alias: "a", sortable: attachmentSortKeys, defaultKey: "created_at", defaultDir: "desc"}
	q, qargs, err := page.build(ctx, s.db, `SELECT `+attachmentColumns+` FROM volume_attachments a`, where, args, opts.Sort, opts.Marker, opts.Limit, opts.Offset,
		func(m string) error { return attachmentNotFound("id = " + m) })
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, q, qargs...)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	defer rows.Close()
	var out []*Attachment
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// The old attach flow (before the attachments API; still in v3).

// Reserve is os-reserve: an available volume (or in-use multiattach)
// becomes "attaching".
func (s *Service) Reserve(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		allowed := []string{StatusAvailable}
		if v.Multiattach {
			allowed = append(allowed, StatusInUse)
		}
		ok, err := s.casStatus(ctx, tx, id, allowed, StatusAttaching)
		if err != nil {
			return err
		}
		if !ok {
			return invalidVolume("Volume status must be %s to reserve, but the status is %s.", orList(allowed), v.Status)
		}
		return nil
	})
}

// Unreserve is os-unreserve: an attaching volume goes back to in-use
// (when attached elsewhere) or available; otherwise nothing happens.
func (s *Service) Unreserve(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.unreserve(ctx, tx, p, id)
	})
}

func (s *Service) unreserve(ctx context.Context, tx *store.Tx, p *auth.Principal, id string) error {
	v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return err
	}
	if v.Status != StatusAttaching {
		return nil
	}
	to := StatusAvailable
	for _, a := range v.Attachments {
		if a.AttachStatus == AttachAttached {
			to = StatusInUse
		}
	}
	_, err = s.casStatus(ctx, tx, id, []string{StatusAttaching}, to)
	return err
}

// Attach is os-attach: the volume is attached to a server (or a host)
// at mountpoint, reusing the server's reserved attachment if any.
func (s *Service) Attach(ctx context.Context, p *auth.Principal, id string, req AttachRequest) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if v.Status == StatusMaintenance {
			return invalidVolume("The volume cannot be attached in maintenance mode.")
		}
		mode := req.Mode
		if mode == "" {
			mode = "rw"
		}
		if v.Readonly() && mode != "ro" {
			return errs.Named("InvalidVolumeAttachMode", errs.Invalid("Invalid attaching mode '%s' for volume %s.", mode, v.ID))
		}
		var found *Attachment
		for i, a := range v.Attachments {
			if req.InstanceUUID != "" && a.InstanceUUID != nil && *a.InstanceUUID == req.InstanceUUID {
				found = &v.Attachments[i]
			}
		}
		if found == nil && v.Status == StatusInUse && !v.Multiattach {
			return invalidVolume("volume is already attached and multiple attachments are not enabled")
		}
		if found == nil && v.Status != StatusAvailable && v.Status != StatusAttaching && v.Status != StatusReserved &&
			v.Status != StatusInUse {
			return invalidVolume("Volume status must be available or attaching to attach, but the status is %s.", v.Status)
		}
		now := s.ts()
		var inst, host, mp any
		if req.InstanceUUID != "" {
			inst = req.InstanceUUID
		}
		if req.HostName != "" {
			host = req.HostName
		}
		if req.Mountpoint != "" {
			mp = req.Mountpoint
		}
		if found == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO volume_attachments (id, volume_id, project_id, instance_uuid, attached_host,
				mountpoint, attach_mode, attach_status, attach_time, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
				uuid.NewString(), v.ID, v.ProjectID, inst, host, mp, mode, AttachAttached, now, now, now)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE volume_attachments SET attached_host = ?, mountpoint = ?, attach_mode = ?,
				attach_status = ?, attach_time = ?, updated_at = ? WHERE id = ?`, host, mp, mode, AttachAttached, now, now, found.ID)
		}
		if err != nil {
			return fmt.Errorf("attach volume %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, attach_status = ?, launched_at = COALESCE(launched_at, ?), updated_at = ? WHERE id = ?`,
			StatusInUse, AttachAttached, now, now, id); err != nil {
			return fmt.Errorf("attach volume %s: %w", id, err)
		}
		// Cinder's attach adds readonly=False when the volume has no
		// readonly flag yet (volume/api.py attach); views show it in
		// metadata from then on.
		if _, ok := v.AdminMetadata["readonly"]; ok {
			return nil
		}
		return setMapKeys(ctx, tx, "volume_admin_metadata", "volume_id", id, map[string]string{"readonly": "False"})
	})
}

// BeginDetaching is os-begin_detaching: an in-use, attached volume
// becomes "detaching".
func (s *Service) BeginDetaching(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.BeginDetachingTx(ctx, tx, p, id)
	})
}

// BeginDetachingTx is BeginDetaching in the caller's transaction.
func (s *Service) BeginDetachingTx(ctx context.Context, tx *store.Tx, p *auth.Principal, id string) error {
	v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return err
	}
	if v.Status != StatusInUse || v.AttachStatus != AttachAttached {
		return invalidVolume("Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.")
	}
	return s.setStatus(ctx, tx, id, StatusDetaching)
}

// RollDetaching is os-roll_detaching: detaching back to in-use.
func (s *Service) RollDetaching(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		_, err := s.casStatus(ctx, tx, id, []string{StatusDetaching}, StatusInUse)
		return err
	})
}

// detachTarget is the attachment os-detach and os-force_detach take off
// v: the one named, or v's only one. A volume with none is just made
// available and detached, as Cinder does, and the answer is "".
func (s *Service) detachTarget(ctx context.Context, tx *store.Tx, v *Volume, attachmentID string) (string, error) {
	if v.Status == StatusMaintenance {
		return "", invalidVolume("The volume cannot be detached in maintenance mode.")
	}
	if attachmentID != "" {
		return attachmentID, nil
	}
	switch len(v.Attachments) {
	case 0:
		_, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, attach_status = ?, updated_at = ? WHERE id = ?`,
			StatusAvailable, AttachDetached, s.ts(), v.ID)
		return "", err
	case 1:
		return v.Attachments[0].ID, nil
	}
	return "", invalidVolume("Detach volume failed: More than one attachment, but no attachment_id provided.")
}

// Detach is os-detach: the attachment (attachmentID, or the only one)
// goes and the volume follows what remains.
func (s *Service) Detach(ctx context.Context, p *auth.Principal, id, attachmentID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if attachmentID, err = s.detachTarget(ctx, tx, v, attachmentID); err != nil || attachmentID == "" {
			return err
		}
		ok := false
		for _, a := range v.Attachments {
			ok = ok || a.ID == attachmentID
		}
		if !ok {
			return attachmentNotFound("attachment_id = " + attachmentID)
		}
		return s.finishDetach(ctx, tx, id, attachmentID)
	})
}

// InitializeConnection is os-initialize_connection: the connection info
// ({"driver_volume_type", "data"}) for the connector's host.
func (s *Service) InitializeConnection(ctx context.Context, p *auth.Principal, id string, connector map[string]any) (map[string]any, error) {
	v, err := getVolume(ctx, s.db, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return nil, err
	}
	if v.Status == StatusMaintenance {
		return nil, invalidVolume("The volume connection cannot be initialized in maintenance mode.")
	}
	if v.Location == "" {
		return nil, invalidVolume("Volume %s has no data to connect to (status %s).", v.ID, v.Status)
	}
	mode, _ := connector["mode"].(string)
	if mode == "" {
		mode = "rw"
		if v.Readonly() {
			mode = "ro"
		}
	}
	data := s.connectionData(v, mode)
	if data["qos_specs"], err = connectionQoS(ctx, s.db, v); err != nil {
		return nil, err
	}
	return map[string]any{"driver_volume_type": "local", "data": data}, nil
}

// TerminateConnection is os-terminate_connection: the connection ends
// and an attaching volume is unreserved.
func (s *Service) TerminateConnection(ctx context.Context, p *auth.Principal, id string, connector map[string]any) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.unreserve(ctx, tx, p, id)
	})
}
