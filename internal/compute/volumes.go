package compute

import (
	"context"

	"github.com/kumocloud/kumo/internal/store"
)

// Volumes is the block storage service as Nova uses Cinder: reading a
// volume, making one for a block device mapping, the attachment flow
// (reserve, connect, complete; begin detaching, delete) and snapshots of
// a volume-backed server's volumes. Every call that changes state runs
// in the caller's transaction, so a server's block device mapping and
// its volume's attachment commit together.
type Volumes interface {
	// Volume reads volume id as projectID sees it (errs.NotFound, worded
	// as Nova words a missing volume, when it does not exist or belongs
	// to another project).
	Volume(ctx context.Context, q store.Querier, projectID, id string) (Volume, error)
	// Snapshot reads volume snapshot id as projectID sees it (errs.NotFound
	// when it does not exist or belongs to another project).
	Snapshot(ctx context.Context, q store.Querier, projectID, id string) (VolumeSnapshot, error)
	// VolumeType finds the volume type whose id or name is nameOrID among
	// those projectID may use (public ones and private ones shared with
	// it); errs.NotFound when there is none.
	VolumeType(ctx context.Context, q store.Querier, projectID, nameOrID string) (VolumeType, error)
	// CreateVolume makes a volume for a mapping (blank, from an image or
	// from a snapshot); it is "creating" until the volume service has
	// written its data, which AwaitVolume waits for.
	CreateVolume(ctx context.Context, tx *store.Tx, req VolumeRequest) (Volume, error)
	// AwaitVolume waits (bounded by ctx) until volume id has left the
	// transient states of its create and returns it; a volume that ended
	// in "error" is returned with that status, not as an error.
	AwaitVolume(ctx context.Context, id string) (Volume, error)
	// ReserveVolume is Cinder's attachment create without a connector:
	// the volume must be available (or in-use and multiattach) and in
	// zone when zone is not ""; it becomes "reserved" and the returned
	// attachment names serverID.
	ReserveVolume(ctx context.Context, tx *store.Tx, projectID, volumeID, serverID, zone string) (attachmentID string, err error)
	// ConnectVolume is the attachment update with a connector from host:
	// the volume becomes "attaching" and the answer tells the host where
	// its data is.
	ConnectVolume(ctx context.Context, tx *store.Tx, attachmentID, host, mountpoint string) (VolumeConnection, error)
	// CompleteAttachment makes the volume "in-use".
	CompleteAttachment(ctx context.Context, tx *store.Tx, attachmentID string) error
	// BeginDetaching makes an in-use volume "detaching".
	BeginDetaching(ctx context.Context, tx *store.Tx, volumeID string) error
	// DeleteAttachment removes the attachment; the volume is "available"
	// again when it was its last (a reserved volume returns too).
	DeleteAttachment(ctx context.Context, tx *store.Tx, attachmentID string) error
	// DeleteVolume deletes the volume (a mapping's
	// delete_on_termination): it becomes "deleting" and the volume
	// service removes its data.
	DeleteVolume(ctx context.Context, tx *store.Tx, projectID, volumeID string) error
	// SnapshotVolume snapshots a volume even when in-use (Cinder's
	// create_snapshot_force) and returns the snapshot's id.
	SnapshotVolume(ctx context.Context, tx *store.Tx, projectID, volumeID, name string) (snapshotID string, err error)
	// ReimageVolume is Cinder's os-reimage with reimage_reserved (Nova's
	// rebuild of a volume-backed server, 2.93): the volume, reserved for
	// the server, is "downloading" until the image's data replaces its
	// own (AwaitVolume waits), then "reserved" again with the image's
	// volume_image_metadata; it is "error" when that failed.
	ReimageVolume(ctx context.Context, tx *store.Tx, projectID, volumeID, imageID string) error
}

// Volume is what Nova reads of a Cinder volume.
type Volume struct {
	ID               string
	ProjectID        string
	Name             string
	Status           string // Cinder's: "available", "reserved", "in-use", ...
	SizeGB           int
	AvailabilityZone string
	VolumeType       string
	Bootable         bool
	Multiattach      bool
	// ImageMetadata is volume_image_metadata: the properties of the image
	// the volume was made from (image_id, disk_format, hw_*, ...).
	ImageMetadata map[string]string
	Attachments   []VolumeAttachment
}

// VolumeSnapshot is what Nova reads of a Cinder snapshot.
type VolumeSnapshot struct {
	ID        string
	ProjectID string
	VolumeID  string
	Status    string
	SizeGB    int
}

// VolumeType is what Nova reads of a Cinder volume type.
type VolumeType struct {
	ID   string
	Name string
}

// VolumeAttachment is one attachment of a volume to a server.
type VolumeAttachment struct {
	ID       string
	ServerID string
	Status   string // "reserved", "attaching", "attached", "detaching"
}

// VolumeRequest asks for a volume for a block device mapping.
type VolumeRequest struct {
	ProjectID        string
	UserID           string
	Name             string
	SizeGB           int
	ImageID          string // from an image (its bytes become the volume's)
	SnapshotID       string // from a snapshot
	VolumeType       string // name or id; "" for the default type
	AvailabilityZone string
}

// VolumeConnection is where an attached volume's data is on the host.
type VolumeConnection struct {
	Path   string
	Format string // "raw" or "qcow2"
	// ReadOnly is Cinder's access_mode "ro" (a readonly volume).
	ReadOnly bool
}
