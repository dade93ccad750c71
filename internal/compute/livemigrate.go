package compute

// Live migration (Nova's compute API live_migrate, the conductor's
// LiveMigrationTask and the compute manager's live migration). The API
// does the conductor's part in one transaction: the checks, the
// destination (the scheduler's, or the forced host), its capacity claim,
// the migration record. The compute hosts' part is a chain of
// live_migration tasks, each finishing by queueing the next, so that each
// runs on the host that owns the guest's half of the move:
//
//	prepare   destination  the guest made ready to receive (pre_live_migration)
//	migrate   source       memory (and disks) copied while the guest runs,
//	                       progress kept in the migration; then the source
//	                       guest goes (live_migration, post_live_migration)
//	finish    destination  the guest runs there; the server's host is the
//	                       destination (post_live_migration_at_destination)
//	rollback  destination  after a failure or an abort: the prepared guest
//	                       goes, the server stays on the source
//
// force_complete and abort are casts to the source host (call tasks,
// which run beside the migrate task) that tell its driver.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// TaskLiveMigration is the task kind of every phase of a live migration.
const TaskLiveMigration = "live_migration"

// Phases of a live migration task.
const (
	LiveMigrationPrepare  = "prepare"
	LiveMigrationMigrate  = "migrate"
	LiveMigrationFinish   = "finish"
	LiveMigrationRollback = "rollback"
)

// Calls of a running live migration (casts to the source host).
const (
	CallLiveMigrationForceComplete = "live_migration_force_complete"
	CallLiveMigrationAbort         = "live_migration_abort"
)

// Instance actions and events of live migration, as Nova names them.
const (
	actionLiveMigration              = "live-migration"
	actionLiveMigrationForceComplete = "live_migration_force_complete"
	actionLiveMigrationCancel        = "live_migration_cancel"

	eventLiveMigrateInstance      = "conductor_live_migrate_instance"
	eventCheckDestination         = "compute_check_can_live_migrate_destination"
	eventCheckSource              = "compute_check_can_live_migrate_source"
	eventPreLiveMigration         = "compute_pre_live_migration"
	eventLiveMigration            = "compute_live_migration"
	eventPostLiveMigrationAtDest  = "compute_post_live_migration_at_destination"
	eventRollbackLiveMigrationDst = "compute_rollback_live_migration_at_destination"
	eventForceComplete            = "compute_live_migration_force_complete"
	eventLiveMigrationAbort       = "compute_live_migration_abort"
)

// LiveMigrateRequest is an accepted os-migrateLive body.
type LiveMigrateRequest struct {
	// Host is the requested destination ("": the scheduler picks one).
	Host string
	// Force uses Host without the scheduler (before 2.30 a host is
	// always forced; 2.30 to 2.67 when force is true).
	Force bool
	// BlockMigration copies the disks too; nil is "auto" (2.25): kumo
	// hosts share no instance storage, so auto is a block migration.
	BlockMigration *bool
	// Async (2.34): the conductor's failures are not the API's answer;
	// the migration ends in error and the server is back as it was.
	Async     bool
	RequestID string
}

// errComputeServiceUnavailable is Nova's ComputeServiceUnavailable.
func errComputeServiceUnavailable(host string) error {
	return errs.Invalid("Compute service of %s is unavailable at this time.", host)
}

// hostState reports whether host is a known compute host and whether
// its service is up (not forced down, heartbeat fresh), in q.
func (s *Service) hostState(ctx context.Context, q store.Querier, host string, now time.Time) (known, up bool, err error) {
	var forcedDown bool
	var heartbeat int64
	err = q.QueryRowContext(ctx, `SELECT forced_down, heartbeat_at FROM compute_hosts WHERE hostname = ?`, host).
		Scan(&forcedDown, &heartbeat)
	if isNoRows(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("look up host %s: %w", host, err)
	}
	return true, !forcedDown && heartbeat >= s.Scheduler.LiveSince(now).UnixMicro(), nil
}

// conductorFailure is a failure of the conductor's checks: the
// migration ends in error and the server is back as it was, committed;
// before 2.34 the API then answers it as a 400.
type conductorFailure struct{ msg string }

