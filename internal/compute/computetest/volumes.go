package computetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Volumes is a block storage service in memory for compute's tests, with
// Cinder's attachment states: what compute asks of compute.Volumes, kept
// so tests can see it. It ignores the caller's transactions (a retried
// transaction would apply twice; the tests' ones are not retried).
type Volumes struct {
	mu        sync.Mutex
	volumes   map[string]*compute.Volume
	snapshots map[string]compute.VolumeSnapshot
	types     map[string]compute.VolumeType // by id
	// Created are the requests CreateVolume was given, in order.
	Created []compute.VolumeRequest
	// FailCreate makes volumes made by CreateVolume end in "error".
	FailCreate  bool
	reimaged    map[string][]string // the images ReimageVolume was given, by volume
	failReimage bool                // re-imaged volumes end in "error"
	// reimaging is the status a volume being re-imaged returns to.
	reimaging map[string]string
}

var _ compute.Volumes = (*Volumes)(nil)

// NewVolumes returns an empty volume service.
func NewVolumes() *Volumes {
	return &Volumes{volumes: map[string]*compute.Volume{}, snapshots: map[string]compute.VolumeSnapshot{},
		types:    map[string]compute.VolumeType{"default-type": {ID: "default-type", Name: "__DEFAULT__"}},
		reimaged: map[string][]string{}, reimaging: map[string]string{}}
}

// AddType makes a volume type named name and returns its id.
func (v *Volumes) AddType(name string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := uuid.NewString()
	v.types[id] = compute.VolumeType{ID: id, Name: name}
	return id
}

// Add makes an available volume of sizeGB in project and returns its id.
func (v *Volumes) Add(project, name string, sizeGB int) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := uuid.NewString()
	v.volumes[id] = &compute.Volume{ID: id, ProjectID: project, Name: name, Status: "available", SizeGB: sizeGB,
		AvailabilityZone: "nova", VolumeType: "__DEFAULT__"}
	return id
}

// AddSnapshot makes a snapshot of volume id and returns its id.
func (v *Volumes) AddSnapshot(volumeID string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := uuid.NewString()
	sn := compute.VolumeSnapshot{ID: id, VolumeID: volumeID, Status: "available"}
	if vol, ok := v.volumes[volumeID]; ok {
		sn.ProjectID, sn.SizeGB = vol.ProjectID, vol.SizeGB
	}
	v.snapshots[id] = sn
	return id
}

// Get is volume id as it is now (ok false when gone).
func (v *Volumes) Get(id string) (compute.Volume, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, ok := v.volumes[id]
	if !ok {
		return compute.Volume{}, false
	}
	return copyVolume(vol), true
}

func copyVolume(vol *compute.Volume) compute.Volume {
	c := *vol
	c.Attachments = slices.Clone(vol.Attachments)
	c.ImageMetadata = maps.Clone(vol.ImageMetadata)
	return c
}

func (v *Volumes) find(id string) (*compute.Volume, error) {
	vol, ok := v.volumes[id]
	if !ok {
		return nil, errs.NotFound("Volume %s could not be found.", id)
	}
	return vol, nil
}

// attachment finds attachment id and its volume.
func (v *Volumes) attachment(id string) (*compute.Volume, int, error) {
	for _, vol := range v.volumes {
		for i, a := range vol.Attachments {
			if a.ID == id {
				return vol, i, nil
			}
		}
	}
	return nil, 0, errs.NotFound("Volume attachment %s could not be found.", id)
}

// Volume implements compute.Volumes.
func (v *Volumes) Volume(_ context.Context, _ store.Querier, projectID, id string) (compute.Volume, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, err := v.find(id)
	if err != nil || vol.ProjectID != projectID {
		return compute.Volume{}, errs.NotFound("Volume %s could not be found.", id)
	}
	return copyVolume(vol), nil
}

// Snapshot implements compute.Volumes.
func (v *Volumes) Snapshot(_ context.Context, _ store.Querier, projectID, id string) (compute.VolumeSnapshot, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	sn, ok := v.snapshots[id]
	if !ok || sn.ProjectID != projectID {
		return compute.VolumeSnapshot{}, errs.NotFound("Snapshot %s could not be found.", id)
	}
	return sn, nil
}

