// Package volfile keeps volumes and snapshots as files in a directory
// (<data-dir>/volumes): sparse raw files, or qcow2 files made and
// converted with qemu-img where the deployment uses it. It implements
// volume.Backend. Every file is written under a temporary name and
// renamed into place, so a crash leaves either nothing or a whole disk,
// and every call can run again.
package volfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kumocloud/kumo/internal/volume"
)

const gib = int64(1) << 30

// Options configure the backend.
type Options struct {
	// QemuImg is the qemu-img binary ("" finds it on PATH; none means
	// raw files only and no conversion of non-raw images).
	QemuImg string
	// Qcow2 keeps new disks as qcow2 (needs qemu-img); raw otherwise.
	Qcow2 bool
}

// Backend is the file backend.
type Backend struct {
	dir     string
	qemuImg string
	format  string
}

// New returns the backend keeping its files in dir (created if missing).
func New(dir string, opts Options) (*Backend, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("volume directory: %w", err)
	}
	b := &Backend{dir: dir, format: "raw"}
	if opts.QemuImg != "" {
		b.qemuImg = opts.QemuImg
	} else if p, err := exec.LookPath("qemu-img"); err == nil {
		b.qemuImg = p
	}
	if opts.Qcow2 {
		if b.qemuImg == "" {
			return nil, errors.New("qcow2 volumes need qemu-img, which is not installed")
		}
		b.format = "qcow2"
	}
	return b, nil
}

// Format is the format new disks are kept in.
func (b *Backend) Format() string { return b.format }

var _ volume.Backend = (*Backend)(nil)

func (b *Backend) path(name, format string) string { return filepath.Join(b.dir, name+"."+format) }

// temp is a fresh temporary path for name.
func (b *Backend) temp(name string) (string, error) {
	f, err := os.CreateTemp(b.dir, ".tmp-"+name+"-*")
	if err != nil {
		return "", fmt.Errorf("temporary file: %w", err)
	}
	p := f.Name()
	f.Close()
	return p, nil
}

// commit renames tmp to name's file and makes the rename durable.
func (b *Backend) commit(tmp, name, format string) (volume.Disk, error) {
	dst := b.path(name, format)
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return volume.Disk{}, fmt.Errorf("place %s: %w", name, err)
	}
	if d, err := os.Open(b.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return volume.Disk{Location: dst, Format: format}, nil
}