func (f *conductorFailure) Error() string { return f.msg }

// LiveMigrate accepts a live migration of server id (Nova's checks in
// Nova's order: the server 404, lock and state 409, an unknown host 400;
// then the conductor's, whose failures end the migration in error and,
// before 2.34, answer 400).
func (s *Service) LiveMigrate(ctx context.Context, p *auth.Principal, id string, req LiveMigrateRequest) error {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if err := state.Check(state.ActionLiveMigrate, instanceOf(srv), p.IsAdmin()); err != nil {
		return err
	}
	if req.Host != "" {
		known, _, err := s.hostState(ctx, s.DB, req.Host, s.now())
		if err != nil {
			return err
		}
		if !known {
			return errs.Invalid("Compute host %s could not be found.", req.Host)
		}
	}
	var failure *conductorFailure
	var wake []string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		failure, wake = nil, nil
		b, err := s.beginAction(ctx, tx, p, id, state.ActionLiveMigrate, actionLiveMigration, req.RequestID, state.Context{})
		if err != nil {
			return err
		}
		m := &Migration{InstanceUUID: b.Server.ID, Type: MigrationTypeLive, Status: MigrationAccepted,
			SourceCompute: b.Server.Host, SourceNode: b.Server.Node, OldTypeID: flavorTypeID(b.Server.Flavor),
			NewTypeID: flavorTypeID(b.Server.Flavor), OldFlavor: b.Server.Flavor, NewFlavor: b.Server.Flavor,
			UserID: p.UserID, ProjectID: p.ProjectID, CreatedAt: b.Now.UTC()}
		if req.Force {
			m.DestCompute = req.Host
		}
		dest, msg, err := s.liveMigrationDestination(ctx, tx, b, req)
		if err != nil {
			return err
		}
		if msg != "" {
			failure = &conductorFailure{msg: msg}
			return failAtConductor(ctx, tx, b, m, eventLiveMigrateInstance, msg)
		}
		m.Status = MigrationQueued
		m.DestCompute, m.DestNode = dest.Host, dest.Node
		if err := tx.QueryRowContext(ctx, `SELECT host_ip FROM compute_hosts WHERE hostname = ?`, dest.Host).Scan(&m.DestHost); err != nil {
			return fmt.Errorf("look up host %s: %w", dest.Host, err)
		}
		if err := insertMigration(ctx, tx, m); err != nil {
			return err
		}
		for _, ev := range []struct{ name, host string }{{eventLiveMigrateInstance, b.Server.Host},
			{eventCheckDestination, dest.Host}, {eventCheckSource, b.Server.Host}} {
			if err := recordEvent(ctx, tx, b.ActionID, ev.name, ev.host, b.Now, nil, b.Now); err != nil {
				return err
			}
		}
		block := true
		if req.BlockMigration != nil {
			block = *req.BlockMigration
		}
		params := &LiveMigrationParams{MigrationID: m.ID, Phase: LiveMigrationPrepare, Source: b.Server.Host,
			Dest: dest.Host, BlockMigration: block}
		params.TaskPlan = planOf(b, eventPreLiveMigration)
		wake = []string{dest.Host}
		return insertTask(ctx, tx, &Task{InstanceID: b.Server.ID, Host: dest.Host, Kind: TaskLiveMigration,
			RequestID: b.RequestID, ActionID: b.ActionID, Params: params}, b.Now)
	})
	if err != nil {
		return err
	}
	for _, h := range wake {
		s.wake(h)
	}
	if failure != nil && !req.Async {
		return errs.Invalid("%s", failure.msg)
	}
	return nil
}

