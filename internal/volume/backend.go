package volume

import (
	"context"
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
	// Extend grows d to sizeGB GiB.
	Extend(ctx context.Context, d Disk, sizeGB int) error
	// Delete removes every trace of name's disk; a missing one is not an
	// error.
	Delete(ctx context.Context, name string) error
	// Open reads d's data converted to format ("raw" or "qcow2").
	Open(ctx context.Context, d Disk, format string) (io.ReadCloser, error)
}

// Disk is where a backend keeps a disk and how.
type Disk struct {
	Location string // a path for volfile
	Format   string // "raw" or "qcow2"
}

func volumeName(id string) string   { return "volume-" + id }
func snapshotName(id string) string { return "snapshot-" + id }
