package compute

// Volume attach and detach (Nova's os-volume_attachments). The API
// reserves the volume (Cinder's attachment without a connector) and
// writes the server's mapping with the device name the host will give
// it, then casts to the server's host, which connects the volume,
// hot-plugs it and completes the attachment; a host that cannot plug it
// deletes the attachment and the mapping again. Detach marks the volume
// detaching and casts; the host unplugs it and the attachment and the
// mapping go. A shelved-offloaded server has no host: its volumes are
// attached and detached by the API alone, as Nova does.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Events of Nova's volume attach and detach (wrap_instance_event).
const (
	eventAttachVolume    = "compute_attach_volume"
	eventDetachVolume    = "compute_detach_volume"
	eventAPIAttachVolume = "api_attach_volume"
	eventAPIDetachVolume = "api_detach_volume"
	eventExtendVolume    = "compute_extend_volume"
)

// The volume calls the agent runs (casts: nobody waits).
const (
	CallAttachVolume = "attach_volume" // connect and hot-plug the mapping's volume
	CallDetachVolume = "detach_volume" // unplug the mapping's volume
	CallExtendVolume = "extend_volume" // let the guest see its volume's new size
)

// AttachVolumeRequest is POST /servers/{id}/os-volume_attachments.
type AttachVolumeRequest struct {
	VolumeID            string
	Device              string // asked for; the host chooses, as libvirt does
	Tag                 string // 2.49
	DeleteOnTermination bool   // 2.79
	RequestID           string
}

// devicePath is nova.block_device's _dev regex of match_device.
var devicePath = regexp.MustCompile(`^(/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$`)

// volumeNotFound is Nova's VolumeNotFound.
func volumeNotFound(id string) error { return errs.NotFound("Volume %s could not be found.", id) }

// AttachVolume attaches volume req.VolumeID to server id and returns its
// mapping (with the device the host will give it; none for a
// shelved-offloaded server). The attach itself is a cast: the volume is
// "reserved" until the server's host has plugged it.
func (s *Service) AttachVolume(ctx context.Context, p *auth.Principal, id string, req AttachVolumeRequest) (*BlockDevice, error) {
	var bdm *BlockDevice
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		bdm, host = nil, ""
		b, err := s.beginAction(ctx, tx, p, id, state.ActionAttachVolume, string(state.ActionAttachVolume), req.RequestID, state.Context{})
		if err != nil {
			return err
		}
		srv := b.Server
		if req.Device != "" && !devicePath.MatchString(req.Device) {
			return errs.Invalid("The supplied device path (%s) is invalid.", req.Device)
		}
		vol, err := s.Volumes.Volume(ctx, tx, srv.ProjectID, req.VolumeID)
		if err != nil {
			return err
		}
		if err := checkNotAttached(ctx, tx, srv.ID, vol); err != nil {
			return err
		}
		offloaded := srv.VMState == state.VMShelvedOffloaded
		if offloaded && req.Tag != "" {
			return errs.Invalid("Tagged volume attachment is not supported for shelved-offloaded instances.")
		}
		if offloaded && vol.Multiattach {
			return errs.Invalid("Attaching multiattach volumes is not supported for shelved-offloaded instances.")
		}
		bs, err := blockDevicesOf(ctx, tx, srv.ID)
		if err != nil {
			return err
		}
		device := ""
		if !offloaded {
			if device, err = nextDeviceName(srv, bs); err != nil {
				return err
			}
		}
		attachmentID, err := s.Volumes.ReserveVolume(ctx, tx, vol.ProjectID, vol.ID, srv.ID, "")
		if err != nil {
			return err
		}
		bdm = &BlockDevice{ID: uuid.NewString(), InstanceID: srv.ID, SourceType: "volume", DestinationType: "volume",
			VolumeID: vol.ID, DeviceName: device, DeleteOnTermination: req.DeleteOnTermination, VolumeSize: vol.SizeGB,
			Tag: req.Tag, AttachmentID: attachmentID, CreatedAt: b.Now.UTC()}
		if err := insertBlockDevice(ctx, tx, bdm); err != nil {
			return err
		}
		if offloaded {
			// Completed without a connector; the host that unshelves the
			// server connects it.
			if err := s.Volumes.CompleteAttachment(ctx, tx, attachmentID); err != nil {
				return err
			}
			return recordEvent(ctx, tx, b.ActionID, eventAPIAttachVolume, "", b.Now, nil, b.Now)
		}
		host = srv.Host
		_, err = queueCall(ctx, tx, srv, b, CallAttachVolume, eventAttachVolume, req.RequestID,
			&CallParams{BlockDevice: bdm.ID, VolumeID: vol.ID}, b.Now)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.wake(host)
	return bdm, nil
}

