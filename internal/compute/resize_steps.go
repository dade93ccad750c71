package compute

// The agent's side of a resize (Nova's prep_resize, resize_instance and
// finish_resize): each step records its event and moves the migration and
// the server's task state on in one transaction.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// taskMigration loads the migration a resize-family task works on.
func taskMigration(ctx context.Context, q store.Querier, t *Task) (*Migration, error) {
	step := t.moveStep()
	if step == nil || step.MigrationID == 0 {
		return nil, fmt.Errorf("task %s (%s) names no migration", t.ID, t.Kind)
	}
	return migrationByID(ctx, q, step.MigrationID)
}

// stepMove records a finished step of a move and moves on, in one
// transaction: the step's event, the migration's new status, and the
// server to the task state next (while it still shows the task's).
// The migration only moves on from the status from, so a server deleted
// meanwhile (its migration ended by the delete) keeps its ended record.
func (s *Service) stepMove(ctx context.Context, t *Task, started time.Time, event, from, status string, next state.TaskState) error {
	var params TaskParams
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		m, err := taskMigration(ctx, tx, t)
		if err != nil {
			return err
		}
		host := t.Host
		if event == eventPrepResize && m.DestCompute != "" {
			host = m.DestCompute // Nova's prep_resize runs on the destination
		}
		if err := recordEvent(ctx, tx, t.ActionID, event, host, started, nil, now); err != nil {
			return err
		}
		if _, err := setMigrationStatus(ctx, tx, m.ID, status, now, from); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		params, err = advanceTask(ctx, tx, t, next, now)
		return err
	})
	if err == nil && params != nil {
		t.Params = params
	}
	return err
}

// ResizePrepared records the destination's prep_resize and moves the
// server to resize_migrating, the migration to migrating.
func (s *Service) ResizePrepared(ctx context.Context, t *Task, started time.Time) error {
	return s.stepMove(ctx, t, started, eventPrepResize, MigrationPreMigrating, MigrationMigrating, state.TaskResizeMigrating)
}

// ResizeFlavor is the flavor the resize gives t's server, and whether it
// runs afterwards. Shrinking a disk is Nova's (libvirt's) "Unable to
// resize disk down." failure, after which the server rolls back to its
// former state.
func (s *Service) ResizeFlavor(ctx context.Context, t *Task) (FlavorSnapshot, bool, error) {
	m, err := taskMigration(ctx, s.DB, t)
	if err != nil {
		return FlavorSnapshot{}, false, err
	}
	if m.NewFlavor.Disk < m.OldFlavor.Disk || m.NewFlavor.Ephemeral < m.OldFlavor.Ephemeral {
		return FlavorSnapshot{}, false, resizeRollback{errors.New("Resize error: Unable to resize disk down.")}
	}
	return m.NewFlavor, t.Plan().Power == state.PowerRunning, nil
}

// ResizeMigrated records the source's resize_instance (the disk is moved)
// and moves the server through resize_migrated to resize_finish.
func (s *Service) ResizeMigrated(ctx context.Context, t *Task, started time.Time) error {
	if err := s.stepMove(ctx, t, started, eventResizeInstance, MigrationMigrating, MigrationPostMigrating, state.TaskResizeMigrated); err != nil {
		return err
	}
	if err := s.AdvanceTask(ctx, t, state.TaskResizeFinish); err != nil {
		return err
	}
	markStepStarted(t, s.now())
	return nil
}

// markStepStarted notes in t when its last step (finish_resize,
// finish_revert_resize) began, so that step's event starts then and not
// when the task did.
func markStepStarted(t *Task, now time.Time) {
	if step := t.moveStep(); step != nil {
		step.StepStarted = now.UnixMicro()
	}
}

// stepStarted is when t's last step began (see markStepStarted), or
// started if it never got there.
func stepStarted(t *Task, started time.Time) time.Time {
	if step := t.moveStep(); step != nil && step.StepStarted != 0 {
		return time.UnixMicro(step.StepStarted)
	}
	return started
}

