package fake

import (
	"context"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// A live migration of the fake driver copies nothing: the destination's
// driver makes the guest from its spec (PrepareIncoming) and the source's
// counts the guest's memory (and, for a block migration, its root disk)
// across in migrationSteps steps spread over the "live_migration"
// operation's delay, so it can be watched, forced to complete and
// aborted while it runs.

// migrationSteps is how many progress reports a live migration makes.
const migrationSteps = 10

// migrationJob is one guest's live migration out of this host.
type migrationJob struct {
	force, abort chan struct{} // closed when asked
	forced       bool
	aborted      bool
}

// job is guest id's migration job, made when missing; d.mu is held.
func (d *Driver) job(id string) *migrationJob {
	j, ok := d.jobs[id]
	if !ok {
		j = &migrationJob{force: make(chan struct{}), abort: make(chan struct{})}
		d.jobs[id] = j
	}
	return j
}

// PrepareIncoming implements virt.LiveMigrator: the guest exists here,
// paused, waiting for its state.
func (d *Driver) PrepareIncoming(ctx context.Context, spec *virt.Guest, blockMigration bool) error {
	if err := d.op(ctx, "pre_live_migration", spec.ID, spec); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.guests[spec.ID]
	if !ok {
		g = &guest{}
		d.guests[spec.ID] = g
	}
	g.shape = shapeOf(spec)
	g.power = virt.PowerPaused
	g.nics = macsOf(spec)
	g.volumes = volumesOf(spec)
	g.log("incoming live migration of %s (block migration: %t)", spec.Hostname, blockMigration)
	return d.save(spec.ID, g)
}

// LiveMigrate implements virt.LiveMigrator.
func (d *Driver) LiveMigrate(ctx context.Context, id, dest string, blockMigration bool, progress func(virt.MigrationProgress)) error {
	d.mu.Lock()
	g, err := d.get(id)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	j := d.job(id)
	p := virt.MigrationProgress{MemoryTotal: int64(g.shape.memoryMB) << 20}
	if blockMigration {
		p.DiskTotal = int64(g.shape.rootGB) << 30
	}
	g.log("live migration to %s started", dest)
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.jobs, id)
		d.mu.Unlock()
	}()
	if err := d.failure("live_migration", id, nil); err != nil {
		return err
	}
	select {
	case <-j.abort: // told before it started
		return d.endMigration(id, dest, virt.ErrMigrationAborted)
	default:
	}
	p.MemoryRemaining, p.DiskRemaining = p.MemoryTotal, p.DiskTotal
	progress(p)
	step := d.delay("live_migration") / migrationSteps
	for i := 1; i <= migrationSteps; i++ {
		p.MemoryProcessed, p.DiskProcessed = p.MemoryTotal*int64(i)/migrationSteps, p.DiskTotal*int64(i)/migrationSteps
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-j.abort:
			return d.endMigration(id, dest, virt.ErrMigrationAborted)
		case <-j.force:
			p.MemoryProcessed, p.DiskProcessed = p.MemoryTotal, p.DiskTotal
			i = migrationSteps
		case <-time.After(step):
		}
		p.MemoryRemaining, p.DiskRemaining = p.MemoryTotal-p.MemoryProcessed, p.DiskTotal-p.DiskProcessed
		progress(p)
	}
	return d.endMigration(id, dest, nil)
}

// endMigration ends guest id's migration to dest: aborted (err), it runs
// on here; done, it is stopped here, for the agent to destroy.
func (d *Driver) endMigration(id, dest string, err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, gerr := d.get(id)
	if gerr != nil {
		return gerr
	}
	if err != nil {
		g.log("live migration to %s aborted", dest)
		return err
	}
	g.power = virt.PowerShutdown
	g.log("live migration to %s completed", dest)
	if serr := d.save(id, g); serr != nil {
		return serr
	}
	return nil
}

// ForceCompleteLiveMigration implements virt.LiveMigrator.
func (d *Driver) ForceCompleteLiveMigration(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.get(id); err != nil {
		return err
	}
	if j := d.job(id); !j.forced {
		j.forced = true
		close(j.force)
	}
	return nil
}

// AbortLiveMigration implements virt.LiveMigrator; a migration told
// before it starts stops at its start.
func (d *Driver) AbortLiveMigration(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.get(id); err != nil {
		return err
	}
	if j := d.job(id); !j.aborted {
		j.aborted = true
		close(j.abort)
	}
	return nil
}

// FinishIncoming implements virt.LiveMigrator.
func (d *Driver) FinishIncoming(ctx context.Context, spec *virt.Guest, power virt.PowerState) error {
	if err := d.op(ctx, "post_live_migration_at_destination", spec.ID, spec); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.get(spec.ID)
	if err != nil {
		return err
	}
	g.power = power
	g.started = time.Now()
	g.log("live migration completed; power state %d", int(power))
	return d.save(spec.ID, g)
}
