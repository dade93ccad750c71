package compute

// Volumes of a create (block_device_mapping_v2): Nova's
// _check_and_transform_bdm and _validate_bdm. A given volume is reserved
// for each server in the create's transaction; a volume to be made from
// an image, a snapshot or nothing (blank) is made by the server's host
// during the build (PrepareVolumes), as Nova's compute manager does.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/store"
)

// BlockDeviceRequest is one mapping of a create in Nova's v2 form.
type BlockDeviceRequest struct {
	SourceType      string // "volume", "image", "snapshot", "blank"
	DestinationType string // "volume" or "local"
	UUID            string // the source's id
	// BootIndex is nil for a device not to boot from (Nova's None, -1).
	BootIndex           *int
	DeviceName          string
	DeleteOnTermination bool
	VolumeSize          int // GiB; 0 when not given
	VolumeType          string
	Tag                 string
	DiskBus             string
	DeviceType          string
	GuestFormat         string
	NoDevice            bool
}

// isVolume reports whether the mapping is a volume (destination volume).
func (r *BlockDeviceRequest) isVolume() bool { return !r.NoDevice && r.DestinationType == "volume" }

// bdmPlan is what a create's volumes decide: the mappings each server
// gets, and for a server booted from a volume, the image metadata it
// boots with.
type bdmPlan struct {
	devices      []BlockDevice
	volumeBacked bool
	// sysmeta are the image_* system metadata of a volume-backed server.
	sysmeta map[string]string
}

// bootsFromVolume reports whether the servers' root disk is a volume,
// as Nova's is_volume_backed_instance decides for the request spec: a
// volume at boot index 0, also when an image (a volume-backed server's
// snapshot) defined it.
func (pl *bdmPlan) bootsFromVolume() bool {
	return pl != nil && slices.ContainsFunc(pl.devices, func(b BlockDevice) bool { return b.IsRoot() })
}

// errBootSequence is InvalidBDMBootSequence.
var errBootSequence = errs.Invalid("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")

// planBlockDevices validates req's mappings as Nova does and returns the
// plan, nil when none is a volume (the image and the flavor's local
// disks make the server).
func (s *Service) planBlockDevices(ctx context.Context, p *auth.Principal, req *CreateRequest, defined []BlockDeviceRequest,
	fl *flavor.Flavor, maxCount int64) (*bdmPlan, error) {
	if req.ImageRef != "" {
		for _, b := range req.BlockDevices {
			if b.isVolume() && strings.TrimPrefix(b.DeviceName, "/dev/") == "vda" {
				return nil, errs.Invalid("The volume cannot be assigned the same device name as the root device vda")
			}
		}
	}
	if len(defined) > 0 {
		// The image is a volume-backed server's snapshot: its mappings
		// (volumes from its snapshots) come first.
		req.BlockDevices = mergeImageBlockDevices(defined, req.BlockDevices)
	}
	var vols []BlockDeviceRequest
	for _, b := range req.BlockDevices {
		if b.isVolume() {
			vols = append(vols, b)
		}
	}
	if len(vols) == 0 {
		if req.ImageRef == "" {
			return nil, errBootSequence // only a volume can be the root disk
		}
		return nil, nil
	}
	if maxCount > 1 && slices.ContainsFunc(vols, func(b BlockDeviceRequest) bool { return b.SourceType == "volume" }) {
		return nil, errs.Invalid("Cannot attach one or more volumes to multiple instances")
	}
	if err := s.checkBootSnapshot(ctx, p, req); err != nil {
		return nil, err
	}
	if err := checkBootSequence(req); err != nil {
		return nil, err
	}
	plan := &bdmPlan{}
	for _, r := range vols {
		b := BlockDevice{SourceType: r.SourceType, DestinationType: "volume", BootIndex: r.BootIndex,
			DeviceName: r.DeviceName, DeleteOnTermination: r.DeleteOnTermination, VolumeSize: r.VolumeSize,
			VolumeType: r.VolumeType, Tag: r.Tag, DiskBus: r.DiskBus, DeviceType: r.DeviceType, GuestFormat: r.GuestFormat}
		if err := s.checkVolumeType(ctx, p, &b); err != nil {
			return nil, err
		}
		if err := s.checkVolumeSource(ctx, p, &b, r.UUID); err != nil {
			return nil, err
		}
		if b.IsRoot() && req.ImageRef == "" {
			plan.volumeBacked = true
			meta, err := s.bootVolumeMetadata(ctx, p, &b, fl)
			if err != nil {
				return nil, err
			}
			plan.sysmeta = meta
		}
		plan.devices = append(plan.devices, b)
	}
	if req.ImageRef == "" && !plan.volumeBacked {
		return nil, errBootSequence
	}
	return plan, nil
}

