package compute

// Moves to another host (cold migration, resize to another host). The
// API picks the destination and claims the new flavor there; the
// source's resize task powers the guest off and sends its files to the
// destination's host endpoint (internal/hostlink), then hands over by
// queueing finish_resize on the destination, which boots the guest from
// them and makes the destination the server's host. A confirm runs on
// the source (its copy is dropped), a revert on the destination (its copy
// is destroyed), which hands over to finish_revert_resize on the source.
//
// Claims: until the move finishes the destination holds the new flavor
// beside the server's old one on the source (counted from the server
// row); once finished, the source holds the old flavor beside the
// server's new one on the destination, until confirmed or reverted. A
// same-host resize holds both on the one host (ClaimMove).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// CrossHost reports whether m moves its server to another host.
func (m *Migration) CrossHost() bool { return m.DestCompute != "" && m.DestCompute != m.SourceCompute }

// moveClaimHost is the host that holds the claim moveClaimHeld names.
func moveClaimHost(m *Migration) string {
	switch m.Status {
	case MigrationPreMigrating, MigrationMigrating, MigrationPostMigrating:
		if m.DestCompute != "" {
			return m.DestCompute
		}
	}
	return m.SourceCompute
}

// releaseMoveClaim gives back the claim m holds beside its server's
// flavor, in tx. The destination's claim of a move to another host was
// a placement (scheduler.Claim, counting a server), the others rode on
// the server's own (scheduler.ClaimMove).
func releaseMoveClaim(ctx context.Context, tx *store.Tx, m *Migration, now time.Time) error {
	held := moveClaimHeld(m)
	if held == nil {
		return nil
	}
	c, err := claimFor(ctx, tx, m.InstanceUUID, *held)
	if err != nil {
		return err
	}
	host := moveClaimHost(m)
	if m.CrossHost() && host == m.DestCompute {
		return scheduler.Release(ctx, tx, host, c.VCPUs, c.MemoryMB, c.DiskGB, now)
	}
	return scheduler.ReleaseMove(ctx, tx, host, c, now)
}

// pickDestination chooses where srv goes with flavor next and claims it
// there, in tx (Nova's conductor and scheduler): a resize stays on its
// host when allowed (allow_resize_to_same_host; kumo prefers it, moving
// no disk) and the host has room; otherwise another enabled, live host
// with room, target when not "". ok is false when none fits (Nova's
// NoValidHost).
func (s *Service) pickDestination(ctx context.Context, tx *store.Tx, srv *Server, migrationType string, next FlavorSnapshot,
	target string, now time.Time) (p scheduler.Placement, ok bool, err error) {
	c, err := s.requestSpec(ctx, tx, srv, next)
	if err != nil {
		return p, false, err
	}
	if migrationType == MigrationTypeResize && !s.Settings.NoResizeToSameHost {
		fits, err := scheduler.ClaimMove(ctx, tx, srv.Host, c, now)
		if err != nil || fits {
			return scheduler.Placement{Host: srv.Host, Node: srv.Node}, fits, err
		}
	}
	c.Exclude = []string{srv.Host}
	c.Host = target
	p, err = scheduler.Claim(ctx, tx, c, now)
	if errors.Is(err, scheduler.ErrNoValidHost) {
		return p, false, nil
	}
	return p, err == nil, err
}

// failAtConductor records move m in error, in tx, as Nova's conductor
// leaves a move its checks or the scheduler refused (a cold move's
// NoValidHost, a live migration's _live_migrate): the server keeps its
// vm_state with no task_state, and the conductor's event failed with msg.
func failAtConductor(ctx context.Context, tx *store.Tx, b *begunAction, m *Migration, event, msg string) error {
	m.Status = MigrationError
	m.UpdatedAt = &b.Now
	if err := insertMigration(ctx, tx, m); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = NULL, updated_at = ? WHERE id = ?`,
		b.Now.UnixMicro(), b.Server.ID); err != nil {
		return fmt.Errorf("end move of %s: %w", b.Server.ID, err)
	}
	return recordFailedEvent(ctx, tx, b.ActionID, event, b.Server.Host, msg, b.Now)
}

// handOff ends task t of this host and queues the move's next step as a
// task of kind on host, in tx: same server, request and action, the
// plan and step carried over.
func handOff(ctx context.Context, tx *store.Tx, t *Task, kind, host string, now time.Time) error {
	var params TaskParams
	step := *t.moveStep()
	switch kind {
	case TaskFinishResize:
		params = &FinishResizeParams{TaskPlan: *t.Plan(), MoveStep: step}
	case TaskFinishRevertResize:
		params = &FinishRevertResizeParams{TaskPlan: *t.Plan(), MoveStep: step}
	default:
		return fmt.Errorf("hand a move over: unknown step %q", kind)
	}
	if err := insertTask(ctx, tx, &Task{InstanceID: t.InstanceID, Host: host, Kind: kind, RequestID: t.RequestID,
		ActionID: t.ActionID, Params: params}, now); err != nil {
		return err
	}
	return finishTask(ctx, tx, t, false, now)
}

// placeServer makes host (and its zone) server id's, in tx; its
// capacity and running_vms move apart.
func placeServer(ctx context.Context, tx *store.Tx, id, host, node string, now time.Time) error {
	zone, _, err := hosts.ZoneOf(ctx, tx, host)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET host = ?, node = ?, availability_zone = ?, updated_at = ?
		WHERE id = ?`, host, node, zone, now.UnixMicro(), id); err != nil {
		return fmt.Errorf("move %s to %s: %w", id, host, err)
	}
	return nil
}

// MoveOf is the migration a resize-family task works on.
func (s *Service) MoveOf(ctx context.Context, t *Task) (*Migration, error) {
	return taskMigration(ctx, s.DB, t)
}

// RevertFlavor is the old flavor a reverted move gives t's server back,
// and whether it runs afterwards.
func (s *Service) RevertFlavor(ctx context.Context, t *Task) (FlavorSnapshot, bool, error) {
	m, err := taskMigration(ctx, s.DB, t)
	if err != nil {
		return FlavorSnapshot{}, false, err
	}
	return m.OldFlavor, t.Plan().Power == state.PowerRunning, nil
}

// queueMoveCleanup has the host of m that is not the deleted server's
// (serverHost) drop the copy of the guest it may hold, in tx: the
// source's kept copy once the move finished, the destination's received
// one before. The delete of the server destroys the other.
func queueMoveCleanup(ctx context.Context, tx *store.Tx, m *Migration, serverHost string, now time.Time) error {
	t := moveCleanupTask(m, serverHost)
	if t == nil {
		return nil
	}
	return insertTask(ctx, tx, t, now)
}

// moveCleanupTask is the task that drops the copy of m's guest on its
// host that is not serverHost; nil for a move on one host.
func moveCleanupTask(m *Migration, serverHost string) *Task {
	if !m.CrossHost() {
		return nil
	}
	other := m.DestCompute
	if serverHost == m.DestCompute {
		other = m.SourceCompute
	}
	return &Task{InstanceID: m.InstanceUUID, Host: other, Kind: TaskConfirmResize,
		Params: &ConfirmResizeParams{MoveStep: MoveStep{MigrationID: m.ID}, Cleanup: true}}
}

// isCleanup reports whether t only drops a deleted server's copy.
func isCleanup(t *Task) bool {
	p, ok := t.Params.(*ConfirmResizeParams)
	return ok && p.Cleanup
}
