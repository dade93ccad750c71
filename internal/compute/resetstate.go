package compute

// The admin actions of Nova's admin_actions.py: os-resetState, done at
// once, and injectNetworkInfo, cast to the server's host. The API checks
// that the caller is an admin.

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/store"
)

// TaskInjectNetworkInfo is the task kind of injectNetworkInfo.
const TaskInjectNetworkInfo = "inject_network_info"

// ResetState sets a server's vm_state to target (active or error) and
// clears its task_state at once, whatever state it is in, recording the
// instance action "resetState" (Nova's _reset_state). Work under way on
// a live host finds the task_state gone and leaves the server alone;
// work stranded on a host that is down is dropped, and the move it
// belonged to ends in error (stranded.go).
func (s *Service) ResetState(ctx context.Context, p *auth.Principal, id string, target state.VMState, requestID string) error {
	var wake []string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		wake = nil
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		plan, err := state.PlanFor(state.ActionResetState, state.Context{VMState: srv.VMState, Power: srv.PowerState, Target: target})
		if err != nil {
			return err
		}
		now := s.now()
		actionID, err := startAction(ctx, tx, srv, "resetState", requestID, p, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, updated_at = ? WHERE id = ?`,
			string(plan.VMState), now.UnixMicro(), id); err != nil {
			return fmt.Errorf("reset state: %w", err)
		}
		dropped, err := s.dropStrandedTasks(ctx, tx, id, false, now)
		if err != nil || !dropped {
			return err
		}
		cleanups, err := abandonMoves(ctx, tx, srv, requestID, actionID, now)
		if err != nil {
			return err
		}
		wake = cleanupHosts(cleanups)
		return queueCleanups(ctx, tx, cleanups, "", now)
	})
	if err != nil {
		return err
	}
	for _, h := range wake {
		s.wake(h)
	}
	return nil
}

// InjectNetworkInfo asks the server's host to inject the network
// configuration into the guest again: the lock check (409), then a task;
// Nova records no instance action for it.
func (s *Service) InjectNetworkInfo(ctx context.Context, p *auth.Principal, id, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := state.Check(state.ActionInjectNetworkInfo, instanceOf(srv), p.IsAdmin()); err != nil {
			return err
		}
		host = srv.Host
		if host == "" {
			return nil // not built anywhere yet: nothing to inject into
		}
		return insertTask(ctx, tx, &Task{InstanceID: id, Host: srv.Host, Kind: TaskInjectNetworkInfo,
			RequestID: requestID, Params: &InjectNetworkInfoParams{}}, s.now())
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}