// liveMigrationDestination is the conductor's LiveMigrationTask up to
// the destination, in tx: the guest must run, the source be up; a forced
// host must not be the source, be up and have the memory, and is
// claimed; otherwise the scheduler claims a host other than the source
// (the requested one, when given). A check that fails returns its
// message (Nova's exception's) and no placement.
func (s *Service) liveMigrationDestination(ctx context.Context, tx *store.Tx, b *begunAction, req LiveMigrateRequest) (scheduler.Placement, string, error) {
	srv := b.Server
	if srv.PowerState != state.PowerRunning && srv.PowerState != state.PowerPaused {
		return scheduler.Placement{}, fmt.Sprintf("Instance %s in power_state %s. Cannot live-migrate while the instance is in this state.",
			srv.ID, srv.PowerState), nil
	}
	if _, up, err := s.hostState(ctx, tx, srv.Host, b.Now); err != nil || !up {
		return scheduler.Placement{}, errComputeServiceUnavailable(srv.Host).Error(), err
	}
	// The scheduler sees the server as a create would (its group, hints,
	// project, image): a move keeps anti-affinity.
	c, err := s.requestSpec(ctx, tx, srv, srv.Flavor)
	if err != nil {
		return scheduler.Placement{}, "", err
	}
	c.Forced = req.Force
	if req.Force {
		if req.Host == srv.Host {
			return scheduler.Placement{}, fmt.Sprintf("Unable to migrate instance (%s) to current host (%s).", srv.ID, srv.Host), nil
		}
		if _, up, err := s.hostState(ctx, tx, req.Host, b.Now); err != nil || !up {
			return scheduler.Placement{}, errComputeServiceUnavailable(req.Host).Error(), err
		}
		var total, used int
		var ratio float64
		if err := tx.QueryRowContext(ctx, `SELECT memory_mb, memory_mb_used, ram_allocation_ratio FROM compute_hosts WHERE hostname = ?`,
			req.Host).Scan(&total, &used, &ratio); err != nil {
			return scheduler.Placement{}, "", fmt.Errorf("look up host %s: %w", req.Host, err)
		}
		if avail := float64(total)*ratio - float64(used); avail <= float64(srv.Flavor.RAM) {
			return scheduler.Placement{}, fmt.Sprintf("Migration pre-check error: Unable to migrate %s to %s: Lack of memory(host:%g <= instance:%d)",
				srv.ID, req.Host, avail, srv.Flavor.RAM), nil
		}
	}
	// Nova's _check_compatible_with_source_hypervisor: a forced host
	// fails the migration; the scheduler's are passed over (Nova
	// retries the next).
	incompatible, err := incompatibleHypervisors(ctx, tx, srv.Host)
	if err != nil {
		return scheduler.Placement{}, "", err
	}
	if msg, ok := incompatible[req.Host]; ok && req.Force {
		return scheduler.Placement{}, msg, nil
	}
	c.Host = req.Host
	c.Exclude = []string{srv.Host}
	for h := range incompatible {
		c.Exclude = append(c.Exclude, h)
	}
	dest, err := scheduler.Claim(ctx, tx, c, b.Now)
	if errors.Is(err, scheduler.ErrNoValidHost) {
		return scheduler.Placement{}, scheduler.ErrNoValidHost.Error() + "There are not enough hosts available.", nil
	}
	return dest, "", err
}

