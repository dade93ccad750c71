package image

// Glance's interoperable import, first half: PUT /v2/images/{id}/stage
// puts an image's data in the staging area (Glance's node_staging_uri,
// here a directory beside the image files) and leaves the image
// uploading; an import (glance-direct) then moves it into the store.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// stagingDir is the staging area's name in the image directory.
const stagingDir = ".staging"

// stagingPath is where an image's staged data lives.
func (s *Service) stagingPath(id string) string { return filepath.Join(s.dir, stagingDir, id) }

// Stage stores an image's data in the staging area. The image must be
// queued; it is uploading from then on, with the staged size recorded.
// The data counts against the project's image_stage_total (checked with
// the declared size before anything is read, then as it streams) and
// keeps clear of the disk reserve. If staging fails the image returns
// to queued and nothing stays staged.
func (s *Service) Stage(ctx context.Context, p *auth.Principal, id string, data io.Reader, expectedSize int64) error {
	if err := s.checkDiskReserve(expectedSize); err != nil {
		return err
	}
	up, err := s.startStage(ctx, p, id, expectedSize)
	if err != nil {
		return storageFullIfDiskFull(err)
	}
	sum, err := s.writeFile(id, s.stagingPath(id), up, data, expectedSize)
	if err != nil {
		s.abortStage(context.WithoutCancel(ctx), id)
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.enforce(ctx, tx, up.project, map[string]int64{QuotaImageStageTotal: sum.size / mib}); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE images SET size = ?, updated_at = ? WHERE id = ? AND status = ? AND deleted = FALSE`,
			sum.size, store.Now(), id, StatusUploading)
		if err != nil {
			return fmt.Errorf("record staged data of image %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Gone("Image %s could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.", id)
		}
		return nil
	})
	if err != nil {
		s.abortStage(context.WithoutCancel(ctx), id)
		return storageFullIfDiskFull(err)
	}
	return nil
}

// startStage moves a queued image to uploading after Glance's checks:
// image_stage_total with the declared size first, the caller's right
// to modify the image, then image_count_uploading with it counted.
func (s *Service) startStage(ctx context.Context, p *auth.Principal, id string, size int64) (uploadPlan, error) {
	up := uploadPlan{checked: true, project: quotaProject(p, ""), budget: -1, resource: QuotaImageStageTotal}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.enforce(ctx, tx, up.project, map[string]int64{QuotaImageStageTotal: max(size, 0) / mib}); err != nil {
			return err
		}
		img, err := getModifiable(ctx, tx, p, id, "modify_image")
		if err != nil {
			return err
		}
		if up.project == "" {
			up.project = img.Owner
		}
		if img.Status != StatusQueued {
			return errs.Conflict("Image status transition from %s to uploading is not allowed", img.Status)
		}
		if img.DiskFormat != nil {
			up.diskFormat = *img.DiskFormat
		}
		if up.budget, up.usedMiB, up.limitMiB, err = s.budget(ctx, tx, up.project, QuotaImageStageTotal); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE images SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			StatusUploading, store.Now(), id, StatusQueued); err != nil {
			return fmt.Errorf("start staging image %s: %w", id, err)
		}
		return s.enforce(ctx, tx, up.project, map[string]int64{QuotaImageCountUploading: 0})
	})
	return up, err
}

// abortStage undoes a failed stage: the image is queued again without a
// size and its staged data is gone.
func (s *Service) abortStage(ctx context.Context, id string) {
	_ = os.Remove(s.stagingPath(id))
	_, _ = s.db.ExecContext(ctx, `UPDATE images SET status = ?, size = NULL, virtual_size = NULL, updated_at = ?
		WHERE id = ? AND status = ?`, StatusQueued, store.Now(), id, StatusUploading)
}

// removeStaged drops an image's staged data, if any.
func (s *Service) removeStaged(id string) {
	_ = os.Remove(s.stagingPath(id))
}

// recoverStaging settles the staging area after a restart: partial
// writes go, staged data of images no longer uploading or importing
// goes, and an image left uploading without staged data (its stage died
// with the process) is queued again.
func (s *Service) recoverStaging(ctx context.Context) error {
	dir := filepath.Join(s.dir, stagingDir)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read staging dir: %w", err)
	}
	staged := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		var status string
		err := s.db.QueryRowContext(ctx, `SELECT status FROM images WHERE id = ? AND deleted = FALSE`, name).Scan(&status)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("check staged data %s: %w", name, err)
		}
		if err == nil && (status == StatusUploading || status == StatusImporting) {
			staged[name] = true
			continue
		}
		_ = os.Remove(filepath.Join(dir, name))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM images WHERE status = ? AND deleted = FALSE`, StatusUploading)
	if err != nil {
		return fmt.Errorf("list staged images: %w", err)
	}
	var lost []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("scan staged image: %w", err)
		}
		if !staged[id] {
			lost = append(lost, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list staged images: %w", err)
	}
	for _, id := range lost {
		if _, err := s.db.ExecContext(ctx, `UPDATE images SET status = ?, size = NULL, virtual_size = NULL, updated_at = ?
			WHERE id = ? AND status = ?`, StatusQueued, store.Now(), id, StatusUploading); err != nil {
			return fmt.Errorf("reset interrupted stage of %s: %w", id, err)
		}
	}
	return nil
}
