package qemu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kumocloud/kumo/internal/virt"
)

// Rebuild implements virt.Driver: a new overlay from the new image (a
// volume-backed guest's root volume is reimaged by the volume service,
// and boots as it is). The guest is its directory here, not its root
// disk, which a rebuild the agent retries after a crash may have removed
// already.
func (d *Driver) Rebuild(ctx context.Context, g *virt.Guest, preserveEphemeral, powerOn bool) error {
	defer d.lock(g.ID)()
	dir := d.dir(g.ID)
	if !exists(dir) {
		return virt.ErrNotFound
	}
	if err := d.stop(ctx, g.ID, false); err != nil {
		return err
	}
	_ = os.Remove(d.stateFile(g.ID))
	if err := d.makeRoot(ctx, g); err != nil {
		return err
	}
	if !preserveEphemeral {
		_ = os.Remove(filepath.Join(dir, "ephemeral.qcow2"))
	}
	if err := d.makeExtraDisks(ctx, g, preserveEphemeral); err != nil {
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

// Resize implements virt.Driver: the old root disk is kept aside, the
// disk grown, the guest restarted with the new flavor. A volume-backed
// guest's root volume stays as it is (its size is the volume's).
func (d *Driver) Resize(ctx context.Context, g *virt.Guest, powerOn bool) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if err := d.stop(ctx, g.ID, true); err != nil {
		return err
	}
	dir := d.dir(g.ID)
	if disk, old := filepath.Join(dir, "disk.qcow2"), filepath.Join(dir, "disk.qcow2.resize"); exists(disk) {
		if !exists(old) {
			if err := copyFile(disk, old); err != nil {
				return fmt.Errorf("keep old disk: %w", err)
			}
		}
		var info imageInfo
		if out, err := qemuImg(ctx, "info", "-U", "--output=json", disk); err == nil {
			_ = json.Unmarshal(out, &info)
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
	if !powerOn {
		return nil
	}
	return d.boot(ctx, g, "")
}

// ConfirmResize implements virt.Driver.
func (d *Driver) ConfirmResize(ctx context.Context, id string) error {
	defer d.lock(id)()
	return removeIfExists(filepath.Join(d.dir(id), "disk.qcow2.resize"))
}

// RevertResize implements virt.Driver.
func (d *Driver) RevertResize(ctx context.Context, g *virt.Guest, powerOn bool) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if err := d.stop(ctx, g.ID, false); err != nil {
		return err
	}
	dir := d.dir(g.ID)
	if old := filepath.Join(dir, "disk.qcow2.resize"); exists(old) {
		if err := os.Rename(old, filepath.Join(dir, "disk.qcow2")); err != nil {
			return fmt.Errorf("restore old disk: %w", err)
		}
	}
	if !powerOn {
		return nil
	}
	return d.boot(ctx, g, "")
}

// Snapshot implements virt.Driver: the root disk (or root volume)
// flattened to qcow2, with the guest paused meanwhile so the copy is
// consistent.
func (d *Driver) Snapshot(ctx context.Context, id string, w io.Writer) (string, error) {
	defer d.lock(id)()
	if err := d.guestExists(id); err != nil {
		return "", err
	}
	if _, ok := d.pid(id); ok {
		if st, err := d.status(ctx, id); err == nil && st == "running" {
			if err := qmpCall(ctx, d.qmpSocket(id), "stop", nil, nil); err != nil {
				return "", err
			}
			defer qmpCall(context.WithoutCancel(ctx), d.qmpSocket(id), "cont", nil, nil)
		}
	}
	src := []string{filepath.Join(d.dir(id), "disk.qcow2")}
	if root, err := d.rootVolume(id); err != nil {
		return "", err
	} else if root != nil {
		src = []string{"-f", volumeDisk(*root, "").Format, root.Path}
	}
	tmp := filepath.Join(d.dir(id), "snapshot.qcow2.tmp")
	defer os.Remove(tmp)
	if _, err := qemuImg(ctx, append(append([]string{"convert", "-U"}, src...), "-O", "qcow2", tmp)...); err != nil {
		return "", err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return "", fmt.Errorf("stream snapshot: %w", err)
	}
	return "qcow2", nil
}

// Rescue implements virt.Driver: boot the rescue image with the guest's
// own disk attached second.
func (d *Driver) Rescue(ctx context.Context, g *virt.Guest, rescue virt.Image) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if err := d.stop(ctx, g.ID, false); err != nil {
		return err
	}
	dir := d.dir(g.ID)
	if err := d.makeRootDisk(ctx, &virt.Guest{RootGB: 0}, rescue, filepath.Join(dir, "rescue.qcow2")); err != nil {
		return err
	}
	b, _ := json.Marshal(rescue)
	if err := os.WriteFile(filepath.Join(dir, "rescue.json"), b, 0o600); err != nil {
		return err
	}
	return d.boot(ctx, g, "")
}

// rescueImage is the image a rescued guest boots (for its kernel): the
// rescue image's kernel and ramdisk, else the guest's own, as Nova's
// libvirt driver picks them.
func (d *Driver) rescueImage(g *virt.Guest) virt.Image {
	var img virt.Image
	if b, err := os.ReadFile(filepath.Join(d.dir(g.ID), "rescue.json")); err == nil {
		_ = json.Unmarshal(b, &img)
	}
	if img.Properties["kernel_id"] == "" {
		img.Properties = map[string]string{}
		for _, k := range []string{"kernel_id", "ramdisk_id", "os_command_line"} {
			if v := g.Image.Properties[k]; v != "" {
				img.Properties[k] = v
			}
		}
	}
	return img
}

// Unrescue implements virt.Driver.
func (d *Driver) Unrescue(ctx context.Context, g *virt.Guest) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if err := d.stop(ctx, g.ID, false); err != nil {
		return err
	}
	dir := d.dir(g.ID)
	_ = os.Remove(filepath.Join(dir, "rescue.qcow2"))
	_ = os.Remove(filepath.Join(dir, "rescue.json"))
	return d.boot(ctx, g, "")
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(dst+".tmp", dst)
}

var (
	_ virt.Driver         = (*Driver)(nil)
	_ virt.VolumeExtender = (*Driver)(nil)
)
