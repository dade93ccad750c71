package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/virt"
)

// migrateGroup live-migrates servers between hosts and rebuilds
// evacuated ones on this host.
func (a *Agent) migrateGroup() taskGroup {
	return taskGroup{tasks: map[string]taskHandler{
		compute.TaskLiveMigration: {run: a.liveMigration, finish: a.compute.FinishLiveMigration},
		compute.TaskEvacuate:      {run: a.evacuate, finish: a.compute.FinishEvacuate},
	}}
}

// migrator is the driver's live migration, or ErrNotSupported.
func (a *Agent) migrator() (virt.LiveMigrator, error) {
	m, ok := a.driver.(virt.LiveMigrator)
	if !ok {
		return nil, fmt.Errorf("the %s driver cannot live-migrate: %w", a.driver.Name(), virt.ErrNotSupported)
	}
	return m, nil
}

// liveMigration runs this host's phase of a live migration (see
// internal/compute/livemigrate.go): on the destination it prepares the
// guest, lets it run when its state is there, or rolls it back; on the
// source it copies the guest over, keeping the progress in the
// migration, and destroys the source's guest once it runs elsewhere.
func (a *Agent) liveMigration(ctx context.Context, t *compute.Task) error {
	lm := compute.LiveMigrationTaskOf(t)
	if lm.Phase == compute.LiveMigrationRollback {
		return a.driver.Destroy(ctx, t.InstanceID)
	}
	m, err := a.migrator()
	if err != nil {
		return err
	}
	if lm.Phase == compute.LiveMigrationPrepare || lm.Phase == compute.LiveMigrationFinish {
		if err := a.compute.CheckTaskState(ctx, t); err != nil {
			// Deleted meanwhile: nothing of it may run here.
			if derr := a.driver.Destroy(ctx, t.InstanceID); derr != nil {
				return errors.Join(err, derr)
			}
			return err
		}
	}
	switch lm.Phase {
	case compute.LiveMigrationPrepare:
		if err := a.compute.SetLiveMigrationStatus(ctx, t, compute.MigrationPreparing); err != nil {
			return err
		}
		g, err := a.Guest(ctx, t)
		if err != nil {
			return err
		}
		return m.PrepareIncoming(ctx, g, lm.BlockMigration)
	case compute.LiveMigrationMigrate:
		if err := a.compute.SetLiveMigrationStatus(ctx, t, compute.MigrationRunning); err != nil {
			return err
		}
		err := m.LiveMigrate(ctx, t.InstanceID, lm.Dest, lm.BlockMigration, func(p virt.MigrationProgress) {
			if err := a.compute.SaveLiveMigrationProgress(ctx, t, compute.MigrationProgress(p)); err != nil {
				a.log.Warn("live migration: save progress", "server", t.InstanceID, "error", err)
			}
		})
		if errors.Is(err, virt.ErrMigrationAborted) {
			return compute.ErrLiveMigrationAborted
		}
		if errors.Is(err, virt.ErrNotFound) && t.Attempts > 1 {
			// Resumed after a crash that came after the copy: the source's
			// guest goes only once the destination has all of it.
			return nil
		}
		if err != nil {
			return err
		}
		return a.driver.Destroy(ctx, t.InstanceID)
	case compute.LiveMigrationFinish:
		// The volumes' connections move here (Nova's pre_live_migration
		// and post_live_migration attachments; see volumes_move.go).
		if err := a.compute.MoveVolumes(ctx, t); err != nil {
			return err
		}
		g, err := a.Guest(ctx, t)
		if err != nil {
			return err
		}
		power := virt.PowerRunning
		if lm.Power == state.PowerPaused {
			power = virt.PowerPaused
		}
		return m.FinishIncoming(ctx, g, power)
	}
	return fmt.Errorf("live migration: unknown phase %q", lm.Phase)
}

// liveMigrationCall tells the driver to finish or abort guest's
// migration out of this host.
func (a *Agent) liveMigrationCall(ctx context.Context, t *compute.Task) error {
	m, err := a.migrator()
	if err != nil {
		return err
	}
	if compute.CallOf(t) == compute.CallLiveMigrationForceComplete {
		return m.ForceCompleteLiveMigration(ctx, t.InstanceID)
	}
	return m.AbortLiveMigration(ctx, t.InstanceID)
}

// evacuate rebuilds an evacuated server on this host as Nova's
// rebuild_instance with recreate: through rebuild_block_device_mapping
// (its volumes connected here) and rebuild_spawning, a new guest from
// its image or volumes, powered off again when the plan says stopped.
func (a *Agent) evacuate(ctx context.Context, t *compute.Task) error {
	if err := a.compute.StartEvacuation(ctx, t); err != nil {
		return err
	}
	rt := compute.RebuildTaskOf(t)
	for _, next := range rt.Before {
		if err := a.compute.AdvanceTask(ctx, t, next); err != nil {
			return err
		}
		if next == state.TaskRebuildBlockDeviceMapping {
			if err := a.compute.PrepareVolumes(ctx, t); err != nil {
				return err
			}
		}
	}
	if !slices.Contains(rt.Before, state.TaskRebuildBlockDeviceMapping) {
		// Resumed past the step: its volumes may not be connected yet.
		if err := a.compute.PrepareVolumes(ctx, t); err != nil {
			return err
		}
	}
	// A move abandoned for the evacuation may have left a copy of the
	// guest here (a live migration's prepared one): the rebuild
	// replaces it.
	if err := a.driver.Destroy(ctx, t.InstanceID); err != nil {
		return err
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	if err := a.driver.Spawn(ctx, g); err != nil {
		return err
	}
	for _, next := range rt.After {
		if err := a.compute.AdvanceTask(ctx, t, next); err != nil {
			return err
		}
	}
	if !rt.PowerOn {
		return a.driver.PowerOff(ctx, t.InstanceID)
	}
	return nil
}

// destroyEvacuated destroys the guests of servers evacuated away from
// this host while it was down, then marks their finished evacuations
// completed (Nova's _destroy_evacuated_instances), so a host that comes
// back never runs a server that now lives elsewhere.
func (a *Agent) destroyEvacuated(ctx context.Context) error {
	gone, err := a.compute.EvacuatedFrom(ctx, a.host)
	if err != nil || len(gone) == 0 {
		return err
	}
	local, err := a.driver.List(ctx)
	if err != nil {
		return fmt.Errorf("list guests: %w", err)
	}
	for _, id := range gone {
		if !slices.Contains(local, id) {
			continue
		}
		a.log.Info("destroying the guest of a server evacuated from this host", "server", id)
		if err := a.driver.Destroy(ctx, id); err != nil {
			return fmt.Errorf("destroy evacuated guest %s: %w", id, err)
		}
	}
	return a.compute.CompleteEvacuations(ctx, a.host)
}
