package compute

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// TaskAction is the task kind of a server action the agent performs with
// one driver call (stop, start, reboot, pause, suspend and their undos).
const TaskAction = "action"

// powerActions are the actions Act runs through the agent, with the
// instance action name Nova records and the compute event it logs.
var powerActions = map[state.Action]struct{ record, event string }{
	state.ActionStop:       {"stop", "compute_stop_instance"},
	state.ActionStart:      {"start", "compute_start_instance"},
	state.ActionRebootSoft: {"reboot", "compute_reboot_instance"},
	state.ActionRebootHard: {"reboot", "compute_reboot_instance"},
	state.ActionPause:      {"pause", "compute_pause_instance"},
	state.ActionUnpause:    {"unpause", "compute_unpause_instance"},
	state.ActionSuspend:    {"suspend", "compute_suspend_instance"},
	state.ActionResume:     {"resume", "compute_resume_instance"},
}

// Act accepts one of the power actions: it checks Nova's preconditions
// (409 on a wrong state or a lock), sets the action's task_state, queues
// the task and records the instance action, in one transaction.
func (s *Service) Act(ctx context.Context, p *auth.Principal, id string, a state.Action, requestID string) error {
	names, ok := powerActions[a]
	if !ok {
		return fmt.Errorf("compute: %s is not a power action", a)
	}
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := state.Check(a, instanceOf(srv), p.IsAdmin()); err != nil {
			return err
		}
		plan, err := state.PlanFor(a, state.Context{VMState: srv.VMState, Power: srv.PowerState,
			OldVMState: state.VMState(srv.SystemMetadata["old_vm_state"]), Launched: srv.LaunchedAt != nil})
		if err != nil {
			return err
		}
		now := s.now()
		actionID, err := startAction(ctx, tx, srv, names.record, requestID, p, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, updated_at = ? WHERE id = ?`,
			nullTask(plan.Task), now.UnixMicro(), id); err != nil {
			return fmt.Errorf("set task state: %w", err)
		}
		host = srv.Host
		return insertTask(ctx, tx, &Task{InstanceID: id, Host: srv.Host, Kind: TaskAction, RequestID: requestID,
			ActionID: actionID, Params: map[string]string{
				"action": string(a), "task_state": string(plan.Task),
				"vm_state": string(plan.VMState), "power_state": strconv.Itoa(int(plan.Power)),
			}}, now)
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// FinishAction commits a power action: the planned vm and power states on
// success; on failure the server keeps its states, its task_state is
// cleared and the event records the error, as Nova's compute manager does.
func (s *Service) FinishAction(ctx context.Context, t *Task, started time.Time, opErr error) error {
	a := state.Action(t.Params["action"])
	names := powerActions[a]
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if opErr == nil {
			power, _ := strconv.Atoi(t.Params["power_state"])
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, power_state = ?, task_state = NULL,
				updated_at = ? WHERE id = ? AND deleted = FALSE AND task_state = ?`,
				t.Params["vm_state"], power, now.UnixMicro(), t.InstanceID, t.Params["task_state"]); err != nil {
				return fmt.Errorf("finish %s: %w", a, err)
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = NULL, updated_at = ?
			WHERE id = ? AND deleted = FALSE AND task_state = ?`, now.UnixMicro(), t.InstanceID, t.Params["task_state"]); err != nil {
			return fmt.Errorf("fail %s: %w", a, err)
		}
		if err := recordEvent(ctx, tx, t.ActionID, names.event, t.Host, started, opErr, now); err != nil {
			return err
		}
		return finishTask(ctx, tx, t, opErr != nil, now)
	})
}

// SetLock locks or unlocks a server at once (no agent work), recording
// the instance action; reason is kept from microversion 2.73.
func (s *Service) SetLock(ctx context.Context, p *auth.Principal, id string, lock bool, reason *string, requestID string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		a, name := state.ActionLock, "lock"
		if !lock {
			a, name = state.ActionUnlock, "unlock"
		}
		if err := state.Check(a, instanceOf(srv), p.IsAdmin()); err != nil {
			return err
		}
		isOwner := p.ProjectID == srv.ProjectID
		if !lock && state.UnlockNeedsOverride(srv.LockedBy, isOwner) && !p.IsAdmin() {
			return errs.Forbidden("Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.")
		}
		now := s.now()
		if _, err := startAction(ctx, tx, srv, name, requestID, p, now); err != nil {
			return err
		}
		var lockedBy, lockedReason any
		if lock {
			lockedBy = "admin"
			if isOwner {
				lockedBy = "owner"
			}
			if reason != nil {
				lockedReason = *reason
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET locked = ?, locked_by = ?, locked_reason = ?,
			updated_at = ? WHERE id = ?`, lock, lockedBy, lockedReason, now.UnixMicro(), id); err != nil {
			return fmt.Errorf("set lock: %w", err)
		}
		return nil
	})
}

// visible loads a live server the caller may see, in tx.
func (s *Service) visible(ctx context.Context, tx *store.Tx, p *auth.Principal, id string) (*Server, error) {
	srv, err := s.get(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	if !canSee(p, srv) {
		return nil, notFound(id)
	}
	return srv, nil
}