// checkBootSnapshot is the first look Nova takes at a server booted
// from a snapshot without an image (get_bdm_image_metadata, before
// _validate_bdm): a boot snapshot the project cannot read is Nova's
// SnapshotNotFound, which its create answers with 400.
func (s *Service) checkBootSnapshot(ctx context.Context, p *auth.Principal, req *CreateRequest) error {
	if req.ImageRef != "" {
		return nil
	}
	for _, b := range req.BlockDevices {
		if b.NoDevice || b.BootIndex == nil || *b.BootIndex != 0 {
			continue
		}
		if b.SourceType != "snapshot" {
			return nil
		}
		_, err := s.Volumes.Snapshot(ctx, s.DB, p.ProjectID, b.UUID)
		if errs.KindOf(err) == errs.KindNotFound {
			return errs.Invalid("Snapshot %s could not be found.", b.UUID)
		}
		return err
	}
	return nil
}

// checkBootSequence is _validate_bdm's boot index rule: the bootable
// devices are numbered 0, 1, ... without gaps. A create that names an
// image boots from it first when no mapping takes index 0 (the clients
// send the image as a local mapping of index 0).
func checkBootSequence(req *CreateRequest) error {
	var idx []int
	for _, b := range req.BlockDevices {
		if !b.NoDevice && b.BootIndex != nil && *b.BootIndex >= 0 {
			idx = append(idx, *b.BootIndex)
		}
	}
	if req.ImageRef != "" && !slices.Contains(idx, 0) {
		idx = append(idx, 0)
	}
	slices.Sort(idx)
	if len(idx) == 0 {
		return errBootSequence
	}
	for i, v := range idx {
		if i != v {
			return errBootSequence
		}
	}
	return nil
}

// checkVolumeType is Nova's _check_requested_volume_type: a mapping's
// volume type (2.67) must be one the project may use, and the mapping
// keeps its name when it was given by id.
func (s *Service) checkVolumeType(ctx context.Context, p *auth.Principal, b *BlockDevice) error {
	if b.VolumeType == "" {
		return nil
	}
	t, err := s.Volumes.VolumeType(ctx, s.DB, p.ProjectID, b.VolumeType)
	if errs.KindOf(err) == errs.KindNotFound {
		// Nova's VolumeTypeNotFound, which its create answers with 400.
		return errs.Invalid("Volume type %s could not be found.", b.VolumeType)
	}
	if err != nil {
		return fmt.Errorf("look up volume type %s: %w", b.VolumeType, err)
	}
	b.VolumeType = t.Name
	return nil
}

// checkVolumeSource checks b's source (id) as _validate_bdm does and
// fills in what the source decides.
func (s *Service) checkVolumeSource(ctx context.Context, p *auth.Principal, b *BlockDevice, id string) error {
	switch b.SourceType {
	case "volume":
		vol, err := s.Volumes.Volume(ctx, s.DB, p.ProjectID, id)
		if errs.KindOf(err) == errs.KindNotFound {
			return errs.Invalid("Block Device Mapping is Invalid: failed to get volume %s.", id)
		}
		if err != nil {
			return err
		}
		// Its status is the volume service's to check, when each server
		// of the create reserves it.
		b.VolumeID, b.VolumeSize = vol.ID, vol.SizeGB
	case "snapshot":
		// Nova reads the snapshot (any status will do) for its size when
		// the mapping gives none.
		snap, err := s.Volumes.Snapshot(ctx, s.DB, p.ProjectID, id)
		if errs.KindOf(err) == errs.KindNotFound {
			return errs.Invalid("Block Device Mapping is Invalid: failed to get snapshot %s.", id)
		}
		if err != nil {
			return err
		}
		b.SnapshotID = snap.ID
		if b.VolumeSize <= 0 {
			b.VolumeSize = snap.SizeGB
		}
	case "image":
		if _, err := s.Images.Get(ctx, p, id); err != nil {
			if errs.KindOf(err) == errs.KindNotFound {
				return errs.Invalid("Block Device Mapping is Invalid: failed to get image %s.", id)
			}
			return err
		}
		b.ImageID = id
		if b.VolumeSize <= 0 {
			return errs.Invalid("Images with destination_type 'volume' need to have a non-zero size specified")
		}
	case "blank":
		if b.VolumeSize <= 0 {
			return errs.Invalid("Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size")
		}
	}
	return nil
}

