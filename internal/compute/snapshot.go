package compute

// createImage and createBackup (Nova's compute API snapshot/backup and
// the compute manager's snapshot_instance/backup_instance): the API
// registers a queued image with the server's image properties, the agent
// writes the guest's disk into it and, for a backup, deletes the oldest
// backups beyond the rotation.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
)

// TaskSnapshot is the task kind of createImage and createBackup.
const TaskSnapshot = "snapshot"

// Events Nova's compute manager records.
const (
	eventSnapshot = "compute_snapshot_instance"
	eventBackup   = "compute_backup_instance"
)

// SnapshotRequest is a validated createImage or createBackup.
type SnapshotRequest struct {
	Name string
	// Metadata are extra image properties.
	Metadata map[string]string
	// Backup makes it a createBackup of BackupType keeping Rotation
	// backups.
	Backup     bool
	BackupType string
	Rotation   int
	RequestID  string
}

// nonInheritableProperties are the image properties a snapshot does not
// take from the server's image (Nova's NON_INHERITABLE_IMAGE_PROPERTIES
// and the default non_inheritable_image_properties).
var nonInheritableProperties = []string{"img_signature", "img_signature_hash_method",
	"img_signature_key_type", "img_signature_certificate_uuid", "cache_in_nova", "bittorrent"}

// inheritedSystemMetadata are the system metadata keys other than image_*
// that Nova's get_image_from_system_metadata turns into snapshot
// properties and that kumo keeps.
var inheritedSystemMetadata = []string{"owner_user_name", "owner_project_name", "boot_roles"}

// Snapshot accepts a createImage or createBackup: in one transaction the
// state check (409), the queued image (Nova's compute_utils.create_image),
// task_state image_snapshot_pending or image_backup, the instance action
// and the agent's task. It returns the image.
func (s *Service) Snapshot(ctx context.Context, p *auth.Principal, id string, req SnapshotRequest) (*image.Image, error) {
	a, record, event, imageType := state.ActionCreateImage, "createImage", eventSnapshot, "snapshot"
	if req.Backup {
		a, record, event, imageType = state.ActionCreateBackup, "createBackup", eventBackup, "backup"
	}
	var img *image.Image
	var host string
	var volumeBacked bool
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		host = ""
		sc, err := volumeBackedContext(ctx, tx, id, state.Context{})
		if err != nil {
			return err
		}
		volumeBacked = sc.VolumeBacked && !req.Backup
		if !volumeBacked {
			sc.VolumeBacked = false // a backup is refused below, after the state check
		}
		b, err := s.beginAction(ctx, tx, p, id, a, record, req.RequestID, sc)
		if err != nil {
			return err
		}
		if req.Backup && b.Server.ImageRef == "" {
			return errs.Invalid("Backup is not supported for volume-backed instances.")
		}
		if volumeBacked {
			img, err = s.snapshotVolumeBacked(ctx, tx, p, b, req)
			return err
		}
		props := map[string]string{}
		for k, v := range req.Metadata {
			props[k] = v
		}
		if req.Backup {
			props["backup_type"] = req.BackupType
		}
		img, err = s.createServerImage(ctx, tx, p, b.Server, req.Name, imageType, props)
		if err != nil {
			return err
		}
		host = b.Server.Host
		return s.queueAction(ctx, tx, b, event, &SnapshotParams{ImageID: img.ID, Backup: req.Backup,
			BackupType: req.BackupType, Rotation: req.Rotation})
	})
	if err != nil {
		return nil, err
	}
	if volumeBacked {
		return s.activateEmptyImage(ctx, img.ID)
	}
	s.wake(host)
	return img, nil
}