// checkNotAttached is Nova's _check_volume_already_attached.
func checkNotAttached(ctx context.Context, q store.Querier, serverID string, vol Volume) error {
	bs, err := blockDevicesOfVolume(ctx, q, vol.ID)
	if err != nil || len(bs) == 0 {
		return err
	}
	if !vol.Multiattach {
		ids := make([]string, len(bs))
		for i, b := range bs {
			ids[i] = b.InstanceID
		}
		return errs.Invalid("Invalid volume: volume %s is already attached to instances: %s", vol.ID, strings.Join(ids, " "))
	}
	for _, b := range bs {
		if b.InstanceID == serverID {
			return errs.Invalid("Invalid volume: volume %s already attached", vol.ID)
		}
	}
	return nil
}

// nextDeviceName is the first free /dev/vdX of srv, as libvirt's
// blockinfo picks one: vda is the root disk, then the flavor's ephemeral
// disk and swap, then the mapped volumes.
func nextDeviceName(srv *Server, bs []BlockDevice) (string, error) {
	used := map[string]bool{"vda": true}
	next := func() string {
		for c := 'a'; c <= 'z'; c++ {
			if n := "vd" + string(c); !used[n] {
				return n
			}
		}
		return ""
	}
	if srv.Flavor.Ephemeral > 0 {
		used[next()] = true
	}
	if srv.Flavor.Swap > 0 {
		used[next()] = true
	}
	for _, b := range bs {
		used[strings.TrimPrefix(b.DeviceName, "/dev/")] = true
	}
	n := next()
	if n == "" {
		return "", errs.Forbidden("The maximum allowed number of disk devices (26) to attach to a single instance has been exceeded.")
	}
	return "/dev/" + n, nil
}

// DetachVolume detaches volume volumeID from server id (a cast to its
// host; the API alone for a shelved-offloaded server).
func (s *Service) DetachVolume(ctx context.Context, p *auth.Principal, id, volumeID, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		host = ""
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		vol, err := s.Volumes.Volume(ctx, tx, srv.ProjectID, volumeID)
		if err != nil {
			return err
		}
		bdm, err := volumeBDM(ctx, tx, srv.ID, vol.ID)
		if err != nil {
			return err
		}
		if bdm.IsRoot() {
			return errs.Invalid("Cannot detach a root device volume")
		}
		b, err := s.beginAction(ctx, tx, p, id, state.ActionDetachVolume, string(state.ActionDetachVolume), requestID, state.Context{})
		if err != nil {
			return err
		}
		if srv.VMState == state.VMShelvedOffloaded {
			// Nova's _local_cleanup_bdm_volumes.
			if err := s.dropVolume(ctx, tx, srv, bdm, bdm.DeleteOnTermination); err != nil {
				return err
			}
			return recordEvent(ctx, tx, b.ActionID, eventAPIDetachVolume, "", b.Now, nil, b.Now)
		}
		if err := s.Volumes.BeginDetaching(ctx, tx, vol.ID); err != nil {
			return err
		}
		host = srv.Host
		_, err = queueCall(ctx, tx, srv, b, CallDetachVolume, eventDetachVolume, requestID,
			&CallParams{BlockDevice: bdm.ID, VolumeID: vol.ID}, b.Now)
		return err
	})
	if err == nil {
		s.wake(host)
	}
	return err
}

