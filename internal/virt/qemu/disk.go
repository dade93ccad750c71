package qemu

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/configdrive"
)

// imageInfo is what `qemu-img info` says about a file.
type imageInfo struct {
	Format      string `json:"format"`
	VirtualSize int64  `json:"virtual-size"`
}

func qemuImg(ctx context.Context, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, "qemu-img", args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("qemu-img %s: %v: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// inspectImage validates an image file as a disk: qcow2 or raw, matching
// the disk_format Glance records, and a raw disk a whole number of
// 512-byte sectors (anything else is not a disk image).
func inspectImage(ctx context.Context, path, declared string) (imageInfo, error) {
	out, err := qemuImg(ctx, "info", "--output=json", path)
	if err != nil {
		return imageInfo{}, err
	}
	var info imageInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return info, fmt.Errorf("qemu-img info: %w", err)
	}
	switch {
	case info.Format != "qcow2" && info.Format != "raw":
		return info, fmt.Errorf("unsupported disk format %s", info.Format)
	case declared != "" && declared != info.Format:
		return info, fmt.Errorf("image data is %s, not the %s its disk_format says", info.Format, declared)
	}
	if info.Format == "raw" { // qemu-img rounds the size up: look at the file
		st, err := os.Stat(path)
		if err != nil {
			return info, err
		}
		if st.Size() == 0 || st.Size()%512 != 0 {
			return info, fmt.Errorf("image data (%d bytes) is not a raw disk: not a whole number of 512-byte sectors", st.Size())
		}
	}
	return info, nil
}

// makeRootDisk creates the guest's root disk as a qcow2 overlay on the
// image, at least rootGB large.
func (d *Driver) makeRootDisk(ctx context.Context, g *virt.Guest, img virt.Image, path string) error {
	base, err := d.opts.ImagePath(ctx, img.ID)
	if err != nil {
		return fmt.Errorf("image %s: %w", img.ID, err)
	}
	declared := img.DiskFormat
	if declared == "" {
		declared = img.Properties["disk_format"]
	}
	info, err := inspectImage(ctx, base, declared)
	if err != nil {
		return fmt.Errorf("image %s is not a usable disk image: %w", img.ID, err)
	}
	size := max(int64(g.RootGB)<<30, info.VirtualSize)
	_ = os.Remove(path)
	_, err = qemuImg(ctx, "create", "-q", "-f", "qcow2", "-b", base, "-F", info.Format, path, fmt.Sprint(size))
	return err
}

// makeExtraDisks creates blank ephemeral and swap disks per flavor.
func (d *Driver) makeExtraDisks(ctx context.Context, g *virt.Guest, keepEphemeral bool) error {
	dir := d.dir(g.ID)
	if g.EphemeralGB > 0 && !(keepEphemeral && exists(filepath.Join(dir, "ephemeral.qcow2"))) {
		if _, err := qemuImg(ctx, "create", "-q", "-f", "qcow2", filepath.Join(dir, "ephemeral.qcow2"), fmt.Sprintf("%dG", g.EphemeralGB)); err != nil {
			return err
		}
	}
	if g.SwapMB > 0 && !exists(filepath.Join(dir, "swap.qcow2")) {
		if _, err := qemuImg(ctx, "create", "-q", "-f", "qcow2", filepath.Join(dir, "swap.qcow2"), fmt.Sprintf("%dM", g.SwapMB)); err != nil {
			return err
		}
	}
	return nil
}

// writeConfigDrive (re)writes the guest's config drive when it wants one.
func (d *Driver) writeConfigDrive(g *virt.Guest) error {
	path := filepath.Join(d.dir(g.ID), "config.iso")
	if !g.ConfigDrive && !d.opts.AlwaysConfigDrive {
		_ = os.Remove(path)
		return nil
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	if err := configdrive.Write(f, g, time.Now()); err != nil {
		f.Close()
		return fmt.Errorf("config drive: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("config drive: %w", err)
	}
	return os.Rename(tmp, path)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