// bootVolumeMetadata is the image metadata a server booted from volume b
// gets (Nova's get_bdm_image_metadata), with _validate_flavor_image's
// checks of a volume-backed server: the image's minimum memory and disk.
func (s *Service) bootVolumeMetadata(ctx context.Context, p *auth.Principal, b *BlockDevice, fl *flavor.Flavor) (map[string]string, error) {
	switch {
	case b.ImageID != "":
		img, err := s.Images.Get(ctx, p, b.ImageID)
		if err != nil {
			return nil, fmt.Errorf("look up image: %w", err)
		}
		if img.Status != "active" {
			return nil, errs.Invalid("Image %s is not active.", img.ID)
		}
		if img.MinRAM > fl.RAM {
			return nil, errs.Invalid("Flavor's memory is too small for requested image.")
		}
		if img.MinDisk > b.VolumeSize {
			return nil, errs.Invalid("Volume is smaller than the minimum size specified in image metadata. Volume size is %d bytes, minimum size is %d bytes.",
				int64(b.VolumeSize)<<30, int64(img.MinDisk)<<30)
		}
		return imageSystemMetadata(img), nil
	case b.VolumeID != "" || b.SnapshotID != "":
		// A snapshot's image metadata is its volume's (Cinder shows none
		// on the snapshot itself).
		volumeID := b.VolumeID
		if volumeID == "" {
			snap, err := s.Volumes.Snapshot(ctx, s.DB, p.ProjectID, b.SnapshotID)
			if err != nil {
				return nil, err
			}
			volumeID = snap.VolumeID
		}
		vol, err := s.Volumes.Volume(ctx, s.DB, p.ProjectID, volumeID)
		if errs.KindOf(err) == errs.KindNotFound {
			return nil, errs.Invalid("Block Device Mapping is Invalid: failed to get volume %s.", volumeID)
		}
		if err != nil {
			return nil, err
		}
		if !vol.Bootable {
			return nil, errs.Invalid("Block Device %s is not bootable.", vol.ID)
		}
		return volumeImageSystemMetadata(vol.ImageMetadata), nil
	}
	return map[string]string{}, nil
}

// volumeImageAttributes are the image attributes Cinder keeps among a
// volume's image metadata (Nova's VIM_IMAGE_ATTRIBUTES): not properties.
var volumeImageAttributes = []string{"image_id", "image_name", "size", "checksum", "container_format", "disk_format", "min_ram", "min_disk"}

// volumeImageSystemMetadata is the system metadata of a server booted
// from a volume with image metadata meta (get_image_metadata_from_volume):
// the properties, and min_ram and min_disk.
func volumeImageSystemMetadata(meta map[string]string) map[string]string {
	out := map[string]string{"image_min_ram": "0", "image_min_disk": "0"}
	for k, v := range meta {
		switch {
		case k == "min_ram" || k == "min_disk":
			if v != "" {
				out["image_"+k] = v
			}
		case !slices.Contains(volumeImageAttributes, k):
			out["image_"+k] = v
		}
	}
	return out
}

