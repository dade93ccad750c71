package image

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// tempPrefix names partial uploads in the data directory.
const tempPrefix = ".upload-"

// Upload stores an image's data. The image must be queued with its disk
// and container formats set; it is saving while the data streams to a
// temporary file and active once the file is complete and renamed into
// place. expectedSize, when >= 0, must match the data's length. If the
// upload fails the image returns to queued and no file is left behind.
func (s *Service) Upload(ctx context.Context, p *auth.Principal, id string, data io.Reader, expectedSize int64) (*Image, error) {
	diskFormat, err := s.startUpload(ctx, p, id)
	if err != nil {
		return nil, err
	}
	sum, err := s.writeFile(id, diskFormat, data, expectedSize)
	if err != nil {
		// Use a fresh context: the request's may be what failed.
		s.abortUpload(context.WithoutCancel(ctx), id)
		return nil, err
	}
	img, err := s.finishUpload(ctx, id, sum)
	if err != nil {
		s.removeFile(id)
		return nil, err
	}
	return img, nil
}

// startUpload moves a queued image to saving, so a second upload of the
// same image is refused while this one runs.
func (s *Service) startUpload(ctx context.Context, p *auth.Principal, id string) (diskFormat string, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		img, err := getModifiable(ctx, tx, p, id, "upload_image")
		if err != nil {
			return err
		}
		if img.Status != StatusQueued {
			return errs.Conflict("Image status transition from %s to saving is not allowed", img.Status)
		}
		var missing []string
		if img.DiskFormat == nil {
			missing = append(missing, "disk_format")
		}
		if img.ContainerFormat == nil {
			missing = append(missing, "container_format")
		}
		switch len(missing) {
		case 1:
			return errs.Invalid("Property %s must be set prior to saving data.", missing[0])
		case 2:
			return errs.Invalid("Properties %s must be set prior to saving data.", strings.Join(missing, ", "))
		}
		diskFormat = *img.DiskFormat
		_, err = tx.ExecContext(ctx, `UPDATE images SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			StatusSaving, store.Now(), id, StatusQueued)
		return err
	})
	return diskFormat, err
}

// fileSum is what writing an image file learns about its data.
type fileSum struct {
	size        int64
	virtualSize *int64
	md5         string
	sha512      string
}

// writeFile streams data to a temporary file, syncs it and renames it to
// the image's data path, so a crash leaves either no file or a whole one.
func (s *Service) writeFile(id, diskFormat string, data io.Reader, expectedSize int64) (fileSum, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fileSum{}, fmt.Errorf("create image dir: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, tempPrefix+id+"-")
	if err != nil {
		return fileSum{}, fmt.Errorf("create image file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	defer tmp.Close()
	md, sh := md5.New(), sha512.New()
	head := &headBuffer{max: 512}
	// One byte past the cap tells a too-large upload; a cap of MaxInt64
	// must not wrap to a negative read limit (which would read nothing).
	limit := min(s.MaxSize, math.MaxInt64-1)
	n, err := io.Copy(io.MultiWriter(tmp, md, sh, head), io.LimitReader(data, limit+1))
	if err != nil {
		return fileSum{}, errs.Invalid("Error reading image data: %v", err)
	}
	if n > limit {
		return fileSum{}, errs.TooLarge("The incoming image is too large: the image size cap is %d bytes", limit)
	}
	if expectedSize >= 0 && n != expectedSize {
		return fileSum{}, errs.Invalid("Size mismatch: the data is %d bytes, x-openstack-image-size says %d", n, expectedSize)
	}
	if err := tmp.Sync(); err != nil {
		return fileSum{}, fmt.Errorf("sync image file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fileSum{}, fmt.Errorf("close image file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.dataPath(id)); err != nil {
		return fileSum{}, fmt.Errorf("store image file: %w", err)
	}
	// The rename must be durable before the image is marked active.
	if err := syncDir(s.dir); err != nil {
		s.removeFile(id)
		return fileSum{}, err
	}
	return fileSum{size: n, virtualSize: virtualSize(diskFormat, head.b, n), md5: hex.EncodeToString(md.Sum(nil)),
		sha512: hex.EncodeToString(sh.Sum(nil))}, nil
}

// finishUpload records the data and activates the image. If the image
// was deleted meanwhile the upload is gone (410), as in Glance.
func (s *Service) finishUpload(ctx context.Context, id string, sum fileSum) (*Image, error) {
	var out *Image
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET status = ?, size = ?, virtual_size = ?, checksum = ?,
			os_hash_algo = ?, os_hash_value = ?, updated_at = ? WHERE id = ? AND status = ? AND deleted = FALSE`,
			StatusActive, sum.size, sum.virtualSize, sum.md5, "sha512", sum.sha512, store.Now(), id, StatusSaving)
		if err != nil {
			return fmt.Errorf("activate image %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Gone("Image %s could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.", id)
		}
		out, err = loadImage(ctx, tx, id)
		return err
	})
	return out, err
}

