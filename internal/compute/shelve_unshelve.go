package compute

// unshelve (Nova's compute API unshelve, the conductor's
// unshelve_instance and the compute manager's unshelve_instance and
// start_instance for a server still on its host).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// UnshelveRequest is a validated unshelve.
type UnshelveRequest struct {
	// AZPassed: the body named availability_zone (2.77+); AZ nil then
	// unpins the server (2.91+).
	AZPassed bool
	AZ       *string
	Host     string // 2.91, admin only
	// AdminHost reports whether the caller may name a host (policy
	// os_compute_api:os-shelve:unshelve_to_host).
	AdminHost bool
	RequestID string
}

// Unshelve accepts an unshelve with Nova's checks in Nova's order: lock
// and state (409), a zone or host only for an offloaded server (409), the
// zone must exist (400), the host policy (403), the host must exist (400)
// and be in the zone (409). A shelved server is powered on again on its
// host; an offloaded one is scheduled again (the zone pinned as asked),
// and when no host fits it stays offloaded with the failure recorded, as
// Nova's conductor leaves it.
func (s *Service) Unshelve(ctx context.Context, p *auth.Principal, id string, req UnshelveRequest) error {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if err := state.Check(state.ActionUnshelve, instanceOf(srv), p.IsAdmin()); err != nil {
		return err
	}
	if (req.AZPassed || req.Host != "") && srv.VMState != state.VMShelvedOffloaded {
		return errs.Conflict(`Specifying an availability zone or a host when unshelving server "%s" with status "%s" is not supported. The server status must be SHELVED_OFFLOADED.`,
			srv.ID, srv.VMState)
	}
	if req.AZPassed && req.AZ != nil && *req.AZ != "" {
		ok, err := hosts.ZoneAvailable(ctx, s.DB, *req.AZ)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Invalid("The requested availability zone is not available")
		}
	}
	zone := srv.PinnedAZ()
	if req.AZPassed {
		zone = req.AZ
	}
	if req.Host != "" {
		if !req.AdminHost {
			return errs.Forbidden("Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.")
		}
		hostZone, found, err := hosts.ZoneOf(ctx, s.DB, req.Host)
		if err != nil {
			return err
		}
		if !found {
			return errs.Invalid("Compute host %s could not be found.", req.Host)
		}
		if zone != nil && hostZone != *zone {
			return errs.Conflict(`Host "%s" is not in the availability zone "%s".`, req.Host, *zone)
		}
	}
	imageFound := true
	if imageID := srv.SystemMetadata[sysmetaShelvedImage]; srv.VMState == state.VMShelvedOffloaded {
		st, err := s.Images.Status(ctx, imageID)
		if err != nil {
			return err
		}
		imageFound = imageID != "" && st != ""
		if !imageFound {
			// A volume-backed server was shelved without an image.
			if imageFound, err = s.IsVolumeBacked(ctx, id); err != nil {
				return err
			}
		}
	}
	var wakeHost string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionUnshelve, "unshelve", req.RequestID, state.Context{})
		if err != nil {
			return err
		}
		if b.Server.VMState == state.VMShelved {
			wakeHost = b.Server.Host
			b.Plan.Via = []state.TaskState{state.TaskPoweringOn}
			return s.queueAction(ctx, tx, b, eventStart, &UnshelveParams{ImageID: b.Server.SystemMetadata[sysmetaShelvedImage]})
		}
		wakeHost, err = s.unshelveOffloaded(ctx, tx, b, req, zone, imageFound)
		return err
	})
	if err != nil {
		return err
	}
	s.wake(wakeHost)
	return nil
}

