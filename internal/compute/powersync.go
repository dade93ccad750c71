package compute

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/store"
)

// PowerRecord is what the database says about a server's power, for the
// agent's periodic power-state sync.
type PowerRecord struct {
	ID      string
	VMState state.VMState
	Power   state.PowerState
}

// IdlePowerRecords lists the servers on host with no task running: the
// ones whose power state the sync may correct.
func (s *Service) IdlePowerRecords(ctx context.Context, host string) ([]PowerRecord, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, vm_state, power_state FROM instances
		WHERE host = ? AND deleted = FALSE AND task_state IS NULL`, host)
	if err != nil {
		return nil, fmt.Errorf("list servers for power sync: %w", err)
	}
	defer rows.Close()
	var out []PowerRecord
	for rows.Next() {
		var r PowerRecord
		var vm string
		var power int
		if err := rows.Scan(&r.ID, &vm, &power); err != nil {
			return nil, fmt.Errorf("scan server for power sync: %w", err)
		}
		r.VMState, r.Power = state.VMState(vm), state.PowerState(power)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SyncPowerState records the power state the driver reports for a server
// seen idle as r, as Nova's _sync_power_states does: the power_state
// follows the guest, and an ACTIVE server whose guest shut down or
// crashed becomes SHUTOFF. Nothing changes if the server moved on since
// r was read (a task started, or its state changed).
func (s *Service) SyncPowerState(ctx context.Context, r PowerRecord, actual state.PowerState) error {
	if actual == state.PowerNoState || actual == r.Power && r.VMState != state.VMActive {
		return nil
	}
	vm := r.VMState
	if vm == state.VMActive && (actual == state.PowerShutdown || actual == state.PowerCrashed) {
		vm, actual = state.VMStopped, state.PowerShutdown
	}
	if vm == r.VMState && actual == r.Power {
		return nil
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		_, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, power_state = ?, updated_at = ?
			WHERE id = ? AND deleted = FALSE AND task_state IS NULL AND vm_state = ? AND power_state = ?`,
			string(vm), int(actual), now.UnixMicro(), r.ID, string(r.VMState), int(r.Power))
		if err != nil {
			return fmt.Errorf("sync power state of %s: %w", r.ID, err)
		}
		return nil
	})
}
