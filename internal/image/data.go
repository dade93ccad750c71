package image

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Names of files in the image directory that are not (yet, or any
// longer) an image's data: partial uploads, and the file of an image
// being deleted.
const (
	tempPrefix  = ".upload-"
	trashPrefix = ".deleting-"
)

// Upload stores an image's data. The image must be queued with its disk
// and container formats set; it is saving while the data streams to a
// temporary file and active once the file is complete and renamed into
// place. expectedSize, when >= 0, is the data's declared length: it
// must match, and an upload it would take over the project's
// image_size_total or into the disk reserve is refused (413) before
// anything is read. Without it the upload stops (413) where it goes
// over either. If the upload fails the image returns to queued and no
// file is left behind.
func (s *Service) Upload(ctx context.Context, p *auth.Principal, id string, data io.Reader, expectedSize int64) (*Image, error) {
	return s.upload(ctx, p, id, data, expectedSize, true)
}

// upload is Upload; checked false skips the quotas and the disk reserve
// (the built-in image kumo seeds).
func (s *Service) upload(ctx context.Context, p *auth.Principal, id string, data io.Reader, expectedSize int64, checked bool) (*Image, error) {
	// The reserve is checked before any database write, so a disk that
	// is full answers 413 rather than failing that write.
	if checked {
		if err := s.checkDiskReserve(expectedSize); err != nil {
			return nil, err
		}
	}
	up, err := s.startUpload(ctx, p, id, expectedSize, checked)
	if err != nil {
		return nil, storageFullIfDiskFull(err)
	}
	sum, err := s.writeFile(id, s.dataPath(id), up, data, expectedSize)
	if err != nil {
		// Use a fresh context: the request's may be what failed.
		s.abortUpload(context.WithoutCancel(ctx), id)
		return nil, err
	}
	img, err := s.finishUpload(ctx, id, up, sum)
	if err != nil {
		s.removeFile(id)
		s.abortUpload(context.WithoutCancel(ctx), id)
		return nil, storageFullIfDiskFull(err)
	}
	return img, nil
}

// storageFullIfDiskFull turns a database write refused for lack of space
// into Glance's 413: the image store and the database share the disk.
func storageFullIfDiskFull(err error) error {
	if store.IsDiskFull(err) {
		return storageFull()
	}
	return err
}

// uploadPlan is what an accepted upload may write.
type uploadPlan struct {
	diskFormat string
	checked    bool
	project    string // whose image_size_total the data counts against
	// budget is the most bytes the project's quota allows (-1: no
	// limit); usedMiB and limitMiB explain a refusal of resource
	// (image_size_total when empty).
	budget, usedMiB, limitMiB int64
	resource                  string
}

// startUpload moves a queued image to saving, so a second upload of the
// same image is refused while this one runs. Like Glance it first checks
// the caller's image_size_total with the declared size as delta, then,
// with this image counted, image_count_uploading.
func (s *Service) startUpload(ctx context.Context, p *auth.Principal, id string, size int64, checked bool) (uploadPlan, error) {
	var up uploadPlan
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
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
		up = uploadPlan{diskFormat: *img.DiskFormat, checked: checked, project: quotaProject(p, img.Owner), budget: -1}
		if checked {
			if err := s.enforce(ctx, tx, up.project, map[string]int64{QuotaImageSizeTotal: max(size, 0) / mib}); err != nil {
				return err
			}
			if up.budget, up.usedMiB, up.limitMiB, err = s.sizeBudget(ctx, tx, up.project); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE images SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
			StatusSaving, store.Now(), id, StatusQueued); err != nil {
			return fmt.Errorf("start upload of image %s: %w", id, err)
		}
		if checked {
			return s.enforce(ctx, tx, up.project, map[string]int64{QuotaImageCountUploading: 0})
		}
		return nil
	})
	return up, err
}

// fileSum is what writing an image file learns about its data.
type fileSum struct {
	size        int64
	virtualSize *int64
	md5         string
	sha512      string
}

// uploadBuffer is how much of an upload is read and written at a time.
const uploadBuffer = 256 << 10