// createServerImage registers the queued image of a snapshot of srv in
// tx, as Nova's compute_utils.create_image: the server's image properties
// (less the non-inheritable ones) plus instance_uuid, user_id and
// image_type, then extra; min_ram and min_disk from the server's image
// (min_disk at least the flavor's root disk); a snapshot leaves the disk
// and container formats to the upload. The image is private to the
// caller's project, or shared with the server's project when someone from
// another project (an admin) takes it.
func (s *Service) createServerImage(ctx context.Context, tx *store.Tx, p *auth.Principal, srv *Server, name, imageType string,
	extra map[string]string) (*image.Image, error) {
	props := map[string]string{}
	req := image.CreateRequest{Name: &name, Visibility: image.Private}
	for k, v := range srv.SystemMetadata {
		prop, ok := strings.CutPrefix(k, "image_")
		if !ok {
			if !slices.Contains(inheritedSystemMetadata, k) {
				continue
			}
			prop = k
		}
		switch prop {
		case "min_ram":
			req.MinRAM, _ = strconv.Atoi(v)
		case "min_disk":
			req.MinDisk, _ = strconv.Atoi(v)
		case "disk_format", "container_format":
			if imageType != "snapshot" {
				val := v
				if prop == "disk_format" {
					req.DiskFormat = &val
				} else {
					req.ContainerFormat = &val
				}
			}
		case "mappings", "block_device_mapping":
		default:
			if !slices.Contains(nonInheritableProperties, prop) && !strings.HasPrefix(prop, "trait:") {
				props[prop] = v
			}
		}
	}
	req.MinDisk = max(req.MinDisk, srv.Flavor.Disk) // Nova's sysmeta keeps max(image min_disk, root_gb)
	props["instance_uuid"] = srv.ID
	props["user_id"] = p.UserID
	props["image_type"] = imageType
	for k, v := range extra {
		props[k] = v
	}
	member := ""
	if p.ProjectID != srv.ProjectID {
		req.Visibility = image.Shared
		props["instance_owner"] = srv.ProjectID
		member = srv.ProjectID
	}
	req.Properties = props
	return s.Images.CreateQueued(ctx, tx, p, req, member)
}

// RemainingSteps are the task states a task still has to pass through
// (its params' "via" after its current task_state), so a task resumed
// after a crash skips the ones it already reached.
func RemainingSteps(t *Task) []state.TaskState {
	via := t.Plan().Via
	current := t.Plan().TaskState
	for i, ts := range via {
		if ts == current {
			return via[i+1:]
		}
	}
	return via
}

// SnapshotTask is what the agent needs of a queued snapshot.
type SnapshotTask struct {
	ImageID    string
	Backup     bool
	BackupType string
	Rotation   int
}

// SnapshotTaskOf reads a snapshot task's parameters.
func SnapshotTaskOf(t *Task) SnapshotTask {
	p, ok := t.Params.(*SnapshotParams)
	if !ok {
		return SnapshotTask{}
	}
	return SnapshotTask{ImageID: p.ImageID, Backup: p.Backup, BackupType: p.BackupType, Rotation: p.Rotation}
}

// RotateBackups deletes the oldest backups of a server of backupType
// beyond rotation, as Nova's _rotate_backups (rotation 0 deletes them
// all, the new one too).
func (s *Service) RotateBackups(ctx context.Context, instanceID, backupType string, rotation int) error {
	backups, err := s.Images.Backups(ctx, instanceID, backupType)
	if err != nil {
		return err
	}
	for i := len(backups) - 1; i >= rotation && i >= 0; i-- {
		if err := s.Images.DeleteSnapshot(ctx, backups[i].ID); err != nil {
			return fmt.Errorf("rotate out backup %s: %w", backups[i].ID, err)
		}
	}
	return nil
}

// FinishSnapshot commits a snapshot: the task_state cleared and the
// event recorded; on failure the image is deleted first unless it became
// active (Nova's delete_image_on_error).
func (s *Service) FinishSnapshot(ctx context.Context, t *Task, started time.Time, opErr error) error {
	if opErr != nil {
		if err := s.dropUnfinishedImage(ctx, SnapshotTaskOf(t).ImageID); err != nil {
			return err
		}
	}
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		return s.finishPlanned(ctx, tx, t, started, opErr)
	})
}

// dropUnfinishedImage deletes an image a failed task was making, unless
// its upload completed.
func (s *Service) dropUnfinishedImage(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	st, err := s.Images.Status(ctx, id)
	if err != nil {
		return err
	}
	if st == "" || st == image.StatusActive {
		return nil
	}
	return s.Images.DeleteSnapshot(ctx, id)
}

// SnapshotUploaded reports whether the image a snapshot-family task
// writes (a snapshot, backup or shelve) already holds its data: a task
// resumed after a crash must not upload it again.
func (s *Service) SnapshotUploaded(ctx context.Context, imageID string) (bool, error) {
	st, err := s.Images.Status(ctx, imageID)
	if err != nil {
		return false, err
	}
	return st == image.StatusActive, nil
}

// UploadSnapshot stores the guest disk data (of diskFormat) read from r
// as the data of the image a snapshot-family task writes.
func (s *Service) UploadSnapshot(ctx context.Context, imageID, diskFormat string, r io.Reader) error {
	if _, err := s.Images.UploadSnapshot(ctx, imageID, diskFormat, r); err != nil {
		return fmt.Errorf("upload snapshot to image %s: %w", imageID, err)
	}
	return nil
}

// ResizeConfirmWindow is how long a resize may stay unconfirmed before
// the host confirms it (Settings.ResizeConfirmWindow; 0: never).
func (s *Service) ResizeConfirmWindow() time.Duration { return s.Settings.ResizeConfirmWindow }