// dropVolume deletes mapping bdm with its attachment (and its volume when
// deleteVolume).
func (s *Service) dropVolume(ctx context.Context, tx *store.Tx, srv *Server, bdm *BlockDevice, deleteVolume bool) error {
	if bdm.AttachmentID != "" {
		if err := ignoreGone(s.Volumes.DeleteAttachment(ctx, tx, bdm.AttachmentID)); err != nil {
			return err
		}
	}
	if deleteVolume && bdm.VolumeID != "" {
		if err := ignoreGone(s.Volumes.DeleteVolume(ctx, tx, srv.ProjectID, bdm.VolumeID)); err != nil {
			return err
		}
	}
	return deleteBlockDevice(ctx, tx, bdm.ID)
}

// VolumeAttachmentUpdate is PUT /servers/{id}/os-volume_attachments/{v}
// from 2.85: the properties given must equal the mapping's, but for
// delete_on_termination, which changes.
type VolumeAttachmentUpdate struct {
	ID, ServerID, Device, Tag *string
	DeleteOnTermination       *bool
}

// UpdateVolumeAttachment is Nova's _update_volume_regular: no lock or
// state check, the mapping saved.
func (s *Service) UpdateVolumeAttachment(ctx context.Context, p *auth.Principal, id, volumeID string, u VolumeAttachmentUpdate) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		bdm, err := volumeBDM(ctx, tx, srv.ID, volumeID)
		if err != nil {
			return err
		}
		switch {
		case u.ID != nil && *u.ID != volumeID:
			return errs.Invalid("The id property is not mutable")
		case u.ServerID != nil && *u.ServerID != srv.ID:
			return errs.Invalid("The serverId property is not mutable")
		case u.Device != nil && *u.Device != bdm.DeviceName:
			return errs.Invalid("The device property is not mutable")
		case u.Tag != nil && *u.Tag != bdm.Tag:
			return errs.Invalid("The tag property is not mutable")
		}
		if u.DeleteOnTermination == nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE block_device_mappings SET delete_on_termination = ? WHERE id = ?`,
			*u.DeleteOnTermination, bdm.ID); err != nil {
			return fmt.Errorf("update block device mapping: %w", err)
		}
		return nil
	})
}

// SwapVolume is Nova's _update_volume_swap: only Cinder calls it, while
// it migrates the old volume. kumo's volume service migrates no volumes,
// so after the old volume's lookup the answer is Nova's 409 for a volume
// that is not migrating (the new volume, a body reference, is 400 when
// missing, checked after it as Nova does).
func (s *Service) SwapVolume(ctx context.Context, p *auth.Principal, id, oldVolumeID, newVolumeID string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if _, err := s.Volumes.Volume(ctx, tx, srv.ProjectID, oldVolumeID); err != nil {
			return err
		}
		return errs.Conflict("volume %s is not migrating; this API should only be called by Cinder", oldVolumeID)
	})
}

// ConnectVolume connects the volume an attach call plugs to the task's
// host and keeps where its data is in the mapping (done once: a retried
// task finds it connected).
func (s *Service) ConnectVolume(ctx context.Context, t *Task) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		bdm, err := blockDeviceByID(ctx, tx, CallBlockDevice(t))
		if err != nil {
			return err
		}
		return s.connect(ctx, tx, bdm, t.Host)
	})
}

// connect asks the volume service for bdm's volume on host and keeps the
// answer in the mapping.
func (s *Service) connect(ctx context.Context, tx *store.Tx, bdm *BlockDevice, host string) error {
	if bdm.Connection != nil {
		return nil
	}
	conn, err := s.Volumes.ConnectVolume(ctx, tx, bdm.AttachmentID, host, bdm.DeviceName)
	if err != nil {
		return fmt.Errorf("connect volume %s: %w", bdm.VolumeID, err)
	}
	bdm.Connection = &conn
	if _, err := tx.ExecContext(ctx, `UPDATE block_device_mappings SET connection_info = ? WHERE id = ?`,
		connectionJSON(&conn), bdm.ID); err != nil {
		return fmt.Errorf("save connection of volume %s: %w", bdm.VolumeID, err)
	}
	return nil
}

// finishVolumeCall commits what the host did with a volume call, as
// Nova's compute manager does: an attached volume's attachment is
// completed (in-use), one the host failed to plug is deleted with its
// mapping; a detached volume's attachment and mapping go, one the host
// failed to unplug is in-use again (roll_detaching).
func (s *Service) finishVolumeCall(ctx context.Context, tx *store.Tx, t *Task, started time.Time, opErr error) error {
	bdm, err := blockDeviceByID(ctx, tx, CallBlockDevice(t))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		bdm = nil // the server was deleted meanwhile, its volumes with it
	case err != nil:
		return err
	}
	if bdm != nil {
		attach := CallOf(t) == CallAttachVolume
		switch {
		case attach && opErr == nil, !attach && opErr != nil:
			err = s.Volumes.CompleteAttachment(ctx, tx, bdm.AttachmentID)
		default:
			err = s.dropVolume(ctx, tx, &Server{ID: bdm.InstanceID}, bdm, false)
		}
		if err != nil {
			return err
		}
	}
	now := s.now()
	if err := recordEvent(ctx, tx, t.ActionID, t.Plan().Event, t.Host, started, opErr, now); err != nil {
		return err
	}
	return finishTask(ctx, tx, t, opErr != nil, now)
}

// VolumeExtended is Nova's "volume-extended" external event: volumeID,
// attached to server id, grew. Nova records an extend_volume instance
// action and its host grows the guest's disk to the volume's size (the
// hypervisor's block_resize). A server without a host, or without that
// volume, has nothing to do: Nova answers such events 422 and drops them.
func (s *Service) VolumeExtended(ctx context.Context, p *auth.Principal, id, volumeID, requestID string) error {
	var host string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		host = ""
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		bs, err := blockDevicesOf(ctx, tx, srv.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(bs, func(b BlockDevice) bool { return b.VolumeID == volumeID })
		if srv.Host == "" || i < 0 {
			return nil
		}
		vol, err := s.Volumes.Volume(ctx, tx, srv.ProjectID, volumeID)
		if err != nil {
			return err
		}
		b, err := s.beginAction(ctx, tx, p, id, state.ActionExtendVolume, string(state.ActionExtendVolume), requestID, state.Context{})
		if err != nil {
			return err
		}
		host = srv.Host
		_, err = queueCall(ctx, tx, srv, b, CallExtendVolume, eventExtendVolume, requestID,
			&CallParams{BlockDevice: bs[i].ID, VolumeID: volumeID, VolumeSizeGB: vol.SizeGB}, b.Now)
		return err
	})
	if err != nil {
		return err
	}
	s.wake(host)
	return nil
}

// finishExtendCall records what the host did with an extend_volume call.
func (s *Service) finishExtendCall(ctx context.Context, tx *store.Tx, t *Task, started time.Time, opErr error) error {
	now := s.now()
	if err := recordEvent(ctx, tx, t.ActionID, t.Plan().Event, t.Host, started, opErr, now); err != nil {
		return err
	}
	return finishTask(ctx, tx, t, opErr != nil, now)
}

// CallVolumeSize is the new size in GiB of an extend_volume call's volume.
func CallVolumeSize(t *Task) int {
	if p, ok := t.Params.(*CallParams); ok {
		return p.VolumeSizeGB
	}
	return 0
}

// CallBlockDevice is the mapping a volume call is about.
func CallBlockDevice(t *Task) string {
	if p, ok := t.Params.(*CallParams); ok {
		return p.BlockDevice
	}
	return ""
}

// CallVolume is the volume a volume call plugs or unplugs.
func CallVolume(t *Task) string {
	if p, ok := t.Params.(*CallParams); ok {
		return p.VolumeID
	}
	return ""
}