// VolumeType implements compute.Volumes: every type is public.
func (v *Volumes) VolumeType(_ context.Context, _ store.Querier, _, nameOrID string) (compute.VolumeType, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, t := range v.types {
		if t.ID == nameOrID || t.Name == nameOrID {
			return t, nil
		}
	}
	return compute.VolumeType{}, errs.NotFound("Volume type %s could not be found.", nameOrID)
}

// CreateVolume implements compute.Volumes.
func (v *Volumes) CreateVolume(_ context.Context, _ *store.Tx, req compute.VolumeRequest) (compute.Volume, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if req.SnapshotID != "" {
		if _, ok := v.snapshots[req.SnapshotID]; !ok {
			return compute.Volume{}, errs.NotFound("Snapshot %s could not be found.", req.SnapshotID)
		}
	}
	v.Created = append(v.Created, req)
	id := uuid.NewString()
	vol := &compute.Volume{ID: id, ProjectID: req.ProjectID, Name: req.Name, Status: "creating", SizeGB: req.SizeGB,
		AvailabilityZone: "nova", VolumeType: req.VolumeType, Bootable: req.ImageID != ""}
	if vol.VolumeType == "" {
		vol.VolumeType = "__DEFAULT__"
	}
	if req.ImageID != "" {
		vol.ImageMetadata = map[string]string{"image_id": req.ImageID}
	}
	v.volumes[id] = vol
	return copyVolume(vol), nil
}

// AwaitVolume implements compute.Volumes: the data is written at once.
func (v *Volumes) AwaitVolume(_ context.Context, id string) (compute.Volume, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, err := v.find(id)
	if err != nil {
		return compute.Volume{}, err
	}
	if back, ok := v.reimaging[id]; ok && vol.Status == "downloading" {
		delete(v.reimaging, id)
		vol.Status = back
		if v.failReimage {
			vol.Status = "error"
		}
	}
	if vol.Status == "creating" {
		vol.Status = "available"
		if v.FailCreate {
			vol.Status = "error"
		}
	}
	return copyVolume(vol), nil
}

// ReserveVolume implements compute.Volumes.
func (v *Volumes) ReserveVolume(_ context.Context, _ *store.Tx, projectID, volumeID, serverID, zone string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, err := v.find(volumeID)
	if err != nil {
		return "", err
	}
	// Cinder lets the server a volume is attached to reserve it again
	// (Nova's rebuild and migrations replace the attachment).
	again := slices.ContainsFunc(vol.Attachments, func(a compute.VolumeAttachment) bool { return a.ServerID == serverID })
	if vol.Status != "available" && (vol.Status != "in-use" || !vol.Multiattach) && !again {
		return "", errs.Invalid("Invalid volume: Volume %s status must be available or in-use (multiattach), but current status is: %s.", volumeID, vol.Status)
	}
	if zone != "" && vol.AvailabilityZone != zone {
		return "", errs.Invalid("Invalid volume: Volume %s is in zone %s, not %s.", volumeID, vol.AvailabilityZone, zone)
	}
	id := uuid.NewString()
	vol.Attachments = append(vol.Attachments, compute.VolumeAttachment{ID: id, ServerID: serverID, Status: "reserved"})
	if vol.Status == "available" {
		vol.Status = "reserved"
	}
	return id, nil
}

// ConnectVolume implements compute.Volumes.
func (v *Volumes) ConnectVolume(_ context.Context, _ *store.Tx, attachmentID, host, mountpoint string) (compute.VolumeConnection, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, i, err := v.attachment(attachmentID)
	if err != nil {
		return compute.VolumeConnection{}, err
	}
	vol.Attachments[i].Status = "attaching"
	if vol.Status == "reserved" {
		vol.Status = "attaching"
	}
	return compute.VolumeConnection{Path: fmt.Sprintf("/fake/%s/volumes/%s", host, vol.ID), Format: "raw"}, nil
}

// CompleteAttachment implements compute.Volumes.
func (v *Volumes) CompleteAttachment(_ context.Context, _ *store.Tx, attachmentID string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, i, err := v.attachment(attachmentID)
	if err != nil {
		return err
	}
	vol.Attachments[i].Status = "attached"
	vol.Status = "in-use"
	return nil
}