// insertCreateVolumes writes plan's mappings for srv in tx, naming their
// devices (the boot volume vda) and reserving the given volumes.
func (s *Service) insertCreateVolumes(ctx context.Context, tx *store.Tx, srv *Server, plan *bdmPlan, now time.Time) error {
	var made []BlockDevice
	for _, tmpl := range plan.devices {
		b := tmpl
		b.ID, b.InstanceID, b.CreatedAt = uuid.NewString(), srv.ID, now.UTC()
		switch {
		case b.IsRoot():
			b.DeviceName = "/dev/vda"
		case b.DeviceName != "" && !strings.HasPrefix(b.DeviceName, "/dev/"):
			b.DeviceName = "/dev/" + b.DeviceName
		case b.DeviceName == "":
			name, err := nextDeviceName(srv, made)
			if err != nil {
				return err
			}
			b.DeviceName = name
		}
		if b.VolumeID != "" {
			vol, err := s.Volumes.Volume(ctx, tx, srv.ProjectID, b.VolumeID)
			if err != nil {
				return err
			}
			if b.AttachmentID, err = s.Volumes.ReserveVolume(ctx, tx, vol.ProjectID, vol.ID, srv.ID, ""); err != nil {
				return err
			}
		}
		if err := insertBlockDevice(ctx, tx, &b); err != nil {
			return err
		}
		made = append(made, b)
	}
	return nil
}

// volumeWait bounds how long a build waits for a volume it made.
const volumeWait = 10 * time.Minute

// PrepareVolumes readies the volumes of the server t builds, as Nova's
// compute manager does before the spawn (_prep_block_device): each
// volume still to be made is made (from its image, snapshot, or blank)
// and waited for, then every volume is attached to this host (reserved,
// connected, completed). Each step is committed as it is done, so a
// retried build goes on where it stopped.
func (s *Service) PrepareVolumes(ctx context.Context, t *Task) error {
	srv, bs, err := s.taskVolumes(ctx, t)
	if err != nil || len(bs) == 0 {
		return err
	}
	for i := range bs {
		b := &bs[i]
		if b.VolumeID == "" {
			if err := s.makeVolume(ctx, srv, b); err != nil {
				return err
			}
		}
		if b.Connection != nil {
			continue
		}
		if b.DeviceName == "" {
			// Attached while the server was shelved offloaded: the host
			// that spawns it names the device.
			name, err := nextDeviceName(srv, bs)
			if err != nil {
				return err
			}
			b.DeviceName = name
		}
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE block_device_mappings SET device_name = ? WHERE id = ?`, b.DeviceName, b.ID); err != nil {
				return fmt.Errorf("name the device of volume %s: %w", b.VolumeID, err)
			}
			if b.AttachmentID == "" {
				id, err := s.Volumes.ReserveVolume(ctx, tx, srv.ProjectID, b.VolumeID, srv.ID, "")
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE block_device_mappings SET attachment_id = ? WHERE id = ?`, id, b.ID); err != nil {
					return fmt.Errorf("save attachment of volume %s: %w", b.VolumeID, err)
				}
				b.AttachmentID = id
			}
			if err := s.connect(ctx, tx, b, t.Host); err != nil {
				return err
			}
			return s.Volumes.CompleteAttachment(ctx, tx, b.AttachmentID)
		})
		if err != nil {
			b.AttachmentID, b.Connection = "", nil // rolled back
			return err
		}
	}
	return nil
}

// makeVolume creates mapping b's volume and waits until it is made.
func (s *Service) makeVolume(ctx context.Context, srv *Server, b *BlockDevice) error {
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		vol, err := s.Volumes.CreateVolume(ctx, tx, VolumeRequest{ProjectID: srv.ProjectID, UserID: srv.UserID,
			SizeGB: b.VolumeSize, ImageID: b.ImageID, SnapshotID: b.SnapshotID, VolumeType: b.VolumeType,
			AvailabilityZone: srv.AZ})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE block_device_mappings SET volume_id = ? WHERE id = ?`, vol.ID, b.ID); err != nil {
			return fmt.Errorf("save volume of mapping %s: %w", b.ID, err)
		}
		b.VolumeID = vol.ID
		return nil
	})
	if err != nil {
		b.VolumeID = ""
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, volumeWait)
	defer cancel()
	vol, err := s.Volumes.AwaitVolume(waitCtx, b.VolumeID)
	if err != nil {
		return fmt.Errorf("wait for volume %s: %w", b.VolumeID, err)
	}
	if vol.Status != "available" {
		// Nova's VolumeNotCreated.
		return fmt.Errorf("Volume %s did not finish being created even after we waited %d seconds or %d attempts. And its status is %s.", //nolint:staticcheck // Nova's text
			vol.ID, int(volumeWait/time.Second), 1, vol.Status)
	}
	return nil
}
