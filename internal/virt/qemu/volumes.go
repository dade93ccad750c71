package qemu

// Volumes: a volume-backed guest boots from its root volume's file (no
// overlay of kumo's); its other volumes are virtio-blk disks in PCIe root
// ports, hot-plugged with QMP blockdev-add and device_add and unplugged
// with device_del (the guest lets the disk go, DEVICE_DELETED) and
// blockdev-del. They share the root ports, and the ports file, with NICs.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// rootVolumeFile marks a volume-backed guest, which has no disk.qcow2:
// it holds the root volume (virt.Volume as JSON), so a guest is found
// (List, guestExists) and snapshotted by its id alone.
const rootVolumeFile = "root-volume.json"

// splitVolumes returns the root volume of vols (BootIndex 0; nil for a
// guest booted from an image) and the others, in order.
func splitVolumes(vols []virt.Volume) (root *virt.Volume, others []virt.Volume) {
	for i := range vols {
		if vols[i].BootIndex == 0 && root == nil {
			root = &vols[i]
			continue
		}
		others = append(others, vols[i])
	}
	return root, others
}

// checkVolume refuses a volume QEMU could not open as asked, with the
// reason, before a boot or hot-plug fails less clearly.
func checkVolume(v virt.Volume) error {
	switch v.Format {
	case "", "raw", "qcow2":
	default:
		return fmt.Errorf("volume %s: unsupported format %q (raw or qcow2)", v.ID, v.Format)
	}
	if v.Path == "" {
		return fmt.Errorf("volume %s has no file on this host", v.ID)
	}
	if _, err := os.Stat(v.Path); err != nil {
		return fmt.Errorf("volume %s: %w", v.ID, err)
	}
	return nil
}