// incompatibleHypervisors are the hosts a guest of source cannot live-
// migrate to, with Nova's reason: another hypervisor type, or an older
// version than the source's.
func incompatibleHypervisors(ctx context.Context, tx *store.Tx, source string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT d.hostname, d.hypervisor_type <> s.hypervisor_type FROM compute_hosts d
		JOIN compute_hosts s ON s.hostname = ?
		WHERE d.hypervisor_type <> s.hypervisor_type OR d.hypervisor_version < s.hypervisor_version`, source)
	if err != nil {
		return nil, fmt.Errorf("compare hypervisors with %s: %w", source, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var host string
		var otherType bool
		if err := rows.Scan(&host, &otherType); err != nil {
			return nil, fmt.Errorf("compare hypervisors with %s: %w", source, err)
		}
		out[host] = "The instance requires a newer hypervisor version than has been provided."
		if otherType {
			out[host] = "The supplied hypervisor type of is invalid."
		}
	}
	return out, rows.Err()
}

// LiveMigrationTask is what the agent needs of a live migration task.
type LiveMigrationTask struct {
	Phase          string
	MigrationID    int64
	Source, Dest   string
	BlockMigration bool
	// Power is the power state the guest keeps (running or paused).
	Power state.PowerState
}

// LiveMigrationTaskOf reads a live migration task's parameters.
func LiveMigrationTaskOf(t *Task) LiveMigrationTask {
	p, ok := t.Params.(*LiveMigrationParams)
	if !ok {
		return LiveMigrationTask{}
	}
	return LiveMigrationTask{Phase: p.Phase, MigrationID: p.MigrationID, Source: p.Source, Dest: p.Dest,
		BlockMigration: p.BlockMigration, Power: p.Power}
}

// SetLiveMigrationStatus moves t's migration to status (preparing,
// running, post-migrating) unless it has ended.
func (s *Service) SetLiveMigrationStatus(ctx context.Context, t *Task, status string) error {
	lm := LiveMigrationTaskOf(t)
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := setMigrationStatus(ctx, tx, lm.MigrationID, status, s.now(), LiveMigrationInProgress...)
		return err
	})
}

// SaveLiveMigrationProgress keeps how far t's migration has copied the
// guest, for GET /servers/{id}/migrations.
func (s *Service) SaveLiveMigrationProgress(ctx context.Context, t *Task, p MigrationProgress) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE migrations SET memory_total = ?, memory_processed = ?, memory_remaining = ?,
		disk_total = ?, disk_processed = ?, disk_remaining = ?, updated_at = ? WHERE id = ?`,
		p.MemoryTotal, p.MemoryProcessed, p.MemoryRemaining, p.DiskTotal, p.DiskProcessed, p.DiskRemaining,
		s.now().UnixMicro(), LiveMigrationTaskOf(t).MigrationID)
	if err != nil {
		return fmt.Errorf("save live migration progress: %w", err)
	}
	return nil
}

// ErrLiveMigrationAborted is how the agent reports a migrate phase its
// driver stopped on an abort: the migration is cancelled, not failed.
var ErrLiveMigrationAborted = errors.New("live migration aborted")

// FinishLiveMigration commits one phase of a live migration and queues
// the next: prepare → migrate (a failed prepare → rollback, failed);
// migrate → finish (aborted → rollback, cancelled; failed → rollback,
// error); finish and rollback end it.
func (s *Service) FinishLiveMigration(ctx context.Context, t *Task, started time.Time, opErr error) error {
	p, ok := t.Params.(*LiveMigrationParams)
	if !ok {
		return fmt.Errorf("live migration task %s has no live migration params", t.ID)
	}
	var wake string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		wake = ""
		now := s.now()
		m, err := migrationByID(ctx, tx, p.MigrationID)
		if err != nil {
			return err
		}
		if errors.Is(opErr, ErrTaskSuperseded) {
			// The server is being deleted: the phase did nothing to keep.
			return s.endOrphanLiveMigration(ctx, tx, t, m, started, opErr, now)
		}
		var next *LiveMigrationParams
		switch p.Phase {
		case LiveMigrationPrepare:
			if err := recordEvent(ctx, tx, t.ActionID, eventPreLiveMigration, t.Host, started, opErr, now); err != nil {
				return err
			}
			next = &LiveMigrationParams{Phase: LiveMigrationMigrate}
			if opErr != nil {
				next = &LiveMigrationParams{Phase: LiveMigrationRollback, EndStatus: MigrationFailed}
			}
		case LiveMigrationMigrate:
			aborted := errors.Is(opErr, ErrLiveMigrationAborted)
			evErr := opErr
			if aborted {
				evErr = nil
			}
			if err := recordEvent(ctx, tx, t.ActionID, eventLiveMigration, t.Host, started, evErr, now); err != nil {
				return err
			}
			switch {
			case aborted:
				next = &LiveMigrationParams{Phase: LiveMigrationRollback, EndStatus: MigrationCancelled}
			case opErr != nil:
				next = &LiveMigrationParams{Phase: LiveMigrationRollback, EndStatus: MigrationError}
			default:
				if _, err := setMigrationStatus(ctx, tx, m.ID, MigrationPostMigrating, now, LiveMigrationInProgress...); err != nil {
					return err
				}
				next = &LiveMigrationParams{Phase: LiveMigrationFinish}
			}
		case LiveMigrationFinish:
			return s.finishLiveMigration(ctx, tx, t, m, started, opErr, now)
		case LiveMigrationRollback:
			return s.rollBackLiveMigration(ctx, tx, t, m, started, opErr, now)
		default:
			return fmt.Errorf("live migration task %s: unknown phase %q", t.ID, p.Phase)
		}
		if err := finishTask(ctx, tx, t, opErr != nil && !errors.Is(opErr, ErrLiveMigrationAborted), now); err != nil {
			return err
		}
		next.TaskPlan, next.MigrationID = p.TaskPlan, p.MigrationID
		next.Source, next.Dest, next.BlockMigration = p.Source, p.Dest, p.BlockMigration
		host := p.Dest
		if next.Phase == LiveMigrationMigrate {
			host = p.Source
		}
		if err := insertTask(ctx, tx, &Task{InstanceID: t.InstanceID, Host: host, Kind: TaskLiveMigration,
			RequestID: t.RequestID, ActionID: t.ActionID, Params: next}, now); err != nil {
			return err
		}
		wake = host
		return nil
	})
	if err == nil {
		s.wake(wake) // this process's agent; others learn of it from the database
	}
	return err
}

