package compute

// Accepting a resize (Nova's compute API resize and the conductor's
// migration record and scheduling); resize_steps.go is the agent's side,
// resize_verify.go confirm and revert. kumo resizes on the server's own
// host, as Nova does with allow_resize_to_same_host = True (the usual
// single-host setting): the host holds both flavors from the resize until
// it is confirmed or reverted.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// Task kinds of the resize family.
const (
	TaskResize        = "resize"
	TaskConfirmResize = "confirm_resize"
	TaskRevertResize  = "revert_resize"
	// A move to another host hands over between hosts: the source's
	// resize queues finish_resize on the destination, the destination's
	// revert_resize queues finish_revert_resize on the source.
	TaskFinishResize       = "finish_resize"
	TaskFinishRevertResize = "finish_revert_resize"
)

// Instance action events of the resize family, as Nova's
// wrap_instance_event names them.
const (
	eventMigrateServer      = "conductor_migrate_server"
	eventPrepResize         = "compute_prep_resize"
	eventResizeInstance     = "compute_resize_instance"
	eventFinishResize       = "compute_finish_resize"
	eventConfirmResize      = "compute_confirm_resize"
	eventRevertResize       = "compute_revert_resize"
	eventFinishRevertResize = "compute_finish_revert_resize"
)

// ResizeRequest is a resize as the API accepted it.
type ResizeRequest struct {
	// FlavorRef is the flavor id exactly as given (Nova looks up
	// str(flavorRef); a URL is not reduced to its id).
	FlavorRef string
	// DiskConfig is "AUTO", "MANUAL" or "" (not given: MANUAL, as Nova
	// sets auto_disk_config = False).
	DiskConfig string
	RequestID  string
}

// errServiceUnavailable is Nova's ServiceUnavailable (409): the server's
// compute service is down.
func errServiceUnavailable() error { return errs.Conflict("Service is unavailable at this time.") }

// resizeRollback is a resize failure after which Nova's
// InstanceFaultRollback puts the server back in its former state instead
// of ERROR.
type resizeRollback struct{ error }

// Resize accepts a resize of server id to another flavor. Nova's checks in
// order: the server (404), lock and state (409), its host up (409), the
// image's auto disk config (400), the flavor (400), quota for the growth
// (403), the image's minimums (400). Then in one transaction: the
// instance action, task_state resize_prep, old_vm_state stashed, the
// migration record and the claim of the new flavor on the host. When the
// new flavor does not fit the host the resize fails as Nova's conductor
// fails it: the server keeps its state and the migration ends in error.
func (s *Service) Resize(ctx context.Context, p *auth.Principal, id string, req ResizeRequest) error {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if err := state.Check(state.ActionResize, instanceOf(srv), p.IsAdmin()); err != nil {
		return err
	}
	if err := s.checkHostUp(ctx, s.DB, srv.Host, s.now()); err != nil {
		return err
	}
	if req.DiskConfig == "AUTO" && srv.SystemMetadata["image_auto_disk_config"] == "disabled" {
		return errs.Invalid("Requested image %s has automatic disk resize disabled.", srv.ImageRef)
	}
	fl, err := s.Flavors.Get(ctx, flavor.ViewerOf(p), req.FlavorRef)
	if err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return errs.Invalid("Flavor %s could not be found.", req.FlavorRef)
		}
		return fmt.Errorf("look up flavor: %w", err)
	}
	if fl.Disk == 0 && srv.Flavor.Disk != 0 && srv.ImageRef != "" {
		return errs.Invalid("Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.")
	}
	same := fl.ID == srv.Flavor.ID
	if !same && fl.Disabled {
		return errs.Invalid("Flavor %s could not be found.", req.FlavorRef)
	}
	if same {
		return errs.Invalid("When resizing, instances must change flavor!")
	}
	newFlavor := snapshotOf(fl)
	diskConfig := req.DiskConfig
	if diskConfig == "" {
		diskConfig = "MANUAL"
	}
	var host string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionResize, "resize", req.RequestID, state.Context{})
		if err != nil {
			return err
		}
		old := b.Server.Flavor
		if q, ok := s.Quotas.(upsizeQuotas); ok {
			if err := q.CheckUpsize(ctx, tx, b.Server.ProjectID, b.Server.UserID, newFlavor.VCPUs-old.VCPUs, newFlavor.RAM-old.RAM); err != nil {
				return err
			}
		}
		if err := checkImageFits(b.Server.SystemMetadata, newFlavor); err != nil {
			return err
		}
		host = b.Server.Host
		return s.startMove(ctx, tx, p, b, old, newFlavor, diskConfig, MigrationTypeResize, "")
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// upsizeQuotas is the quota engine's resize check (quota.Service has it).
type upsizeQuotas interface {
	CheckUpsize(ctx context.Context, tx *store.Tx, projectID, userID string, cores, ramMB int) error
}