// makeRoot makes the guest's root disk: for a volume-backed guest the
// marker naming its root volume (and no overlay), else the overlay on
// its image.
func (d *Driver) makeRoot(ctx context.Context, g *virt.Guest) error {
	dir := d.dir(g.ID)
	root, _ := splitVolumes(g.Volumes)
	if root == nil {
		return d.makeRootDisk(ctx, g, g.Image, filepath.Join(dir, "disk.qcow2"))
	}
	if err := checkVolume(*root); err != nil {
		return err
	}
	b, err := json.Marshal(root)
	if err != nil {
		return err
	}
	p := filepath.Join(dir, rootVolumeFile)
	if err := os.WriteFile(p+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("root volume of %s: %w", g.ID, err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return fmt.Errorf("root volume of %s: %w", g.ID, err)
	}
	return nil
}

// rootVolume is the root volume of volume-backed guest id (nil for a
// guest booted from an image).
func (d *Driver) rootVolume(id string) (*virt.Volume, error) {
	b, err := os.ReadFile(filepath.Join(d.dir(id), rootVolumeFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("root volume of %s: %w", id, err)
	}
	var v virt.Volume
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("root volume of %s: %w", id, err)
	}
	return &v, nil
}

// hasRoot reports whether dir holds a guest: a root disk, or the marker
// of a volume-backed guest.
func hasRoot(dir string) bool {
	return exists(filepath.Join(dir, "disk.qcow2")) || exists(filepath.Join(dir, rootVolumeFile))
}

// AttachVolume implements virt.Driver: on a running guest, the volume's
// file and format nodes (blockdev-add) and a virtio-blk-pci device with
// its serial in the first free root port; a guest without a process boots
// with its spec's volumes, which list this one.
func (d *Driver) AttachVolume(ctx context.Context, g *virt.Guest, vol virt.Volume) error {
	defer d.lock(g.ID)()
	if err := d.guestExists(g.ID); err != nil {
		return err
	}
	if err := checkVolume(vol); err != nil {
		return err
	}
	if _, ok := d.pid(g.ID); !ok {
		return nil
	}
	ports, err := d.loadPorts(g.ID)
	if err != nil {
		return err
	}
	if ports == nil {
		return fmt.Errorf("guest %s was started without hot-plug ports: stop and start it to attach volumes", g.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	q, err := qmpOpen(ctx, d.qmpSocket(g.ID))
	if err != nil {
		return err
	}
	defer q.Close()
	disks, err := diskDevices(q)
	if err != nil {
		return err
	}
	key := volumeKey(vol.ID)
	if slices.Contains(disks, volumeDeviceID(vol.ID)) {
		return nil // plugged before (a retried attach), or at boot
	}
	port := slices.Index(ports, key)
	if port < 0 {
		if port = slices.Index(ports, ""); port < 0 {
			return fmt.Errorf("guest %s has no free PCIe port for another disk (%d in use): stop and start it to get more", g.ID, len(ports))
		}
	}
	disk := volumeDisk(vol, rootPortID(port))
	for _, node := range disk.blockdevs() {
		// A retried attach finds the nodes an interrupted one added.
		if err := q.call("blockdev-add", node, nil); err != nil && !strings.Contains(err.Error(), "Duplicate") {
			delNodes(q, disk)
			return fmt.Errorf("attach volume %s: %w", vol.ID, err)
		}
	}
	if err := q.call("device_add", qmpArgs(disk.deviceOptions()), nil); err != nil {
		delNodes(q, disk)
		return fmt.Errorf("attach volume %s: %w", vol.ID, err)
	}
	ports[port] = key
	return d.savePorts(g.ID, ports)
}

// delNodes removes disk's format and file nodes from the guest, as far
// as they are there.
func delNodes(q *qmpSession, disk blockDisk) error {
	for _, node := range []string{disk.Node, disk.Node + "-file"} {
		if err := q.call("blockdev-del", map[string]string{"node-name": node}, nil); err != nil &&
			!strings.Contains(err.Error(), "Failed to find node") && !strings.Contains(err.Error(), "not found") {
			return err
		}
	}
	return nil
}

// DetachVolume implements virt.Driver: on a running guest, device_del
// and, once the guest has let the disk go, blockdev-del of its nodes;
// then its port is free (also of a guest without a process).
func (d *Driver) DetachVolume(ctx context.Context, id, volumeID string) error {
	defer d.lock(id)()
	if err := d.guestExists(id); err != nil {
		return err
	}
	if _, ok := d.pid(id); ok {
		if err := d.unplugDisk(ctx, id, volumeID); err != nil {
			return err
		}
	}
	return d.freePort(id, volumeKey(volumeID))
}

// unplugDisk asks the running guest to let volume volumeID's disk go and
// waits for QEMU's DEVICE_DELETED (up to Options.DetachTimeout), then
// removes its nodes. A disk the guest does not have is done.
func (d *Driver) unplugDisk(ctx context.Context, id, volumeID string) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.DetachTimeout)
	defer cancel()
	q, err := qmpOpen(ctx, d.qmpSocket(id))
	if err != nil {
		return err
	}
	defer q.Close()
	disks, err := diskDevices(q)
	if err != nil {
		return err
	}
	disk := volumeDisk(virt.Volume{ID: volumeID}, "")
	if slices.Contains(disks, disk.Device) {
		if err := q.unplug(disk.Device, "/machine/peripheral/"+disk.Device); err != nil {
			return fmt.Errorf("detach volume %s from guest %s (waited up to %v): %w", volumeID, id, d.opts.DetachTimeout, err)
		}
	}
	if err := delNodes(q, disk); err != nil {
		return fmt.Errorf("detach volume %s: %w", volumeID, err)
	}
	return nil
}

// ExtendVolume implements virt.VolumeExtender: QMP block_resize of the
// volume's format node, which grows its file and tells the guest. A
// guest without a process, or without the disk, has nothing to resize.
func (d *Driver) ExtendVolume(ctx context.Context, id, volumeID string, size int64) error {
	defer d.lock(id)()
	if err := d.guestExists(id); err != nil {
		return err
	}
	return d.onRunningGuest(ctx, id, func(q *qmpSession) error {
		disks, err := diskDevices(q)
		if err != nil || !slices.Contains(disks, volumeDeviceID(volumeID)) {
			return err
		}
		if err := q.call("block_resize", map[string]any{"node-name": volumeNode(volumeID), "size": size}, nil); err != nil {
			return fmt.Errorf("extend volume %s: %w", volumeID, err)
		}
		return nil
	})
}

// diskDevices lists the ids of the running guest's virtio-blk-pci
// devices that kumo named (volumes' and a volume-backed guest's root
// bus disks; the -drive ones are anonymous).
func diskDevices(q *qmpSession) ([]string, error) {
	var children []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	if err := q.call("qom-list", map[string]string{"path": "/machine/peripheral"}, &children); err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range children {
		if c.Type == "child<virtio-blk-pci>" {
			ids = append(ids, c.Name)
		}
	}
	return ids, nil
}

// guestSerials are the serials of the running guest's volume disks
// (none without a process).
func (d *Driver) guestSerials(ctx context.Context, id string) ([]string, error) {
	defer d.lock(id)()
	var serials []string
	err := d.onRunningGuest(ctx, id, func(q *qmpSession) error {
		disks, err := diskDevices(q)
		if err != nil {
			return err
		}
		for _, dev := range disks {
			var serial string
			if err := q.call("qom-get", map[string]string{"path": "/machine/peripheral/" + dev, "property": "serial"}, &serial); err != nil {
				return err
			}
			if serial != "" {
				serials = append(serials, serial)
			}
		}
		return nil
	})
	return serials, err
}
