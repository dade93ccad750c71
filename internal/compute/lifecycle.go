package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/store"
)

// Events the agent records, named as Nova's compute manager names them.
const (
	eventBuild     = "compute__do_build_and_run_instance"
	eventTerminate = "compute_terminate_instance"
)

// GuestSource is what a task's guest is made of (the agent turns it into
// its driver's guest spec): the server, its ports as the guest plugs
// them, and the password the task carries to the guest, opened.
type GuestSource struct {
	Server *Server
	NICs   []NIC
	// ImageProperties are the properties of the server's image, kept in
	// its system metadata.
	ImageProperties map[string]string
	AdminPass       string
	// Volumes are the server's volumes connected to its host, in the
	// order they were mapped; one with BootIndex 0 is its root disk.
	Volumes []GuestVolume
}

// GuestSourceOf gathers what t's guest is made of.
func (s *Service) GuestSourceOf(ctx context.Context, t *Task) (*GuestSource, error) {
	src, err := s.GuestSourceOfServer(ctx, t.InstanceID)
	if err != nil {
		return nil, err
	}
	if sealed := t.sealedAdminPass(); sealed != "" {
		if pass, err := s.Secrets.Open(sealed); err == nil {
			src.AdminPass = pass
		}
	}
	return src, nil
}

// GuestSourceOfServer gathers what server id's guest is made of, without
// a task's password (the metadata service asks it as the guest runs).
func (s *Service) GuestSourceOfServer(ctx context.Context, id string) (*GuestSource, error) {
	srv, err := s.GetAny(ctx, id)
	if err != nil {
		return nil, err
	}
	src := &GuestSource{Server: srv, ImageProperties: imageProperties(srv.SystemMetadata)}
	if src.NICs, err = s.Addresses.NICs(ctx, s.DB, srv.ProjectID, srv.ID); err != nil {
		return nil, fmt.Errorf("ports of %s: %w", srv.ID, err)
	}
	if src.Volumes, err = guestVolumes(ctx, s.DB, srv.ID); err != nil {
		return nil, err
	}
	return src, nil
}

// imageProperties recovers the image's properties from system metadata.
func imageProperties(sysmeta map[string]string) map[string]string {
	props := map[string]string{}
	for k, v := range sysmeta {
		if len(k) > 6 && k[:6] == "image_" {
			props[k[6:]] = v
		}
	}
	return props
}

// FinishBuild commits the outcome of a build: ACTIVE and running, or
// ERROR with the driver's failure as the fault and the capacity released.
// A server deleted while it was building stays deleted.
//
// It runs at READ COMMITTED on PostgreSQL (store.DB.InTxReadCommitted):
// it reads nothing, and its one conditional write re-checks the server's
// task_state under the row's lock. At SERIALIZABLE the builds' outcomes
// lost most of the serialization races of a cloud of ten hosts (765 of
// 1,240 in two minutes of seeding), their index scans by id conflicting
// with the creates' inserts into the same index pages.
func (s *Service) FinishBuild(ctx context.Context, t *Task, started time.Time, buildErr error) error {
	return s.DB.InTxReadCommitted(ctx, func(tx *store.Tx) error {
		now := s.now()
		if buildErr == nil {
			err := tx.ExecDeferred(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, power_state = ?,
				launched_at = ?, updated_at = ? WHERE id = ? AND deleted = FALSE AND task_state = ?`,
				string(state.VMActive), int(state.PowerRunning), now.UnixMicro(), now.UnixMicro(), t.InstanceID,
				string(state.TaskSpawning))
			if err != nil {
				return fmt.Errorf("finish build: %w", err)
			}
		} else {
			fault, _ := json.Marshal(Fault{Code: 500, Message: buildErr.Error(), Created: now.UTC()})
			err := tx.ExecDeferred(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, power_state = ?,
				fault = ?, updated_at = ? WHERE id = ? AND deleted = FALSE AND task_state = ?`,
				string(state.VMError), int(state.PowerNoState), string(fault), now.UnixMicro(), t.InstanceID,
				string(state.TaskSpawning))
			if err != nil {
				return fmt.Errorf("fail build: %w", err)
			}
		}
		if err := recordEvent(ctx, tx, t.ActionID, eventBuild, t.Host, started, buildErr, now); err != nil {
			return err
		}
		return finishTask(ctx, tx, t, buildErr != nil, now)
	})
}

// Delete asks for a server's deletion: task_state deleting, a delete task
// for its host, and the instance action, in one transaction. A server
// that never reached a host is deleted at once. With a reclaim interval a
// launched server is soft-deleted instead (softdelete.go); Nova falls back
// to a real delete for one never launched.
func (s *Service) Delete(ctx context.Context, p *auth.Principal, id, requestID string) error {
	return s.deleteServer(ctx, p, id, requestID, state.ActionDelete, s.Settings.ReclaimInterval > 0)
}

