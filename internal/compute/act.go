package compute

import (
	"context"
	"errors"
	"fmt"
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
		b, err := s.beginAction(ctx, tx, p, id, a, names.record, requestID, state.Context{})
		if err != nil {
			return err
		}
		host = b.Server.Host
		return s.queueAction(ctx, tx, b, names.event, &ActionParams{})
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// begunAction is an action accepted inside a transaction: the server as
// it was, Nova's plan for it, and the instance action recorded for it.
type begunAction struct {
	Action   state.Action
	Server   *Server
	Plan     state.Plan
	ActionID string
	Now      time.Time
	// RequestID is the request that asked for the action.
	RequestID string
}

// beginAction is the common start of every server action, in tx: it loads
// the server p may see (404 otherwise), checks Nova's preconditions for a
// (409 on a wrong state or a lock), plans the outcome, records the
// instance action named record and sets the plan's task_state. sc carries
// the settings and targets the plan depends on; the server's own states
// are filled in here.
func (s *Service) beginAction(ctx context.Context, tx *store.Tx, p *auth.Principal, id string, a state.Action,
	record, requestID string, sc state.Context) (*begunAction, error) {
	srv, err := s.visible(ctx, tx, p, id)
	if err != nil {
		return nil, err
	}
	if err := state.Check(a, instanceOf(srv), p.IsAdmin()); err != nil {
		return nil, err
	}
	sc.VMState, sc.Power, sc.Launched = srv.VMState, srv.PowerState, srv.LaunchedAt != nil
	sc.OldVMState = state.VMState(srv.SystemMetadata["old_vm_state"])
	plan, err := state.PlanFor(a, sc)
	if err != nil {
		return nil, err
	}
	now := s.now()
	actionID, err := startAction(ctx, tx, srv, record, requestID, p, now)
	if err != nil {
		return nil, err
	}
	if plan.Task != state.TaskNone {
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, updated_at = ? WHERE id = ?`,
			nullTask(plan.Task), now.UnixMicro(), id); err != nil {
			return nil, fmt.Errorf("set task state: %w", err)
		}
	}
	return &begunAction{Action: a, Server: srv, Plan: plan, ActionID: actionID, Now: now, RequestID: requestID}, nil
}

// queueAction queues the agent task that carries out b, in tx: params
// are the kind's own, to which it adds b's plan (see finishPlanned) and
// the compute event to record.
func (s *Service) queueAction(ctx context.Context, tx *store.Tx, b *begunAction, event string, params interface {
	TaskParams
	plan() *TaskPlan
}) error {
	*params.plan() = planOf(b, event)
	return insertTask(ctx, tx, &Task{InstanceID: b.Server.ID, Host: b.Server.Host, Kind: params.TaskKind(),
		RequestID: b.RequestID, ActionID: b.ActionID, Params: params}, b.Now)
}

// planOf is the TaskPlan of b, whose task records event.
func planOf(b *begunAction, event string) TaskPlan {
	return TaskPlan{Action: b.Action, Event: event, TaskState: b.Plan.Task, VMState: b.Plan.VMState,
		Power: b.Plan.Power, Via: b.Plan.Via}
}

// FinishAction commits a power action (see finishPlanned).
func (s *Service) FinishAction(ctx context.Context, t *Task, started time.Time, opErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		return s.finishPlanned(ctx, tx, t, started, opErr)
	})
}

// finishPlanned commits a task queued by queueAction, in tx: on success
// the planned vm and power states; on failure the server keeps its
// states and its task_state is cleared, as Nova's compute manager does.
// Either way the event is recorded and the task finished. The update only
// applies while the server still shows the task's task_state (a delete
// may have overtaken it); tasks whose action changed the task_state
// mid-way set the plan's TaskState before finishing.
func (s *Service) finishPlanned(ctx context.Context, tx *store.Tx, t *Task, started time.Time, opErr error) error {
	now := s.now()
	plan := t.Plan()
	a, current := plan.Action, string(plan.TaskState)
	if opErr == nil {
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, power_state = ?, task_state = NULL,
			updated_at = ? WHERE id = ? AND deleted = FALSE AND `+taskStateIs(current),
			string(plan.VMState), int(plan.Power), now.UnixMicro(), t.InstanceID, current); err != nil {
			return fmt.Errorf("finish %s: %w", a, err)
		}
	} else if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = NULL, updated_at = ?
		WHERE id = ? AND deleted = FALSE AND `+taskStateIs(current),
		now.UnixMicro(), t.InstanceID, current); err != nil {
		return fmt.Errorf("fail %s: %w", a, err)
	}
	event := plan.Event
	if event == "" { // tasks queued before events were recorded in params
		event = powerActions[a].event
	}
	if err := recordEvent(ctx, tx, t.ActionID, event, t.Host, started, opErr, now); err != nil {
		return err
	}
	return finishTask(ctx, tx, t, opErr != nil, now)
}

// taskStateIs is the condition "task_state equals the bound value", where
// "" stands for none (NULL).
func taskStateIs(ts string) string {
	if ts == "" {
		return "COALESCE(task_state, '') = ?"
	}
	return "task_state = ?"
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

// AdvanceTask moves t's server to the next task_state of its action
// (Nova's intermediate steps, e.g. rebuild_spawning or image_uploading)
// while the server still shows t's current one, and keeps the new state in
// t.Params and the task row so finishPlanned and a recovered task see it.
func (s *Service) AdvanceTask(ctx context.Context, t *Task, next state.TaskState) error {
	var params TaskParams
	err := s.DB.InTx(ctx, func(tx *store.Tx) (err error) {
		params, err = advanceTask(ctx, tx, t, next, s.now())
		return err
	})
	if err == nil {
		t.Params = params
	}
	return err
}

// ErrTaskSuperseded is why a task stops when its server no longer shows
// the task's task_state: it was deleted, is being deleted, or an admin
// reset its state (Nova's UnexpectedDeletingTaskStateError and
// UnexpectedTaskStateError).
var ErrTaskSuperseded = errors.New("the server's task state changed under the task (deleted or reset)")

// AdvanceTaskOrStop is AdvanceTask for tasks that must not go on once
// their server left their task_state (a snapshot, whose image would
// outlive the server being deleted): then it changes nothing and returns
// ErrTaskSuperseded.
func (s *Service) AdvanceTaskOrStop(ctx context.Context, t *Task, next state.TaskState) error {
	var params TaskParams
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		moved, err := moveTaskState(ctx, tx, t, next, s.now())
		if err != nil {
			return err
		}
		if !moved {
			return ErrTaskSuperseded
		}
		params, err = saveTaskState(ctx, tx, t, next)
		return err
	})
	if err == nil {
		t.Params = params
	}
	return err
}

// CheckTaskState returns ErrTaskSuperseded when t's server is gone or no
// longer shows t's task_state.
func (s *Service) CheckTaskState(ctx context.Context, t *Task) error {
	var n int
	current := string(t.Plan().TaskState)
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE id = ? AND deleted = FALSE AND `+
		taskStateIs(current), t.InstanceID, current).Scan(&n)
	if err != nil {
		return fmt.Errorf("check task state of %s: %w", t.InstanceID, err)
	}
	if n == 0 {
		return ErrTaskSuperseded
	}
	return nil
}

