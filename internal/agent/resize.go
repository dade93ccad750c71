package agent

import (
	"context"
	"time"

	"github.com/kumocloud/kumo/internal/compute"
)

// resizeGroup resizes servers and confirms or reverts resizes (and confirms them automatically after the resize window).
func (a *Agent) resizeGroup() taskGroup {
	g := taskGroup{tasks: map[string]taskHandler{
		compute.TaskResize:        {run: a.resize, finish: a.compute.FinishResize},
		compute.TaskConfirmResize: {run: a.confirmResize, finish: a.compute.FinishConfirmResize},
		compute.TaskRevertResize:  {run: a.revertResize, finish: a.compute.FinishRevertResize},
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
// resize_finish while the driver restarts the guest with the new flavor,
// powered on only if it ran before.
func (a *Agent) resize(ctx context.Context, t *compute.Task) error {
	if err := a.compute.ResizePrepared(ctx, t, time.Now()); err != nil {
		return err
	}
	started := time.Now()
	flavor, powerOn, err := a.compute.ResizeFlavor(ctx, t)
	if err != nil {
		return err
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

// confirmResize drops the disk the resize kept aside.
func (a *Agent) confirmResize(ctx context.Context, t *compute.Task) error {
	return a.driver.ConfirmResize(ctx, t.InstanceID)
}

// revertResize restores the old disk and restarts the guest with its old
// flavor, powered on unless it was stopped before the resize.
func (a *Agent) revertResize(ctx context.Context, t *compute.Task) error {
	flavor, powerOn, err := a.compute.RevertStarted(ctx, t, time.Now())
	if err != nil {
		return err
	}
	g, err := a.Guest(ctx, t)
	if err != nil {
		return err
	}
	withFlavor(g, flavor)
	return a.driver.RevertResize(ctx, g, powerOn)
}