// finishLiveMigration commits the destination's last phase, in tx: the
// server now lives on the destination (host, node, zone), keeps its
// states and leaves migrating; the migration is completed and the
// source's claim released. A failure there leaves the server in ERROR on
// the destination with the migration in error, as Nova's
// post_live_migration_at_destination does.
func (s *Service) finishLiveMigration(ctx context.Context, tx *store.Tx, t *Task, m *Migration, started time.Time, opErr error, now time.Time) error {
	srv, err := s.get(ctx, tx, t.InstanceID, false)
	if isNoRows(err) || errs.Is(err, errs.KindNotFound) {
		return s.endOrphanLiveMigration(ctx, tx, t, m, started, opErr, now)
	}
	if err != nil {
		return err
	}
	zone, _, err := hosts.ZoneOf(ctx, tx, m.DestCompute)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET host = ?, node = ?, availability_zone = ?, updated_at = ? WHERE id = ?`,
		m.DestCompute, m.DestNode, zone, now.UnixMicro(), srv.ID); err != nil {
		return fmt.Errorf("move server %s: %w", srv.ID, err)
	}
	if err := releaseClaim(ctx, tx, m.SourceCompute, srv.ID, srv.Flavor, now); err != nil {
		return err
	}
	status := MigrationCompleted
	if opErr != nil {
		status = MigrationError
		if err := s.errorServer(ctx, tx, srv.ID, opErr, now); err != nil {
			return err
		}
	}
	if _, err := setMigrationStatus(ctx, tx, m.ID, status, now); err != nil {
		return err
	}
	t.Plan().Event = eventPostLiveMigrationAtDest
	return s.finishPlanned(ctx, tx, t, started, opErr)
}

// rollBackLiveMigration commits the rollback at the destination, in tx:
// the server stays on the source as it was, leaving migrating; the
// destination's claim is released and the migration ends in the status
// the rollback was queued with (cancelled, failed, error).
func (s *Service) rollBackLiveMigration(ctx context.Context, tx *store.Tx, t *Task, m *Migration, started time.Time, opErr error, now time.Time) error {
	p := t.Params.(*LiveMigrationParams)
	srv, err := s.get(ctx, tx, t.InstanceID, false)
	if isNoRows(err) || errs.Is(err, errs.KindNotFound) {
		return s.endOrphanLiveMigration(ctx, tx, t, m, started, opErr, now)
	}
	if err != nil {
		return err
	}
	ended, err := setMigrationStatus(ctx, tx, m.ID, p.EndStatus, now, LiveMigrationInProgress...)
	if err != nil {
		return err
	}
	if ended { // else a delete ended it, its claim with it
		if err := releaseClaim(ctx, tx, m.DestCompute, srv.ID, srv.Flavor, now); err != nil {
			return err
		}
	}
	if err := recordEvent(ctx, tx, t.ActionID, eventRollbackLiveMigrationDst, t.Host, started, opErr, now); err != nil {
		return err
	}
	// The server is back as it was: its vm and power states stay.
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = NULL, updated_at = ? WHERE id = ? AND deleted = FALSE AND `+
		taskStateIs(string(p.TaskState)), now.UnixMicro(), srv.ID, string(p.TaskState)); err != nil {
		return fmt.Errorf("end live migration: %w", err)
	}
	return finishTask(ctx, tx, t, opErr != nil, now)
}