// writeFile streams data to a temporary file, syncs it and renames it to
// dst (the image's data path, or its staging path), so a crash leaves
// either no file or a whole one.
// It stops at the image size cap, the project's quota and the disk
// reserve (413s); a disk that fills up regardless is Glance's 413 too,
// and errors never show a path.
func (s *Service) writeFile(id, dst string, up uploadPlan, data io.Reader, expectedSize int64) (fileSum, error) {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fileSum{}, writeError("create image dir", err)
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+id+"-")
	if err != nil {
		return fileSum{}, writeError("create image file", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	defer tmp.Close()
	md, sh := md5.New(), sha512.New()
	head := &headBuffer{max: 512}
	guard := diskGuard{dir: s.dir}
	if up.checked {
		guard.reserve = s.DiskReserve
	}
	buf := make([]byte, uploadBuffer)
	var n int64
	for {
		k, rerr := data.Read(buf)
		if k > 0 {
			n += int64(k)
			if n > s.MaxSize {
				return fileSum{}, errs.TooLarge("The incoming image is too large: the image size cap is %d bytes", s.MaxSize)
			}
			if up.budget >= 0 && n > up.budget {
				resource := cmp.Or(up.resource, QuotaImageSizeTotal)
				return fileSum{}, limitExceeded(up.project, []overLimit{{resource, up.limitMiB, up.usedMiB, n / mib}})
			}
			if err := guard.allow(int64(k)); err != nil {
				return fileSum{}, err
			}
			if _, err := tmp.Write(buf[:k]); err != nil {
				return fileSum{}, writeError("write image file", err)
			}
			md.Write(buf[:k])
			sh.Write(buf[:k])
			head.Write(buf[:k])
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fileSum{}, errs.Invalid("Error reading image data: %v", rerr)
		}
	}
	if expectedSize >= 0 && n != expectedSize {
		return fileSum{}, errs.Invalid("Size mismatch: the data is %d bytes, x-openstack-image-size says %d", n, expectedSize)
	}
	// Filesystems that allocate late report a full disk here.
	if err := tmp.Sync(); err != nil {
		return fileSum{}, writeError("sync image file", err)
	}
	if err := tmp.Close(); err != nil {
		return fileSum{}, writeError("close image file", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fileSum{}, writeError("store image file", err)
	}
	// The rename must be durable before the image is marked active.
	if err := syncDir(dir); err != nil {
		_ = os.Remove(dst)
		return fileSum{}, err
	}
	return fileSum{size: n, virtualSize: virtualSize(up.diskFormat, head.b, n), md5: hex.EncodeToString(md.Sum(nil)),
		sha512: hex.EncodeToString(sh.Sum(nil))}, nil
}

// writeError is Glance's 413 for a full disk (or a file too big for the
// filesystem), an internal error otherwise; the path stays in the log.
func writeError(what string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG) || errors.Is(err, syscall.EDQUOT) {
		return storageFull()
	}
	return fmt.Errorf("%s: %w", what, err)
}

// finishUpload records the data and activates the image. If the image
// was deleted meanwhile the upload is gone (410), as in Glance. The
// quota is checked again with the data's size, so uploads running side
// by side cannot go over it together.
func (s *Service) finishUpload(ctx context.Context, id string, up uploadPlan, sum fileSum) (*Image, error) {
	var out *Image
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if up.checked {
			if err := s.enforce(ctx, tx, up.project, map[string]int64{QuotaImageSizeTotal: sum.size / mib}); err != nil {
				return err
			}
		}
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
	return s.createFromReader(ctx, p, req, data, true)
}

// createFromReader is CreateFromReader; checked false skips the quotas
// and the disk reserve.
func (s *Service) createFromReader(ctx context.Context, p *auth.Principal, req CreateRequest, data io.Reader, checked bool) (*Image, error) {
	img, err := s.create(ctx, p, req, checked)
	if err != nil {
		return nil, err
	}
	out, err := s.upload(ctx, p, img.ID, data, -1, checked)
	if err != nil {
		_ = s.Delete(context.WithoutCancel(ctx), p, img.ID)
		return nil, err
	}
	return out, nil
}

// Recover repairs what a crash can leave behind: images stuck in saving
// (their upload died with the process) go back to queued, temporary or
// orphaned files are removed, imports a restart interrupted fail,
// staged data without its image goes, and the file of an image whose deletion
// did not commit goes back in place. Call it at startup, before serving.
func (s *Service) Recover(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE images SET status = ?, updated_at = ? WHERE status = ?`,
		StatusQueued, store.Now(), StatusSaving); err != nil {
		return fmt.Errorf("reset interrupted uploads: %w", err)
	}
	// Imports and stages a restart cut short (pending imports wait for
	// RunImports).
	if err := s.recoverTasks(ctx); err != nil {
		return err
	}
	if err := s.purgeExpiredTasks(ctx); err != nil {
		return err
	}
	if err := s.recoverStaging(ctx); err != nil {
		return err
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
		if name == stagingDir {
			continue
		}
		if strings.HasPrefix(name, tempPrefix) {
			_ = os.Remove(filepath.Join(s.dir, name))
			continue
		}
		if id, ok := strings.CutPrefix(name, trashPrefix); ok {
			if err := s.recoverTrash(ctx, id); err != nil {
				return err
			}
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

// recoverTrash settles the file Delete set aside for image id: back in
// place when the image is still there with its data, removed otherwise.
func (s *Service) recoverTrash(ctx context.Context, id string) error {
	var status string
	err := s.db.QueryRowContext(ctx, `SELECT status FROM images WHERE id = ? AND deleted = FALSE`, id).Scan(&status)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check image file %s: %w", id, err)
	}
	if err == nil && (status == StatusActive || status == StatusDeactivated) {
		if _, serr := os.Stat(s.dataPath(id)); errors.Is(serr, os.ErrNotExist) {
			if err := os.Rename(s.trashPath(id), s.dataPath(id)); err != nil {
				return fmt.Errorf("restore image file %s: %w", id, err)
			}
			return nil
		}
	}
	_ = os.Remove(s.trashPath(id))
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