// deleteServer is DELETE (a) and forceDelete; soft asks for a soft delete.
func (s *Service) deleteServer(ctx context.Context, p *auth.Principal, id, requestID string, a state.Action, soft bool) error {
	var (
		host    string
		deleted *Server // the server as it was
	)
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		deleted = nil
		srv, err := s.get(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if !canSee(p, srv) {
			return notFound(id)
		}
		if err := state.Check(a, instanceOf(srv), p.IsAdmin()); err != nil {
			return err
		}
		deleted = srv
		if soft && srv.LaunchedAt != nil {
			host, err = s.softDelete(ctx, tx, p, srv, requestID)
			return err
		}
		now := s.now()
		actionID, err := startAction(ctx, tx, srv, "delete", requestID, p, now)
		if err != nil {
			return err
		}
		if srv.Host == "" || srv.TaskState == state.TaskDeleting || srv.TaskState == state.TaskSoftDeleting {
			if srv.Host == "" {
				return s.markDeleted(ctx, tx, srv, now)
			}
			return nil // a delete is already under way
		}
		if err := s.cancelPendingTasks(ctx, tx, id, now); err != nil {
			return err
		}
		if err := rollBackLiveMigrationsOnDelete(ctx, tx, srv, requestID, actionID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, updated_at = ? WHERE id = ?`,
			string(state.TaskDeleting), now.UnixMicro(), id); err != nil {
			return fmt.Errorf("mark deleting: %w", err)
		}
		host = srv.Host
		return insertTask(ctx, tx, &Task{InstanceID: id, Host: srv.Host, Kind: TaskDelete, RequestID: requestID, ActionID: actionID}, now)
	})
	if err != nil {
		return err
	}
	s.wake(host)
	if deleted != nil {
		// A shelved server's snapshot goes with it, on a soft delete too,
		// as in Nova's compute API; like Nova, a snapshot that is already
		// gone is no error, and the delete has been accepted whatever
		// happens here.
		_ = s.DropShelvedImage(ctx, deleted)
	}
	return nil
}

// cancelPendingTasks cancels the server's tasks still waiting for the
// agent, in tx: the delete supersedes them (a build, a snapshot). The
// queued image a cancelled snapshot or shelve was to fill is deleted with
// them, as Nova deletes the image of a server that disappears during its
// snapshot; it would otherwise stay queued for ever.
func (s *Service) cancelPendingTasks(ctx context.Context, tx *store.Tx, id string, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT kind, params FROM tasks WHERE instance_id = ? AND state = ?`, id, taskPending)
	if err != nil {
		return fmt.Errorf("find pending tasks of %s: %w", id, err)
	}
	var images []string
	for rows.Next() {
		var kind, raw string
		if err := rows.Scan(&kind, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("find pending tasks of %s: %w", id, err)
		}
		var params map[string]string
		_ = json.Unmarshal([]byte(raw), &params)
		if (kind == TaskSnapshot || kind == TaskShelve) && params["image_id"] != "" {
			images = append(images, params["image_id"])
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find pending tasks of %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tasks SET state = ?, params = '{}', finished_at = ?
		WHERE instance_id = ? AND state = ?`, taskFailed, now.UnixMicro(), id, taskPending); err != nil {
		return fmt.Errorf("cancel pending tasks: %w", err)
	}
	for _, img := range images {
		if err := s.Images.DiscardQueued(ctx, tx, img); err != nil {
			return err
		}
	}
	return nil
}

// FinishDelete commits a delete: the server is marked deleted, its
// capacity and addresses released. A failed destroy leaves the server in
// ERROR so a second delete can retry.
func (s *Service) FinishDelete(ctx context.Context, t *Task, started time.Time, destroyErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		srv, err := s.get(ctx, tx, t.InstanceID, true)
		if err != nil {
			return err
		}
		if destroyErr != nil {
			fault, _ := json.Marshal(Fault{Code: 500, Message: destroyErr.Error(), Created: now.UTC()})
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, fault = ?,
				updated_at = ? WHERE id = ?`, string(state.VMError), string(fault), now.UnixMicro(), srv.ID); err != nil {
				return fmt.Errorf("fail delete: %w", err)
			}
		} else if !srv.Deleted {
			if err := s.markDeleted(ctx, tx, srv, now); err != nil {
				return err
			}
		}
		if t.ActionID != "" { // the reclaim of a soft-deleted server records no action, as in Nova
			if err := recordEvent(ctx, tx, t.ActionID, eventTerminate, t.Host, started, destroyErr, now); err != nil {
				return err
			}
		}
		return finishTask(ctx, tx, t, destroyErr != nil, now)
	})
}

// markDeleted soft-deletes a server row (kept for admins' deleted=True
// queries and instance actions) and frees what it held.
func (s *Service) markDeleted(ctx context.Context, tx *store.Tx, srv *Server, now time.Time) error {
	ts := now.UnixMicro()
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, power_state = ?,
		deleted = TRUE, deleted_at = ?, terminated_at = ?, updated_at = ? WHERE id = ?`,
		string(state.VMDeleted), int(state.PowerNoState), ts, ts, ts, srv.ID); err != nil {
		return fmt.Errorf("mark deleted: %w", err)
	}
	if srv.VMState != state.VMShelvedOffloaded {
		if err := releaseClaim(ctx, tx, srv.Host, srv.ID, srv.Flavor, now); err != nil {
			return err
		}
	}
	if err := releaseMigrationClaims(ctx, tx, srv, now); err != nil { // a resize under way or unconfirmed
		return err
	}
	if err := s.releaseVolumes(ctx, tx, srv); err != nil {
		return err
	}
	// The groups of the ports Nova made go with them; given ports keep
	// theirs.
	return s.Addresses.Release(ctx, tx, srv.ID)
}

// instanceOf is the view of a server the state rules need.
func instanceOf(srv *Server) state.Instance {
	return state.Instance{UUID: srv.ID, VMState: srv.VMState, TaskState: srv.TaskState, Locked: srv.Locked,
		Launched: srv.LaunchedAt != nil, Host: srv.Host}
}