// snapshotOf is the flavor as a server keeps it.
func snapshotOf(fl *flavor.Flavor) FlavorSnapshot {
	snap := FlavorSnapshot{ID: fl.ID, Name: fl.Name, VCPUs: fl.VCPUs, RAM: fl.RAM, Disk: fl.Disk,
		Ephemeral: fl.Ephemeral, Swap: fl.Swap, ExtraSpecs: fl.ExtraSpecs}
	if snap.ExtraSpecs == nil {
		snap.ExtraSpecs = map[string]string{}
	}
	return snap
}

// checkImageFits is Nova's _validate_flavor_image_nostatus for a resize:
// the image the server was booted from (as system metadata remembers it)
// must fit the new flavor.
func checkImageFits(sysmeta map[string]string, fl FlavorSnapshot) error {
	minRAM, _ := strconv.Atoi(sysmeta["image_min_ram"])
	if minRAM > fl.RAM {
		return errs.Invalid("Flavor's memory is too small for requested image.")
	}
	minDisk, _ := strconv.Atoi(sysmeta["image_min_disk"])
	if fl.Disk > 0 && minDisk > fl.Disk {
		return errs.Invalid("Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is %d bytes, minimum size is %d bytes.",
			int64(fl.Disk)<<30, int64(minDisk)<<30)
	}
	return nil
}

// checkHostUp is Nova's check_instance_host(check_is_up=True): a forced
// down host or one whose heartbeat is stale cannot take the request.
func (s *Service) checkHostUp(ctx context.Context, q store.Querier, host string, now time.Time) error {
	var forcedDown bool
	var heartbeat int64
	err := q.QueryRowContext(ctx, `SELECT forced_down, heartbeat_at FROM compute_hosts WHERE hostname = ?`, host).
		Scan(&forcedDown, &heartbeat)
	if isNoRows(err) {
		return errServiceUnavailable()
	}
	if err != nil {
		return fmt.Errorf("check host %s: %w", host, err)
	}
	if forcedDown || heartbeat < s.Scheduler.LiveSince(now).UnixMicro() {
		return errServiceUnavailable()
	}
	return nil
}

// startMove writes an accepted resize or cold migration, in tx: progress
// 0, the disk config, old_vm_state stashed (Nova's _prep_resize), the
// migration record (Nova's _preallocate_migration) and the claim of the
// new flavor on the destination (pickDestination; target when not "");
// then the source's task. No host fitting ends it at once, as Nova's
// conductor does on NoValidHost.
func (s *Service) startMove(ctx context.Context, tx *store.Tx, p *auth.Principal, b *begunAction, old, next FlavorSnapshot,
	diskConfig, migrationType, target string) error {
	srv := b.Server
	sysmeta := maps.Clone(srv.SystemMetadata)
	if sysmeta == nil {
		sysmeta = map[string]string{}
	}
	sysmeta["old_vm_state"] = string(srv.VMState)
	if srv.ImageRef != "" {
		sysmeta["image_base_image_ref"] = srv.ImageRef
	}
	raw, err := json.Marshal(sysmeta)
	if err != nil {
		return fmt.Errorf("encode system metadata: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET progress = 0, disk_config = ?, system_metadata = ?,
		updated_at = ? WHERE id = ?`, diskConfig, string(raw), b.Now.UnixMicro(), srv.ID); err != nil {
		return fmt.Errorf("prepare resize: %w", err)
	}
	m := &Migration{InstanceUUID: srv.ID, Type: migrationType, Status: MigrationPreMigrating,
		SourceCompute: srv.Host, SourceNode: srv.Node, OldTypeID: flavorTypeID(old), NewTypeID: flavorTypeID(next),
		OldFlavor: old, NewFlavor: next, UserID: p.UserID, ProjectID: p.ProjectID, CreatedAt: b.Now.UTC()}
	dest, fits, err := s.pickDestination(ctx, tx, srv, migrationType, next, target, b.Now)
	if err != nil {
		return err
	}
	if !fits {
		return s.failMove(ctx, tx, b, m)
	}
	m.DestCompute, m.DestNode = dest.Host, dest.Node
	if err := tx.QueryRowContext(ctx, `SELECT host_ip FROM compute_hosts WHERE hostname = ?`, dest.Host).Scan(&m.DestHost); err != nil {
		return fmt.Errorf("look up host %s: %w", dest.Host, err)
	}
	if err := insertMigration(ctx, tx, m); err != nil {
		return err
	}
	if err := recordEvent(ctx, tx, b.ActionID, eventMigrateServer, srv.Host, b.Now, nil, b.Now); err != nil {
		return err
	}
	return s.queueAction(ctx, tx, b, eventFinishResize, &ResizeParams{MoveStep: MoveStep{MigrationID: m.ID}})
}

// failMove ends a move no host can take, in tx, as Nova's conductor does
// on NoValidHost (failAtConductor).
func (s *Service) failMove(ctx context.Context, tx *store.Tx, b *begunAction, m *Migration) error {
	reason := "No valid host found for resize"
	if m.Type == MigrationTypeMigration {
		reason = "No valid host found for cold migrate"
	}
	return failAtConductor(ctx, tx, b, m, eventMigrateServer, scheduler.ErrNoValidHost.Error()+reason)
}
