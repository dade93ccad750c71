package compute

// confirmResize and revertResize of a server in VERIFY_RESIZE (Nova's
// compute API confirm_resize and revert_resize with the compute manager's
// confirm_resize, revert_resize and finish_revert_resize), and the
// automatic confirmation after resize_confirm_window.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// ConfirmResize accepts confirmResize: lock and state (409), then the
// finished migration (400 "Instance has not been resized." without one),
// the host up (409); the migration is confirming and the agent drops the
// old disk and frees the old flavor. The API answers 204.
func (s *Service) ConfirmResize(ctx context.Context, p *auth.Principal, id, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, m, err := s.beginVerified(ctx, tx, p, id, state.ActionConfirmResize, "confirmResize", requestID)
		if err != nil {
			return err
		}
		host = m.SourceCompute
		return s.queueConfirm(ctx, tx, b, m)
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// beginVerified begins confirmResize or revertResize of a server in
// VERIFY_RESIZE, in tx, and returns its finished migration.
func (s *Service) beginVerified(ctx context.Context, tx *store.Tx, p *auth.Principal, id string, a state.Action,
	record, requestID string) (*begunAction, *Migration, error) {
	b, err := s.beginAction(ctx, tx, p, id, a, record, requestID, state.Context{})
	if err != nil {
		return nil, nil, err
	}
	m, err := migrationByStatus(ctx, tx, id, MigrationFinished)
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, errs.Invalid("Instance has not been resized.")
	}
	return b, m, nil
}

// queueConfirm marks m confirming and queues the agent's confirm, in tx.
func (s *Service) queueConfirm(ctx context.Context, tx *store.Tx, b *begunAction, m *Migration) error {
	if err := s.checkHostUp(ctx, tx, m.SourceCompute, b.Now); err != nil {
		return err
	}
	if _, err := setMigrationStatus(ctx, tx, m.ID, MigrationConfirming, b.Now); err != nil {
		return err
	}
	// The source drops what it kept: after a move to another host that
	// is not the server's host any more (Nova's confirm_resize runs on
	// the source).
	params := &ConfirmResizeParams{MoveStep: MoveStep{MigrationID: m.ID}}
	params.TaskPlan = planOf(b, eventConfirmResize)
	return insertTask(ctx, tx, &Task{InstanceID: b.Server.ID, Host: m.SourceCompute, Kind: TaskConfirmResize,
		RequestID: b.RequestID, ActionID: b.ActionID, Params: params}, b.Now)
}

