package volume

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Statuses of a revert to a snapshot.
const (
	StatusReverting   = "reverting"
	SnapshotRestoring = "restoring"
)

// RevertToSnapshot is the revert action (3.40): an available volume gets
// back the data of its latest snapshot, which must be the one named and
// of the volume's size. The volume is "reverting" and the snapshot
// "restoring" until the worker has copied the data. Refusals of the
// states are conflicts (409), as Cinder's controller answers.
func (s *Service) RevertToSnapshot(ctx context.Context, p *auth.Principal, id, snapshotID string) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		var latest string
		var size int
		err = tx.QueryRowContext(ctx, `SELECT id, size_gb FROM snapshots WHERE volume_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`, id).Scan(&latest, &size)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Invalid("Volume %s doesn't have any snapshots.", id)
		}
		if err != nil {
			return fmt.Errorf("latest snapshot of %s: %w", id, err)
		}
		if snapshotID != latest {
			return errs.Invalid("Specified snapshot %s is None or not the latest one of volume %s.", snapshotID, id)
		}
		if v.Size != size {
			return errs.Invalid("Can't revert volume %s to its latest snapshot %s. The volume size must be equal to the snapshot size.", id, snapshotID)
		}
		w, _ := json.Marshal(work{Job: jobRevert, SnapshotID: snapshotID})
		ok, err := s.casStatus(ctx, tx, id, []string{StatusAvailable}, StatusReverting)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Named("InvalidVolume", errs.Conflict("Invalid volume: Can't revert volume %s to its latest snapshot %s. Volume's status must be 'available'.", id, snapshotID))
		}
		res, err := tx.ExecContext(ctx, `UPDATE snapshots SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			SnapshotRestoring, s.ts(), snapshotID, SnapshotAvailable)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Named("InvalidSnapshot", errs.Conflict("Invalid snapshot: Can't revert volume %s to its latest snapshot %s. Snapshot's status must be 'available'.", id, snapshotID))
		}
		_, err = tx.ExecContext(ctx, `UPDATE volumes SET previous_status = ?, work = ? WHERE id = ?`, v.Status, string(w), id)
		return err
	})
	if err == nil {
		s.Wake()
	}
	return err
}

// ReimageTx is os-reimage (3.68; Nova's rebuild of a volume-backed
// server): the volume's data is replaced with the image's. It must be
// available or error, or reserved when reserved is true (Nova reserves
// it first); it is "downloading" until the worker has written the image,
// then back to its previous status, with the image's metadata.
func (s *Service) ReimageTx(ctx context.Context, tx *store.Tx, p *auth.Principal, id, imageID string, reserved bool) error {
	v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
	if err != nil {
		return err
	}
	if len(v.Attachments) > 1 {
		return errs.Conflict("Cannot re-image a volume which is attached to more than one server.")
	}
	allowed := []string{StatusAvailable, StatusError}
	if reserved {
		allowed = append(allowed, StatusReserved)
	}
	img, err := s.imageFor(ctx, p, imageID)
	if err != nil {
		return err
	}
	ok, err := s.casStatus(ctx, tx, id, allowed, StatusDownloading)
	if err != nil {
		return err
	}
	if !ok {
		return invalidVolume("Volume %s status must be %s, but current status is %s.", id, orList(allowed), v.Status)
	}
	if err := checkImage(img, v.Size); err != nil {
		return err
	}
	w, _ := json.Marshal(work{Job: jobReimage, ImageID: img.ID})
	if _, err := tx.ExecContext(ctx, `UPDATE volumes SET previous_status = ?, work = ?, image_id = ? WHERE id = ?`,
		v.Status, string(w), img.ID, id); err != nil {
		return err
	}
	return replaceMap(ctx, tx, "volume_image_metadata", "volume_id", id, imageMetadata(img))
}

// Reimage is ReimageTx in its own transaction.
func (s *Service) Reimage(ctx context.Context, p *auth.Principal, id, imageID string, reserved bool) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error { return s.ReimageTx(ctx, tx, p, id, imageID, reserved) })
	if err == nil {
		s.Wake()
	}
	return err
}

// Retype is os-retype: an available or in-use volume changes type. All
// types share the one backend, so no data moves (Cinder's retype without
// migration); the per-type quotas of the new type must hold the volume.
func (s *Service) Retype(ctx context.Context, p *auth.Principal, id, newType string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		t, err := s.findType(ctx, tx, p, newType)
		if errs.Is(err, errs.KindNotFound) {
			return errs.Invalid("Invalid volume_type passed: %s.", newType)
		}
		if err != nil {
			return err
		}
		if (v.Status != StatusAvailable && v.Status != StatusInUse) || t.ID == v.VolumeTypeID ||
			(v.MigrationStatus != nil && *v.MigrationStatus != "" && *v.MigrationStatus != "success" && *v.MigrationStatus != "error") {
			return invalidVolume("Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.")
		}
		lim, err := s.limits(ctx, tx, v.ProjectID)
		if err != nil {
			return err
		}
		use, err := s.usage(ctx, tx, v.ProjectID)
		if err != nil {
			return err
		}
		if l := lim["gigabytes_"+t.Name]; l >= 0 && use["gigabytes_"+t.Name]+int64(v.Size) > l {
			return sizeExceedsQuota("gigabytes_"+t.Name, int64(v.Size), l, use["gigabytes_"+t.Name])
		}
		if l := lim["volumes_"+t.Name]; l >= 0 && use["volumes_"+t.Name]+1 > l {
			return volumeLimitExceeded(l, "volumes_"+t.Name)
		}
		multi := v.Multiattach
		if v.Status == StatusAvailable {
			multi = t.ExtraSpecs["multiattach"] == "<is> True"
		}
		_, err = tx.ExecContext(ctx, `UPDATE volumes SET volume_type_id = ?, multiattach = ?, updated_at = ? WHERE id = ?`,
			t.ID, multi, s.ts(), id)
		return err
	})
}

// ForceDetach is os-force_detach (admin): the attachment (or the only
// one) goes whatever the volume's status.
func (s *Service) ForceDetach(ctx context.Context, p *auth.Principal, id, attachmentID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if attachmentID == "" {
			if len(v.Attachments) != 1 {
				return invalidVolume("Detach volume failed: More than one attachment, but no attachment_id provided.")
			}
			attachmentID = v.Attachments[0].ID
		}
		found := false
		for _, a := range v.Attachments {
			found = found || a.ID == attachmentID
		}
		if !found {
			return attachmentNotFound("attachment_id = " + attachmentID)
		}
		return s.finishDetach(ctx, tx, id, attachmentID)
	})
}
