package compute

// trigger_crash_dump (microversion 2.17; Nova's compute API
// trigger_crash_dump): an NMI to the guest, cast to its host. Nova
// changes no state for it: what the guest does is its own configuration.

import (
	"context"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/store"
)

// TaskCrashDump is the task kind of trigger_crash_dump.
const TaskCrashDump = "crash_dump"

// eventTriggerCrashDump is the event Nova's compute manager records.
const eventTriggerCrashDump = "compute_trigger_crash_dump"

// TriggerCrashDump accepts trigger_crash_dump: Nova's lock, host and state
// checks (409), the instance action and the agent's task, in one
// transaction. No task_state is set.
func (s *Service) TriggerCrashDump(ctx context.Context, p *auth.Principal, id, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionTriggerCrashDump, "trigger_crash_dump", requestID, state.Context{})
		if err != nil {
			return err
		}
		host = b.Server.Host
		return s.queueAction(ctx, tx, b, eventTriggerCrashDump, &CrashDumpParams{})
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// FinishEvent commits a task that changes no server state: it records the
// task's event (when it belongs to an instance action) and finishes it.
func (s *Service) FinishEvent(ctx context.Context, t *Task, started time.Time, opErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if event := t.Plan().Event; t.ActionID != "" && event != "" {
			if err := recordEvent(ctx, tx, t.ActionID, event, t.Host, started, opErr, now); err != nil {
				return err
			}
		}
		return finishTask(ctx, tx, t, opErr != nil, now)
	})
}
