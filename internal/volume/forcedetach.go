package volume

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/store"
)

// ForceDetach is os-force_detach (admin; Cinder's detach_volume through
// the volume manager whatever the volume's status): the attachment named
// (or the only one) goes and the volume's status and attach_status follow
// what attachments are left, as Cinder's volume_detached — an "error"
// volume whose last attachment goes is "available". With no attachment
// named and none left the volume is just available and detached; an
// attachment named that is gone already only resets the statuses.
func (s *Service) ForceDetach(ctx context.Context, p *auth.Principal, id, attachmentID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if attachmentID, err = s.detachTarget(ctx, tx, v, attachmentID); err != nil || attachmentID == "" {
			return err
		}
		// Cinder's attachment_deletion_allowed: the attachment must be
		// the volume's.
		var owner string
		err = tx.QueryRowContext(ctx, `SELECT volume_id FROM volume_attachments WHERE id = ?`, attachmentID).Scan(&owner)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read attachment %s: %w", attachmentID, err)
		}
		if err == nil && owner != id {
			return invalidInput("Mismatched volume and attachment")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM volume_attachments WHERE id = ? AND volume_id = ?`, attachmentID, id); err != nil {
			return fmt.Errorf("delete attachment %s: %w", attachmentID, err)
		}
		status, attach, err := statusFromAttachments(ctx, tx, id)
		if err != nil {
			return err
		}
		// Cinder leaves the status of a volume being uploaded or migrated
		// to those flows; kumo's worker jobs (the transient statuses) too.
		keep := attach == AttachDetached && (v.Status == StatusUploading || migrating(v))
		if keep || isJobStatus(v.Status) {
			_, err = tx.ExecContext(ctx, `UPDATE volumes SET attach_status = ?, updated_at = ? WHERE id = ?`, attach, s.ts(), id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE volumes SET status = ?, attach_status = ?, updated_at = ? WHERE id = ?`, status, attach, s.ts(), id)
		}
		if err != nil {
			return fmt.Errorf("volume %s detached: %w", id, err)
		}
		if attach == AttachDetached {
			if _, err := tx.ExecContext(ctx, `DELETE FROM volume_admin_metadata WHERE volume_id = ? AND key = ?`, id, "attached_mode"); err != nil {
				return fmt.Errorf("volume %s detached: %w", id, err)
			}
		}
		return nil
	})
}

// statusFromAttachments is Cinder's _get_statuses_from_attachments: the
// first of the attachments' statuses in alphabetical order (attached,
// attaching, detaching, reserved), errors ignored; none is detached.
func statusFromAttachments(ctx context.Context, tx *store.Tx, volumeID string) (status, attach string, err error) {
	attach = AttachDetached
	var first *string
	if err := tx.QueryRowContext(ctx, `SELECT MIN(attach_status) FROM volume_attachments WHERE volume_id = ? AND attach_status NOT LIKE 'error%'`,
		volumeID).Scan(&first); err != nil {
		return "", "", fmt.Errorf("read attachments of %s: %w", volumeID, err)
	}
	if first != nil {
		attach = *first
	}
	switch attach {
	case AttachAttached:
		return StatusInUse, attach, nil
	case AttachDetached:
		return StatusAvailable, attach, nil
	}
	return attach, attach, nil
}

// isJobStatus reports the statuses the worker is to act on: its queue.
func isJobStatus(status string) bool {
	switch status {
	case StatusCreating, StatusDeleting, StatusExtending, StatusDownloading, StatusUploading, StatusReverting,
		StatusManaging, StatusUnmanaging:
		return true
	}
	return false
}
