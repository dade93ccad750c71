package agent

import (
	"context"

	"github.com/kumocloud/kumo/internal/compute"
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
// state.
func (a *Agent) rebuild(ctx context.Context, t *compute.Task) error {
	rt := compute.RebuildTaskOf(t)
	for _, next := range rt.Before {
		if err := a.compute.AdvanceTask(ctx, t, next); err != nil {
			return err
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
