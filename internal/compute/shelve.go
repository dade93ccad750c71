package compute

// shelve and shelveOffload (Nova's compute API shelve and shelve_offload,
// the compute manager's shelve_instance, shelve_offload_instance and
// _poll_shelved_instances); unshelve is in shelve_unshelve.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/store"
)

// Task kinds of shelving.
const (
	TaskShelve        = "shelve"
	TaskShelveOffload = "shelve_offload"
	TaskUnshelve      = "unshelve"
)

// Events Nova's conductor and compute manager record.
const (
	eventShelve        = "compute_shelve_instance"
	eventShelveOffload = "compute_shelve_offload_instance"
	eventUnshelve      = "compute_unshelve_instance"
	eventStart         = "compute_start_instance"
	eventGetImageInfo  = "get_image_info"
	eventSchedule      = "schedule_instances"
)

// System metadata a shelved server carries.
const (
	sysmetaShelvedAt    = "shelved_at"
	sysmetaShelvedImage = "shelved_image_id"
	sysmetaShelvedHost  = "shelved_host"
)

// Shelve accepts a shelve: the lock and state checks (409), then in one
// transaction task_state shelving, the image "<name>-shelved", the
// instance action and the agent's task. With ShelvedOffloadTime 0 the
// agent offloads the server right after the snapshot.
func (s *Service) Shelve(ctx context.Context, p *auth.Principal, id, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		host = ""
		sc, err := volumeBackedContext(ctx, tx, id, state.Context{OffloadAtOnce: s.Settings.ShelvedOffloadTime == 0})
		if err != nil {
			return err
		}
		b, err := s.beginAction(ctx, tx, p, id, state.ActionShelve, "shelve", requestID, sc)
		if err != nil {
			return err
		}
		srv := b.Server
		if sc.VolumeBacked {
			// Straight to the offload, no image: the volumes are the
			// server's disks (Nova's shelve of a volume-backed server).
			host = srv.Host
			return s.queueAction(ctx, tx, b, eventShelveOffload, &ShelveParams{Offload: true})
		}
		if _, ok := srv.SystemMetadata["image_base_image_ref"]; !ok {
			sysmeta := maps.Clone(srv.SystemMetadata)
			sysmeta["image_base_image_ref"] = srv.ImageRef // unshelve and rebuild need it
			if err := writeSystemMetadata(ctx, tx, srv.ID, sysmeta); err != nil {
				return err
			}
			srv.SystemMetadata = sysmeta
		}
		img, err := s.createServerImage(ctx, tx, p, srv, srv.Name+"-shelved", "snapshot", nil)
		if err != nil {
			return err
		}
		host = srv.Host
		offload := b.Plan.VMState == state.VMShelvedOffloaded
		return s.queueAction(ctx, tx, b, eventShelve, &ShelveParams{ImageID: img.ID, Offload: offload})
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// ShelveOffload accepts a shelveOffload of a shelved server (the API
// checks the admin policy): task_state shelving_offloading and the
// agent's task.
func (s *Service) ShelveOffload(ctx context.Context, p *auth.Principal, id, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionShelveOffload, "shelveOffload", requestID, state.Context{})
		if err != nil {
			return err
		}
		host = b.Server.Host
		return s.queueAction(ctx, tx, b, eventShelveOffload, &ShelveOffloadParams{})
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// ShelveTask is what the agent needs of a queued shelve or offload.
type ShelveTask struct {
	ImageID string
	// Steps are the task states still to pass through.
	Steps []state.TaskState
	// Offload: destroy the guest after the snapshot.
	Offload bool
}

// ShelveTaskOf reads a shelve or offload task's parameters.
func ShelveTaskOf(t *Task) ShelveTask {
	st := ShelveTask{Steps: RemainingSteps(t), Offload: t.Kind == TaskShelveOffload}
	if p, ok := t.Params.(*ShelveParams); ok {
		st.ImageID, st.Offload = p.ImageID, p.Offload
	}
	return st
}

// FinishShelve commits a shelve: the shelved_* system metadata, vm_state
// shelved (or shelved_offloaded, host released, when it offloaded at
// once), power off. On failure the unfinished image is deleted and the
// task_state cleared; an image finished for a server that has left the
// shelve meanwhile (deleted) is deleted too, since nothing refers to it.
func (s *Service) FinishShelve(ctx context.Context, t *Task, started time.Time, opErr error) error {
	shelve := ShelveTaskOf(t)
	if opErr != nil {
		if err := s.dropUnfinishedImage(ctx, shelve.ImageID); err != nil {
			return err
		}
	}
	var orphan bool
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, still, err := s.stillInTask(ctx, tx, t)
		if err != nil {
			return err
		}
		orphan = opErr == nil && !still
		if opErr == nil && still {
			sysmeta := maps.Clone(srv.SystemMetadata)
			sysmeta[sysmetaShelvedAt] = s.now().UTC().Format("2006-01-02T15:04:05.000000")
			sysmeta[sysmetaShelvedImage] = shelve.ImageID
			sysmeta[sysmetaShelvedHost] = t.Host
			if err := writeSystemMetadata(ctx, tx, srv.ID, sysmeta); err != nil {
				return err
			}
			if shelve.Offload {
				if err := s.releaseHost(ctx, tx, srv); err != nil {
					return err
				}
			}
		}
		return s.finishPlanned(ctx, tx, t, started, opErr)
	})
	if err != nil || !orphan {
		return err
	}
	return s.Images.DeleteSnapshot(ctx, shelve.ImageID)
}

