package virt

import (
	"context"
	"errors"
	"io"
	"sync"
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

// A driver whose live migration copies the guest itself (the qemu
// driver: QEMU's migration stream and its disks' NBD mirror) moves
// bytes between the two hosts only through the host endpoint: the
// source's driver dials a stream to the prepared guest through a
// MigrationLink, and the destination's endpoint connects it to its
// driver's MigrationReceiver. A stream belongs to a named channel of
// the migration (the qemu driver's: "memory" and "disk").

// MigrationLink opens byte streams to the incoming migration of guest
// id on compute host host (internal/hostlink through its endpoint).
type MigrationLink interface {
	DialMigration(ctx context.Context, host, id, channel string) (io.ReadWriteCloser, error)
}

// MigrationReceiver is a driver whose prepared guests take their
// migration as byte streams: ConnectIncoming connects one stream of
// channel to prepared guest id, virt.ErrNotFound when none waits.
type MigrationReceiver interface {
	ConnectIncoming(ctx context.Context, id, channel string) (io.ReadWriteCloser, error)
}

// Relay copies a to b and b to a until both directions end, passing on
// each end of stream as a half close where the stream takes one, then
// closes both.
func Relay(a, b io.ReadWriteCloser) {
	var wg sync.WaitGroup
	copyHalf := func(dst, src io.ReadWriteCloser) {
		defer wg.Done()
		_, err := io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok && err == nil {
			_ = cw.CloseWrite()
			return
		}
		// No half close (or a broken stream): the whole relay ends.
		a.Close()
		b.Close()
	}
	wg.Add(2)
	go copyHalf(a, b)
	go copyHalf(b, a)
	wg.Wait()
	a.Close()
	b.Close()
}
