package volume

import (
	"context"
	"encoding/json"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
)

// work is a volume's or snapshot's pending job and its parameters, kept
// in its row: the worker acts only on rows with one, so a status an
// admin sets (os-reset_status) never starts a job.
type work struct {
	Job        string `json:"job"`                   // create, delete, extend, upload
	Size       int    `json:"size,omitempty"`        // extend to
	ImageID    string `json:"image_id,omitempty"`    // upload into
	DiskFormat string `json:"disk_format,omitempty"` // upload as
	SnapshotID string `json:"snapshot_id,omitempty"` // revert to
}

// Jobs of the worker.
const (
	jobCreate  = "create"
	jobDelete  = "delete"
	jobExtend  = "extend"
	jobUpload  = "upload"
	jobRevert  = "revert"
	jobReimage = "reimage"
)

// jobJSON is the work column of a job without parameters.
func jobJSON(job string) string {
	b, _ := json.Marshal(work{Job: job})
	return string(b)
}

// Metadata returns a volume's metadata.
func (s *Service) Metadata(ctx context.Context, p *auth.Principal, id string) (map[string]string, error) {
	v, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return v.Metadata, nil
}

// SetMetadata sets metadata keys (replace: the whole set, Cinder's
// delete=True) and returns the volume's metadata.
func (s *Service) SetMetadata(ctx context.Context, p *auth.Principal, id string, md map[string]string, replace bool) (map[string]string, error) {
	var out map[string]string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if v.Status == StatusMaintenance || v.Status == StatusUploading {
			return invalidVolume("Updating volume metadata is not allowed for volumes in %s status.", v.Status)
		}
		if replace {
			err = replaceMap(ctx, tx, "volume_metadata", "volume_id", id, md)
		} else {
			err = setMapKeys(ctx, tx, "volume_metadata", "volume_id", id, md)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE volumes SET updated_at = ? WHERE id = ?`, s.ts(), id); err != nil {
			return err
		}
		out, err = readMap(ctx, tx, "volume_metadata", "volume_id", id)
		return err
	})
	return out, err
}

// DeleteMetadataKey removes one metadata key.
func (s *Service) DeleteMetadataKey(ctx context.Context, p *auth.Principal, id, key string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if v.Status == StatusMaintenance || v.Status == StatusUploading {
			return invalidVolume("Deleting volume metadata is not allowed for volumes in %s status.", v.Status)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM volume_metadata WHERE volume_id = ? AND key = ?`, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Named("VolumeMetadataNotFound", errs.NotFound("Volume %s has no metadata with key %s.", id, key))
		}
		return nil
	})
}

// ImageMetadata returns volume_image_metadata (os-show_image_metadata).
func (s *Service) ImageMetadata(ctx context.Context, p *auth.Principal, id string) (map[string]string, error) {
	v, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return v.ImageMetadata, nil
}

// SetImageMetadata sets image metadata keys (os-set_image_metadata).
func (s *Service) SetImageMetadata(ctx context.Context, p *auth.Principal, id string, md map[string]string) (map[string]string, error) {
	var out map[string]string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if v.Status == StatusMaintenance || v.Status == StatusUploading {
			return invalidVolume("Updating volume metadata is not allowed for volumes in %s status.", v.Status)
		}
		if err := setMapKeys(ctx, tx, "volume_image_metadata", "volume_id", id, md); err != nil {
			return err
		}
		out, err = readMap(ctx, tx, "volume_image_metadata", "volume_id", id)
		return err
	})
	return out, err
}

// DeleteImageMetadataKey removes one image metadata key
// (os-unset_image_metadata).
func (s *Service) DeleteImageMetadataKey(ctx context.Context, p *auth.Principal, id, key string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM volume_image_metadata WHERE volume_id = ? AND key = ?`, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Named("GlanceMetadataNotFound", errs.NotFound("Glance metadata for volume/snapshot %s cannot be found.", id))
		}
		return nil
	})
}

// Extend is os-extend: the volume becomes "extending" and the worker
// grows its data to newSize GiB. inUse is the API's decision that an
// in-use volume may be extended (3.42 and its policy); otherwise the
// volume must be available.
func (s *Service) Extend(ctx context.Context, p *auth.Principal, id string, newSize int, inUse bool) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		increase := newSize - v.Size
		if increase <= 0 {
			return invalidInput("New size for extend must be greater than current size. (current: %d, extended: %d).", v.Size, newSize)
		}
		expected := StatusAvailable
		if inUse && v.Status == StatusInUse {
			expected = StatusInUse
		}
		if v.Status != expected {
			return invalidVolume("Volume %s status must be '{'status': '%s'}' to extend, currently %s.", v.ID, expected, v.Status)
		}
		if err := s.reserve(ctx, tx, v.ProjectID, v.VolumeTypeName, usageDelta{gigabytes: int64(increase)}, int64(newSize)); err != nil {
			return err
		}
		w, _ := json.Marshal(work{Job: jobExtend, Size: newSize})
		_, err = tx.ExecContext(ctx, `UPDATE volumes SET status = ?, previous_status = ?, work = ?, updated_at = ? WHERE id = ?`,
			StatusExtending, v.Status, string(w), s.ts(), id)
		return err
	})
	if err == nil {
		s.Wake()
	}
	return err
}

// SetBootable is os-set_bootable.
func (s *Service) SetBootable(ctx context.Context, p *auth.Principal, id string, bootable bool) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE volumes SET bootable = ?, updated_at = ? WHERE id = ?`, bootable, s.ts(), id)
		return err
	})
}