// abortUpload returns a saving image to queued after a failed upload.
func (s *Service) abortUpload(ctx context.Context, id string) {
	_, _ = s.db.ExecContext(ctx, `UPDATE images SET status = ?, size = NULL, virtual_size = NULL, updated_at = ?
		WHERE id = ? AND status = ?`, StatusQueued, store.Now(), id, StatusSaving)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open image dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync image dir: %w", err)
	}
	return nil
}

func (s *Service) removeFile(id string) {
	_ = os.Remove(s.dataPath(id))
}

// Data is an open image file.
type Data struct {
	io.ReadCloser
	Size     int64
	Checksum string
}

// Open returns an image's data for reading; nil Data (and no error) when
// the image has none yet. Deactivated images refuse downloads except to
// admins.
func (s *Service) Open(ctx context.Context, p *auth.Principal, id string) (*Data, error) {
	img, err := getVisible(ctx, s.db, p, id)
	if err != nil {
		return nil, err
	}
	if img.Status == StatusDeactivated && !p.IsAdmin() {
		return nil, errs.Forbidden("The requested image has been deactivated. Image data download is forbidden.")
	}
	if img.Status != StatusActive && img.Status != StatusDeactivated {
		return nil, nil
	}
	f, err := os.Open(s.dataPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errs.NotFound("Image data for %s could not be found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("open image file %s: %w", id, err)
	}
	d := &Data{ReadCloser: f}
	if img.Size != nil {
		d.Size = *img.Size
	}
	if img.Checksum != nil {
		d.Checksum = *img.Checksum
	}
	return d, nil
}

// CreateFromReader registers an image and uploads its data in one call
// (server snapshots). On a failed upload the half-made image is deleted.
func (s *Service) CreateFromReader(ctx context.Context, p *auth.Principal, req CreateRequest, data io.Reader) (*Image, error) {
	img, err := s.Create(ctx, p, req)
	if err != nil {
		return nil, err
	}
	out, err := s.Upload(ctx, p, img.ID, data, -1)
	if err != nil {
		_ = s.Delete(context.WithoutCancel(ctx), p, img.ID)
		return nil, err
	}
	return out, nil
}

// Recover repairs what a crash can leave behind: images stuck in saving
// (their upload died with the process) go back to queued, and temporary
// or orphaned files are removed. Call it at startup, before serving.
func (s *Service) Recover(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE images SET status = ?, updated_at = ? WHERE status = ?`,
		StatusQueued, store.Now(), StatusSaving); err != nil {
		return fmt.Errorf("reset interrupted uploads: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read image dir: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, tempPrefix) {
			_ = os.Remove(filepath.Join(s.dir, name))
			continue
		}
		var status string
		err := s.db.QueryRowContext(ctx, `SELECT status FROM images WHERE id = ? AND deleted = FALSE`, name).Scan(&status)
		switch {
		case errors.Is(err, sql.ErrNoRows), err == nil && status != StatusActive && status != StatusDeactivated:
			_ = os.Remove(filepath.Join(s.dir, name))
		case err != nil:
			return fmt.Errorf("check image file %s: %w", name, err)
		}
	}
	return nil
}

// headBuffer keeps the first bytes written to it, to sniff the format.
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// virtualSize is the disk size the data represents, for the formats
// whose size is cheap to know: a qcow2 header's size field, the file size
// of raw and iso data; nil for the rest.
func virtualSize(diskFormat string, head []byte, size int64) *int64 {
	switch diskFormat {
	case "qcow2":
		if len(head) >= 32 && string(head[:4]) == "QFI\xfb" {
			v := int64(binary.BigEndian.Uint64(head[24:32]))
			return &v
		}
		return nil
	case "raw", "iso":
		return &size
	}
	return nil
}
