package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/virt"
)

// resizeGroup resizes and cold-migrates servers and confirms or reverts
// resizes (and confirms them automatically after the resize window). A
// move to another host runs on both: resize and confirm_resize on the
// source, finish_resize and revert_resize on the destination,
// finish_revert_resize on the source again.
func (a *Agent) resizeGroup() taskGroup {
	g := taskGroup{tasks: map[string]taskHandler{
		compute.TaskResize:             {run: a.resize, finish: a.compute.FinishResize},
		compute.TaskFinishResize:       {run: a.finishResize, finish: a.compute.FinishResize},
		compute.TaskConfirmResize:      {run: a.confirmResize, finish: a.compute.FinishConfirmResize},
		compute.TaskRevertResize:       {run: a.revertResize, finish: a.compute.FinishRevertResize},
		compute.TaskFinishRevertResize: {run: a.finishRevertResize, finish: a.compute.FinishRevertResize},
	}}
	if window := a.compute.ResizeConfirmWindow(); window > 0 {
		g.periodics = append(g.periodics, periodic{name: "confirm unconfirmed resizes", interval: confirmPollInterval(window),
			run: func(ctx context.Context) error {
				_, err := a.compute.ConfirmStaleResizes(ctx, a.host, window)
				return err
			}})
	}
	return g
}

// confirmPollInterval is how often unconfirmed resizes are looked for:
// Nova polls every minute; a shorter window is polled at its own pace so
// a resize is confirmed soon after its window ends.
func confirmPollInterval(window time.Duration) time.Duration {
	return min(window, time.Minute)
}

// resize runs Nova's prep_resize and resize_instance on the server's host:
// the server moves through resize_migrating and resize_migrated to
// resize_finish. On the same host the driver restarts the guest with the
// new flavor, powered on only if it ran before; to another host the
// guest is powered off and its files sent to the destination, which
// finishes (finishResize).
func (a *Agent) resize(ctx context.Context, t *compute.Task) error {
	if err := a.compute.ResizePrepared(ctx, t, time.Now()); err != nil {
		return err
	}
	started := time.Now()
	flavor, powerOn, err := a.compute.ResizeFlavor(ctx, t)
	if err != nil {
		return err
	}
	m, err := a.compute.MoveOf(ctx, t)
	if err != nil {
		return err
	}
	if m.CrossHost() {
		if err := a.migrateDisk(ctx, t.InstanceID, m.DestCompute); err != nil {
			return err
		}
		// Nova's _terminate_volume_connections: the destination connects
		// the volumes (finishResize).
		if err := a.compute.DisconnectVolumes(ctx, t); err != nil {
			return err
		}
		return a.compute.ResizeMigrated(ctx, t, started)
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	withFlavor(g, flavor)
	if err := a.driver.Resize(ctx, g, powerOn); err != nil {
		return err
	}
	return a.compute.ResizeMigrated(ctx, t, started)
}

// mover is the driver as a virt.Mover, or an error saying it cannot
// move guests between hosts.
func (a *Agent) mover() (virt.Mover, error) {
	m, ok := a.driver.(virt.Mover)
	if !ok || m.StagingDir() == "" {
		return nil, fmt.Errorf("the %s driver of host %s cannot move guests between hosts", a.driver.Name(), a.host)
	}
	return m, nil
}

// migrateDisk is Nova's migrate_disk_and_power_off: guest id is shut
// down and its files sent to dest's host endpoint. Both are safe to do
// again after a crash: a second send replaces the first.
func (a *Agent) migrateDisk(ctx context.Context, id, dest string) error {
	m, err := a.mover()
	if err != nil {
		return err
	}
	if a.opts.Transfer == nil {
		return fmt.Errorf("host %s has no way to send guests to other hosts", a.host)
	}
	url, err := a.hosts.Endpoint(ctx, dest)
	if err != nil {
		return err
	}
	if err := a.driver.PowerOff(ctx, id); err != nil {
		return err
	}
	dir, err := m.ExportGuest(ctx, id)
	if err != nil {
		return err
	}
	return a.opts.Transfer.SendGuest(ctx, url, id, dir)
}

// finishResize runs Nova's finish_resize on the destination of a move
// to another host: the server's volumes are connected here, and the
// guest the source sent boots with the new flavor, powered on only if it
// ran before.
func (a *Agent) finishResize(ctx context.Context, t *compute.Task) error {
	flavor, powerOn, err := a.compute.ResizeFlavor(ctx, t)
	if err != nil {
		return err
	}
	if err := a.compute.PrepareVolumes(ctx, t); err != nil {
		return err
	}
	m, err := a.mover()
	if err != nil {
		return err
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	withFlavor(g, flavor)
	return m.FinishMigration(ctx, g, powerOn)
}

// confirmResize drops what the source kept: the old disk of a resize on
// the same host, the whole guest of a move to another host.
func (a *Agent) confirmResize(ctx context.Context, t *compute.Task) error {
	m, err := a.compute.MoveOf(ctx, t)
	if err != nil {
		return err
	}
	if m.CrossHost() {
		return a.driver.Destroy(ctx, t.InstanceID)
	}
	return a.driver.ConfirmResize(ctx, t.InstanceID)
}

// revertResize restores the old disk and restarts the guest with its old
// flavor, powered on unless it was stopped before the resize; after a
// move to another host it destroys the destination's copy and lets go of
// the volumes' connections, and the source finishes (finishRevertResize).
func (a *Agent) revertResize(ctx context.Context, t *compute.Task) error {
	flavor, powerOn, err := a.compute.RevertStarted(ctx, t, time.Now())
	if err != nil {
		return err
	}
	m, err := a.compute.MoveOf(ctx, t)
	if err != nil {
		return err
	}
	if m.CrossHost() {
		if err := a.driver.Destroy(ctx, t.InstanceID); err != nil {
			return err
		}
		return a.compute.DisconnectVolumes(ctx, t)
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	withFlavor(g, flavor)
	return a.driver.RevertResize(ctx, g, powerOn)
}

// finishRevertResize runs Nova's finish_revert_resize on the source of
// a move to another host: the volumes are connected here again and the
// guest it kept, shut down since the move, boots with its old flavor
// unless it was stopped before.
func (a *Agent) finishRevertResize(ctx context.Context, t *compute.Task) error {
	flavor, powerOn, err := a.compute.RevertFlavor(ctx, t)
	if err != nil {
		return err
	}
	if err := a.compute.PrepareVolumes(ctx, t); err != nil {
		return err
	}
	if !powerOn {
		return nil
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	withFlavor(g, flavor)
	return a.driver.PowerOn(ctx, g)
}
