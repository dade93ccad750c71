package volume

import (
	"context"
	"errors"
	"io"
)

// Backend keeps the data of volumes and snapshots; package volfile
// implements it with files in the data directory. Names are Cinder's
// ("volume-<id>", "snapshot-<id>"). Every call is idempotent, so a job a
// crash interrupted can simply run again.
type Backend interface {
	// Create makes a blank disk of sizeGB GiB.
	Create(ctx context.Context, name string, sizeGB int) (Disk, error)
	// CreateFromImage makes a disk of sizeGB GiB holding an image's data,
	// given in diskFormat (raw, qcow2, ...).
	CreateFromImage(ctx context.Context, name string, data io.Reader, diskFormat string, sizeGB int) (Disk, error)
	// Clone makes a disk of sizeGB GiB holding src's data (a new volume
	// from a volume or a snapshot, a snapshot of a volume).
	Clone(ctx context.Context, name string, src Disk, sizeGB int) (Disk, error)
	// Extend grows d to sizeGB GiB; ErrDiskHeld when a running guest
	// holds the disk, whose hypervisor must grow it then.
	Extend(ctx context.Context, d Disk, sizeGB int) error
	// Delete removes every trace of name's disk; a missing one is not an
	// error.
	Delete(ctx context.Context, name string) error
	// Open reads d's data converted to format ("raw" or "qcow2").
	Open(ctx context.Context, d Disk, format string) (io.ReadCloser, error)
}

// ErrDiskHeld is a backend's answer for a disk a running guest's
// hypervisor holds (QEMU's write lock on a qcow2 file): only that
// hypervisor may grow it, which the volume-extended event asks for.
var ErrDiskHeld = errors.New("the disk is held by a running guest")

// ServerEvents tells the compute service of changes to the volumes its
// servers have attached, as Cinder calls Nova's os-server-external-events.
type ServerEvents interface {
	// VolumeExtended: volumeID, attached to serverIDs, has grown
	// ("volume-extended").
	VolumeExtended(ctx context.Context, volumeID string, serverIDs []string) error
}

// Disk is where a backend keeps a disk and how.
type Disk struct {
	Location string // a path for volfile
	Format   string // "raw" or "qcow2"
}

func volumeName(id string) string   { return "volume-" + id }
func snapshotName(id string) string { return "snapshot-" + id }
