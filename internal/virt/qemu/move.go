package qemu

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kumocloud/kumo/internal/virt"
)

// Moving a guest between hosts. Its directory travels whole (the qcow2
// overlay, ephemeral and swap disks, config.iso, console.log, the PCI
// port layout); what only meant something on the source (the qemu pid,
// the QMP socket, the forwarded SSH port) is dropped on arrival. The
// overlay's backing file is the image's file in the source's image dir:
// the destination points it at its own copy of the image (the same data
// by the image's id) before it boots.

// hostLocalFiles are the files of a guest's directory that describe its
// process on one host, not the guest.
var hostLocalFiles = []string{"qemu.pid", "qmp.sock", "serial.sock", "vnc.sock", "ssh-port", "suspend.state", "snapshot.qcow2.tmp", "migration-paused"}

// ExportGuest implements virt.Mover.
func (d *Driver) ExportGuest(ctx context.Context, id string) (string, error) {
	defer d.lock(id)()
	if err := d.guestExists(id); err != nil {
		return "", err
	}
	if _, ok := d.pid(id); ok {
		return "", fmt.Errorf("guest %s is running: it moves shut down", id)
	}
	return d.dir(id), nil
}

// StagingDir implements virt.Mover: <data-dir>/incoming, beside the
// instances directory guests are found in.
func (d *Driver) StagingDir() string { return filepath.Join(d.opts.DataDir, "incoming") }

// AdoptGuest implements virt.Mover.
func (d *Driver) AdoptGuest(ctx context.Context, id, staged string) error {
	defer d.lock(id)()
	if !hasRoot(staged) {
		return fmt.Errorf("adopt guest %s: the files received hold no root disk", id)
	}
	// A copy an earlier attempt adopted (and perhaps booted) gives way.
	if err := d.stop(ctx, id, false); err != nil {
		return err
	}
	dst := d.dir(id)
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("adopt guest %s: %w", id, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("adopt guest %s: %w", id, err)
	}
	if err := os.Rename(staged, dst); err != nil {
		return fmt.Errorf("adopt guest %s: %w", id, err)
	}
	for _, name := range hostLocalFiles {
		if err := removeIfExists(filepath.Join(dst, name)); err != nil {
			return fmt.Errorf("adopt guest %s: %w", id, err)
		}
	}
	return nil
}

// FinishMigration implements virt.Mover: the overlay rebased (without
// copying: the data is the same) onto this host's file of the image, the
// root disk grown to the flavor, missing ephemeral and swap disks made,
// the config drive written again, and the guest booted when powerOn.
func (d *Driver) FinishMigration(ctx context.Context, g *virt.Guest, powerOn bool) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	disk := filepath.Join(d.dir(g.ID), "disk.qcow2")
	if exists(disk) {
		out, err := qemuImg(ctx, "info", "-U", "--output=json", disk)
		if err != nil {
			return err
		}
		var info struct {
			imageInfo
			Backing string `json:"full-backing-filename"`
		}
		if err := json.Unmarshal(out, &info); err != nil {
			return fmt.Errorf("qemu-img info: %w", err)
		}
		if info.Backing != "" && g.Image.ID != "" {
			base, err := d.opts.ImagePath(ctx, g.Image.ID)
			if err != nil {
				return fmt.Errorf("image %s on this host: %w", g.Image.ID, err)
			}
			if base != info.Backing {
				bi, err := inspectImage(ctx, base, "")
				if err != nil {
					return fmt.Errorf("image %s is not a usable disk image: %w", g.Image.ID, err)
				}
				if _, err := qemuImg(ctx, "rebase", "-u", "-F", bi.Format, "-b", base, disk); err != nil {
					return err
				}
			}
		}
		if size := int64(g.RootGB) << 30; size > info.VirtualSize {
			if _, err := qemuImg(ctx, "resize", "-q", disk, fmt.Sprint(size)); err != nil {
				return err
			}
		}
	}
	if err := d.makeExtraDisks(ctx, g, true); err != nil {
		return err
	}
	if err := d.writeConfigDrive(g); err != nil {
		return err
	}
	if !powerOn {
		return nil
	}
	return d.boot(ctx, g, "")
}

var _ virt.Mover = (*Driver)(nil)
