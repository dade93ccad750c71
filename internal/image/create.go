package image

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// CreateRequest is what a client may give when registering an image.
// Zero values mean "not given": Glance's defaults apply.
type CreateRequest struct {
	ID              string
	Name            *string
	Visibility      string // default shared
	Owner           string // default the caller's project
	ContainerFormat *string
	DiskFormat      *string
	MinDisk         int
	MinRAM          int
	Protected       bool
	OSHidden        bool
	Tags            []string
	Properties      map[string]string
}

// Create registers a queued image owned by the caller's project (or by
// req.Owner when an admin asks), within the caller's project's
// image_count_total (413 otherwise, as Glance).
func (s *Service) Create(ctx context.Context, p *auth.Principal, req CreateRequest) (*Image, error) {
	return s.create(ctx, p, req, true)
}

// create is Create; checked false skips the quota.
func (s *Service) create(ctx context.Context, p *auth.Principal, req CreateRequest, checked bool) (*Image, error) {
	img, err := s.newImage(p, req)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if checked {
			if err := s.enforceCount(ctx, tx, p, img); err != nil {
				return err
			}
		}
		return insertImage(ctx, tx, img)
	})
	if store.IsUniqueViolation(err) {
		return nil, errs.Conflict("An image with identifier %s already exists", img.ID)
	}
	if err != nil {
		return nil, err
	}
	return img, nil
}

func (s *Service) newImage(p *auth.Principal, req CreateRequest) (*Image, error) {
	for k := range req.Properties {
		if err := checkWritable(k); err != nil {
			return nil, err
		}
	}
	owner := req.Owner
	if owner == "" {
		owner = projectOf(p)
	}
	if owner != projectOf(p) && !p.IsAdmin() {
		return nil, errs.Forbidden("You are not permitted to create images owned by '%s'", owner)
	}
	visibility := req.Visibility
	if visibility == "" {
		visibility = Shared
	}
	if err := checkVisibilityChange(p, visibility); err != nil {
		return nil, err
	}
	id := req.ID
	if id == "" {
		id = uuid.NewString()
	} else if !uuidPattern.MatchString(id) {
		return nil, errs.Invalid("Provided object does not match schema 'image': '%s' does not match the id pattern", id)
	}
	now := store.Now()
	img := &Image{
		ID: id, Name: req.Name, Status: StatusQueued, Visibility: visibility, Owner: owner,
		ContainerFormat: req.ContainerFormat, DiskFormat: req.DiskFormat, MinDisk: req.MinDisk,
		MinRAM: req.MinRAM, Protected: req.Protected, OSHidden: req.OSHidden,
		Tags: uniqueTags(req.Tags), Properties: maps.Clone(req.Properties),
		CreatedAt: now, UpdatedAt: now,
	}
	if img.Properties == nil {
		img.Properties = map[string]string{}
	}
	if err := validate(img); err != nil {
		return nil, err
	}
	return img, nil
}

// enforceCount is Glance's image_count_total check of a new image,
// against the caller's project.
func (s *Service) enforceCount(ctx context.Context, tx *store.Tx, p *auth.Principal, img *Image) error {
	return s.enforce(ctx, tx, quotaProject(p, img.Owner), map[string]int64{QuotaImageCountTotal: 1})
}

// Delete removes an image the caller owns (or any, for an admin): the
// record becomes deleted and disappears from every view, and its file is
// removed. Protected images cannot be deleted.
//
// A delete must work when the disk is full, since it is how space comes
// back: the file is first renamed aside (no space needed), then the
// record is marked deleted; when that write fails for lack of space the
// file is removed, freeing its space, and the write tried again. The
// file goes only once the record says deleted, or the delete failed on
// a full disk anyway (the image then has no data and can be deleted
// again); any other failure puts it back. A crash in between leaves the
// file aside, and Recover puts it back or removes it by the record.
func (s *Service) Delete(ctx context.Context, p *auth.Principal, id string) error {
	// Read-only checks first, so a refused delete touches nothing.
	img, err := getModifiable(ctx, s.db, p, id, "delete_image")
	if err != nil {
		return err
	}
	if img.Protected {
		return errs.Forbidden("Image %s is protected and cannot be deleted.", id)
	}
	aside, err := s.setAside(id)
	if err != nil {
		return err
	}
	err = s.markDeleted(ctx, p, id)
	if err != nil && aside && store.IsDiskFull(err) {
		aside = false
		if rerr := os.Remove(s.trashPath(id)); rerr == nil || errors.Is(rerr, os.ErrNotExist) {
			err = s.markDeleted(ctx, p, id)
		}
	}
	if err != nil {
		if aside {
			_ = os.Rename(s.trashPath(id), s.dataPath(id))
		}
		return err
	}
	_ = os.Remove(s.trashPath(id)) // a failure leaves it to Recover
	s.removeStaged(id)
	return nil
}

