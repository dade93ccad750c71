package compute

// Work stranded on a host that died. A task claimed by a host that never
// comes back stays running, and a server runs one task at a time, so
// nothing else the server is asked would ever run. Nova's answer to a
// compute service that stays down is the admin's: os-resetState, then
// evacuate. Both let go of what waits on a host that is down, as Nova's
// RPC calls to a dead host time out: the host's tasks fail, the move
// they belonged to ends in error (Nova's rollback of a live migration
// whose host did not answer; a cold move's record the evacuation leaves
// behind) with its claims given back, and the copy of the guest another
// host holds is dropped when that host runs it (a live migration's
// rollback, a cold move's cleanup). A task failed here never runs: a
// dead host that returns requeues only its running ones, and destroys
// the guests of servers evacuated away (DestroyEvacuated).

import (
	"context"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/store"
)

// dropStrandedTasks fails server id's unfinished tasks on hosts that are
// down, in tx, and with allPending every pending one too (an evacuation
// supersedes them). It reports whether it failed any.
func (s *Service) dropStrandedTasks(ctx context.Context, tx *store.Tx, id string, allPending bool, now time.Time) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, host, state FROM tasks WHERE instance_id = ? AND state IN (?, ?)`,
		id, taskPending, taskRunning)
	if err != nil {
		return false, fmt.Errorf("find tasks of %s: %w", id, err)
	}
	type unfinished struct{ id, host, state string }
	var open []unfinished
	for rows.Next() {
		var u unfinished
		if err := rows.Scan(&u.id, &u.host, &u.state); err != nil {
			rows.Close()
			return false, fmt.Errorf("find tasks of %s: %w", id, err)
		}
		open = append(open, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("find tasks of %s: %w", id, err)
	}
	up := map[string]bool{}
	dropped := false
	for _, u := range open {
		hostUp, seen := up[u.host]
		if !seen {
			if _, hostUp, err = s.hostState(ctx, tx, u.host, now); err != nil {
				return false, err
			}
			up[u.host] = hostUp
		}
		if hostUp && !(allPending && u.state == taskPending) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET state = ?, params = '{}', finished_at = ? WHERE id = ? AND state = ?`,
			taskFailed, now.UnixMicro(), u.id, u.state); err != nil {
			return false, fmt.Errorf("drop task %s: %w", u.id, err)
		}
		dropped = true
	}
	return dropped, nil
}

// abandonMoves ends srv's moves under way (or waiting for a confirm or
// revert) in error, in tx, giving back the claims they hold beside the
// server's own, and returns the tasks that drop the copies of the guest
// on their other hosts, for the caller to queue.
func abandonMoves(ctx context.Context, tx *store.Tx, srv *Server, requestID, actionID string, now time.Time) ([]*Task, error) {
	live, err := openMigrations(ctx, tx, srv.ID, LiveMigrationInProgress...)
	if err != nil {
		return nil, err
	}
	var cleanups []*Task
	for _, m := range live {
		if m.Type != MigrationTypeLive {
			continue
		}
		if err := abandonLiveMigration(ctx, tx, m, now); err != nil {
			return nil, err
		}
		params := &LiveMigrationParams{MigrationID: m.ID, Phase: LiveMigrationRollback, Source: m.SourceCompute,
			Dest: m.DestCompute, EndStatus: MigrationError}
		params.TaskState = state.TaskMigrating
		cleanups = append(cleanups, &Task{InstanceID: srv.ID, Host: m.DestCompute, Kind: TaskLiveMigration,
			RequestID: requestID, ActionID: actionID, Params: params})
	}
	moves, err := openMigrations(ctx, tx, srv.ID, MigrationPreMigrating, MigrationMigrating, MigrationPostMigrating,
		MigrationFinished, MigrationConfirming, MigrationReverting)
	if err != nil {
		return nil, err
	}
	for _, m := range moves {
		if m.Type != MigrationTypeResize && m.Type != MigrationTypeMigration {
			continue
		}
		if err := endMigration(ctx, tx, m, MigrationError, now); err != nil {
			return nil, err
		}
		if t := moveCleanupTask(m, srv.Host); t != nil {
			cleanups = append(cleanups, t)
		}
	}
	return cleanups, nil
}

// queueCleanups queues the cleanups abandonMoves returned, in tx, but
// those of host skip (an evacuation's target, whose rebuild replaces
// whatever copy it holds).
func queueCleanups(ctx context.Context, tx *store.Tx, cleanups []*Task, skip string, now time.Time) error {
	for _, t := range cleanups {
		if t.Host == "" || t.Host == skip {
			continue
		}
		if err := insertTask(ctx, tx, t, now); err != nil {
			return err
		}
	}
	return nil
}

// cleanupHosts are the hosts of cleanups, to wake once committed.
func cleanupHosts(cleanups []*Task) []string {
	var hosts []string
	for _, t := range cleanups {
		hosts = append(hosts, t.Host)
	}
	return hosts
}
