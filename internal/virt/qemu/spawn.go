package qemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kumocloud/kumo/internal/virt"
)

// defaultKernelCmdline is Nova's libvirt default when an image with a
// kernel has no os_command_line.
const defaultKernelCmdline = "root=/dev/vda console=tty0 console=ttyS0"

// Spawn implements virt.Driver: root disk overlay (or, for a
// volume-backed guest, its root volume as it is), extra disks, config
// drive, then boot. Spawning a guest that runs already succeeds.
func (d *Driver) Spawn(ctx context.Context, g *virt.Guest) error {
	defer d.lock(g.ID)()
	if _, ok := d.pid(g.ID); ok {
		return nil
	}
	dir := d.dir(g.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("instance dir: %w", err)
	}
	if err := d.makeDisks(ctx, g); err != nil {
		return err
	}
	return d.boot(ctx, g, "")
}

// boot starts the guest's qemu from its disks (the rescue disk first
// while rescued), restoring state from incoming when set.
func (d *Driver) boot(ctx context.Context, g *virt.Guest, incoming string) error {
	return d.launch(ctx, g, launchSpec{Incoming: incoming})
}

// launch starts the guest's qemu as boot does, with s's Incoming or
// AwaitMigration.
func (d *Driver) launch(ctx context.Context, g *virt.Guest, s launchSpec) error {
	dir := d.dir(g.ID)
	incoming := s.Incoming
	s.ID, s.Accel, s.VCPUs, s.MemoryMB, s.Dir, s.QMP = g.ID, d.accel, g.VCPUs, g.MemoryMB, dir, d.qmpSocket(g.ID)
	s.Serial, s.VNC = d.socket(g.ID, "serial"), d.socket(g.ID, "vnc")
	img := g.Image
	rescue := filepath.Join(dir, "rescue.qcow2")
	rescued := exists(rescue)
	if rescued {
		img = d.rescueImage(g)
	}
	root, volumes := splitVolumes(g.Volumes)
	for _, v := range g.Volumes {
		if err := checkVolume(v); err != nil {
			return err
		}
	}
	if root != nil { // the rescue disk boots, the root volume second (Nova 2.87)
		if rescued {
			s.RootBlocks = append(s.RootBlocks, blockDisk{Node: "rescue", Path: rescue, Format: "qcow2", Device: "rescue-disk"})
		}
		s.RootBlocks = append(s.RootBlocks, volumeDisk(*root, ""))
	} else {
		if rescued {
			s.Disks = append(s.Disks, rescue)
		}
		s.Disks = append(s.Disks, filepath.Join(dir, "disk.qcow2"))
	}
	for _, extra := range []string{"ephemeral.qcow2", "swap.qcow2"} {
		if p := filepath.Join(dir, extra); exists(p) {
			s.Disks = append(s.Disks, p)
		}
	}
	if p := filepath.Join(dir, "config.iso"); exists(p) {
		s.ISO = p
	}
	s.NICs, s.Volumes = g.NICs, volumes
	saved, err := d.loadPorts(g.ID)
	if err != nil {
		return err
	}
	if incoming != "" && saved == nil {
		// Saved by a kumo without hot-plug: restored as it was, which
		// had no volumes.
		if len(volumes) > 0 {
			return fmt.Errorf("guest %s was saved without PCIe ports, so it cannot be restored with volumes", g.ID)
		}
		s.LegacyNICs = true
	} else {
		s.Ports = layPorts(saved, portKeys(g.NICs, volumes), incoming == "")
		if err := d.savePorts(g.ID, s.Ports); err != nil {
			return err
		}
	}
	if d.net != nil {
		var err error
		if s.Taps, err = d.net.Plug(ctx, g.ID, g.NICs); err != nil {
			return err
		}
	}
	if d.opts.SSHForward && len(s.NICs) > 0 {
		var err error
		if s.SSHPort, err = d.sshPort(ctx, g.ID); err != nil {
			return err
		}
		d.opts.Log.Info("qemu guest ssh forward", "server", g.ID, "addr", fmt.Sprintf("127.0.0.1:%d", s.SSHPort))
	}
	if k := img.Properties["kernel_id"]; k != "" {
		var err error
		if s.Kernel, err = d.opts.ImagePath(ctx, k); err != nil {
			return fmt.Errorf("kernel image %s: %w", k, err)
		}
		if r := img.Properties["ramdisk_id"]; r != "" {
			if s.Ramdisk, err = d.opts.ImagePath(ctx, r); err != nil {
				return fmt.Errorf("ramdisk image %s: %w", r, err)
			}
		}
		s.Cmdline = img.Properties["os_command_line"]
		if s.Cmdline == "" {
			s.Cmdline = defaultKernelCmdline
		}
	}
	return d.start(ctx, s)
}

// Destroy implements virt.Driver: kill, wait, remove every file.
func (d *Driver) Destroy(ctx context.Context, id string) error {
	defer d.lock(id)()
	if err := d.stop(ctx, id, false); err != nil {
		return err
	}
	for _, sock := range []string{"qmp", "nbd", "migrate-in"} { // their paths may be outside the dir
		_ = os.Remove(d.socket(id, sock))
	}
	if d.net != nil {
		if err := d.net.Unplug(ctx, id); err != nil {
			return fmt.Errorf("unplug %s: %w", id, err)
		}
	}
	if err := os.RemoveAll(d.dir(id)); err != nil {
		return fmt.Errorf("remove instance %s: %w", id, err)
	}
	return nil
}

// makeDisks makes a new guest's files in its directory: the root disk
// over its image, the ephemeral and swap disks, the config drive.
func (d *Driver) makeDisks(ctx context.Context, g *virt.Guest) error {
	if err := d.makeRoot(ctx, g); err != nil {
		return err
	}
	if err := d.makeExtraDisks(ctx, g, false); err != nil {
		return err
	}
	return d.writeConfigDrive(g)
}