// setAside renames an image's file to its trash name; false when the
// image has no file.
func (s *Service) setAside(id string) (bool, error) {
	err := os.Rename(s.dataPath(id), s.trashPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("set image file %s aside: %w", id, err)
	}
	return true, nil
}

// markDeleted marks an image deleted, checking again in the transaction
// that the caller may and that it is not protected.
func (s *Service) markDeleted(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		img, err := getModifiable(ctx, tx, p, id, "delete_image")
		if err != nil {
			return err
		}
		if img.Protected {
			return errs.Forbidden("Image %s is protected and cannot be deleted.", id)
		}
		_, err = deleteRecord(ctx, tx, id, "")
		return err
	})
}

// deleteRecord deletes image id's record in tx (status deleted, its
// properties, tags and members gone) if it is in status, or in any status
// when status is "", and reports whether it did.
func deleteRecord(ctx context.Context, tx *store.Tx, id, status string) (bool, error) {
	now := store.Now()
	q, args := `UPDATE images SET status = ?, deleted = TRUE, deleted_at = ?, updated_at = ? WHERE id = ? AND deleted = FALSE`,
		[]any{StatusDeleted, now, now, id}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("delete image %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	for _, table := range []string{"image_properties", "image_tags", "image_members"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE image_id = ?`, id); err != nil {
			return false, fmt.Errorf("delete image %s: %w", id, err)
		}
	}
	return true, nil
}

// update runs fn on an image the caller may modify, then saves it.
func (s *Service) update(ctx context.Context, p *auth.Principal, id, action string, fn func(img *Image) error) (*Image, error) {
	var out *Image
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		img, err := getModifiable(ctx, tx, p, id, action)
		if err != nil {
			return err
		}
		if err := fn(img); err != nil {
			return err
		}
		if err := validate(img); err != nil {
			return err
		}
		img.UpdatedAt = store.Now()
		if err := saveImage(ctx, tx, img); err != nil {
			return err
		}
		out = img
		return nil
	})
	return out, err
}

// AddTag tags an image (idempotent).
func (s *Service) AddTag(ctx context.Context, p *auth.Principal, id, tag string) error {
	if len(tag) > 255 {
		return errs.Invalid("Tag '%s' is longer than 255 characters", tag)
	}
	_, err := s.update(ctx, p, id, "modify_image", func(img *Image) error {
		img.Tags = uniqueTags(append(img.Tags, tag))
		return nil
	})
	return err
}

// DeleteTag removes a tag; 404 when the image does not carry it.
func (s *Service) DeleteTag(ctx context.Context, p *auth.Principal, id, tag string) error {
	_, err := s.update(ctx, p, id, "modify_image", func(img *Image) error {
		i := slices.Index(img.Tags, tag)
		if i < 0 {
			return errs.NotFound("Tag %s not found", tag)
		}
		img.Tags = slices.Delete(img.Tags, i, i+1)
		return nil
	})
	return err
}

// SetProperties replaces all extra properties of an image (Nova's image
// metadata calls purge what they do not send).
func (s *Service) SetProperties(ctx context.Context, p *auth.Principal, id string, props map[string]string) (*Image, error) {
	for k := range props {
		if err := checkWritable(k); err != nil {
			return nil, err
		}
	}
	return s.update(ctx, p, id, "modify_image", func(img *Image) error {
		img.Properties = maps.Clone(props)
		if img.Properties == nil {
			img.Properties = map[string]string{}
		}
		return nil
	})
}

// Deactivate makes an active image's data unavailable; deactivating a
// deactivated image does nothing.
func (s *Service) Deactivate(ctx context.Context, p *auth.Principal, id string) error {
	return s.setActivation(ctx, p, id, "deactivate", StatusActive, StatusDeactivated)
}

// Reactivate undoes Deactivate.
func (s *Service) Reactivate(ctx context.Context, p *auth.Principal, id string) error {
	return s.setActivation(ctx, p, id, "reactivate", StatusDeactivated, StatusActive)
}

func (s *Service) setActivation(ctx context.Context, p *auth.Principal, id, action, from, to string) error {
	_, err := s.update(ctx, p, id, action, func(img *Image) error {
		if img.Status != from && img.Status != to {
			return errs.Forbidden("Not allowed to %s image in status '%s'", action, img.Status)
		}
		img.Status = to
		return nil
	})
	return err
}
