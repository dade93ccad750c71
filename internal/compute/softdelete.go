package compute

// Deferred delete (Nova's reclaim_instance_interval): DELETE of a launched
// server powers it off and leaves it SOFT_DELETED, restorable until the
// agent's reclaim periodic deletes it for real; forceDelete deletes at
// once. Sources: nova/compute/api.py soft_delete, restore, force_delete;
// nova/compute/manager.py soft_delete_instance, restore_instance,
// _reclaim_queued_deletes.

import (
	"context"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/store"
)

// Task kinds of deferred delete.
const (
	TaskSoftDelete = "soft_delete"
	TaskRestore    = "restore"
)

// Events the agent records, as Nova's compute manager names them.
const (
	eventSoftDelete = "compute_soft_delete_instance"
	eventRestore    = "compute_restore_instance"
)

// ForceDelete deletes a server at once, soft-deleted or not, whatever the
// reclaim interval (the forceDelete action). Nova records it as "delete".
func (s *Service) ForceDelete(ctx context.Context, p *auth.Principal, id, requestID string) error {
	return s.deleteServer(ctx, p, id, requestID, state.ActionForceDelete, false)
}

// softDelete is DELETE of a launched server while a reclaim interval is
// set, in tx: task_state soft-deleting and deleted_at now (the reclaim
// clock), the instance action "delete" and a soft_delete task that powers
// the guest off. A server without a host (shelved offloaded) is
// soft-deleted at once, as Nova's local delete does. It returns the host
// to wake, "" for none.
func (s *Service) softDelete(ctx context.Context, tx *store.Tx, p *auth.Principal, srv *Server, requestID string) (string, error) {
	if srv.TaskState == state.TaskDeleting || srv.TaskState == state.TaskSoftDeleting {
		return "", nil // Nova ignores a delete while one is under way
	}
	now := s.now()
	ts := now.UnixMicro()
	actionID, err := startAction(ctx, tx, srv, "delete", requestID, p, now)
	if err != nil {
		return "", err
	}
	if srv.Host == "" {
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, terminated_at = ?,
			deleted_at = ?, updated_at = ? WHERE id = ?`, string(state.VMSoftDeleted), ts, ts, ts, srv.ID); err != nil {
			return "", fmt.Errorf("soft delete %s: %w", srv.ID, err)
		}
		return "", nil
	}
	plan, err := state.PlanFor(state.ActionDelete, state.Context{VMState: srv.VMState, Power: srv.PowerState,
		Launched: true, SoftDelete: true})
	if err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, deleted_at = ?, updated_at = ? WHERE id = ?`,
		string(plan.Task), ts, ts, srv.ID); err != nil {
		return "", fmt.Errorf("mark soft-deleting %s: %w", srv.ID, err)
	}
	confirmed, err := s.confirmOnSoftDelete(ctx, tx, p, srv, requestID, now)
	if err != nil {
		return "", err
	}

	b := &begunAction{Action: state.ActionDelete, Server: srv, Plan: plan, ActionID: actionID, Now: now, RequestID: requestID}
	if err := s.queueAction(ctx, tx, b, eventSoftDelete, &SoftDeleteParams{ConfirmResize: confirmed}); err != nil {
		return "", err
	}
	return srv.Host, nil
}

// confirmOnSoftDelete confirms a resize awaiting confirmation before a
// soft delete, as Nova's _confirm_resize_on_deleting does (a restored
// server must not come back in VERIFY_RESIZE with both flavors claimed),
// in tx: the confirmResize action, then confirmResizeOnDelete confirms
// the migration and frees the old flavor. The soft-delete task drops the
// old disk. It reports whether there was a resize to confirm.
func (s *Service) confirmOnSoftDelete(ctx context.Context, tx *store.Tx, p *auth.Principal, srv *Server, requestID string, now time.Time) (bool, error) {
	if srv.VMState != state.VMResized {
		return false, nil
	}
	m, err := migrationByStatus(ctx, tx, srv.ID, MigrationFinished)
	if err != nil || m == nil {
		return false, err
	}
	actionID, err := startAction(ctx, tx, srv, "confirmResize", requestID, p, now)
	if err != nil {
		return false, err
	}
	if err := confirmResizeOnDelete(ctx, tx, srv, now); err != nil {
		return false, err
	}
	return true, recordEvent(ctx, tx, actionID, eventConfirmResize, srv.Host, now, nil, now)
}

// Restore brings a soft-deleted server back (the restore action): Nova's
// state rule (409), the instance quota it will count against again (403),
// then task_state restoring and a restore task that powers it on. A server
// without a host is ACTIVE again at once, as in Nova.
func (s *Service) Restore(ctx context.Context, p *auth.Principal, id, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionRestore, "restore", requestID, state.Context{})
		if err != nil {
			return err
		}
		srv := b.Server
		if _, err := s.Quotas.CheckInstanceCount(ctx, tx, srv.ProjectID, srv.UserID, 1, 1, srv.Flavor.VCPUs, srv.Flavor.RAM); err != nil {
			return err
		}
		ts := b.Now.UnixMicro()
		if srv.Host == "" {
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, deleted_at = NULL,
				updated_at = ? WHERE id = ?`, string(state.VMActive), ts, id); err != nil {
				return fmt.Errorf("restore %s: %w", id, err)
			}
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET deleted_at = NULL, updated_at = ? WHERE id = ?`, ts, id); err != nil {
			return fmt.Errorf("restore %s: %w", id, err)
		}
		host = srv.Host
		return s.queueAction(ctx, tx, b, eventRestore, &RestoreParams{})
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// ReclaimQueued queues the real deletion of host's soft-deleted servers
// deleted longer than the reclaim interval ago (Nova's
// _reclaim_queued_deletes: idle soft-deleted servers of this host whose
// deleted_at is unset or old enough). Like Nova it records no instance
// action. It returns how many it queued.
func (s *Service) ReclaimQueued(ctx context.Context, host string) (int, error) {
	interval := s.Settings.ReclaimInterval
	if interval <= 0 {
		return 0, nil
	}
	cutoff := s.now().Add(-interval).UnixMicro()
	rows, err := s.DB.QueryContext(ctx, `SELECT id FROM instances WHERE host = ? AND deleted = FALSE
		AND vm_state = ? AND task_state IS NULL AND (deleted_at IS NULL OR deleted_at < ?)`,
		host, string(state.VMSoftDeleted), cutoff)
	if err != nil {
		return 0, fmt.Errorf("find soft-deleted servers: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	queued := 0
	for _, id := range ids {
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			now := s.now()
			// Re-checked in the update: a restore may have come first.
			res, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, updated_at = ? WHERE id = ?
				AND deleted = FALSE AND vm_state = ? AND task_state IS NULL AND (deleted_at IS NULL OR deleted_at < ?)`,
				string(state.TaskDeleting), now.UnixMicro(), id, string(state.VMSoftDeleted), cutoff)
			if err != nil {
				return fmt.Errorf("mark reclaiming %s: %w", id, err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil
			}
			queued++
			return insertTask(ctx, tx, &Task{InstanceID: id, Host: host, Kind: TaskDelete, Params: &DeleteParams{}}, now)
		})
		if err != nil {
			return queued, err
		}
	}
	if queued > 0 {
		s.wake(host)
	}
	return queued, nil
}