// run runs qemu-img. Reads pass -U (force-share): QEMU locks the disks a
// running guest has open, and a forced snapshot or upload of an in-use
// volume is the crash-consistent copy Cinder makes of one.
func (b *Backend) run(ctx context.Context, args ...string) ([]byte, error) {
	if b.qemuImg == "" {
		return nil, errors.New("qemu-img is not installed")
	}
	out, err := exec.CommandContext(ctx, b.qemuImg, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("qemu-img %s: %v: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// Create makes a blank disk.
func (b *Backend) Create(ctx context.Context, name string, sizeGB int) (volume.Disk, error) {
	tmp, err := b.temp(name)
	if err != nil {
		return volume.Disk{}, err
	}
	size := int64(sizeGB) * gib
	if b.format == "qcow2" {
		_, err = b.run(ctx, "create", "-q", "-f", "qcow2", tmp, fmt.Sprint(size))
	} else {
		err = os.Truncate(tmp, size)
	}
	if err != nil {
		os.Remove(tmp)
		return volume.Disk{}, fmt.Errorf("create %s: %w", name, err)
	}
	return b.commit(tmp, name, b.format)
}

// qemuFormat is qemu-img's name of a Glance disk format.
func qemuFormat(diskFormat string) (string, error) {
	switch diskFormat {
	case "", "raw", "iso":
		return "raw", nil
	case "qcow2", "vmdk", "vdi", "vhdx":
		return diskFormat, nil
	case "vhd":
		return "vpc", nil
	}
	return "", fmt.Errorf("images in disk format %q cannot be written to a volume", diskFormat)
}

// CreateFromImage writes an image's data into a new disk.
func (b *Backend) CreateFromImage(ctx context.Context, name string, data io.Reader, diskFormat string, sizeGB int) (volume.Disk, error) {
	src, err := qemuFormat(diskFormat)
	if err != nil {
		return volume.Disk{}, err
	}
	tmp, err := b.temp(name)
	if err != nil {
		return volume.Disk{}, err
	}
	if err := writeSparse(ctx, tmp, data); err != nil {
		os.Remove(tmp)
		return volume.Disk{}, fmt.Errorf("write image data: %w", err)
	}
	if src == b.format {
		if err := b.grow(ctx, tmp, b.format, sizeGB); err != nil {
			os.Remove(tmp)
			return volume.Disk{}, err
		}
		return b.commit(tmp, name, b.format)
	}
	defer os.Remove(tmp)
	return b.convert(ctx, name, tmp, src, sizeGB)
}

// convert makes name's disk from the file at src (in format srcFormat).
func (b *Backend) convert(ctx context.Context, name, src, srcFormat string, sizeGB int) (volume.Disk, error) {
	if b.qemuImg == "" {
		return volume.Disk{}, fmt.Errorf("converting %s data needs qemu-img, which is not installed", srcFormat)
	}
	out, err := b.temp(name)
	if err != nil {
		return volume.Disk{}, err
	}
	if _, err := b.run(ctx, "convert", "-q", "-U", "-f", srcFormat, "-O", b.format, src, out); err != nil {
		os.Remove(out)
		return volume.Disk{}, err
	}
	if err := b.grow(ctx, out, b.format, sizeGB); err != nil {
		os.Remove(out)
		return volume.Disk{}, err
	}
	return b.commit(out, name, b.format)
}

// Clone copies src into a new disk.
func (b *Backend) Clone(ctx context.Context, name string, src volume.Disk, sizeGB int) (volume.Disk, error) {
	if src.Format != b.format || src.Format == "qcow2" {
		// qemu-img convert makes an independent copy (no backing file).
		return b.convert(ctx, name, src.Location, src.Format, sizeGB)
	}
	in, err := os.Open(src.Location)
	if err != nil {
		return volume.Disk{}, fmt.Errorf("open %s: %w", src.Location, err)
	}
	defer in.Close()
	tmp, err := b.temp(name)
	if err != nil {
		return volume.Disk{}, err
	}
	if err := copySparse(ctx, tmp, in); err != nil {
		os.Remove(tmp)
		return volume.Disk{}, fmt.Errorf("copy %s: %w", src.Location, err)
	}
	if err := b.grow(ctx, tmp, "raw", sizeGB); err != nil {
		os.Remove(tmp)
		return volume.Disk{}, err
	}
	return b.commit(tmp, name, "raw")
}

// Extend grows a disk.
func (b *Backend) Extend(ctx context.Context, d volume.Disk, sizeGB int) error {
	return b.grow(ctx, d.Location, d.Format, sizeGB)
}

// grow makes the disk at path at least sizeGB (virtual size for qcow2).
func (b *Backend) grow(ctx context.Context, path, format string, sizeGB int) error {
	size := int64(sizeGB) * gib
	if format == "qcow2" {
		vsize, err := b.virtualSize(ctx, path)
		if err != nil {
			return err
		}
		if vsize > size {
			return fmt.Errorf("data (%d bytes) is larger than the volume (%d GiB)", vsize, sizeGB)
		}
		if vsize == size {
			return nil
		}
		out, err := b.run(ctx, "resize", "-q", "-f", "qcow2", path, fmt.Sprint(size))
		if err != nil && strings.Contains(string(out), `Failed to get "write" lock`) {
			return fmt.Errorf("resize %s: %w", path, volume.ErrDiskHeld)
		}
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	if st.Size() > size {
		return fmt.Errorf("data (%d bytes) is larger than the volume (%d GiB)", st.Size(), sizeGB)
	}
	if st.Size() == size {
		return nil
	}
	if err := os.Truncate(path, size); err != nil {
		return fmt.Errorf("extend: %w", err)
	}
	return nil
}

func (b *Backend) virtualSize(ctx context.Context, path string) (int64, error) {
	out, err := b.run(ctx, "info", "-U", "--output=json", "-f", "qcow2", path)
	if err != nil {
		return 0, err
	}
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return 0, fmt.Errorf("qemu-img info: %w", err)
	}
	return info.VirtualSize, nil
}

// Delete removes name's disk in any format and its temporary files.
func (b *Backend) Delete(ctx context.Context, name string) error {
	if !isDiskName(name) {
		return fmt.Errorf("delete %q: not a disk name", name)
	}
	for _, f := range []string{"raw", "qcow2"} {
		if err := os.Remove(b.path(name, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(b.dir, ".tmp-"+name+"-*"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	return nil
}

// Open reads a disk's data in format ("raw" when "").
func (b *Backend) Open(ctx context.Context, d volume.Disk, format string) (io.ReadCloser, error) {
	want, err := qemuFormat(format)
	if err != nil {
		return nil, err
	}
	if want == d.Format {
		f, err := os.Open(d.Location)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", d.Location, err)
		}
		return f, nil
	}
	tmp, err := b.temp("export")
	if err != nil {
		return nil, err
	}
	if _, err := b.run(ctx, "convert", "-q", "-U", "-f", d.Format, "-O", want, d.Location, tmp); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	f, err := os.Open(tmp)
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	// The converted copy goes when the reader is closed.
	return &removeOnClose{File: f}, nil
}

type removeOnClose struct{ *os.File }

func (r *removeOnClose) Close() error {
	err := r.File.Close()
	os.Remove(r.File.Name())
	return err
}

// writeSparse copies r into the file at path, leaving holes where whole
// blocks are zero, and syncs it.
func writeSparse(ctx context.Context, path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	const block = 1 << 20
	buf := make([]byte, block)
	zero := make([]byte, block)
	var off int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if bytes.Equal(buf[:n], zero[:n]) {
				off += int64(n)
			} else {
				if _, err := f.WriteAt(buf[:n], off); err != nil {
					return err
				}
				off += int64(n)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := f.Truncate(off); err != nil {
		return err
	}
	return f.Sync()
}

// Clean removes the temporary files a crash left (call at startup,
// before the worker runs).
func (b *Backend) Clean() error {
	tmps, err := filepath.Glob(filepath.Join(b.dir, ".tmp-*"))
	if err != nil {
		return err
	}
	for _, t := range tmps {
		if err := os.Remove(t); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clean %s: %w", t, err)
		}
	}
	return nil
}

// Whence values of lseek(2) that find a sparse file's data and holes.
const (
	seekData = 3
	seekHole = 4
)

// copySparse copies the file in to the file at path, reading only its
// data extents (SEEK_DATA/SEEK_HOLE), so a mostly empty volume copies in
// the time its data takes; where the filesystem cannot tell, it falls
// back to reading everything (writeSparse still skips zero blocks).
func copySparse(ctx context.Context, path string, in *os.File) error {
	st, err := in.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	if _, err := in.Seek(0, seekData); err != nil && !errors.Is(err, syscall.ENXIO) {
		// No SEEK_DATA here: copy it all.
		if _, err := in.Seek(0, io.SeekStart); err != nil {
			return err
		}
		out.Close()
		return writeSparse(ctx, path, in)
	}
	buf := make([]byte, 1<<20)
	var off int64
	for off < size {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := in.Seek(off, seekData)
		if errors.Is(err, syscall.ENXIO) {
			break // only a hole is left
		}
		if err != nil {
			return err
		}
		hole, err := in.Seek(data, seekHole)
		if err != nil {
			return err
		}
		for pos := data; pos < hole; {
			n := int64(len(buf))
			if hole-pos < n {
				n = hole - pos
			}
			m, err := in.ReadAt(buf[:n], pos)
			if m > 0 {
				if _, werr := out.WriteAt(buf[:m], pos); werr != nil {
					return werr
				}
				pos += int64(m)
			}
			if err != nil && !(errors.Is(err, io.EOF) && pos >= hole) {
				if errors.Is(err, io.EOF) {
					break
				}
				return err
			}
		}
		off = hole
	}
	if err := out.Truncate(size); err != nil {
		return err
	}
	return out.Sync()
}

var _ volume.Inventory = (*Backend)(nil)

// Disks lists the disks in the directory ("<name>.raw", "<name>.qcow2";
// temporary files aside) with their virtual sizes.
func (b *Backend) Disks(ctx context.Context) ([]volume.StoredDisk, error) {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, fmt.Errorf("list volume directory: %w", err)
	}
	var out []volume.StoredDisk
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		name, format, ok := cutFormat(e.Name())
		if !ok {
			continue
		}
		d, err := b.stored(ctx, name, format)
		if errors.Is(err, os.ErrNotExist) {
			continue // gone since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// cutFormat splits a disk's file name into its name and format.
func cutFormat(file string) (string, string, bool) {
	for _, f := range []string{"raw", "qcow2"} {
		if name, ok := strings.CutSuffix(file, "."+f); ok && name != "" {
			return name, f, true
		}
	}
	return "", "", false
}

// stored describes name's disk kept in format.
func (b *Backend) stored(ctx context.Context, name, format string) (volume.StoredDisk, error) {
	p := b.path(name, format)
	st, err := os.Stat(p)
	if err != nil {
		return volume.StoredDisk{}, err
	}
	size := st.Size()
	if format == "qcow2" {
		if size, err = b.virtualSize(ctx, p); err != nil {
			return volume.StoredDisk{}, err
		}
	}
	return volume.StoredDisk{Name: name, Disk: volume.Disk{Location: p, Format: format}, Bytes: size}, nil
}

// isDiskName reports whether name can be a disk's name in the backend's
// directory: one path element, not hidden (temporary files start with a
// dot).
func isDiskName(name string) bool {
	return name != "" && !strings.HasPrefix(name, ".") && !strings.ContainsAny(name, `/\`+"\x00")
}

// Adopt renames source's disk to name's, keeping its format, as Cinder's
// LVM driver renames the logical volume it manages.
func (b *Backend) Adopt(ctx context.Context, source, name string) (volume.StoredDisk, error) {
	// A reference names a disk of this backend's directory, never a path
	// (an admin's "../x" must not pull in a file from elsewhere).
	if !isDiskName(source) {
		return volume.StoredDisk{}, fmt.Errorf("adopt %q: %w", source, volume.ErrNoDisk)
	}
	for _, f := range []string{"raw", "qcow2"} {
		if _, err := os.Stat(b.path(source, f)); err != nil {
			continue
		}
		if source != name {
			if err := os.Rename(b.path(source, f), b.path(name, f)); err != nil {
				return volume.StoredDisk{}, fmt.Errorf("adopt %s: %w", source, err)
			}
			if d, err := os.Open(b.dir); err == nil {
				_ = d.Sync()
				d.Close()
			}
		}
		return b.stored(ctx, name, f)
	}
	// Renamed already, by a run a crash interrupted.
	for _, f := range []string{"raw", "qcow2"} {
		if d, err := b.stored(ctx, name, f); err == nil {
			return d, nil
		}
	}
	return volume.StoredDisk{}, fmt.Errorf("adopt %s: %w", source, volume.ErrNoDisk)
}
