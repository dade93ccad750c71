package compute

// Evacuation (Nova's compute API evacuate, the conductor's
// rebuild_instance with recreate and the compute manager's rebuild on the
// new host): a server whose host is down is rebuilt on another host from
// its image (or its volumes). The API does the conductor's part in one
// transaction: the migration record (the tombstone the old host finds
// when it comes back), the destination's claim, the server moved there
// with the old host's claim released; an evacuate task on the new host
// spawns the guest. When the old host's agent starts again it destroys
// the guests of servers evacuated away (DestroyEvacuated).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// TaskEvacuate is the task kind of an evacuation's rebuild on the new host.
const TaskEvacuate = "evacuate"

// Events of an evacuation, as Nova names them.
const eventRebuildServer = "conductor_rebuild_server"

// EvacuateRequest is an accepted evacuate body.
type EvacuateRequest struct {
	// Host is the requested destination ("": the scheduler picks one).
	Host string
	// Force takes Host without the scheduler's filters (Nova's forced
	// evacuate: a host given before 2.29, or with force from 2.29 to
	// 2.67); only its capacity is claimed, as Nova's conductor claims
	// the forced host's allocations in placement.
	Force bool
	// OnSharedStorage (before 2.14) says the server's files are on
	// storage the new host shares; kumo hosts share none, so the new
	// host refuses it as Nova's does ("Invalid state of instance files
	// on shared storage").
	OnSharedStorage bool
	// AdminPass is the password the rebuilt guest gets ("": keep).
	AdminPass string
	// Stopped (2.95): the server ends stopped unless it was in ERROR.
	Stopped   bool
	RequestID string
}

// Evacuate accepts an evacuation of server id, after Nova's checks in
// Nova's order: an unknown target host 404, the server's own host 400,
// the server's state 409, its host still up 400. A server no host can
// take ends in ERROR with the migration in error (the conductor's
// NoValidHost), which the API does not answer.
func (s *Service) Evacuate(ctx context.Context, p *auth.Principal, id string, req EvacuateRequest) error {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	now := s.now()
	if req.Host != "" {
		known, _, err := s.hostState(ctx, s.DB, req.Host, now)
		if err != nil {
			return err
		}
		if !known {
			return errs.NotFound("Compute host %s not found.", req.Host)
		}
	}
	if srv.Host == req.Host {
		return errs.Invalid("The target host can't be the same one.")
	}
	if err := state.Check(state.ActionEvacuate, instanceOf(srv), p.IsAdmin()); err != nil {
		return err
	}
	if _, up, err := s.hostState(ctx, s.DB, srv.Host, now); err != nil {
		return err
	} else if up {
		return errs.Invalid("Compute service of %s is still in use.", srv.Host)
	}
	var wake string
	var wakeAlso []string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		wake, wakeAlso = "", nil
		sc := state.Context{}
		if req.Stopped {
			sc.Target = state.VMStopped
		}
		b, err := s.beginAction(ctx, tx, p, id, state.ActionEvacuate, "evacuate", req.RequestID, sc)
		if err != nil {
			return err
		}
		srv := b.Server
		// What waits on the dead host (or for a move the evacuation
		// supersedes) is dropped, the move it was part of abandoned.
		if _, err := s.dropStrandedTasks(ctx, tx, srv.ID, true, b.Now); err != nil {
			return err
		}
		cleanups, err := abandonMoves(ctx, tx, srv, b.RequestID, b.ActionID, b.Now)
		if err != nil {
			return err
		}
		m := &Migration{InstanceUUID: srv.ID, Type: MigrationTypeEvacuation, Status: MigrationAccepted,
			SourceCompute: srv.Host, SourceNode: srv.Node, DestCompute: req.Host, OldTypeID: flavorTypeID(srv.Flavor),
			NewTypeID: flavorTypeID(srv.Flavor), OldFlavor: srv.Flavor, NewFlavor: srv.Flavor,
			UserID: p.UserID, ProjectID: p.ProjectID, CreatedAt: b.Now.UTC()}
		// As a create would see it (group, hints, project, image).
		c, err := s.requestSpec(ctx, tx, srv, srv.Flavor)
		if err != nil {
			return err
		}
		c.Host, c.Exclude, c.Forced = req.Host, []string{srv.Host}, req.Force && req.Host != ""
		dest, err := scheduler.Claim(ctx, tx, c, b.Now)
		if errors.Is(err, scheduler.ErrNoValidHost) {
			if err := queueCleanups(ctx, tx, cleanups, "", b.Now); err != nil {
				return err
			}
			return s.failEvacuationAtConductor(ctx, tx, b, m)
		}
		if err != nil {
			return err
		}
		if err := queueCleanups(ctx, tx, cleanups, dest.Host, b.Now); err != nil {
			return err
		}
		wakeAlso = cleanupHosts(cleanups)
		m.DestCompute, m.DestNode = dest.Host, dest.Node
		if err := tx.QueryRowContext(ctx, `SELECT host_ip FROM compute_hosts WHERE hostname = ?`, dest.Host).Scan(&m.DestHost); err != nil {
			return fmt.Errorf("look up host %s: %w", dest.Host, err)
		}
		if err := insertMigration(ctx, tx, m); err != nil {
			return err
		}
		// The server is the new host's from now on: the old one, when it
		// comes back, finds it gone and destroys its guest.
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET host = ?, node = ?, availability_zone = ?, updated_at = ? WHERE id = ?`,
			dest.Host, dest.Node, dest.AZ, b.Now.UnixMicro(), srv.ID); err != nil {
			return fmt.Errorf("move server %s: %w", srv.ID, err)
		}
		if err := releaseClaim(ctx, tx, srv.Host, srv.ID, srv.Flavor, b.Now); err != nil {
			return err
		}
		// Volumes are connected again on the new host.
		if _, err := tx.ExecContext(ctx, `UPDATE block_device_mappings SET connection_info = '' WHERE instance_id = ?
			AND volume_id <> ''`, srv.ID); err != nil {
			return fmt.Errorf("disconnect volumes of %s: %w", srv.ID, err)
		}
		if err := recordEvent(ctx, tx, b.ActionID, eventRebuildServer, srv.Host, b.Now, nil, b.Now); err != nil {
			return err
		}
		params := &EvacuateParams{MigrationID: m.ID}
		if req.AdminPass != "" {
			params.AdminPass = s.Secrets.Seal(req.AdminPass)
		}
		params.TaskPlan = planOf(b, eventRebuild)
		if req.OnSharedStorage {
			params.OnSharedStorage = true
		}
		wake = dest.Host
		return insertTask(ctx, tx, &Task{InstanceID: srv.ID, Host: dest.Host, Kind: TaskEvacuate,
			RequestID: b.RequestID, ActionID: b.ActionID, Params: params}, b.Now)
	})
	if err != nil {
		return err
	}
	for _, h := range append(wakeAlso, wake) {
		s.wake(h)
	}
	return nil
}

// failEvacuationAtConductor ends an evacuation no host can take, in tx,
// as Nova's conductor does on NoValidHost: the migration in error, the
// server in ERROR with no task_state, the conductor's event failed.
func (s *Service) failEvacuationAtConductor(ctx context.Context, tx *store.Tx, b *begunAction, m *Migration) error {
	m.Status = MigrationError
	m.UpdatedAt = &b.Now
	if err := insertMigration(ctx, tx, m); err != nil {
		return err
	}
	msg := scheduler.ErrNoValidHost.Error() + "There are not enough hosts available."
	fault, _ := json.Marshal(Fault{Code: 500, Message: msg, Created: b.Now.UTC()})
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, fault = ?, updated_at = ? WHERE id = ?`,
		string(state.VMError), string(fault), b.Now.UnixMicro(), b.Server.ID); err != nil {
		return fmt.Errorf("end evacuation: %w", err)
	}
	return recordFailedEvent(ctx, tx, b.ActionID, eventRebuildServer, b.Server.Host, msg, b.Now)
}

