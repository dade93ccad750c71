package compute

// createImage of a volume-backed server (Nova's snapshot_volume_backed):
// no disk to upload; each volume is snapshotted (even in-use) and the
// image is a bucket of properties, its block_device_mapping naming the
// snapshots, activated with no data (size 0, raw, bare). Booting from
// such an image makes its volumes from those snapshots.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
)

// eventAPISnapshot is the event of a volume-backed snapshot, which Nova's
// API takes itself (wrap_instance_event prefix "api").
const eventAPISnapshot = "api_snapshot_instance"

// IsVolumeBacked reports whether server id boots from a volume.
func (s *Service) IsVolumeBacked(ctx context.Context, id string) (bool, error) {
	return volumeBacked(ctx, s.DB, id)
}

// snapshotVolumeBacked is createImage of a volume-backed server, in tx
// after the action began.
func (s *Service) snapshotVolumeBacked(ctx context.Context, tx *store.Tx, p *auth.Principal, b *begunAction, req SnapshotRequest) (*image.Image, error) {
	srv := b.Server
	bs, err := blockDevicesOf(ctx, tx, srv.ID)
	if err != nil {
		return nil, err
	}
	mapping := []map[string]any{}
	for _, bdm := range bs {
		if bdm.VolumeID == "" {
			continue
		}
		snap, err := s.Volumes.SnapshotVolume(ctx, tx, srv.ProjectID, bdm.VolumeID, "snapshot for "+req.Name)
		if err != nil {
			return nil, err
		}
		mapping = append(mapping, imageMapping(&bdm, snap))
	}
	props := map[string]string{}
	for k, v := range req.Metadata {
		props[k] = v
	}
	delete(props, "block_device_mapping")
	props["root_device_name"] = "/dev/vda"
	if len(mapping) > 0 {
		raw, err := json.Marshal(mapping)
		if err != nil {
			return nil, fmt.Errorf("encode block_device_mapping: %w", err)
		}
		props["block_device_mapping"] = string(raw)
		props["bdm_v2"] = "True"
	}
	img, err := s.createServerImage(ctx, tx, p, srv, req.Name, "snapshot", props)
	if err != nil {
		return nil, err
	}
	if err := recordEvent(ctx, tx, b.ActionID, eventAPISnapshot, "", b.Now, nil, b.Now); err != nil {
		return nil, err
	}
	return img, nil
}

// activateEmptyImage uploads no data into a volume-backed snapshot's
// image, as Nova's glance client force-activates it (raw, bare, size 0).
func (s *Service) activateEmptyImage(ctx context.Context, id string) (*image.Image, error) {
	img, err := s.Images.UploadSnapshot(ctx, id, "raw", bytes.NewReader(nil))
	if err != nil {
		return nil, fmt.Errorf("activate image %s: %w", id, err)
	}
	return img, nil
}

// imageMapping is block_device.snapshot_from_bdm(snapshotID, b) as
// get_image_mapping gives it: every field of Nova's v2 mapping but the
// database's own.
func imageMapping(b *BlockDevice, snapshotID string) map[string]any {
	var boot any
	if b.BootIndex != nil {
		boot = *b.BootIndex
	}
	var size any
	if b.VolumeSize > 0 {
		size = b.VolumeSize
	}
	return map[string]any{
		"source_type": "snapshot", "destination_type": "volume", "snapshot_id": snapshotID,
		"volume_id": nil, "image_id": nil, "no_device": nil, "connection_info": nil, "tag": nil,
		"guest_format": nil, "device_type": nullable(b.DeviceType), "disk_bus": nullable(b.DiskBus),
		"boot_index": boot, "device_name": nullable(b.DeviceName), "delete_on_termination": b.DeleteOnTermination,
		"volume_size": size, "volume_type": nullable(b.VolumeType), "encrypted": nil,
		"encryption_secret_uuid": nil, "encryption_format": nil, "encryption_options": nil,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// imageDefinedBlockDevices are the mappings an image's properties define
// (bdm_v2 block_device_mapping, as a volume-backed snapshot registers
// them), in Nova's v2 form.
func imageDefinedBlockDevices(props map[string]string) []BlockDeviceRequest {
	raw := props["block_device_mapping"]
	if raw == "" || props["bdm_v2"] != "True" && props["bdm_v2"] != "true" {
		return nil
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil // not a mapping kumo wrote; the image boots as itself
	}
	var out []BlockDeviceRequest
	for _, m := range list {
		r := BlockDeviceRequest{SourceType: str(m["source_type"]), DestinationType: str(m["destination_type"]),
			DeviceName: str(m["device_name"]), VolumeType: str(m["volume_type"]), DiskBus: str(m["disk_bus"]),
			DeviceType: str(m["device_type"]), GuestFormat: str(m["guest_format"])}
		switch r.SourceType {
		case "snapshot":
			r.UUID = str(m["snapshot_id"])
		case "volume":
			r.UUID = str(m["volume_id"])
		case "image":
			r.UUID = str(m["image_id"])
		}
		if d, ok := m["delete_on_termination"].(bool); ok {
			r.DeleteOnTermination = d
		}
		if n, ok := m["volume_size"].(float64); ok {
			r.VolumeSize = int(n)
		}
		if n, ok := m["boot_index"].(float64); ok && n >= 0 {
			i := int(n)
			r.BootIndex = &i
		}
		if m["no_device"] == true {
			r.NoDevice = true
		}
		out = append(out, r)
	}
	return out
}

// mergeImageBlockDevices is _merge_bdms_lists after the request's image
// root was dropped: the image's mappings, each replaced by the request's
// of the same device name, then the request's others.
func mergeImageBlockDevices(defined, requested []BlockDeviceRequest) []BlockDeviceRequest {
	var own []BlockDeviceRequest
	for _, r := range requested {
		if r.SourceType == "image" && r.BootIndex != nil && *r.BootIndex == 0 {
			continue
		}
		own = append(own, r)
	}
	var out []BlockDeviceRequest
	for _, d := range defined {
		if d.DeviceName == "" || !slices.ContainsFunc(own, func(r BlockDeviceRequest) bool { return r.DeviceName == d.DeviceName }) {
			out = append(out, d)
		}
	}
	return append(out, own...)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// volumeBackedContext is the state context of an action that differs for
// a volume-backed server.
func volumeBackedContext(ctx context.Context, tx *store.Tx, id string, sc state.Context) (state.Context, error) {
	vb, err := volumeBacked(ctx, tx, id)
	sc.VolumeBacked = vb
	return sc, err
}
