package compute

// The rebuild action (Nova's compute API rebuild and the compute
// manager's rebuild_instance): the server keeps its id, flavor, host and
// addresses and gets a fresh root disk from an image.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
	// ReimageBootVolume (2.93): a volume-backed server may be rebuilt
	// with another image, written into its root volume.
	ReimageBootVolume bool
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
	img, diskConfig, root, err := s.rebuildImage(ctx, p, srv, req)
	if err != nil {
		return nil, err
	}
	if err := s.checkVolumesInUse(ctx, srv); err != nil {
		return nil, err
	}
	adminPass := req.AdminPass
	if adminPass == "" {
		adminPass = GeneratePassword()
	}
	params := &RebuildParams{PreserveEphemeral: req.PreserveEphemeral, AdminPass: s.Secrets.Seal(adminPass)}
	if root != nil && req.ReimageBootVolume {
		// Nova's compute manager re-images the root volume of every
		// volume-backed server rebuilt at 2.93, the same image or not.
		params.ReimageImage = img.ID
	}
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
// the image must exist for the caller, allow the asked disk config, be
// the root volume's own image unless the volume is re-imaged (2.93),
// pass the quotas, be active and fit the server's flavor, or, for a
// volume-backed server, its root volume (Nova's
// _validate_flavor_image_nostatus checks no flavor disk then). It
// returns the image, the disk config the server gets and the root
// volume's mapping of a volume-backed server (nil otherwise).
func (s *Service) rebuildImage(ctx context.Context, p *auth.Principal, srv *Server, req RebuildRequest) (*image.Image, string, *BlockDevice, error) {
	img, err := s.Images.Get(ctx, p, req.ImageRef)
	if errs.Is(err, errs.KindNotFound) {
		return nil, "", nil, errs.Invalid("Cannot find image for rebuild")
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("look up image: %w", err)
	}
	diskConfig, err := rebuildDiskConfig(img, req.DiskConfig)
	if err != nil {
		return nil, "", nil, err
	}
	root, err := s.checkVolumeBackedRebuild(ctx, srv, img.ID, req.ReimageBootVolume)
	if err != nil {
		return nil, "", nil, err
	}
	if req.Limits != nil {
		if err := req.Limits(ctx); err != nil {
			return nil, "", nil, err
		}
	}
	fl := &flavor.Flavor{ID: srv.Flavor.ID, RAM: srv.Flavor.RAM, Disk: srv.Flavor.Disk}
	if root != nil {
		fl.Disk = 0 // the root disk is the volume, not the flavor's
	}
	if _, err := s.bootImage(ctx, p, img.ID, fl); err != nil {
		return nil, "", nil, err
	}
	switch {
	case root != nil:
		// Nova checks min_disk against the mapping's volume_size when
		// it has one (Cinder checks the volume itself on re-image).
		if root.VolumeSize > 0 && img.MinDisk > root.VolumeSize {
			return nil, "", nil, errs.Invalid("Volume is smaller than the minimum size specified in image metadata. Volume size is %d bytes, minimum size is %d bytes.",
				int64(root.VolumeSize)<<30, int64(img.MinDisk)<<30)
		}
	case fl.Disk == 0 && !p.IsAdmin():
		// Nova's zero_disk_flavor policy (admin only by default).
		return nil, "", nil, errs.Forbidden("Only volume-backed servers are allowed for flavors with zero disk.")
	}
	return img, diskConfig, root, nil
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
	// ReimageVolume: the root volume of a volume-backed server is
	// re-imaged (ReimageRootVolume) before the first of Before, and
	// connected again (PrepareVolumes) in rebuild_block_device_mapping.
	ReimageVolume bool
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
		rt.ReimageVolume = p.ReimageImage != ""
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
	return s.finishRebuild(ctx, t, started, opErr, nil)
}

