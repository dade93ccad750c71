package virt

import (
	"context"
	"errors"
)

// ErrMigrationAborted is LiveMigrate's answer when AbortLiveMigration
// stopped it: the guest still runs on the source.
var ErrMigrationAborted = errors.New("live migration aborted")

// MigrationProgress is how far a live migration has copied the guest's
// memory and disks, in bytes.
type MigrationProgress struct {
	MemoryTotal, MemoryProcessed, MemoryRemaining int64
	DiskTotal, DiskProcessed, DiskRemaining       int64
}

// LiveMigrator is a driver that moves a running guest to another host
// while it runs. The destination's driver prepares the guest and lets
// it run once the source's has copied it over; the source's copies it,
// reporting progress, and can be told to finish at once or to abort.
type LiveMigrator interface {
	// PrepareIncoming readies guest g on this host (the destination) to
	// receive its state: it exists here, paused, until FinishIncoming;
	// Destroy rolls it back. Preparing a prepared guest succeeds.
	PrepareIncoming(ctx context.Context, g *Guest, blockMigration bool) error
	// LiveMigrate copies guest id (its memory, and its disks when
	// blockMigration) to host dest while it runs, calling progress as it
	// goes; it returns once the guest's state is all there (the guest
	// here is then stopped, for Destroy), or ErrMigrationAborted after
	// AbortLiveMigration (the guest runs on here).
	LiveMigrate(ctx context.Context, id, dest string, blockMigration bool, progress func(MigrationProgress)) error
	// ForceCompleteLiveMigration makes guest id's running migration
	// finish at once (the guest is paused for the last copy).
	ForceCompleteLiveMigration(ctx context.Context, id string) error
	// AbortLiveMigration stops guest id's migration, or the one it is
	// about to start.
	AbortLiveMigration(ctx context.Context, id string) error
	// FinishIncoming lets the prepared guest g run on this host (the
	// destination) in power state power (running or paused).
	FinishIncoming(ctx context.Context, g *Guest, power PowerState) error
}
