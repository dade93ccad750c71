package compute

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
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

// Task is one unit of work for the agent of Host. Params are the typed
// params of its Kind (see taskKinds).
type Task struct {
	ID         string
	InstanceID string
	Host       string
	Kind       string
	Params     TaskParams
	RequestID  string
	ActionID   string
	Attempts   int
}

// insertTask queues t, its params stored at this build's version of its
// kind (an empty t.Params stands for the kind's empty params), and tells
// the agents of other processes at commit (see ListenForTasks).
func insertTask(ctx context.Context, tx *store.Tx, t *Task, now time.Time) error {
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	params, version, err := encodeParams(taskKinds, t.Kind, t.Params)
	if err != nil {
		return err
	}
	err = tx.ExecDeferred(ctx, `INSERT INTO tasks (id, instance_id, host, kind, params, params_version, state, request_id,
		action_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.InstanceID, t.Host, t.Kind, params, version, taskPending, t.RequestID, t.ActionID, now.UnixMicro())
	if err != nil {
		return fmt.Errorf("queue %s task: %w", t.Kind, err)
	}
	return tx.Notify(ctx, taskChannel, t.Host)
}

// taskChannel is the notification channel of queued tasks; the payload
// is the task's host.
const taskChannel = "kumo_tasks"

// ListenForTasks calls wake whenever a task is queued for host by any
// process sharing the database, and once it listens (for tasks queued
// before), until ctx ends; lost notifications are logged and listened
// again. On SQLite it returns at once: there the one process wakes its
// agent directly (Deps.Wake).
func (s *Service) ListenForTasks(ctx context.Context, host string, log *slog.Logger, wake func()) {
	s.DB.Subscribe(ctx, taskChannel, log, wake, func(payload string) {
		if payload == host {
			wake()
		}
	})
}

// startTaskStates is the task_state a server shows while the agent works
// on a task of each kind.
var startTaskStates = map[string]state.TaskState{
	TaskBuild: state.TaskSpawning,
}

// knownTasks is the SQL condition "a task of a kind and version this
// build knows", with its arguments.
func knownTasks(kinds map[string]taskKind) (string, []any) {
	names := make([]string, 0, len(kinds))
	for name := range kinds {
		names = append(names, name)
	}
	sort.Strings(names)
	conds := make([]string, len(names))
	args := make([]any, 0, 2*len(names))
	for i, name := range names {
		conds[i] = "(kind = ? AND params_version <= ?)"
		args = append(args, name, kinds[name].version)
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// ClaimTasks moves up to max pending tasks of host to running and returns
// them, oldest first, for the agent holding the host's lease (see
// hosts.CheckLease: hosts.ErrLeaseLost after a takeover). A task is
// claimed by exactly one agent.
func (s *Service) ClaimTasks(ctx context.Context, host, lease string, max int) ([]*Task, error) {
	var claimed []*Task
	// READ COMMITTED on PostgreSQL (see store.DB.InTxReadCommitted): the
	// lease is locked until commit, the claim is an UPDATE that re-checks
	// each task is still pending, and one agent claims a host's tasks.
	err := s.DB.InTxReadCommitted(ctx, func(tx *store.Tx) error {
		claimed = nil
		if err := hosts.LockLease(ctx, tx, host, lease); err != nil {
			return err
		}
		known, args := knownTasks(s.kinds)
		rows, err := tx.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks
			WHERE host = ? AND state = ? AND refused IS NULL AND `+known+` AND (kind = ? OR NOT EXISTS (
				SELECT 1 FROM tasks busy WHERE busy.instance_id = tasks.instance_id AND busy.state = ?
					AND busy.kind <> ?))
			ORDER BY created_at LIMIT ?`, append(append([]any{host, taskPending}, args...),
			TaskCall, taskRunning, TaskCall, max)...)
		if err != nil {
			return fmt.Errorf("find tasks: %w", err)
		}
		found, unreadable, err := s.scanTasks(rows)
		if err != nil {
			return err
		}
		for id, why := range unreadable {
			if err := refuseTask(ctx, tx, id, why); err != nil {
				return err
			}
		}
		now := s.now().UnixMicro()
		// One task per server at a time, except calls (console output, a
		// password change): they answer an API request that is waiting,
		// and their preconditions already exclude conflicting work.
		seen := map[string]bool{}
		var ids []any
		for _, t := range found {
			if t.Kind != TaskCall {
				if seen[t.InstanceID] {
					continue
				}
				seen[t.InstanceID] = true
			}
			ids = append(ids, t.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		// The claim of every task found is one statement, and the start
		// of their servers' work one per kind, not two per task: each is
		// a round trip inside a transaction other agents and creates wait
		// for.
		rows, err = tx.QueryContext(ctx, `UPDATE tasks SET state = ?, started_at = ?, attempts = attempts + 1
			WHERE id IN (`+placeholders(len(ids))+`) AND state = ? RETURNING id`,
			append(append([]any{taskRunning, now}, ids...), taskPending)...)
		if err != nil {
			return fmt.Errorf("claim tasks: %w", err)
		}
		won := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("claim tasks: %w", err)
			}
			won[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim tasks: %w", err)
		}
		starting := map[state.TaskState][]any{}
		for _, t := range found {
			if !won[t.ID] {
				continue
			}
			t.Attempts++
			if ts, ok := startTaskStates[t.Kind]; ok {
				starting[ts] = append(starting[ts], t.InstanceID)
			}
			claimed = append(claimed, t)
		}
		for ts, instances := range starting {
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, updated_at = ?
				WHERE id IN (`+placeholders(len(instances))+`)`, append([]any{string(ts), now}, instances...)...); err != nil {
				return fmt.Errorf("mark task start: %w", err)
			}
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
	err := tx.ExecDeferred(ctx, `UPDATE tasks SET state = ?, params = '{}', finished_at = ? WHERE id = ?`, st, now.UnixMicro(), t.ID)
	if err != nil {
		return fmt.Errorf("finish task: %w", err)
	}
	return nil
}

// InterruptedTasks returns host's tasks that were claimed but never
// finished: the agent died while running them.
func (s *Service) InterruptedTasks(ctx context.Context, host string) ([]*Task, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks
		WHERE host = ? AND state = ? ORDER BY created_at`, host, taskRunning)
	if err != nil {
		return nil, fmt.Errorf("find interrupted tasks: %w", err)
	}
	out, unreadable, err := s.scanTasks(rows)
	if err != nil {
		return nil, fmt.Errorf("find interrupted tasks: %w", err)
	}
	for id, why := range unreadable {
		// Claimed by a build that knew it (the host was downgraded): back
		// to pending, refused, for a host that knows it.
		if _, err := s.DB.ExecContext(ctx, `UPDATE tasks SET state = ?, refused = ? WHERE id = ? AND state = ?`,
			taskPending, why, id, taskRunning); err != nil {
			return nil, fmt.Errorf("refuse interrupted task: %w", err)
		}
	}
	return out, nil
}

// taskColumns are the columns scanTasks reads.
const taskColumns = `id, instance_id, host, kind, params, params_version, request_id, action_id, attempts`

// scanTasks reads task rows (taskColumns) and closes them; the rows whose
// params this build cannot read are returned apart, id to reason.
func (s *Service) scanTasks(rows *sql.Rows) ([]*Task, map[string]string, error) {
	defer rows.Close()
	var out []*Task
	unreadable := map[string]string{}
	for rows.Next() {
		t := &Task{}
		var params string
		var version int
		if err := rows.Scan(&t.ID, &t.InstanceID, &t.Host, &t.Kind, &params, &version, &t.RequestID, &t.ActionID, &t.Attempts); err != nil {
			return nil, nil, fmt.Errorf("read task: %w", err)
		}
		p, err := decodeParams(s.kinds, t.Kind, version, params)
		if err != nil {
			unreadable[t.ID] = err.Error()
			continue
		}
		t.Params = p
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read tasks: %w", err)
	}
	return out, unreadable, nil
}

// refuseTask leaves task id pending with the reason this host cannot run
// it, in tx.
func refuseTask(ctx context.Context, tx *store.Tx, id, why string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE tasks SET refused = ? WHERE id = ?`, why, id); err != nil {
		return fmt.Errorf("refuse task %s: %w", id, err)
	}
	return nil
}

// RefusedTask is a pending task its host cannot run: its kind or params
// version is newer than this build.
type RefusedTask struct {
	ID, InstanceID, Kind string
	Version              int
	Reason               string
}

// RefuseUnknownTasks marks host's pending tasks this build cannot run
// (kind or params version unknown) and returns the ones it newly marked,
// for the agent to report. It first takes back the marks of tasks it can
// run, left by an older build of the host before an upgrade. The tasks
// stay pending: a host that knows them runs them, none is lost.
func (s *Service) RefuseUnknownTasks(ctx context.Context, host string) ([]RefusedTask, error) {
	known, args := knownTasks(s.kinds)
	if _, err := s.DB.ExecContext(ctx, `UPDATE tasks SET refused = NULL WHERE host = ? AND state = ?
		AND refused IS NOT NULL AND `+known, append([]any{host, taskPending}, args...)...); err != nil {
		return nil, fmt.Errorf("take back task refusals: %w", err)
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT id, instance_id, kind, params_version FROM tasks
		WHERE host = ? AND state = ? AND refused IS NULL AND NOT `+known, append([]any{host, taskPending}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("find unknown tasks: %w", err)
	}
	var out []RefusedTask
	for rows.Next() {
		var r RefusedTask
		if err := rows.Scan(&r.ID, &r.InstanceID, &r.Kind, &r.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read unknown task: %w", err)
		}
		_, err := decodeParams(s.kinds, r.Kind, r.Version, "{}")
		r.Reason = err.Error()
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read unknown tasks: %w", err)
	}
	for _, r := range out {
		if _, err := s.DB.ExecContext(ctx, `UPDATE tasks SET refused = ? WHERE id = ? AND refused IS NULL`, r.Reason, r.ID); err != nil {
			return nil, fmt.Errorf("refuse task %s: %w", r.ID, err)
		}
	}
	return out, nil
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
func updateTaskParams(ctx context.Context, tx *store.Tx, t *Task, params TaskParams) error {
	raw, version, err := encodeParams(taskKinds, t.Kind, params)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tasks SET params = ?, params_version = ? WHERE id = ?`, raw, version, t.ID); err != nil {
		return fmt.Errorf("update task params: %w", err)
	}
	return nil
}