// FinishShelveOffload commits an offload: vm_state shelved_offloaded,
// the host's capacity released and host, node and zone cleared (Nova's
// _nil_out_instance_obj_host_and_node). The periodic offload has no
// instance action, so it records no event.
func (s *Service) FinishShelveOffload(ctx context.Context, t *Task, started time.Time, opErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, still, err := s.stillInTask(ctx, tx, t)
		if err != nil {
			return err
		}
		if opErr == nil && still {
			if err := s.releaseHost(ctx, tx, srv); err != nil {
				return err
			}
		}
		if t.ActionID != "" {
			return s.finishPlanned(ctx, tx, t, started, opErr)
		}
		now := s.now()
		if opErr == nil && still {
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, power_state = ?, task_state = NULL,
				updated_at = ? WHERE id = ?`, string(state.VMShelvedOffloaded), int(state.PowerShutdown), now.UnixMicro(), srv.ID); err != nil {
				return fmt.Errorf("finish offload: %w", err)
			}
		} else if still {
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = NULL, updated_at = ? WHERE id = ?`,
				now.UnixMicro(), srv.ID); err != nil {
				return fmt.Errorf("fail offload: %w", err)
			}
		}
		return finishTask(ctx, tx, t, opErr != nil, now)
	})
}

// stillInTask loads t's server in tx and reports whether it still shows
// t's task_state (a delete may have overtaken the task).
func (s *Service) stillInTask(ctx context.Context, tx *store.Tx, t *Task) (*Server, bool, error) {
	srv, err := s.get(ctx, tx, t.InstanceID, true)
	if err != nil {
		return nil, false, err
	}
	return srv, !srv.Deleted && srv.TaskState == t.Plan().TaskState, nil
}

// releaseHost gives an offloaded server's capacity back to its host and
// clears its host, node and zone, in tx.
func (s *Service) releaseHost(ctx context.Context, tx *store.Tx, srv *Server) error {
	now := s.now()
	if err := releaseClaim(ctx, tx, srv.Host, srv.ID, srv.Flavor, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET host = NULL, node = NULL, availability_zone = NULL,
		updated_at = ? WHERE id = ?`, now.UnixMicro(), srv.ID); err != nil {
		return fmt.Errorf("clear host of %s: %w", srv.ID, err)
	}
	return nil
}

// OffloadExpired queues the offload of host's servers shelved longer than
// ShelvedOffloadTime (Nova's _poll_shelved_instances); it does nothing
// unless ShelvedOffloadTime > 0. It returns how many it queued.
func (s *Service) OffloadExpired(ctx context.Context, host string) (int, error) {
	if s.Settings.ShelvedOffloadTime <= 0 {
		return 0, nil
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT id, system_metadata FROM instances WHERE host = ? AND deleted = FALSE
		AND vm_state = ? AND task_state IS NULL`, host, string(state.VMShelved))
	if err != nil {
		return 0, fmt.Errorf("find shelved servers: %w", err)
	}
	type shelved struct{ id, sysmeta string }
	var found []shelved
	for rows.Next() {
		var sh shelved
		if err := rows.Scan(&sh.id, &sh.sysmeta); err != nil {
			rows.Close()
			return 0, err
		}
		found = append(found, sh)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	cutoff := s.now().Add(-s.Settings.ShelvedOffloadTime)
	queued := 0
	for _, sh := range found {
		var sysmeta map[string]string
		_ = json.Unmarshal([]byte(sh.sysmeta), &sysmeta)
		at, err := time.Parse("2006-01-02T15:04:05.999999", sysmeta[sysmetaShelvedAt])
		if err != nil || !at.Before(cutoff) {
			continue
		}
		err = s.DB.InTx(ctx, func(tx *store.Tx) error {
			now := s.now()
			res, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = ?, updated_at = ? WHERE id = ?
				AND deleted = FALSE AND vm_state = ? AND task_state IS NULL`,
				string(state.TaskShelvingOffloading), now.UnixMicro(), sh.id, string(state.VMShelved))
			if err != nil {
				return fmt.Errorf("mark offloading: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil
			}
			queued++
			return insertTask(ctx, tx, &Task{InstanceID: sh.id, Host: host, Kind: TaskShelveOffload, Params: &ShelveOffloadParams{
				TaskPlan{Action: state.ActionShelveOffload, Event: eventShelveOffload, TaskState: state.TaskShelvingOffloading,
					VMState: state.VMShelvedOffloaded, Power: state.PowerShutdown}}}, now)
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

// DropShelvedImage deletes the snapshot of a shelved or offloaded server,
// as Nova's compute API does when such a server is deleted; other
// servers have none.
func (s *Service) DropShelvedImage(ctx context.Context, srv *Server) error {
	if srv.VMState != state.VMShelved && srv.VMState != state.VMShelvedOffloaded {
		return nil
	}
	if id := srv.SystemMetadata[sysmetaShelvedImage]; id != "" {
		return s.Images.DeleteSnapshot(ctx, id)
	}
	return nil
}

// writeSystemMetadata replaces a server's system metadata, in tx.
func writeSystemMetadata(ctx context.Context, tx *store.Tx, id string, sysmeta map[string]string) error {
	raw, err := json.Marshal(sysmeta)
	if err != nil {
		return fmt.Errorf("encode system metadata: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET system_metadata = ? WHERE id = ?`, string(raw), id); err != nil {
		return fmt.Errorf("save system metadata of %s: %w", id, err)
	}
	return nil
}