// unshelveOffloaded is the conductor's part of unshelving an offloaded
// server, in tx: find its image, pin the zone, schedule it and queue the
// spawn on the chosen host. It returns that host ("" when nothing was
// queued).
func (s *Service) unshelveOffloaded(ctx context.Context, tx *store.Tx, b *begunAction, req UnshelveRequest, zone *string, imageFound bool) (string, error) {
	srv := b.Server
	imageID := srv.SystemMetadata[sysmetaShelvedImage]
	if !imageFound {
		msg := fmt.Sprintf("Unshelve attempted but the image %s cannot be found.", imageID)
		fault, _ := json.Marshal(Fault{Code: 404, Message: msg, Created: b.Now.UTC()})
		// Nova's conductor leaves the task_state as it is.
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, fault = ?, updated_at = ? WHERE id = ?`,
			string(state.VMError), string(fault), b.Now.UnixMicro(), srv.ID); err != nil {
			return "", fmt.Errorf("fail unshelve: %w", err)
		}
		return "", recordFailedEvent(ctx, tx, b.ActionID, eventGetImageInfo, s.ServiceHost, fmt.Sprintf("Image %s could not be found.", imageID), b.Now)
	}
	if err := recordEvent(ctx, tx, b.ActionID, eventGetImageInfo, s.ServiceHost, b.Now, nil, b.Now); err != nil {
		return "", err
	}
	if req.AZPassed {
		sysmeta := maps.Clone(srv.SystemMetadata)
		delete(sysmeta, PinnedAZKey)
		if zone != nil && *zone != "" {
			sysmeta[PinnedAZKey] = *zone
		}
		if err := writeSystemMetadata(ctx, tx, srv.ID, sysmeta); err != nil {
			return "", err
		}
	}
	az := ""
	if zone != nil {
		az = *zone
	}
	claim, err := s.requestSpec(ctx, tx, srv, srv.Flavor)
	if err != nil {
		return "", err
	}
	claim.AZ, claim.Host = az, req.Host
	placement, err := scheduler.Claim(ctx, tx, claim, b.Now)
	if errors.Is(err, scheduler.ErrNoValidHost) {
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET task_state = NULL, updated_at = ? WHERE id = ?`,
			b.Now.UnixMicro(), srv.ID); err != nil {
			return "", fmt.Errorf("fail unshelve: %w", err)
		}
		return "", recordFailedEvent(ctx, tx, b.ActionID, eventSchedule, s.ServiceHost, err.Error(), b.Now)
	}
	if err != nil {
		return "", err
	}
	if err := recordEvent(ctx, tx, b.ActionID, eventSchedule, s.ServiceHost, b.Now, nil, b.Now); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET host = ?, node = ?, availability_zone = ?, updated_at = ?
		WHERE id = ?`, placement.Host, placement.Node, placement.AZ, b.Now.UnixMicro(), srv.ID); err != nil {
		return "", fmt.Errorf("place unshelved server: %w", err)
	}
	b.Server.Host = placement.Host
	return placement.Host, s.queueAction(ctx, tx, b, eventUnshelve, &UnshelveParams{ImageID: imageID, Spawn: true})
}

// UnshelveTask is what the agent needs of a queued unshelve.
type UnshelveTask struct {
	ImageID string
	// Spawn: the server was offloaded and is built again from ImageID;
	// otherwise it is powered on where it is.
	Spawn bool
	Steps []state.TaskState
}

// UnshelveTaskOf reads an unshelve task's parameters.
func UnshelveTaskOf(t *Task) UnshelveTask {
	ut := UnshelveTask{Steps: RemainingSteps(t)}
	if p, ok := t.Params.(*UnshelveParams); ok {
		ut.ImageID, ut.Spawn = p.ImageID, p.Spawn
	}
	return ut
}

// FinishUnshelve commits an unshelve: active and running, the shelved
// image deleted and the shelved_* system metadata removed (a spawn also
// sets launched_at). A failed spawn leaves the server offloaded with its
// claim released and no host, as Nova's unshelve_instance does; a failed
// power-on just clears the task_state.
func (s *Service) FinishUnshelve(ctx context.Context, t *Task, started time.Time, opErr error) error {
	ut := UnshelveTaskOf(t)
	if opErr == nil && ut.ImageID != "" {
		if err := s.Images.DeleteSnapshot(ctx, ut.ImageID); err != nil {
			return err
		}
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, still, err := s.stillInTask(ctx, tx, t)
		if err != nil {
			return err
		}
		if still && opErr == nil {
			sysmeta := maps.Clone(srv.SystemMetadata)
			for _, k := range []string{sysmetaShelvedAt, sysmetaShelvedImage, sysmetaShelvedHost} {
				delete(sysmeta, k)
			}
			if err := writeSystemMetadata(ctx, tx, srv.ID, sysmeta); err != nil {
				return err
			}
			if ut.Spawn {
				if _, err := tx.ExecContext(ctx, `UPDATE instances SET launched_at = ? WHERE id = ?`,
					s.now().UnixMicro(), srv.ID); err != nil {
					return fmt.Errorf("finish unshelve: %w", err)
				}
			}
		}
		if still && opErr != nil && ut.Spawn {
			if err := s.releaseHost(ctx, tx, srv); err != nil {
				return err
			}
		}
		return s.finishPlanned(ctx, tx, t, started, opErr)
	})
}