// advanceTask is AdvanceTask's work in tx; it returns t's new params,
// which the caller takes once tx has committed (a retried transaction
// must see the task as it was).
func advanceTask(ctx context.Context, tx *store.Tx, t *Task, next state.TaskState, now time.Time) (TaskParams, error) {
	if _, err := moveTaskState(ctx, tx, t, next, now); err != nil {
		return nil, err
	}
	return saveTaskState(ctx, tx, t, next)
}

// moveTaskState sets t's server to task_state next while it shows t's
// current one, in tx, and reports whether it did.
func moveTaskState(ctx context.Context, tx *store.Tx, t *Task, next state.TaskState, now time.Time) (bool, error) {
	current := string(t.Plan().TaskState)
	res, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, updated_at = ?
		WHERE id = ? AND deleted = FALSE AND `+taskStateIs(current),
		nullTask(next), now.UnixMicro(), t.InstanceID, current)
	if err != nil {
		return false, fmt.Errorf("advance %s to %s: %w", t.Kind, next, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("advance %s to %s: %w", t.Kind, next, err)
	}
	return n > 0, nil
}

// saveTaskState records next as t's task_state in the task row, in tx,
// and returns t's new params.
func saveTaskState(ctx context.Context, tx *store.Tx, t *Task, next state.TaskState) (TaskParams, error) {
	moved := *t
	params, err := cloneParams(t.Kind, t.Params)
	if err != nil {
		return nil, err
	}
	moved.Params = params
	moved.Plan().TaskState = next
	if err := updateTaskParams(ctx, tx, &moved, params); err != nil {
		return nil, err
	}
	return params, nil
}
