// Package virt is the virt driver interface: the things a hypervisor does
// for kumo's compute agent. Lifecycle rules (which action is allowed when,
// which state follows) live in internal/compute, never in a driver; a
// driver only makes the guest match what it is asked.
package virt

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned for operations on a guest the driver does not have.
var ErrNotFound = errors.New("guest not found")

// UptimeReporter is a driver that measures its host's uptime, as Nova's
// libvirt driver does (get_host_uptime): the line `uptime` prints. A
// driver without it has none to report, as Nova's fake driver.
type UptimeReporter interface {
	HostUptime(ctx context.Context) (string, error)
}

// ErrNotSupported is returned by drivers that cannot perform an operation.
var ErrNotSupported = errors.New("operation not supported by this driver")

// Image is the disk image a guest boots from, as the agent resolved it.
type Image struct {
	ID         string
	Name       string
	Path       string // local file holding the image data
	DiskFormat string
	Properties map[string]string
}

// NIC is one network interface of a guest.
type NIC struct {
	Port    string // the Neutron port it is
	Network string // the network's label (name)
	// NetworkID is the network's id: bridge networking joins the NICs
	// of one network.
	NetworkID string
	MAC       string
	IPv4      string
	IPv6      string
	// CIDR is the IPv4 subnet IPv4 belongs to (10.0.0.0/24), whose first
	// address is the gateway.
	CIDR string
}

// Volume is one block storage volume attached to a guest, as the
// volume service exposes it on this host.
type Volume struct {
	ID     string // the volume's uuid; the disk's serial is its first 20 characters
	Path   string // local file holding the volume's data
	Format string // "raw" or "qcow2"
	// Device is the name Nova gave the disk ("/dev/vdb"); guests may
	// name it otherwise, so guests find volumes by serial.
	Device   string
	ReadOnly bool
	// BootIndex 0 makes the volume the guest's root disk (a
	// volume-backed server, whose Image has no Path); others are -1.
	BootIndex int
}

// VolumeSerial is the disk serial of volume id, as Nova's libvirt driver
// gives it: the id, of which virtio-blk keeps the first 20 characters, so
// a guest finds it as /dev/disk/by-id/virtio-<serial>.
func VolumeSerial(id string) string {
	if len(id) > 20 {
		return id[:20]
	}
	return id
}

// Guest is everything a driver needs to run one server.
type Guest struct {
	ID               string // server uuid
	Name             string
	Hostname         string
	ProjectID        string
	VCPUs            int
	MemoryMB         int
	RootGB           int
	EphemeralGB      int
	SwapMB           int
	Image            Image
	UserData         []byte
	Metadata         map[string]string
	KeyName          string
	PublicKey        string
	AdminPass        string // only on spawn, never stored by kumo
	NICs             []NIC
	ConfigDrive      bool
	AvailabilityZone string
	// Volumes are the guest's attached volumes in attach order; one with
	// BootIndex 0 is its root disk.
	Volumes []Volume
}

// HostInfo describes the hypervisor host a driver runs on.
type HostInfo struct {
	Hostname          string
	HypervisorType    string // "fake", "QEMU"
	HypervisorVersion int
	VCPUs             int
	MemoryMB          int
	DiskGB            int
	CPUInfo           string // JSON, as Nova reports it
}

