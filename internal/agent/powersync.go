package agent

import (
	"context"
	"errors"

	"github.com/kumocloud/kumo/internal/virt"
)

// powerSyncGroup is Nova's _sync_power_states: every PowerSync interval
// each idle server's power state is read from the driver and recorded,
// so a guest that shut itself down or died becomes SHUTOFF. Off when
// PowerSync is 0.
func (a *Agent) powerSyncGroup() taskGroup {
	if a.opts.PowerSync <= 0 {
		return taskGroup{}
	}
	return taskGroup{periodics: []periodic{{name: "sync power states", interval: a.opts.PowerSync, run: a.syncPowerStates}}}
}

func (a *Agent) syncPowerStates(ctx context.Context) error {
	records, err := a.compute.IdlePowerRecords(ctx, a.host)
	if err != nil {
		return err
	}
	for _, r := range records {
		actual, err := a.driver.PowerState(ctx, r.ID)
		if errors.Is(err, virt.ErrNotFound) {
			continue // no guest (never built, or gone): not this sync's business
		}
		if err != nil {
			a.log.Warn("power sync: read power state", "server", r.ID, "error", err)
			continue
		}
		if err := a.compute.SyncPowerState(ctx, r, novaPower(actual)); err != nil {
			return err
		}
	}
	return nil
}