// FinishConfirmResize commits a confirm: the migration confirmed, the old
// flavor's claim released, the server active (or stopped if it is shut
// down). A failure is Nova's confirm_resize failing on the source host:
// the migration in error, the old flavor's claim released all the same
// (the guest runs with the new one), and the server in ERROR with the
// failure as its fault (_error_out_instance_on_exception and
// wrap_instance_fault), so it is not left in VERIFY_RESIZE with nothing
// to confirm; an admin's os-resetState brings it back.
func (s *Service) FinishConfirmResize(ctx context.Context, t *Task, started time.Time, opErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if isCleanup(t) {
			return finishTask(ctx, tx, t, opErr != nil, now)
		}
		m, err := taskMigration(ctx, tx, t)
		if err != nil {
			return err
		}
		status := MigrationConfirmed
		if opErr != nil {
			status = MigrationError
		}
		// Not confirming any more: a delete ended the migration and freed
		// its claim meanwhile.
		ok, err := setMigrationStatus(ctx, tx, m.ID, status, now, MigrationConfirming)
		if err != nil {
			return err
		}
		if !ok {
			return s.finishPlanned(ctx, tx, t, started, opErr)
		}
		c, err := claimFor(ctx, tx, m.InstanceUUID, m.OldFlavor)
		if err != nil {
			return err
		}
		if err := scheduler.ReleaseMove(ctx, tx, m.SourceCompute, c, now); err != nil {
			return err
		}
		if opErr != nil {
			fault, _ := json.Marshal(Fault{Code: 500, Message: opErr.Error(), Created: now.UTC()})
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, fault = ?, updated_at = ?
				WHERE id = ? AND deleted = FALSE`, string(state.VMError), string(fault), now.UnixMicro(), t.InstanceID); err != nil {
				return fmt.Errorf("fail confirm resize: %w", err)
			}
		}
		return s.finishPlanned(ctx, tx, t, started, opErr)
	})
}

// RevertResize accepts revertResize: lock and state (409), the finished
// migration (400 without one), quota for going back to a larger old
// flavor (403); task_state resize_reverting, the migration reverting.
func (s *Service) RevertResize(ctx context.Context, p *auth.Principal, id, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, m, err := s.beginVerified(ctx, tx, p, id, state.ActionRevertResize, "revertResize", requestID)
		if err != nil {
			return err
		}
		if q, ok := s.Quotas.(upsizeQuotas); ok {
			cur := b.Server.Flavor
			if err := q.CheckUpsize(ctx, tx, b.Server.ProjectID, b.Server.UserID, m.OldFlavor.VCPUs-cur.VCPUs, m.OldFlavor.RAM-cur.RAM); err != nil {
				return err
			}
		}
		if _, err := setMigrationStatus(ctx, tx, m.ID, MigrationReverting, b.Now); err != nil {
			return err
		}
		host = b.Server.Host
		return s.queueAction(ctx, tx, b, eventFinishRevertResize, &RevertResizeParams{MoveStep: MoveStep{MigrationID: m.ID}})
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// RevertStarted records the destination's revert_resize (the new guest is
// torn down) and returns the server's old flavor and whether it runs
// afterwards.
func (s *Service) RevertStarted(ctx context.Context, t *Task, started time.Time) (FlavorSnapshot, bool, error) {
	if err := s.stepMove(ctx, t, started, eventRevertResize, MigrationReverting, MigrationReverting, ""); err != nil {
		return FlavorSnapshot{}, false, err
	}
	markStepStarted(t, s.now())
	m, err := taskMigration(ctx, s.DB, t)
	if err != nil {
		return FlavorSnapshot{}, false, err
	}
	return m.OldFlavor, t.Plan().Power == state.PowerRunning, nil
}

// FinishRevertResize commits a revert (Nova's finish_revert_resize): the
// old flavor back, old_vm_state dropped, the migration reverted, the new
// flavor's claim released and the server in its former state. A failure
// puts the server in ERROR and the migration in error.
func (s *Service) FinishRevertResize(ctx context.Context, t *Task, started time.Time, opErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		m, err := taskMigration(ctx, tx, t)
		if err != nil {
			return err
		}
		srv, err := s.get(ctx, tx, t.InstanceID, true)
		if err != nil {
			return err
		}
		live := !srv.Deleted && srv.TaskState == t.Plan().TaskState
		if live && opErr == nil && m.CrossHost() && t.Kind == TaskRevertResize {
			// The destination's copy is gone: the source, which kept
			// the guest, finishes the revert.
			return handOff(ctx, tx, t, TaskFinishRevertResize, m.SourceCompute, now)
		}
		if live && opErr == nil {
			if err := setServerFlavor(ctx, tx, srv.ID, m.OldFlavor, now); err != nil {
				return err
			}
			sysmeta := maps.Clone(srv.SystemMetadata)
			delete(sysmeta, "old_vm_state")
			raw, _ := json.Marshal(sysmeta)
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET system_metadata = ? WHERE id = ?`, string(raw), srv.ID); err != nil {
				return fmt.Errorf("finish revert: %w", err)
			}
			c, err := claimFor(ctx, tx, m.InstanceUUID, m.NewFlavor)
			if err != nil {
				return err
			}
			if m.CrossHost() {
				// Back on the source, whose move claim of the old flavor
				// is the server's own again; the destination lets go.
				if err := scheduler.Release(ctx, tx, m.DestCompute, c.VCPUs, c.MemoryMB, c.DiskGB, now); err != nil {
					return err
				}
				if err := placeServer(ctx, tx, srv.ID, m.SourceCompute, m.SourceNode, now); err != nil {
					return err
				}
				if err := scheduler.MoveRunning(ctx, tx, "", m.SourceCompute, now); err != nil {
					return err
				}
			} else if err := scheduler.ReleaseMove(ctx, tx, m.SourceCompute, c, now); err != nil {
				return err
			}
			if _, err := setMigrationStatus(ctx, tx, m.ID, MigrationReverted, now, MigrationReverting); err != nil {
				return err
			}
		} else if live {
			if err := s.abandonMove(ctx, tx, srv, m, opErr, now); err != nil {
				return err
			}
		}
		return s.finishPlanned(ctx, tx, t, stepStarted(t, started), opErr)
	})
}

// ConfirmStaleResizes confirms the resizes on host that have waited in
// VERIFY_RESIZE longer than window (Nova's _poll_unconfirmed_resizes with
// resize_confirm_window), as an admin with no user; a migration whose
// server is no longer resized ends in error, one whose server is busy is
// left for the next round. It returns how many it confirmed.
func (s *Service) ConfirmStaleResizes(ctx context.Context, host string, window time.Duration) (int, error) {
	before := s.now().Add(-window).UnixMicro()
	rows, err := s.DB.QueryContext(ctx, `SELECT id, instance_uuid FROM migrations WHERE dest_compute = ? AND status = ?
		AND updated_at <= ? ORDER BY id`, host, MigrationFinished, before)
	if err != nil {
		return 0, fmt.Errorf("find unconfirmed resizes: %w", err)
	}
	type stale struct {
		id       int64
		instance string
	}
	var found []stale
	for rows.Next() {
		var st stale
		if err := rows.Scan(&st.id, &st.instance); err != nil {
			rows.Close()
			return 0, err
		}
		found = append(found, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	system := &auth.Principal{Roles: []string{"admin"}}
	confirmed := 0
	for _, st := range found {
		var queued bool
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			queued = false
			srv, err := s.get(ctx, tx, st.instance, true)
			if err != nil {
				return err
			}
			if srv.Deleted || srv.VMState != state.VMResized {
				m, err := migrationByID(ctx, tx, st.id)
				if err != nil || m.Status != MigrationFinished {
					return err
				}
				return endMigration(ctx, tx, m, MigrationError, s.now())
			}
			if srv.TaskState != state.TaskNone {
				return nil
			}
			b, m, err := s.beginVerified(ctx, tx, system, st.instance, state.ActionConfirmResize, "confirmResize", "req-"+uuid.NewString())
			if err != nil {
				return err
			}
			queued = true
			return s.queueConfirm(ctx, tx, b, m)
		})
		if err != nil {
			return confirmed, fmt.Errorf("confirm resize of %s: %w", st.instance, err)
		}
		if queued {
			confirmed++
		}
	}
	if confirmed > 0 {
		s.wake(host)
	}
	return confirmed, nil
}
