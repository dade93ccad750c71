package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/compute"
)

// Step is one round of Run's loop done in the caller: it claims the tasks
// queued for the agent's host (up to Workers) and runs each to its
// committed outcome, one after another, returning them (none when the
// queue is empty). Tests drive an agent that was started but not Run
// with it, so work happens when they say and not on a timer; call it
// again for tasks the round's tasks queued.
func (a *Agent) Step(ctx context.Context) ([]*compute.Task, error) {
	tasks, err := a.compute.ClaimTasks(ctx, a.host, a.opts.Lease, a.opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("claim tasks of %s: %w", a.host, err)
	}
	for _, t := range tasks {
		a.run(ctx, t)
	}
	return tasks, nil
}

// RunPeriodics runs each of the host's periodic jobs once (reclaiming
// soft-deleted servers, offloading shelved ones, confirming stale
// resizes, syncing power states), as Run does at their intervals; the
// tasks they queue wait for the next Step.
func (a *Agent) RunPeriodics(ctx context.Context) error {
	var errs []error
	for _, p := range a.periodics {
		if err := p.run(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}