// ErrInvalidSharedStorage is Nova's InvalidSharedStorage on the new host
// of an evacuation asked onSharedStorage: kumo hosts share no storage.
var ErrInvalidSharedStorage = errors.New("Invalid state of instance files on shared storage")

// StartEvacuation marks t's migration pre-migrating, as the new host's
// rebuild claim does; an evacuation asked onSharedStorage fails here.
func (s *Service) StartEvacuation(ctx context.Context, t *Task) error {
	p, ok := t.Params.(*EvacuateParams)
	if !ok {
		return fmt.Errorf("evacuate task %s has no evacuate params", t.ID)
	}
	if p.OnSharedStorage {
		return ErrInvalidSharedStorage
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := setMigrationStatus(ctx, tx, p.MigrationID, MigrationPreMigrating, s.now(), MigrationAccepted)
		return err
	})
}

// FinishEvacuate commits an evacuation's rebuild as FinishRebuild does
// (a new launched_at, or ERROR with the failure as its fault) and ends
// its migration: done, or failed.
func (s *Service) FinishEvacuate(ctx context.Context, t *Task, started time.Time, opErr error) error {
	p, ok := t.Params.(*EvacuateParams)
	if !ok {
		return fmt.Errorf("evacuate task %s has no evacuate params", t.ID)
	}
	status := MigrationDone
	if opErr != nil {
		status = MigrationFailed
	}
	return s.finishRebuild(ctx, t, started, opErr, func(tx *store.Tx, now time.Time) error {
		_, err := setMigrationStatus(ctx, tx, p.MigrationID, status, now, MigrationAccepted, MigrationPreMigrating)
		return err
	})
}

// EvacuatedFrom lists the servers evacuated away from host whose guests
// host must not run (Nova's _destroy_evacuated_instances): an
// evacuation from host accepted, under way or done, whose server is
// deleted or on another host now.
func (s *Service) EvacuatedFrom(ctx context.Context, host string) ([]string, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT DISTINCT m.instance_uuid FROM migrations m
		LEFT JOIN instances i ON i.id = m.instance_uuid
		WHERE m.source_compute = ? AND m.migration_type = ? AND m.status IN (?, ?, ?)
		AND (i.id IS NULL OR i.deleted = TRUE OR COALESCE(i.host, '') <> ?)`,
		host, MigrationTypeEvacuation, MigrationAccepted, MigrationPreMigrating, MigrationDone, host)
	if err != nil {
		return nil, fmt.Errorf("find servers evacuated from %s: %w", host, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find servers evacuated from %s: %w", host, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CompleteEvacuations marks host's finished evacuations completed once
// host has destroyed what it kept of their servers (done → completed).
func (s *Service) CompleteEvacuations(ctx context.Context, host string) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE migrations SET status = ?, updated_at = ? WHERE source_compute = ?
		AND migration_type = ? AND status = ?`, MigrationCompleted, s.now().UnixMicro(), host, MigrationTypeEvacuation, MigrationDone)
	if err != nil {
		return fmt.Errorf("complete evacuations from %s: %w", host, err)
	}
	return nil
}
