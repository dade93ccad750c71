package fake

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// A fake guest's "disk" is a short text naming the image it was made from
// and the flavor it runs with; snapshots copy it, so booting a snapshot
// shows where it came from in the console log.

// Rebuild implements virt.Driver.
func (d *Driver) Rebuild(ctx context.Context, spec *virt.Guest, preserveEphemeral, powerOn bool) error {
	return d.change(ctx, "rebuild", spec.ID, spec, func(g *guest) {
		apply(g, spec, powerOn, fmt.Sprintf("rebuilt from image %s (preserve_ephemeral=%t)", spec.Image.ID, preserveEphemeral))
	})
}

// Resize implements virt.Driver.
func (d *Driver) Resize(ctx context.Context, spec *virt.Guest, powerOn bool) error {
	return d.change(ctx, "resize", spec.ID, spec, func(g *guest) {
		g.resizePending = true
		apply(g, spec, powerOn, fmt.Sprintf("resized to %d vCPU, %d MB, %d GB", spec.VCPUs, spec.MemoryMB, spec.RootGB))
	})
}

// ConfirmResize implements virt.Driver.
func (d *Driver) ConfirmResize(ctx context.Context, id string) error {
	return d.change(ctx, "confirm_resize", id, nil, func(g *guest) {
		g.resizePending = false
		g.log("resize confirmed")
	})
}

// RevertResize implements virt.Driver.
func (d *Driver) RevertResize(ctx context.Context, spec *virt.Guest, powerOn bool) error {
	return d.change(ctx, "revert_resize", spec.ID, spec, func(g *guest) {
		g.resizePending = false
		apply(g, spec, powerOn, fmt.Sprintf("resize reverted to %d vCPU, %d MB, %d GB", spec.VCPUs, spec.MemoryMB, spec.RootGB))
	})
}

// Snapshot implements virt.Driver.
func (d *Driver) Snapshot(ctx context.Context, id string, w io.Writer) (string, error) {
	var disk string
	if err := d.change(ctx, "snapshot", id, nil, func(g *guest) {
		disk = fmt.Sprintf("kumo fake disk of server %s, made from image %s\n", id, g.shape.imageID)
		g.log("snapshot taken")
	}); err != nil {
		return "", err
	}
	if _, err := io.WriteString(w, disk); err != nil {
		return "", fmt.Errorf("write snapshot of %s: %w", id, err)
	}
	return "raw", nil
}

// Rescue implements virt.Driver.
func (d *Driver) Rescue(ctx context.Context, spec *virt.Guest, rescue virt.Image) error {
	return d.change(ctx, "rescue", spec.ID, spec, func(g *guest) {
		g.rescueImage = rescue.ID
		g.power = virt.PowerRunning
		g.nics = macsOf(spec)
		g.volumes = volumesOf(spec)
		g.log("booted rescue image %s with disk of %s attached", rescue.ID, spec.ID)
	})
}

// Unrescue implements virt.Driver.
func (d *Driver) Unrescue(ctx context.Context, spec *virt.Guest) error {
	return d.change(ctx, "unrescue", spec.ID, spec, func(g *guest) {
		g.rescueImage = ""
		g.power = virt.PowerRunning
		g.nics = macsOf(spec)
		g.volumes = volumesOf(spec)
		g.log("unrescued: booted from own disk")
	})
}

// SetAdminPassword implements virt.Driver.
func (d *Driver) SetAdminPassword(ctx context.Context, id, password string) error {
	return d.change(ctx, "set_admin_password", id, nil, func(g *guest) {
		g.passwordChanges++
		g.log("administrator password changed")
	})
}

// InjectNMI implements virt.Driver.
func (d *Driver) InjectNMI(ctx context.Context, id string) error {
	return d.change(ctx, "inject_nmi", id, nil, func(g *guest) {
		g.log("NMI received: kernel crash dump triggered")
	})
}

// AttachInterface implements virt.Driver: the guest has one more NIC,
// whatever its power state (a stopped guest boots with its spec's NICs,
// which list it).
func (d *Driver) AttachInterface(ctx context.Context, spec *virt.Guest, nic virt.NIC) error {
	mac := strings.ToLower(nic.MAC)
	return d.change(ctx, "attach_interface", spec.ID, spec, func(g *guest) {
		if !slices.Contains(g.nics, mac) {
			g.nics = append(g.nics, mac)
			g.log("eth%d: %s %s %s hot-plugged", len(g.nics)-1, mac, nic.IPv4, nic.IPv6)
		}
	})
}

// DetachInterface implements virt.Driver.
func (d *Driver) DetachInterface(ctx context.Context, id, mac string) error {
	mac = strings.ToLower(mac)
	return d.change(ctx, "detach_interface", id, nil, func(g *guest) {
		if i := slices.Index(g.nics, mac); i >= 0 {
			g.nics = slices.Delete(g.nics, i, i+1)
			g.log("NIC %s unplugged", mac)
		}
	})
}