// finishRebuild is FinishRebuild with also, when not nil, run in its
// transaction (an evacuation ends its migration there).
func (s *Service) finishRebuild(ctx context.Context, t *Task, started time.Time, opErr error, also func(tx *store.Tx, now time.Time) error) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if also != nil {
			if err := also(tx, now); err != nil {
				return err
			}
		}
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
// volume-backed server: before 2.93 (reimage false) the image must be
// the one its root volume was made from; from 2.93 any image goes, as
// the root volume is re-imaged. It returns the root volume's mapping of
// a volume-backed server, nil for one booted from an image.
func (s *Service) checkVolumeBackedRebuild(ctx context.Context, srv *Server, imageID string, reimage bool) (*BlockDevice, error) {
	if srv.ImageRef != "" {
		return nil, nil
	}
	bs, err := blockDevicesOf(ctx, s.DB, srv.ID)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		b := &bs[i]
		if !b.IsRoot() || b.VolumeID == "" {
			continue
		}
		vol, err := s.Volumes.Volume(ctx, s.DB, srv.ProjectID, b.VolumeID)
		if err != nil {
			return nil, err
		}
		if vol.ImageMetadata["image_id"] != imageID && !reimage {
			return nil, errs.Invalid("Image %s is unacceptable: Unable to rebuild with a different image for a volume-backed server.", imageID)
		}
		return b, nil
	}
	return nil, nil
}

// checkVolumesInUse is compute/api.py's _check_volume_status: every
// volume of the server must be in-use, else the rebuild would fail on
// the host replacing its attachment.
func (s *Service) checkVolumesInUse(ctx context.Context, srv *Server) error {
	bs, err := blockDevicesOf(ctx, s.DB, srv.ID)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.VolumeID == "" {
			continue
		}
		vol, err := s.Volumes.Volume(ctx, s.DB, srv.ProjectID, b.VolumeID)
		if err != nil {
			return err
		}
		if vol.Status != "in-use" {
			return errs.Invalid("Invalid volume: volume '%s' status must be 'in-use'. Currently in '%s' status", vol.ID, vol.Status)
		}
	}
	return nil
}

// ReimageRootVolume re-images the root volume of the volume-backed
// server a 2.93 rebuild task rebuilds, as Nova's compute manager's
// _rebuild_volume_backed_instance: a new attachment replaces the root
// volume's (so the volume stays reserved for the server, and the host
// connects it again in the block device mapping step), the volume
// service is asked to write the image into it (reimage_reserved), and
// the task waits until it has (Nova waits for Cinder's volume-reimaged
// event). The swap, the re-image and a mark in the task commit
// together, so a task resumed after a crash only waits. A volume the
// re-image left in error fails the rebuild as Nova's BuildAbortException.
func (s *Service) ReimageRootVolume(ctx context.Context, t *Task) error {
	p, _ := t.Params.(*RebuildParams)
	if p == nil || p.ReimageImage == "" {
		return nil
	}
	srv, bs, err := s.taskVolumes(ctx, t)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(bs, func(b BlockDevice) bool { return b.IsRoot() && b.VolumeID != "" })
	if i < 0 {
		return &BuildAbort{ServerID: t.InstanceID, Reason: "Unable to find root block device mapping for volume-backed instance."}
	}
	root := bs[i]
	const failed = "Failed to rebuild volume backed instance."
	if !p.Reimaging {
		marked, err := cloneParams(t.Kind, p)
		if err != nil {
			return err
		}
		err = s.DB.InTx(ctx, func(tx *store.Tx) error {
			if err := s.replaceAttachment(ctx, tx, srv, &root); err != nil {
				return err
			}
			if err := s.Volumes.ReimageVolume(ctx, tx, srv.ProjectID, root.VolumeID, p.ReimageImage); err != nil {
				return err
			}
			marked.(*RebuildParams).Reimaging = true
			return updateTaskParams(ctx, tx, t, marked)
		})
		if err != nil {
			return &BuildAbort{ServerID: srv.ID, Reason: failed, Cause: fmt.Errorf("re-image volume %s: %w", root.VolumeID, err)}
		}
		t.Params = marked
	}
	waitCtx, cancel := context.WithTimeout(ctx, volumeWait)
	defer cancel()
	vol, err := s.Volumes.AwaitVolume(waitCtx, root.VolumeID)
	if err != nil {
		return fmt.Errorf("wait for the re-image of volume %s: %w", root.VolumeID, err)
	}
	if vol.Status == "error" {
		return &BuildAbort{ServerID: srv.ID, Reason: failed, Cause: fmt.Errorf("the re-image left volume %s in error", vol.ID)}
	}
	return nil
}

// BuildAbort is Nova's BuildAbortException: its message, Nova's, is the
// server's fault; Cause, when not nil, is what failed (for the logs).
type BuildAbort struct {
	ServerID, Reason string
	Cause            error
}

func (e *BuildAbort) Error() string {
	return fmt.Sprintf("Build of instance %s aborted: %s", e.ServerID, e.Reason)
}

func (e *BuildAbort) Unwrap() error { return e.Cause }
