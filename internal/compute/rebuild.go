package compute

// The rebuild action (Nova's compute API rebuild and the compute
// manager's rebuild_instance): the server keeps its id, flavor, host and
// addresses and gets a fresh root disk from an image.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
)

// TaskRebuild is the task kind of a rebuild.
const TaskRebuild = "rebuild"

// eventRebuild is the event Nova's compute manager records.
const eventRebuild = "compute_rebuild_instance"

// RebuildRequest is a validated rebuild action. Nil fields leave the
// server's value as it is; a field pointing at a nil pointer clears it.
type RebuildRequest struct {
	ImageRef  string
	AdminPass string // "" = generate
	Name      *string
	// Metadata, when not nil, replaces the server's metadata.
	Metadata          map[string]string
	AccessIPv4        *string
	AccessIPv6        *string
	DiskConfig        *string // "AUTO" or "MANUAL"; nil = as the image says
	PreserveEphemeral bool
	Description       **string // 2.19
	KeyName           **string // 2.54
	UserData          **string // 2.57, base64
	Hostname          *string  // 2.90
	// Limits checks the per-server quotas of the request (metadata items,
	// injected files) where Nova does: once the image is found, before
	// it is checked against the flavor. Nil means no quotas.
	Limits    func(ctx context.Context) error
	RequestID string
}

// RebuildResult is the server right after the rebuild was accepted and
// the admin password the guest gets (shown once, never stored in clear).
type RebuildResult struct {
	Server    *Server
	AdminPass string
}