// AttachVolume implements virt.Driver.
func (d *Driver) AttachVolume(ctx context.Context, spec *virt.Guest, vol virt.Volume) error {
	return d.change(ctx, "attach_volume", spec.ID, spec, func(g *guest) {
		if !slices.Contains(g.volumes, vol.ID) {
			g.volumes = append(g.volumes, vol.ID)
			g.log("virtio disk %s (serial %s) hot-plugged", vol.Device, virt.VolumeSerial(vol.ID))
		}
	})
}

// DetachVolume implements virt.Driver.
func (d *Driver) DetachVolume(ctx context.Context, id, volumeID string) error {
	return d.change(ctx, "detach_volume", id, nil, func(g *guest) {
		if i := slices.Index(g.volumes, volumeID); i >= 0 {
			g.volumes = slices.Delete(g.volumes, i, i+1)
			g.log("virtio disk (serial %s) unplugged", virt.VolumeSerial(volumeID))
		}
	})
}

// ExtendVolume implements virt.VolumeExtender.
func (d *Driver) ExtendVolume(ctx context.Context, id, volumeID string, size int64) error {
	return d.change(ctx, "extend_volume", id, nil, func(g *guest) {
		if slices.Contains(g.volumes, volumeID) {
			g.log("virtio disk (serial %s) resized to %d bytes", virt.VolumeSerial(volumeID), size)
		}
	})
}

// change waits op's delay and reports its injected failure, then applies
// fn to guest id under the driver's lock (ErrNotFound if it is absent)
// and saves it.
func (d *Driver) change(ctx context.Context, op, id string, spec *virt.Guest, fn func(g *guest)) error {
	if err := d.op(ctx, op, id, spec); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.get(id)
	if err != nil {
		return err
	}
	fn(g)
	return d.save(id, g)
}

// apply makes g run as spec describes, powered on or off; d.mu is held.
func apply(g *guest, spec *virt.Guest, powerOn bool, msg string) {
	g.shape = shapeOf(spec)
	g.nics = macsOf(spec)
	g.volumes = volumesOf(spec)
	g.power = virt.PowerShutdown
	if powerOn {
		g.power = virt.PowerRunning
	}
	g.log("%s", msg)
}

// Inspect reports what the fake knows of a guest, for tests.
type Inspect struct {
	Name, ImageID           string // of the spec it last ran
	VCPUs, MemoryMB, RootGB int
	Power                   virt.PowerState
	RescueImage             string
	ResizePending           bool
	PasswordChanges         int
	NICs                    []string // MACs, in plug order
	Volumes                 []string // volume ids, in plug order
}

// Inspect returns a copy of guest id's state; ErrNotFound if absent.
func (d *Driver) Inspect(id string) (Inspect, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.get(id)
	if err != nil {
		return Inspect{}, err
	}
	return Inspect{Name: g.shape.name, ImageID: g.shape.imageID,
		VCPUs: g.shape.vcpus, MemoryMB: g.shape.memoryMB, RootGB: g.shape.rootGB,
		Power: g.power, RescueImage: g.rescueImage, ResizePending: g.resizePending, PasswordChanges: g.passwordChanges,
		NICs: slices.Clone(g.nics), Volumes: slices.Clone(g.volumes)}, nil
}

// Diagnostics implements virt.Driver: a fake guest does no work, so its
// counters are all zero.
func (d *Driver) Diagnostics(ctx context.Context, spec *virt.Guest) (*virt.Diagnostics, error) {
	if err := d.op(ctx, "diagnostics", spec.ID, spec); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.get(spec.ID)
	if err != nil {
		return nil, err
	}
	diag := virt.SpecDiagnostics(spec, g.power, "fake", spec.ConfigDrive)
	diag.Uptime = virt.Since(g.started, time.Now())
	zero := func() *int64 { z := int64(0); return &z }
	diag.MemoryUsedMB = zero()
	for i := range diag.CPUs {
		diag.CPUs[i].TimeNS, diag.CPUs[i].Utilisation = zero(), zero()
	}
	for i := range diag.NICs {
		n := &diag.NICs[i]
		n.RxOctets, n.RxErrors, n.RxDrop, n.RxPackets, n.RxRate = zero(), zero(), zero(), zero(), zero()
		n.TxOctets, n.TxErrors, n.TxDrop, n.TxPackets, n.TxRate = zero(), zero(), zero(), zero(), zero()
	}
	for i := range diag.Disks {
		k := &diag.Disks[i]
		k.ReadBytes, k.ReadRequests, k.WriteBytes, k.WriteRequests, k.Errors = zero(), zero(), zero(), zero(), zero()
	}
	return diag, nil
}
