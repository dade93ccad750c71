package agent

import (
	"context"
	"time"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/virt"
)

// deleteGroup powers soft-deleted servers off and restored ones on, and
// reclaims soft-deleted servers once the reclaim interval has passed.
func (a *Agent) deleteGroup() taskGroup {
	return taskGroup{
		tasks: map[string]taskHandler{
			compute.TaskSoftDelete: {run: a.softDelete, finish: a.compute.FinishAction},
			compute.TaskRestore:    {run: a.restore, finish: a.compute.FinishAction},
		},
		// Nova runs _reclaim_queued_deletes every reclaim_instance_interval;
		// polling more often only shortens the overrun. The interval itself
		// is read from the settings at each run.
		periodics: []periodic{{name: "reclaim soft-deleted servers", interval: reclaimPoll(a.opts.Poll), run: func(ctx context.Context) error {
			_, err := a.compute.ReclaimQueued(ctx, a.host)
			return err
		}}},
	}
}

// reclaimPoll is how often the agent looks for servers to reclaim.
func reclaimPoll(poll time.Duration) time.Duration { return 10 * poll }

// softDelete powers the guest off, first dropping the disk an
// unconfirmed resize kept aside when the delete confirmed it.
func (a *Agent) softDelete(ctx context.Context, t *compute.Task) error {
	if p, ok := t.Params.(*compute.SoftDeleteParams); ok && p.ConfirmResize {
		if err := a.driver.ConfirmResize(ctx, t.InstanceID); err != nil {
			return err
		}
	}
	return a.powerOff(ctx, t.InstanceID)
}

// restore powers a soft-deleted guest on again, unless it already runs.
func (a *Agent) restore(ctx context.Context, t *compute.Task) error {
	if ps, err := a.driver.PowerState(ctx, t.InstanceID); err == nil && ps == virt.PowerRunning {
		return nil
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	return a.driver.PowerOn(ctx, g)
}