// Rebuild accepts a rebuild: it makes Nova's checks in Nova's order
// (lock and state 409, key pair and image 400, quotas 403, image against
// flavor 400/403), then in one transaction records the instance action,
// sets task_state rebuilding, writes the new image, its system metadata
// and the changed attributes, and queues the agent's task.
func (s *Service) Rebuild(ctx context.Context, p *auth.Principal, id string, req RebuildRequest) (*RebuildResult, error) {
	srv, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := state.Check(state.ActionRebuild, instanceOf(srv), p.IsAdmin()); err != nil {
		return nil, err
	}
	key, err := s.rebuildKey(ctx, p, req.KeyName)
	if err != nil {
		return nil, err
	}
	img, diskConfig, err := s.rebuildImage(ctx, p, srv, req)
	if err != nil {
		return nil, err
	}
	if err := s.checkVolumeBackedRebuild(ctx, srv, img.ID); err != nil {
		return nil, err
	}
	adminPass := req.AdminPass
	if adminPass == "" {
		adminPass = GeneratePassword()
	}
	params := &RebuildParams{PreserveEphemeral: req.PreserveEphemeral, AdminPass: s.Secrets.Seal(adminPass)}
	var host string
	var out *Server
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		b, err := s.beginAction(ctx, tx, p, id, state.ActionRebuild, "rebuild", req.RequestID, state.Context{})
		if err != nil {
			return err
		}
		host = b.Server.Host
		if err := s.writeRebuild(ctx, tx, b, img, diskConfig, key, req); err != nil {
			return err
		}
		if err := s.queueAction(ctx, tx, b, eventRebuild, params); err != nil {
			return err
		}
		// The response shows the server as accepted (task_state
		// rebuilding), as Nova's does, not wherever the agent has
		// taken it by the time the caller reads it.
		out, err = s.visible(ctx, tx, p, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.wake(host)
	return &RebuildResult{Server: out, AdminPass: adminPass}, nil
}

// rebuildKeyPair is the key pair a rebuild leaves the server with.
type rebuildKeyPair struct {
	set        bool // the request named a key (or null)
	name, data string
}

// rebuildKey resolves key_name: Nova looks the key up for the caller,
// not the server's owner, and a null name removes the key.
func (s *Service) rebuildKey(ctx context.Context, p *auth.Principal, name **string) (rebuildKeyPair, error) {
	if name == nil {
		return rebuildKeyPair{}, nil
	}
	if *name == nil {
		return rebuildKeyPair{set: true}, nil
	}
	kp, err := s.KeyPairs.Get(ctx, p.UserID, **name)
	if errs.Is(err, errs.KindNotFound) {
		return rebuildKeyPair{}, errs.Invalid("Invalid key_name provided.")
	}
	if err != nil {
		return rebuildKeyPair{}, fmt.Errorf("look up key pair: %w", err)
	}
	return rebuildKeyPair{set: true, name: kp.Name, data: kp.PublicKey}, nil
}

// rebuildImage finds the new image and checks it as Nova's rebuild does:
// the image must exist for the caller, allow the asked disk config, pass
// the quotas, be active and fit the server's flavor. It returns the
// image and the disk config the server gets.
func (s *Service) rebuildImage(ctx context.Context, p *auth.Principal, srv *Server, req RebuildRequest) (*image.Image, string, error) {
	img, err := s.Images.Get(ctx, p, req.ImageRef)
	if errs.Is(err, errs.KindNotFound) {
		return nil, "", errs.Invalid("Cannot find image for rebuild")
	}
	if err != nil {
		return nil, "", fmt.Errorf("look up image: %w", err)
	}
	diskConfig, err := rebuildDiskConfig(img, req.DiskConfig)
	if err != nil {
		return nil, "", err
	}
	if req.Limits != nil {
		if err := req.Limits(ctx); err != nil {
			return nil, "", err
		}
	}
	fl := &flavor.Flavor{ID: srv.Flavor.ID, RAM: srv.Flavor.RAM, Disk: srv.Flavor.Disk}
	if _, err := s.bootImage(ctx, p, img.ID, fl); err != nil {
		return nil, "", err
	}
	if fl.Disk == 0 && !p.IsAdmin() {
		// Nova's zero_disk_flavor policy (admin only by default).
		return nil, "", errs.Forbidden("Only volume-backed servers are allowed for flavors with zero disk.")
	}
	return img, diskConfig, nil
}

// rebuildDiskConfig is the disk config after a rebuild: the asked one,
// refused when the image disables automatic resize, else what the image's
// auto_disk_config property says (Nova's _inherit_properties_from_image).
func rebuildDiskConfig(img *image.Image, asked *string) (string, error) {
	prop, has := img.Properties["auto_disk_config"]
	if asked != nil {
		if *asked == "AUTO" && has && strings.ToLower(strings.TrimSpace(prop)) == "disabled" {
			return "", errs.Invalid("Requested image %s has automatic disk resize disabled.", img.ID)
		}
		return *asked, nil
	}
	if has && trueString(prop) {
		return "AUTO", nil
	}
	return "MANUAL", nil
}

// trueString is oslo's bool_from_string for the true spellings.
func trueString(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

// writeRebuild stores what the rebuild changes on the server, in tx: the
// image and its system metadata (image_* replaced, as Nova's
// _reset_image_metadata does), progress 0 and the request's attributes.
func (s *Service) writeRebuild(ctx context.Context, tx *store.Tx, b *begunAction, img *image.Image, diskConfig string,
	key rebuildKeyPair, req RebuildRequest) error {
	sysmeta := map[string]string{}
	for k, v := range b.Server.SystemMetadata {
		if !strings.HasPrefix(k, "image_") {
			sysmeta[k] = v
		}
	}
	for k, v := range imageSystemMetadata(img) {
		sysmeta[k] = v
	}
	raw, err := json.Marshal(sysmeta)
	if err != nil {
		return fmt.Errorf("encode system metadata: %w", err)
	}
	imageRef := req.ImageRef
	if b.Server.ImageRef == "" {
		imageRef = "" // a volume-backed server keeps booting from its volume
	}
	sets := []string{"image_ref = ?", "system_metadata = ?", "disk_config = ?", "progress = 0", "updated_at = ?"}
	args := []any{imageRef, string(raw), diskConfig, b.Now.UnixMicro()}
	set := func(col string, v any) { sets = append(sets, col+" = ?"); args = append(args, v) }
	if req.Name != nil {
		set("name", *req.Name)
	}
	if req.AccessIPv4 != nil {
		set("access_ip_v4", CanonicalIP(*req.AccessIPv4))
	}
	if req.AccessIPv6 != nil {
		set("access_ip_v6", CanonicalIP(*req.AccessIPv6))
	}
	if req.Description != nil {
		set("description", *req.Description)
	}
	if key.set {
		set("key_name", nullStr(key.name))
		set("key_data", nullStr(key.data))
	}
	if req.UserData != nil {
		set("user_data", *req.UserData)
	}
	if req.Hostname != nil {
		set("hostname", *req.Hostname)
	}
	args = append(args, b.Server.ID)
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...); err != nil {
		return fmt.Errorf("rebuild server: %w", err)
	}
	if req.Metadata == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM instance_metadata WHERE instance_id = ?`, b.Server.ID); err != nil {
		return fmt.Errorf("replace metadata: %w", err)
	}
	for k, v := range req.Metadata {
		if _, err := tx.ExecContext(ctx, `INSERT INTO instance_metadata (instance_id, key, value) VALUES (?, ?, ?)`, b.Server.ID, k, v); err != nil {
			return fmt.Errorf("replace metadata: %w", err)
		}
	}
	return nil
}

// RebuildTask is what the agent needs of a queued rebuild.
type RebuildTask struct {
	PreserveEphemeral bool
	// PowerOn: the guest runs after the rebuild (it was not stopped).
	PowerOn bool
	// Before and After are the task states the server still has to pass
	// through before and after the driver rebuilds the guest; a task
	// resumed after a crash skips the ones it already reached.
	Before, After []state.TaskState
}

// RebuildTaskOf reads a rebuild task's parameters.
func RebuildTaskOf(t *Task) RebuildTask {
	p, _ := t.Params.(*RebuildParams)
	rt := RebuildTask{PowerOn: t.Plan().Power == state.PowerRunning}
	if p != nil {
		rt.PreserveEphemeral = p.PreserveEphemeral
	}
	for _, ts := range RemainingSteps(t) {
		if len(rt.After) == 0 && (ts == state.TaskRebuildBlockDeviceMapping || ts == state.TaskRebuildSpawning) {
			rt.Before = append(rt.Before, ts)
		} else {
			rt.After = append(rt.After, ts)
		}
	}
	return rt
}

// FinishRebuild commits a rebuild: on success the planned states (a
// stopped server comes back stopped) and a new launched_at, as Nova's
// _update_instance_after_spawn; on a driver failure the server goes to
// ERROR with the failure as its fault, as Nova's
// _error_out_instance_on_exception and wrap_instance_fault leave it.
func (s *Service) FinishRebuild(ctx context.Context, t *Task, started time.Time, opErr error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		current := string(t.Plan().TaskState)
		if opErr == nil {
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET launched_at = ? WHERE id = ? AND deleted = FALSE AND `+
				taskStateIs(current), now.UnixMicro(), t.InstanceID, current); err != nil {
				return fmt.Errorf("finish rebuild: %w", err)
			}
		} else {
			fault, _ := json.Marshal(Fault{Code: 500, Message: opErr.Error(), Created: now.UTC()})
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET vm_state = ?, fault = ? WHERE id = ? AND deleted = FALSE AND `+
				taskStateIs(current), string(state.VMError), string(fault), t.InstanceID, current); err != nil {
				return fmt.Errorf("fail rebuild: %w", err)
			}
		}
		return s.finishPlanned(ctx, tx, t, started, opErr)
	})
}

// checkVolumeBackedRebuild is compute/api.py rebuild's check of a
// volume-backed server: the image must be the one its root volume was
// made from. (Nova's 2.93 re-images the volume instead; kumo's volume
// service has no reimage, so that refusal stands at every version.)
func (s *Service) checkVolumeBackedRebuild(ctx context.Context, srv *Server, imageID string) error {
	if srv.ImageRef != "" {
		return nil
	}
	bs, err := blockDevicesOf(ctx, s.DB, srv.ID)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if !b.IsRoot() || b.VolumeID == "" {
			continue
		}
		vol, err := s.Volumes.Volume(ctx, s.DB, srv.ProjectID, b.VolumeID)
		if err != nil {
			return err
		}
		if vol.ImageMetadata["image_id"] != imageID {
			return errs.Invalid("Image %s is unacceptable: Unable to rebuild with a different image for a volume-backed server.", imageID)
		}
	}
	return nil
}
