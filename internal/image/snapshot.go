package image

// Server snapshots: what Nova's compute side asks of Glance for
// createImage, createBackup and shelve. The compute API registers the
// queued image inside its own transaction (so the image exists exactly
// when the action is accepted), and the agent later uploads the guest's
// disk and, for backups, rotates old ones out.

import (
	"context"
	"fmt"
	"io"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// systemPrincipal is the compute service acting on images it made
// (uploads, cleanup, backup rotation), as Nova's elevated context does.
func systemPrincipal() *auth.Principal {
	return &auth.Principal{UserID: "nova", Roles: []string{"admin"}}
}

// CreateQueued registers a queued image for p in tx, the caller's
// transaction. member, when not "", is a project the image is shared with
// (Nova shares the snapshot of another project's server with its owner).
// The image counts against p's project's image_count_total, as Nova's
// snapshot goes through Glance's image create (413 when over).
func (s *Service) CreateQueued(ctx context.Context, tx *store.Tx, p *auth.Principal, req CreateRequest, member string) (*Image, error) {
	img, err := s.newImage(p, req)
	if err != nil {
		return nil, err
	}
	if err := s.enforceCount(ctx, tx, p, img); err != nil {
		return nil, err
	}
	if err := insertImage(ctx, tx, img); err != nil {
		return nil, fmt.Errorf("register image %s: %w", img.ID, err)
	}
	if member != "" {
		now := store.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_members (`+memberColumns+`) VALUES (?,?,?,?,?)`,
			img.ID, member, MemberPending, now, now); err != nil {
			return nil, fmt.Errorf("share image %s: %w", img.ID, err)
		}
	}
	return img, nil
}

// UploadSnapshot stores a server snapshot's data in a queued image and
// activates it. Like Nova's libvirt driver it sets the disk format to the
// snapshot's and keeps the container format the image has (bare if none).
func (s *Service) UploadSnapshot(ctx context.Context, id, diskFormat string, data io.Reader) (*Image, error) {
	p := systemPrincipal()
	_, err := s.update(ctx, p, id, "upload_image", func(img *Image) error {
		if img.Status != StatusQueued {
			return errs.Conflict("Image status transition from %s to saving is not allowed", img.Status)
		}
		if img.DiskFormat == nil || *img.DiskFormat != "ami" {
			img.DiskFormat = &diskFormat
		}
		if img.ContainerFormat == nil {
			bare := "bare"
			img.ContainerFormat = &bare
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Upload(ctx, p, id, data, -1)
}

// Status returns an image's status, or "" when it is gone (deleted or
// never existed), whoever owns it.
func (s *Service) Status(ctx context.Context, id string) (string, error) {
	img, err := getVisible(ctx, s.db, systemPrincipal(), id)
	if errs.Is(err, errs.KindNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return img.Status, nil
}

// DeleteSnapshot deletes an image compute made (a failed snapshot, a
// rotated backup, an unshelved server's image); an image already gone is
// not an error.
func (s *Service) DeleteSnapshot(ctx context.Context, id string) error {
	err := s.Delete(ctx, systemPrincipal(), id)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	return err
}

// DiscardQueued deletes, in tx, an image compute registered for a
// snapshot that will never be taken (its task was cancelled), if no data
// has started to arrive (still queued); a queued image has no file.
func (s *Service) DiscardQueued(ctx context.Context, tx *store.Tx, id string) error {
	_, err := deleteRecord(ctx, tx, id, StatusQueued)
	return err
}

// Backups lists a server's backups of backupType, newest first (the
// images Nova's _rotate_backups finds by their image_type, backup_type
// and instance_uuid properties).
func (s *Service) Backups(ctx context.Context, instanceID, backupType string) ([]*Image, error) {
	page, err := s.List(ctx, systemPrincipal(), ListOptions{
		Visibility: "all", MemberStatus: "all", NoLimit: true,
		Properties: map[string]string{"image_type": "backup", "backup_type": backupType, "instance_uuid": instanceID},
		Sort:       []Sort{{Key: "created_at", Dir: "desc"}},
	})
	if err != nil {
		return nil, fmt.Errorf("list backups of %s: %w", instanceID, err)
	}
	return page.Images, nil
}