// SetReadonly is os-update_readonly_flag (admin metadata "readonly").
func (s *Service) SetReadonly(ctx context.Context, p *auth.Principal, id string, readonly bool) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		if v.Status == StatusMaintenance {
			return invalidVolume("The volume cannot be updated during maintenance.")
		}
		val := "False"
		if readonly {
			val = "True"
		}
		return setMapKeys(ctx, tx, "volume_admin_metadata", "volume_id", id, map[string]string{"readonly": val})
	})
}

// ResetStatus is os-reset_status (admin): the statuses are set as given;
// attach_status "detached" drops the volume's attachments, as Cinder.
func (s *Service) ResetStatus(ctx context.Context, p *auth.Principal, id string, req ResetStatusRequest) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		now := s.ts()
		if req.Status != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, previous_status = ?, work = '', updated_at = ? WHERE id = ?`,
				*req.Status, v.Status, now, id); err != nil {
				return err
			}
		}
		if req.AttachStatus != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE volumes SET attach_status = ?, updated_at = ? WHERE id = ?`, *req.AttachStatus, now, id); err != nil {
				return err
			}
			if *req.AttachStatus == AttachDetached {
				if _, err := tx.ExecContext(ctx, `DELETE FROM volume_attachments WHERE volume_id = ?`, id); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM volume_admin_metadata WHERE volume_id = ? AND key = ?`, id, "attached_mode"); err != nil {
					return err
				}
			}
		}
		if req.MigrationStatus != nil {
			var ms any = *req.MigrationStatus
			if *req.MigrationStatus == "none" {
				ms = nil
			}
			if _, err := tx.ExecContext(ctx, `UPDATE volumes SET migration_status = ?, updated_at = ? WHERE id = ?`, ms, now, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// imageCoreKeys are the image fields volume_image_metadata records that
// are not image properties.
var imageCoreKeys = map[string]bool{"image_id": true, "image_name": true, "checksum": true, "container_format": true,
	"disk_format": true, "min_disk": true, "min_ram": true, "size": true, "name": true, "id": true}

// UploadToImage is os-volume_upload_image: an image is registered (queued)
// in the image service with the volume's image properties, the volume is
// "uploading" and the worker writes its data into the image, then gives
// the volume back its status.
func (s *Service) UploadToImage(ctx context.Context, p *auth.Principal, id string, req UploadRequest) (*UploadResult, error) {
	if s.cfg.Images == nil {
		return nil, errs.Invalid("No image service is configured.")
	}
	if req.DiskFormat == "" {
		req.DiskFormat = "raw"
	}
	if req.ContainerFormat == "" {
		req.ContainerFormat = "bare"
	}
	if req.Visibility == "" {
		req.Visibility = image.Private
	}
	var res *UploadResult
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		v, err := getVolume(ctx, tx, id, p.ProjectID, p.IsAdmin())
		if err != nil {
			return err
		}
		allowed := []string{StatusAvailable}
		if req.Force && s.cfg.EnableForceUpload {
			allowed = append(allowed, StatusInUse)
		}
		ok := false
		for _, st := range allowed {
			ok = ok || v.Status == st
		}
		if !ok {
			return invalidVolume("Volume %s status must be %s", v.ID, orList(allowed))
		}
		props := map[string]string{}
		for k, val := range v.ImageMetadata {
			if !imageCoreKeys[k] {
				props[k] = val
			}
		}
		name := req.ImageName
		img, err := s.cfg.Images.CreateQueued(ctx, tx, p, image.CreateRequest{
			Name: &name, Visibility: req.Visibility, DiskFormat: &req.DiskFormat, ContainerFormat: &req.ContainerFormat,
			Protected: req.Protected, Properties: props,
		}, "")
		if err != nil {
			return err
		}
		w, _ := json.Marshal(work{Job: jobUpload, ImageID: img.ID, DiskFormat: req.DiskFormat})
		now := s.ts()
		if _, err := tx.ExecContext(ctx, `UPDATE volumes SET status = ?, previous_status = ?, work = ?, updated_at = ? WHERE id = ?`,
			StatusUploading, v.Status, string(w), now, id); err != nil {
			return err
		}
		v.PreviousStatus, v.Status, v.UpdatedAt = v.Status, StatusUploading, store.Time(now)
		res = &UploadResult{Volume: v, ImageID: img.ID, ImageName: name, DiskFormat: req.DiskFormat,
			ContainerFormat: req.ContainerFormat, Visibility: img.Visibility, Protected: img.Protected,
			UpdatedAt: v.UpdatedAt.Format("2006-01-02T15:04:05.000000")}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Wake()
	return res, nil
}

// statusFor is the status a volume returns to after a job: its previous
// one when that was a resting status, else available.
func statusFor(prev string) string {
	switch prev {
	case StatusInUse, StatusAvailable:
		return prev
	}
	return StatusAvailable
}

// MetadataKey returns one metadata value of a volume.
func (s *Service) MetadataKey(ctx context.Context, p *auth.Principal, id, key string) (string, error) {
	md, err := s.Metadata(ctx, p, id)
	if err != nil {
		return "", err
	}
	v, ok := md[key]
	if !ok {
		return "", errs.Named("VolumeMetadataNotFound", errs.NotFound("Volume %s has no metadata with key %s.", id, key))
	}
	return v, nil
}