// Driver runs guests on one host. Every method is safe to call again with
// the same arguments after a crash (spawn of an existing guest, destroy of
// a missing one), so the agent can retry interrupted work.
type Driver interface {
	// Name is the driver's name ("fake", "qemu").
	Name() string
	// Host reports the host's identity and capacity.
	Host(ctx context.Context) (HostInfo, error)
	// Spawn creates and starts the guest.
	Spawn(ctx context.Context, g *Guest) error
	// Destroy stops the guest and removes everything it owns; destroying
	// a guest that does not exist succeeds.
	Destroy(ctx context.Context, id string) error
	// PowerOn starts a stopped guest.
	PowerOn(ctx context.Context, g *Guest) error
	// PowerOff stops a running guest.
	PowerOff(ctx context.Context, id string) error
	// Reboot restarts the guest, gracefully (soft) or not (hard).
	Reboot(ctx context.Context, g *Guest, hard bool) error
	// Pause freezes the guest's vCPUs in memory; Unpause lets them run.
	Pause(ctx context.Context, id string) error
	Unpause(ctx context.Context, id string) error
	// Suspend saves the guest's state and stops it; Resume restores it.
	Suspend(ctx context.Context, id string) error
	Resume(ctx context.Context, g *Guest) error
	// PowerState reports the guest's power state; ErrNotFound if absent.
	PowerState(ctx context.Context, id string) (PowerState, error)
	// List returns the ids of all guests the driver runs.
	List(ctx context.Context) ([]string, error)
	// ConsoleOutput returns the guest's serial console log.
	ConsoleOutput(ctx context.Context, id string) ([]byte, error)
	// OpenConsole connects to console kind of running guest id: a byte
	// stream both ways until Close (the serial port's bytes, or the RFB
	// protocol of its screen). ErrNotFound if the guest is absent,
	// ErrNotRunning if it does not run, ErrNotSupported if it has no such
	// console (a driver without screens, a guest started without the
	// console).
	OpenConsole(ctx context.Context, id string, kind ConsoleKind) (io.ReadWriteCloser, error)

	// Rebuild replaces the guest's root disk with one made from g.Image
	// (keeping ephemeral disks when preserveEphemeral) and boots it; the
	// guest is left running when powerOn, else shut down.
	Rebuild(ctx context.Context, g *Guest, preserveEphemeral, powerOn bool) error
	// Resize restarts the guest with g's (new) flavor, growing its disk,
	// and keeps the old disk aside until ConfirmResize or RevertResize;
	// the guest is left running when powerOn, else shut down.
	Resize(ctx context.Context, g *Guest, powerOn bool) error
	// ConfirmResize drops the disk Resize kept aside.
	ConfirmResize(ctx context.Context, id string) error
	// RevertResize restores the disk Resize kept aside and restarts the
	// guest with g's (old) flavor.
	RevertResize(ctx context.Context, g *Guest, powerOn bool) error
	// Snapshot writes a consistent copy of the guest's root disk to w and
	// returns its disk format ("qcow2", "raw").
	Snapshot(ctx context.Context, id string, w io.Writer) (diskFormat string, err error)
	// Rescue boots the guest from rescue with its own disk attached
	// second; Unrescue boots it from its own disk again.
	Rescue(ctx context.Context, g *Guest, rescue Image) error
	Unrescue(ctx context.Context, g *Guest) error
	// SetAdminPassword changes the guest's administrator password;
	// ErrNotSupported when the guest cannot take it.
	SetAdminPassword(ctx context.Context, id, password string) error
	// InjectNMI sends the guest a non-maskable interrupt (crash dump).
	InjectNMI(ctx context.Context, id string) error
	// Diagnostics reports the guest g (its spec as kumo knows it) as it
	// runs; ErrNotFound if absent.
	Diagnostics(ctx context.Context, g *Guest) (*Diagnostics, error)

	// AttachInterface hot-plugs nic into the running (or paused) guest g,
	// whose spec already lists it; a guest that is shut down gets it from
	// its spec at its next boot, so there is nothing to plug. Attaching a
	// NIC the guest has succeeds. ErrNotFound if the guest is absent.
	AttachInterface(ctx context.Context, g *Guest, nic NIC) error
	// DetachInterface unplugs the NIC with MAC mac from guest id, waiting
	// (bounded by ctx) until the guest has let it go; detaching a NIC the
	// guest does not have succeeds. ErrNotFound if the guest is absent.
	DetachInterface(ctx context.Context, id, mac string) error

	// AttachVolume hot-plugs vol into the running (or paused) guest g,
	// whose spec already lists it, as a virtio disk whose serial is the
	// volume id's first 20 characters; a guest that is shut down gets it
	// from its spec at its next boot. Attaching a volume the guest has
	// succeeds. ErrNotFound if the guest is absent.
	AttachVolume(ctx context.Context, g *Guest, vol Volume) error
	// DetachVolume unplugs volume volumeID from guest id, waiting
	// (bounded by ctx) until the guest has let it go; detaching a volume
	// the guest does not have succeeds. ErrNotFound if the guest is absent.
	DetachVolume(ctx context.Context, id, volumeID string) error
}

// VolumeExtender is a driver that can grow a volume a running guest has
// attached, as Nova's libvirt driver does on Cinder's volume-extended
// event (an in-use volume's file is QEMU's to resize: it holds the
// file's write lock).
type VolumeExtender interface {
	// ExtendVolume grows volume volumeID of guest id to size bytes and
	// lets the running guest see its new size; a guest without a
	// process has nothing to tell (the volume service grows the file it
	// no longer uses). ErrNotFound if the guest is absent.
	ExtendVolume(ctx context.Context, id, volumeID string, size int64) error
}

// Mover is a driver whose guests can move to another host (a cold
// migration or a resize to another host, Nova's migrate_disk_and_power_off
// and finish_migration): the source host sends the files of a shut-down
// guest, the destination adopts them and boots the guest from them. The
// files travel between hosts as they are; what they mean (a qcow2
// overlay whose backing image lives elsewhere, a config drive) is the
// driver's business, on both ends.
type Mover interface {
	// ExportGuest returns the directory holding the files of guest id,
	// which must be shut down; the host sends its regular files. The
	// source keeps them until the move is confirmed (Destroy) or
	// reverted (PowerOn). ErrNotFound if the guest is absent.
	ExportGuest(ctx context.Context, id string) (dir string, err error)
	// StagingDir is where a host stages files it receives: a directory
	// on the filesystem of the driver's guests (so AdoptGuest renames
	// them into place) where the driver never looks for guests.
	StagingDir() string
	// AdoptGuest makes the files staged in dir (what ExportGuest's
	// directory held on the source) guest id's, shut down, replacing a
	// copy an earlier attempt left. dir is renamed away or removed.
	AdoptGuest(ctx context.Context, id, dir string) error
	// FinishMigration boots an adopted guest with g's spec, its disks
	// grown to g's flavor; the guest is left running when powerOn, else
	// shut down.
	FinishMigration(ctx context.Context, g *Guest, powerOn bool) error
}
