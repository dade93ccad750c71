// Package computevol plugs the block storage service into the compute
// service as compute.Volumes (Nova's view of Cinder). It lives apart from
// package volume so that volume never depends on compute.
package computevol

import (
	"context"
	"errors"
	"fmt"
	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/volume"
)

// Volumes is compute.Volumes over a volume.Service.
type Volumes struct {
	Service *volume.Service
}

var _ compute.Volumes = Volumes{}

// nova is the compute service acting on a project's volumes, as Nova
// does with the user's token (and its service token for attachments).
func nova(projectID string) *auth.Principal {
	return &auth.Principal{UserID: "nova", ProjectID: projectID, Roles: []string{"member", "reader"}}
}

// service is the compute service acting on any project's records (the
// attachment calls name an attachment, not a project).
var service = &auth.Principal{UserID: "nova", Roles: []string{"admin", "member", "reader"}}

// Volume reads volume id as projectID sees it.
func (v Volumes) Volume(ctx context.Context, q store.Querier, projectID, id string) (compute.Volume, error) {
	vol, err := v.Service.GetQ(ctx, q, nova(projectID), id)
	if err != nil {
		return compute.Volume{}, err
	}
	return view(vol), nil
}

// Snapshot reads snapshot id as projectID sees it.
func (v Volumes) Snapshot(ctx context.Context, q store.Querier, projectID, id string) (compute.VolumeSnapshot, error) {
	sn, err := v.Service.SnapshotQ(ctx, q, nova(projectID), id)
	if err != nil {
		return compute.VolumeSnapshot{}, err
	}
	return compute.VolumeSnapshot{ID: sn.ID, ProjectID: sn.ProjectID, VolumeID: sn.VolumeID, Status: sn.Status,
		SizeGB: sn.Size}, nil
}

// VolumeType finds a type projectID may use by id or name, as Nova looks
// it up among Cinder's list of types.
func (v Volumes) VolumeType(ctx context.Context, q store.Querier, projectID, nameOrID string) (compute.VolumeType, error) {
	if nameOrID == volume.DefaultTypeName {
		// Cinder always lists __DEFAULT__; kumo makes it on first need
		// (in a transaction of its own, so not when q is one).
		if _, inTx := q.(*store.Tx); !inTx {
			if err := v.Service.EnsureDefaultType(ctx); err != nil {
				return compute.VolumeType{}, err
			}
		}
	}
	t, err := v.Service.TypeQ(ctx, q, nova(projectID), nameOrID)
	if err != nil {
		return compute.VolumeType{}, err
	}
	return compute.VolumeType{ID: t.ID, Name: t.Name}, nil
}

func view(v *volume.Volume) compute.Volume {
	out := compute.Volume{
		ID: v.ID, ProjectID: v.ProjectID, Status: v.Status, SizeGB: v.Size, AvailabilityZone: v.AvailabilityZone,
		VolumeType: v.VolumeTypeName, Bootable: v.Bootable, Multiattach: v.Multiattach, ImageMetadata: v.ImageMetadata,
	}
	if v.Name != nil {
		out.Name = *v.Name
	}
	for _, a := range v.Attachments {
		ca := compute.VolumeAttachment{ID: a.ID, Status: a.AttachStatus}
		if a.InstanceUUID != nil {
			ca.ServerID = *a.InstanceUUID
		}
		out.Attachments = append(out.Attachments, ca)
	}
	return out
}

// CreateVolume makes a volume for a block device mapping.
func (v Volumes) CreateVolume(ctx context.Context, tx *store.Tx, req compute.VolumeRequest) (compute.Volume, error) {
	p := nova(req.ProjectID)
	if req.UserID != "" {
		p.UserID = req.UserID
	}
	// Nova always sends a name and a description, "" when it has none
	// (block_device.py _create_volume), so Cinder shows "" and not null.
	name, description := req.Name, ""
	vol, err := v.Service.CreateTx(ctx, tx, p, volume.CreateRequest{
		Name: &name, Description: &description, Size: req.SizeGB, ImageID: req.ImageID, SnapshotID: req.SnapshotID,
		VolumeType: req.VolumeType, AvailabilityZone: req.AvailabilityZone,
	})
	if err != nil {
		return compute.Volume{}, err
	}
	v.Service.WakeSoon()
	return view(vol), nil
}

// AwaitVolume waits until volume id has been created (or failed).
func (v Volumes) AwaitVolume(ctx context.Context, id string) (compute.Volume, error) {
	v.Service.Wake()
	vol, err := v.Service.Await(ctx, id)
	if err != nil {
		return compute.Volume{}, err
	}
	return view(vol), nil
}