// endOrphanLiveMigration ends the migration of a server deleted while it
// moved, in tx (see abandonLiveMigration).
func (s *Service) endOrphanLiveMigration(ctx context.Context, tx *store.Tx, t *Task, m *Migration, started time.Time, opErr error, now time.Time) error {
	if err := abandonLiveMigration(ctx, tx, m, now); err != nil {
		return err
	}
	return finishTask(ctx, tx, t, true, now)
}

// abandonLiveMigration ends live migration m in error unless it has
// ended, in tx, giving its destination's claim back: its server is gone.
func abandonLiveMigration(ctx context.Context, tx *store.Tx, m *Migration, now time.Time) error {
	ended, err := setMigrationStatus(ctx, tx, m.ID, MigrationError, now, LiveMigrationInProgress...)
	if err != nil || !ended {
		return err
	}
	return releaseClaim(ctx, tx, m.DestCompute, m.InstanceUUID, m.NewFlavor, now)
}

// rollBackLiveMigrationsOnDelete queues, in tx, the rollback of the
// destination's guest of srv's live migration under way when srv is
// being deleted (its pending phases were cancelled with the delete's
// other tasks; a running one ends on its own, superseded).
func rollBackLiveMigrationsOnDelete(ctx context.Context, tx *store.Tx, srv *Server, requestID, actionID string, now time.Time) error {
	live, err := openMigrations(ctx, tx, srv.ID, LiveMigrationInProgress...)
	if err != nil {
		return err
	}
	for _, m := range live {
		if m.Type != MigrationTypeLive || m.DestCompute == "" {
			continue
		}
		params := &LiveMigrationParams{MigrationID: m.ID, Phase: LiveMigrationRollback, Source: m.SourceCompute,
			Dest: m.DestCompute, EndStatus: MigrationError}
		params.TaskState = state.TaskMigrating
		if err := insertTask(ctx, tx, &Task{InstanceID: srv.ID, Host: m.DestCompute, Kind: TaskLiveMigration,
			RequestID: requestID, ActionID: actionID, Params: params}, now); err != nil {
			return err
		}
	}
	return nil
}