// BeginDetaching implements compute.Volumes.
func (v *Volumes) BeginDetaching(_ context.Context, _ *store.Tx, volumeID string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, err := v.find(volumeID)
	if err != nil {
		return err
	}
	if vol.Status != "in-use" {
		return errs.Invalid("Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.")
	}
	vol.Status = "detaching"
	return nil
}

// DeleteAttachment implements compute.Volumes.
func (v *Volumes) DeleteAttachment(_ context.Context, _ *store.Tx, attachmentID string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, i, err := v.attachment(attachmentID)
	if err != nil {
		return err
	}
	vol.Attachments = slices.Delete(vol.Attachments, i, i+1)
	vol.Status = statusOfAttachments(vol.Attachments)
	return nil
}

// statusOfAttachments is Cinder's _get_statuses_from_attachments: the
// volume's status follows the most advanced attachment left (attached >
// attaching > detaching > reserved), "available" when none is.
func statusOfAttachments(as []compute.VolumeAttachment) string {
	status := ""
	for _, a := range as {
		if status == "" || a.Status < status {
			status = a.Status
		}
	}
	switch status {
	case "":
		return "available"
	case "attached":
		return "in-use"
	}
	return status
}

// ReimageVolume implements compute.Volumes (reimage_reserved): the
// volume is "downloading" until AwaitVolume, which writes the image.
func (v *Volumes) ReimageVolume(_ context.Context, _ *store.Tx, projectID, volumeID, imageID string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, err := v.find(volumeID)
	if err != nil || vol.ProjectID != projectID {
		return errs.NotFound("Volume %s could not be found.", volumeID)
	}
	if len(vol.Attachments) > 1 {
		return errs.Conflict("Cannot re-image a volume which is attached to more than one server.")
	}
	switch vol.Status {
	case "available", "error", "reserved":
	default:
		return errs.Invalid("Invalid volume: Volume %s status must be available or error or reserved, but current status is %s.", volumeID, vol.Status)
	}
	v.reimaged[volumeID] = append(v.reimaged[volumeID], imageID)
	v.reimaging[volumeID] = vol.Status
	if vol.Status == "error" {
		v.reimaging[volumeID] = "available"
	}
	vol.Status = "downloading"
	vol.Bootable = true
	vol.ImageMetadata = map[string]string{"image_id": imageID}
	return nil
}

// DeleteVolume implements compute.Volumes.
func (v *Volumes) DeleteVolume(_ context.Context, _ *store.Tx, projectID, volumeID string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, err := v.find(volumeID)
	if err != nil {
		return err
	}
	if len(vol.Attachments) > 0 {
		return errs.Conflict("Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.")
	}
	delete(v.volumes, volumeID)
	return nil
}

// SnapshotVolume implements compute.Volumes.
func (v *Volumes) SnapshotVolume(_ context.Context, _ *store.Tx, projectID, volumeID, name string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vol, err := v.find(volumeID)
	if err != nil {
		return "", err
	}
	id := uuid.NewString()
	v.snapshots[id] = compute.VolumeSnapshot{ID: id, ProjectID: projectID, VolumeID: volumeID, Status: "creating",
		SizeGB: vol.SizeGB}
	return id, nil
}

// SetBootable marks volume id bootable, made from image imageID.
func (v *Volumes) SetBootable(id, imageID string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if vol, ok := v.volumes[id]; ok {
		vol.Bootable = true
		vol.ImageMetadata = map[string]string{"image_id": imageID, "disk_format": "qcow2"}
	}
}

// SetStatus sets volume id's status (Cinder's os-reset_status).
func (v *Volumes) SetStatus(id, status string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if vol, ok := v.volumes[id]; ok {
		vol.Status = status
	}
}

// Reimaged is the images ReimageVolume was given for volume id, in order.
func (v *Volumes) Reimaged(id string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.reimaged[id])
}

// FailReimage makes the volumes re-imaged from now on end in "error"
// (or not).
func (v *Volumes) FailReimage(fail bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.failReimage = fail
}