// ReserveVolume is the attachment create without a connector.
func (v Volumes) ReserveVolume(ctx context.Context, tx *store.Tx, projectID, volumeID, serverID, zone string) (string, error) {
	p := nova(projectID)
	if zone != "" {
		vol, err := v.Service.GetQ(ctx, tx, p, volumeID)
		if err != nil {
			return "", err
		}
		if vol.AvailabilityZone != zone {
			return "", errs.Invalid("The availability zone between the server and its attached volumes do not match: Server and volumes are not in the same availability zone. Server is in: %s. Volumes are in: %s", zone, vol.AvailabilityZone)
		}
	}
	a, err := v.Service.CreateAttachmentTx(ctx, tx, p, volume.AttachmentCreate{VolumeID: volumeID, InstanceUUID: serverID})
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

// ConnectVolume is the attachment update with host's connector.
func (v Volumes) ConnectVolume(ctx context.Context, tx *store.Tx, attachmentID, host, mountpoint string) (compute.VolumeConnection, error) {
	connector := map[string]any{"host": host, "mountpoint": mountpoint, "platform": "x86_64", "os_type": "linux",
		"multipath": false, "do_local_attach": false}
	a, err := v.Service.UpdateAttachmentTx(ctx, tx, service, attachmentID, connector)
	if err != nil {
		return compute.VolumeConnection{}, err
	}
	path, _ := a.ConnectionInfo["device_path"].(string)
	format, _ := a.ConnectionInfo["format"].(string)
	if path == "" {
		return compute.VolumeConnection{}, fmt.Errorf("volume %s has no data to connect to", a.VolumeID)
	}
	mode, _ := a.ConnectionInfo["access_mode"].(string)
	return compute.VolumeConnection{Path: path, Format: format, ReadOnly: mode == "ro"}, nil
}

// CompleteAttachment makes the volume in-use.
func (v Volumes) CompleteAttachment(ctx context.Context, tx *store.Tx, attachmentID string) error {
	return v.Service.CompleteAttachmentTx(ctx, tx, service, attachmentID)
}

// BeginDetaching makes an in-use volume detaching.
func (v Volumes) BeginDetaching(ctx context.Context, tx *store.Tx, volumeID string) error {
	return v.Service.BeginDetachingTx(ctx, tx, service, volumeID)
}

// DeleteAttachment removes the attachment.
func (v Volumes) DeleteAttachment(ctx context.Context, tx *store.Tx, attachmentID string) error {
	_, err := v.Service.DeleteAttachmentTx(ctx, tx, service, attachmentID)
	return err
}

// DeleteVolume deletes a volume (delete_on_termination).
func (v Volumes) DeleteVolume(ctx context.Context, tx *store.Tx, projectID, volumeID string) error {
	if err := v.Service.DeleteTx(ctx, tx, nova(projectID), volumeID, volume.DeleteOptions{}); err != nil {
		return err
	}
	v.Service.WakeSoon()
	return nil
}

// SnapshotVolume snapshots a volume even when in-use.
func (v Volumes) SnapshotVolume(ctx context.Context, tx *store.Tx, projectID, volumeID, name string) (string, error) {
	var n *string
	if name != "" {
		n = &name
	}
	sn, err := v.Service.CreateSnapshotTx(ctx, tx, nova(projectID), volume.SnapshotCreate{VolumeID: volumeID, Name: n, Force: true})
	if err != nil {
		return "", err
	}
	v.Service.WakeSoon()
	return sn.ID, nil
}

// ReimageVolume re-images a volume reserved for its server.
func (v Volumes) ReimageVolume(ctx context.Context, tx *store.Tx, projectID, volumeID, imageID string) error {
	if err := v.Service.ReimageTx(ctx, tx, nova(projectID), volumeID, imageID, true); err != nil {
		return err
	}
	v.Service.WakeSoon()
	return nil
}

// ServerEvents is volume.ServerEvents over the compute service: Cinder's
// notices to Nova, sent as Cinder's service user.
type ServerEvents struct {
	Compute *compute.Service
}

var _ volume.ServerEvents = ServerEvents{}

// cinder is the caller of the events Cinder sends Nova.
var cinder = &auth.Principal{UserID: "cinder", Roles: []string{"admin", "member", "reader", "service"}}

// VolumeExtended is the "volume-extended" event for each server.
func (e ServerEvents) VolumeExtended(ctx context.Context, volumeID string, serverIDs []string) error {
	var errsOut []error
	for _, id := range serverIDs {
		if err := e.Compute.VolumeExtended(ctx, cinder, id, volumeID, "req-"+uuid.NewString()); err != nil {
			errsOut = append(errsOut, fmt.Errorf("server %s: %w", id, err))
		}
	}
	return errors.Join(errsOut...)
}