// errorServer puts server id in ERROR with opErr as its fault, in tx.
func (s *Service) errorServer(ctx context.Context, tx *store.Tx, id string, opErr error, now time.Time) error {
	fault, _ := json.Marshal(Fault{Code: 500, Message: opErr.Error(), Created: now.UTC()})
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, fault = ?, updated_at = ? WHERE id = ?`,
		string(state.VMError), string(fault), now.UnixMicro(), id); err != nil {
		return fmt.Errorf("error server %s: %w", id, err)
	}
	return nil
}

// liveMigrationCall accepts a call on server id's live migration
// migrationID (force_complete, abort): Nova's checks, the instance
// action record, then the cast to the server's (source) host.
func (s *Service) liveMigrationCall(ctx context.Context, p *auth.Principal, id string, migrationID int64, a state.Action,
	method string, allowed []string, record, call, event, requestID string, notFoundIsInvalid bool) error {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if err := state.Check(a, instanceOf(srv), p.IsAdmin()); err != nil {
		return err
	}
	var host string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, a, record, requestID, state.Context{})
		if err != nil {
			return err
		}
		m, err := scanMigration(tx.QueryRowContext(ctx, `SELECT `+migrationColumns+` FROM migrations
			WHERE id = ? AND instance_uuid = ?`, migrationID, srv.ID))
		if isNoRows(err) {
			if notFoundIsInvalid { // force_complete answers MigrationNotFoundForInstance 400, abort 404
				return errs.Invalid("Migration %d not found for instance %s", migrationID, srv.ID)
			}
			return errs.NotFound("Migration %d not found for instance %s", migrationID, srv.ID)
		}
		if err != nil {
			return fmt.Errorf("load migration %d: %w", migrationID, err)
		}
		if !slices.Contains(allowed, m.Status) {
			return errs.Invalid("Migration %d state of instance %s is %s. Cannot %s while the migration is in this state.",
				migrationID, srv.ID, m.Status, method)
		}
		if m.Status == MigrationQueued && call == CallLiveMigrationAbort {
			// Still waiting for the destination: Nova's source drops it
			// from its queue and the migration is cancelled at once.
			return s.cancelQueuedLiveMigration(ctx, tx, b, m)
		}
		host = srv.Host
		_, err = queueCall(ctx, tx, srv, b, call, event, requestID, nil, b.Now)
		return err
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// cancelQueuedLiveMigration cancels a live migration whose first task
// has not started, in tx: the task goes, the destination's claim is
// released, the server leaves migrating and the migration is cancelled.
func (s *Service) cancelQueuedLiveMigration(ctx context.Context, tx *store.Tx, b *begunAction, m *Migration) error {
	res, err := tx.ExecContext(ctx, `UPDATE tasks SET state = ?, params = '{}', finished_at = ? WHERE instance_id = ? AND kind = ? AND state = ?`,
		taskFailed, b.Now.UnixMicro(), m.InstanceUUID, TaskLiveMigration, taskPending)
	if err != nil {
		return fmt.Errorf("cancel live migration task: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// The destination has taken it meanwhile: abort as when running.
		_, err = queueCall(ctx, tx, b.Server, b, CallLiveMigrationAbort, eventLiveMigrationAbort, b.RequestID, nil, b.Now)
		return err
	}
	if err := releaseClaim(ctx, tx, m.DestCompute, m.InstanceUUID, m.NewFlavor, b.Now); err != nil {
		return err
	}
	if _, err := setMigrationStatus(ctx, tx, m.ID, MigrationCancelled, b.Now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = NULL, updated_at = ? WHERE id = ?`,
		b.Now.UnixMicro(), m.InstanceUUID); err != nil {
		return fmt.Errorf("end live migration: %w", err)
	}
	return recordEvent(ctx, tx, b.ActionID, eventLiveMigrationAbort, b.Server.Host, b.Now, nil, b.Now)
}

// ForceCompleteLiveMigration asks the source host to finish server id's
// running live migration at once (2.22; Nova's
// live_migrate_force_complete): 404 for the server, 409 for its lock or
// state, 400 unless the migration is the server's and running.
func (s *Service) ForceCompleteLiveMigration(ctx context.Context, p *auth.Principal, id string, migrationID int64, requestID string) error {
	return s.liveMigrationCall(ctx, p, id, migrationID, state.ActionForceCompleteLiveMigration, "force complete",
		[]string{MigrationRunning}, actionLiveMigrationForceComplete, CallLiveMigrationForceComplete, eventForceComplete, requestID, true)
}

// AbortLiveMigration cancels server id's live migration (2.24; Nova's
// live_migrate_abort): a running one, and from 2.65 a queued or
// preparing one too; 404 for a migration that is not the server's, 400
// for one in another status. The server stays on its host.
func (s *Service) AbortLiveMigration(ctx context.Context, p *auth.Principal, id string, migrationID int64, inQueue bool, requestID string) error {
	allowed := []string{MigrationRunning}
	if inQueue {
		allowed = append(allowed, MigrationQueued, MigrationPreparing)
	}
	return s.liveMigrationCall(ctx, p, id, migrationID, state.ActionAbortLiveMigration, "abort live migration",
		allowed, actionLiveMigrationCancel, CallLiveMigrationAbort, eventLiveMigrationAbort, requestID, false)
}
