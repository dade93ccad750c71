package compute

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/store"
)

// Task kinds the agent knows.
const (
	TaskBuild  = "build"
	TaskDelete = "delete"
)

// Task states.
const (
	taskPending = "pending"
	taskRunning = "running"
	taskDone    = "done"
	taskFailed  = "failed"
)

// Task is one unit of work for the agent of Host.
type Task struct {
	ID         string
	InstanceID string
	Host       string
	Kind       string
	Params     map[string]string
	RequestID  string
	ActionID   string
	Attempts   int
}

func insertTask(ctx context.Context, tx *store.Tx, t *Task, now time.Time) error {
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	params, _ := json.Marshal(t.Params)
	_, err := tx.ExecContext(ctx, `INSERT INTO tasks (id, instance_id, host, kind, params, state, request_id,
		action_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.InstanceID, t.Host, t.Kind, string(params), taskPending, t.RequestID, t.ActionID, now.UnixMicro())
	if err != nil {
		return fmt.Errorf("queue %s task: %w", t.Kind, err)
	}
	return nil
}

// startTaskStates is the task_state a server shows while the agent works
// on a task of each kind.
var startTaskStates = map[string]state.TaskState{
	TaskBuild: state.TaskSpawning,
}

// ClaimTasks moves up to max pending tasks of host to running and returns
// them, oldest first, for the agent holding the host's lease (see
// hosts.CheckLease: hosts.ErrLeaseLost after a takeover). A task is
// claimed by exactly one agent.
func (s *Service) ClaimTasks(ctx context.Context, host, lease string, max int) ([]*Task, error) {
	var claimed []*Task
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		claimed = nil
		if err := hosts.CheckLease(ctx, tx, host, lease); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, instance_id, host, kind, params, request_id, action_id, attempts
			FROM tasks WHERE host = ? AND state = ? AND (kind = ? OR NOT EXISTS (
				SELECT 1 FROM tasks busy WHERE busy.instance_id = tasks.instance_id AND busy.state = ?
					AND busy.kind <> ?))
			ORDER BY created_at LIMIT ?`, host, taskPending, TaskCall, taskRunning, TaskCall, max)
		if err != nil {
			return fmt.Errorf("find tasks: %w", err)
		}
		var found []*Task
		for rows.Next() {
			t := &Task{}
			var params string
			if err := rows.Scan(&t.ID, &t.InstanceID, &t.Host, &t.Kind, &params, &t.RequestID, &t.ActionID, &t.Attempts); err != nil {
				rows.Close()
				return err
			}
			_ = json.Unmarshal([]byte(params), &t.Params)
			found = append(found, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := s.now().UnixMicro()
		// One task per server at a time, except calls (console output, a
		// password change): they answer an API request that is waiting,
		// and their preconditions already exclude conflicting work.
		seen := map[string]bool{}
		for _, t := range found {
			if t.Kind != TaskCall {
				if seen[t.InstanceID] {
					continue
				}
				seen[t.InstanceID] = true
			}
			res, err := tx.ExecContext(ctx, `UPDATE tasks SET state = ?, started_at = ?, attempts = attempts + 1
				WHERE id = ? AND state = ?`, taskRunning, now, t.ID, taskPending)
			if err != nil {
				return fmt.Errorf("claim task: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue
			}
			t.Attempts++
			if ts, ok := startTaskStates[t.Kind]; ok {
				if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, updated_at = ? WHERE id = ?`,
					string(ts), now, t.InstanceID); err != nil {
					return fmt.Errorf("mark task start: %w", err)
				}
			}
			claimed = append(claimed, t)
		}
		return nil
	})
	return claimed, err
}

// finishTask marks t done (or failed) and forgets its secrets.
func finishTask(ctx context.Context, tx *store.Tx, t *Task, failed bool, now time.Time) error {
	st := taskDone
	if failed {
		st = taskFailed
	}
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET state = ?, params = '{}', finished_at = ? WHERE id = ?`, st, now.UnixMicro(), t.ID)
	if err != nil {
		return fmt.Errorf("finish task: %w", err)
	}
	return nil
}

// InterruptedTasks returns host's tasks that were claimed but never
// finished: the agent died while running them.
func (s *Service) InterruptedTasks(ctx context.Context, host string) ([]*Task, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, instance_id, host, kind, params, request_id, action_id, attempts
		FROM tasks WHERE host = ? AND state = ? ORDER BY created_at`, host, taskRunning)
	if err != nil {
		return nil, fmt.Errorf("find interrupted tasks: %w", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t := &Task{}
		var params string
		if err := rows.Scan(&t.ID, &t.InstanceID, &t.Host, &t.Kind, &params, &t.RequestID, &t.ActionID, &t.Attempts); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(params), &t.Params)
		out = append(out, t)
	}
	return out, rows.Err()
}

// Requeue puts an interrupted task back to pending so it runs again; the
// driver operations it makes are idempotent.
func (s *Service) Requeue(ctx context.Context, t *Task) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE tasks SET state = ? WHERE id = ? AND state = ?`, taskPending, t.ID, taskRunning)
	if err != nil {
		return fmt.Errorf("requeue task: %w", err)
	}
	return nil
}

// ErrorStranded puts every server of host that shows a task_state but has
// no unfinished task into ERROR: nothing would ever finish its work.
func (s *Service) ErrorStranded(ctx context.Context, host string) (int64, error) {
	now := s.now()
	fault, _ := json.Marshal(Fault{Code: 500, Message: "The operation was interrupted and cannot be resumed.", Created: now.UTC()})
	res, err := s.DB.ExecContext(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, fault = ?, updated_at = ?
		WHERE host = ? AND deleted = FALSE AND task_state IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM tasks WHERE tasks.instance_id = instances.id AND tasks.state IN (?, ?))`,
		string(state.VMError), string(fault), now.UnixMicro(), host, taskPending, taskRunning)
	if err != nil {
		return 0, fmt.Errorf("error stranded servers: %w", err)
	}
	return res.RowsAffected()
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// updateTaskParams rewrites an unfinished task's params, in tx.
func updateTaskParams(ctx context.Context, tx *store.Tx, taskID string, params map[string]string) error {
	raw, _ := json.Marshal(params)
	if _, err := tx.ExecContext(ctx, `UPDATE tasks SET params = ? WHERE id = ?`, string(raw), taskID); err != nil {
		return fmt.Errorf("update task params: %w", err)
	}
	return nil
}
