package agent

import (
	"context"
	"errors"
	"slices"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/virt"
)

// rebuildGroup rebuilds servers from a new image.
func (a *Agent) rebuildGroup() taskGroup {
	return taskGroup{tasks: map[string]taskHandler{
		compute.TaskRebuild: {run: a.rebuild, finish: a.compute.FinishRebuild},
	}}
}

// rebuild moves the server through Nova's rebuild task states
// (rebuild_block_device_mapping, rebuild_spawning), has the driver give
// the guest a fresh root disk from the new image with the new admin
// password, and for a server that was stopped leaves it powered off
// (powering_off), as Nova's compute manager brings it back to its former
// state. A volume-backed server rebuilt at 2.93 has its root volume
// re-imaged first, with the guest powered off (Nova's
// _rebuild_default_impl), and connected again before the guest boots
// from it.
func (a *Agent) rebuild(ctx context.Context, t *compute.Task) error {
	rt := compute.RebuildTaskOf(t)
	// A task resumed past rebuilding has re-imaged the volume already;
	// one resumed past rebuild_block_device_mapping may not have
	// connected it yet, which connects it first.
	mapping := slices.Contains(rt.Before, state.TaskRebuildBlockDeviceMapping)
	if rt.ReimageVolume && mapping {
		if err := a.reimageRootVolume(ctx, t); err != nil {
			return err
		}
	}
	if rt.ReimageVolume && !mapping {
		if err := a.compute.PrepareVolumes(ctx, t); err != nil {
			return err
		}
	}
	for _, next := range rt.Before {
		if err := a.compute.AdvanceTask(ctx, t, next); err != nil {
			return err
		}
		if next == state.TaskRebuildBlockDeviceMapping && rt.ReimageVolume {
			if err := a.compute.PrepareVolumes(ctx, t); err != nil {
				return err
			}
		}
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	if err := a.driver.Rebuild(ctx, g, rt.PreserveEphemeral, rt.PowerOn); err != nil {
		return err
	}
	for _, next := range rt.After {
		if err := a.compute.AdvanceTask(ctx, t, next); err != nil {
			return err
		}
	}
	return nil
}

// reimageRootVolume powers the guest off, so nothing writes to the root
// volume while its data is replaced, and has the compute service
// re-image it.
func (a *Agent) reimageRootVolume(ctx context.Context, t *compute.Task) error {
	if err := a.driver.PowerOff(ctx, t.InstanceID); err != nil && !errors.Is(err, virt.ErrNotFound) {
		return err
	}
	err := a.compute.ReimageRootVolume(ctx, t)
	var abort *compute.BuildAbort
	if errors.As(err, &abort) && abort.Cause != nil {
		a.log.Warn("rebuild: re-image of the root volume failed", "server", t.InstanceID, "error", abort.Cause)
	}
	return err
}
