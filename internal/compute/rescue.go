package compute

// Rescue and unrescue (Nova's compute API rescue/unrescue and the compute
// manager's rescue_instance/unrescue_instance): the guest boots from a
// rescue image with its own disk attached, then from its own disk again.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Task kinds of rescue and unrescue.
const (
	TaskRescue   = "rescue"
	TaskUnrescue = "unrescue"
)

// Events Nova's compute manager records.
const (
	eventRescue   = "compute_rescue_instance"
	eventUnrescue = "compute_unrescue_instance"
)

// RescueRequest is a validated rescue action.
type RescueRequest struct {
	AdminPass *string // nil = generate
	ImageRef  string  // "" = the server's own image
	// AllowVolumeBacked is microversion 2.87's permission to rescue a
	// volume-backed server (given a host that can).
	AllowVolumeBacked bool
	RequestID         string
}

// Rescue accepts a rescue: Nova's lock and state checks (409), the rescue
// image (400 when the caller cannot see it or it is a volume snapshot),
// the volume-backed check (400), then in one transaction task_state
// rescuing, the instance action and the agent's task carrying the sealed
// password. It returns the password the rescued guest gets.
func (s *Service) Rescue(ctx context.Context, p *auth.Principal, id string, req RescueRequest) (string, error) {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return "", err
	}
	if err := state.Check(state.ActionRescue, instanceOf(srv), p.IsAdmin()); err != nil {
		return "", err
	}
	rescue, err := s.rescueImage(ctx, p, srv, req.ImageRef)
	if err != nil {
		return "", err
	}
	// A volume-backed server is rescued from 2.87 with an image made for
	// stable rescue (hw_rescue_bus and hw_rescue_device); every kumo host
	// can (COMPUTE_RESCUE_BFV): the rescue disk boots, the volumes stay
	// attached after it. Without an image to boot there is nothing to do.
	if srv.ImageRef == "" && (!req.AllowVolumeBacked || rescue.ImageID == "" ||
		rescue.ImageProperties["hw_rescue_bus"] == "" || rescue.ImageProperties["hw_rescue_device"] == "") {
		return "", errs.Invalid("Instance %s cannot be rescued: Cannot rescue a volume-backed instance", id)
	}
	adminPass := GeneratePassword()
	if req.AdminPass != nil {
		adminPass = *req.AdminPass
	}
	// An empty password asked for is answered as given, but the guest
	// gets a generated one (the compute manager's rescue_instance).
	guestPass := adminPass
	if guestPass == "" {
		guestPass = GeneratePassword()
	}
	params := rescue
	params.AdminPass = s.Secrets.Seal(guestPass)
	var host string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionRescue, "rescue", req.RequestID, state.Context{})
		if err != nil {
			return err
		}
		host = b.Server.Host
		return s.queueAction(ctx, tx, b, eventRescue, params)
	})
	if err != nil {
		return "", err
	}
	s.wake(host)
	return adminPass, nil
}

// rescueImage is the image the guest is rescued with: the one asked for,
// which the caller must see (UnsupportedRescueImage otherwise), or else
// the server's base image, then its own image (the compute manager's
// _get_rescue_image).
func (s *Service) rescueImage(ctx context.Context, p *auth.Principal, srv *Server, ref string) (*RescueParams, error) {
	if ref == "" {
		id := srv.SystemMetadata["image_base_image_ref"]
		if id == "" {
			id = srv.ImageRef
		}
		return &RescueParams{ImageID: id, ImageProperties: imageProperties(srv.SystemMetadata)}, nil
	}
	unsupported := errs.Invalid("Requested rescue image '%s' is not supported", ref)
	img, err := s.Images.Get(ctx, p, ref)
	if errs.Is(err, errs.KindNotFound) {
		return nil, unsupported
	}
	if err != nil {
		return nil, fmt.Errorf("look up rescue image: %w", err)
	}
	if img.Properties["img_block_device_mapping"] != "" {
		return nil, unsupported // volume snapshots cannot rescue
	}
	out := &RescueParams{ImageID: img.ID, ImageProperties: img.Properties}
	if img.Name != nil {
		out.ImageName = *img.Name
	}
	if img.DiskFormat != nil {
		out.ImageFormat = *img.DiskFormat
	}
	return out, nil
}

// Unrescue accepts an unrescue: lock and state checks, task_state
// unrescuing, the instance action and the agent's task.
func (s *Service) Unrescue(ctx context.Context, p *auth.Principal, id, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionUnrescue, "unrescue", requestID, state.Context{})
		if err != nil {
			return err
		}
		host = b.Server.Host
		return s.queueAction(ctx, tx, b, eventUnrescue, &UnrescueParams{})
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// FinishRescue commits a rescue or an unrescue. Success is the planned
// state (rescued or active, running); a rescue also sets launched_at, as
// Nova's manager does. A driver failure puts the server in ERROR (Nova's
// _set_instance_obj_error_state and _error_out_instance_on_exception).
func (s *Service) FinishRescue(ctx context.Context, t *Task, started time.Time, opErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		current := string(t.Plan().TaskState)
		cond := `id = ? AND deleted = FALSE AND ` + taskStateIs(current)
		switch {
		case opErr != nil:
			fault := Fault{Code: 500, Message: opErr.Error(), Created: now.UTC()}
			if t.Kind == TaskRescue { // InstanceNotRescuable, an Invalid (400)
				opErr = fmt.Errorf("Instance %s cannot be rescued: Driver Error: %w", t.InstanceID, opErr)
				fault.Code, fault.Message = 400, opErr.Error()
			}
			raw, _ := json.Marshal(fault)
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, task_state = NULL, fault = ?, updated_at = ?
				WHERE `+cond, string(state.VMError), string(raw), now.UnixMicro(), t.InstanceID, current); err != nil {
				return fmt.Errorf("fail %s: %w", t.Kind, err)
			}
			if err := recordEvent(ctx, tx, t.ActionID, t.Plan().Event, t.Host, started, opErr, now); err != nil {
				return err
			}
			return finishTask(ctx, tx, t, true, now)
		case t.Kind == TaskRescue:
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET launched_at = ? WHERE `+cond,
				now.UnixMicro(), t.InstanceID, current); err != nil {
				return fmt.Errorf("finish rescue: %w", err)
			}
		}
		return s.finishPlanned(ctx, tx, t, started, nil)
	})
}