// FinishResize commits a resize (Nova's finish_resize): the server gets
// the new flavor and VERIFY_RESIZE, powered as before; the migration is
// finished and the host keeps the old flavor's claim until confirm or
// revert. A failure ends the migration in error and frees the new
// flavor's claim; the server goes back to its state after a rollback
// failure, to ERROR after any other, and the failing step's event records
// the error.
func (s *Service) FinishResize(ctx context.Context, t *Task, started time.Time, opErr error) error {
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
		current := string(t.Plan().TaskState)
		live := !srv.Deleted && string(srv.TaskState) == current
		if opErr == nil && live && m.CrossHost() && t.Kind == TaskResize {
			// The files are on the destination: it finishes the move.
			return handOff(ctx, tx, t, TaskFinishResize, m.DestCompute, now)
		}
		if opErr == nil && live {
			if err := setServerFlavor(ctx, tx, srv.ID, m.NewFlavor, now); err != nil {
				return err
			}
			if m.CrossHost() {
				// The destination's claim becomes the server's own; the
				// source keeps the old flavor (as a move claim) until
				// the move is confirmed or reverted.
				if err := placeServer(ctx, tx, srv.ID, m.DestCompute, m.DestNode, now); err != nil {
					return err
				}
				if err := scheduler.MoveRunning(ctx, tx, m.SourceCompute, "", now); err != nil {
					return err
				}
			}
			if _, err := setMigrationStatus(ctx, tx, m.ID, MigrationFinished, now, MigrationPostMigrating); err != nil {
				return err
			}
		} else if opErr != nil {
			t.Plan().Event = failedResizeEvent(state.TaskState(current))
			if live {
				if err := s.abandonMove(ctx, tx, srv, m, opErr, now); err != nil {
					return err
				}
			}
		}
		return s.finishPlanned(ctx, tx, t, stepStarted(t, started), opErr)
	})
}

// failedResizeEvent is the event of the step a resize failed in.
func failedResizeEvent(ts state.TaskState) string {
	switch ts {
	case state.TaskResizePrep:
		return eventPrepResize
	case state.TaskResizeMigrating:
		return eventResizeInstance
	}
	return eventFinishResize
}

// abandonMove ends a failed resize, in tx: the migration in error, the
// new flavor's claim released and, unless the failure rolls back, the
// server in ERROR with the failure as its fault.
func (s *Service) abandonMove(ctx context.Context, tx *store.Tx, srv *Server, m *Migration, opErr error, now time.Time) error {
	if err := releaseMoveClaim(ctx, tx, m, now); err != nil {
		return err
	}
	if _, err := setMigrationStatus(ctx, tx, m.ID, MigrationError, now); err != nil {
		return err
	}
	var rb resizeRollback
	if errors.As(opErr, &rb) {
		return nil
	}
	fault, _ := json.Marshal(Fault{Code: 500, Message: opErr.Error(), Created: now.UTC()})
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, fault = ?, updated_at = ? WHERE id = ?`,
		string(state.VMError), string(fault), now.UnixMicro(), srv.ID); err != nil {
		return fmt.Errorf("fail resize: %w", err)
	}
	return nil
}

// setServerFlavor gives a server flavor f, in tx.
func setServerFlavor(ctx context.Context, tx *store.Tx, id string, f FlavorSnapshot, now time.Time) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode flavor: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET flavor_id = ?, flavor = ?, vcpus = ?, memory_mb = ?,
		root_gb = ?, ephemeral_gb = ?, updated_at = ? WHERE id = ?`, f.ID, string(raw), f.VCPUs, f.RAM, f.Disk,
		f.Ephemeral, now.UnixMicro(), id); err != nil {
		return fmt.Errorf("set flavor of %s: %w", id, err)
	}
	return nil
}
