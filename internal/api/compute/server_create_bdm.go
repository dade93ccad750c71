package compute

// Block device mappings on create: the two syntaxes of servers.py
// _process_bdms_for_create, checked as BlockDeviceDict.from_api does and
// turned into the v2 form (from_legacy_mapping for the legacy one). The
// compute service validates what needs the volume service (_validate_bdm)
// and makes the volumes.

import (
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
)

// rootDeviceName is Nova's root device when the image names none.
const rootDeviceName = "vda"

// parseBDMs applies servers.py _process_bdms_for_create and
// BlockDeviceDict.from_api to the two mapping syntaxes.
func parseBDMs(server map[string]any) ([]compute.BlockDeviceRequest, error) {
	legacyList := createList(server["block_device_mapping"])
	v2List := createList(server["block_device_mapping_v2"])
	if len(legacyList) > 0 && len(v2List) > 0 {
		return nil, errs.Invalid("Using different block_device_mapping syntaxes is not allowed in the same request.")
	}
	imageRef, _ := server["imageRef"].(string)
	if len(legacyList) > 0 {
		return fromLegacyMapping(legacyList, imageRef), nil
	}
	var out []compute.BlockDeviceRequest
	for _, item := range v2List {
		b, err := bdmFromAPI(item.(map[string]any), imageRef != "")
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// fromLegacyMapping is block_device.from_legacy_mapping with the root
// device "vda": a volume or snapshot on vda is the boot disk, others are
// not bootable; the image (when given and no volume is the root) is the
// local boot disk, which kumo does not list.
func fromLegacyMapping(list []any, imageRef string) []compute.BlockDeviceRequest {
	var out []compute.BlockDeviceRequest
	for _, item := range list {
		m := item.(map[string]any)
		b := compute.BlockDeviceRequest{DestinationType: "volume", NoDevice: noDevice(m["no_device"])}
		b.DeviceName, _ = m["device_name"].(string)
		b.VolumeSize = sizeOf(m["volume_size"])
		if v, ok := m["delete_on_termination"]; ok {
			b.DeleteOnTermination = createBool(v)
		}
		switch {
		case str(m["volume_id"]) != "":
			b.SourceType, b.UUID = "volume", str(m["volume_id"])
		case str(m["snapshot_id"]) != "":
			b.SourceType, b.UUID = "snapshot", str(m["snapshot_id"])
		default:
			// virtual_name (ephemeral, swap) and empty mappings: the
			// flavor's local disks, which kumo always gives.
			b.SourceType, b.DestinationType = "blank", "local"
		}
		boot := -1
		if b.SourceType != "blank" && strings.TrimPrefix(b.DeviceName, "/dev/") == rootDeviceName {
			boot = 0
		}
		if b.NoDevice {
			b.BootIndex = nil
		} else {
			b.BootIndex = &boot
		}
		out = append(out, b)
	}
	if imageRef == "" {
		// No root device name: the first non-blank mapping boots.
		for i := range out {
			if out[i].SourceType != "blank" && !out[i].NoDevice {
				zero := 0
				out[i].BootIndex = &zero
				break
			}
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func noDevice(v any) bool { return v != nil && v != false && v != "" }

// sizeOf reads a schema-valid volume_size (0: none).
func sizeOf(v any) int {
	if v == nil {
		return 0
	}
	n, _ := strconv.Atoi(pyStr(v))
	return n
}

// bdmFromAPI is Nova's BlockDeviceDict.from_api format check.
func bdmFromAPI(m map[string]any, imageSpecified bool) (compute.BlockDeviceRequest, error) {
	b := compute.BlockDeviceRequest{}
	b.SourceType, _ = m["source_type"].(string)
	b.DestinationType, _ = m["destination_type"].(string)
	b.UUID, _ = m["uuid"].(string)
	if noDevice(m["no_device"]) {
		b.NoDevice = true
		return b, nil
	}
	if b.DestinationType == "" {
		// Nova's BlockDeviceMapping defaults destination_type by
		// source: a volume or snapshot stays a volume.
		b.DestinationType = "local"
		if b.SourceType == "volume" || b.SourceType == "snapshot" {
			b.DestinationType = "volume"
		}
	}
	b.VolumeType, _ = m["volume_type"].(string)
	b.DeviceName, _ = m["device_name"].(string)
	b.Tag, _ = m["tag"].(string)
	b.DiskBus, _ = m["disk_bus"].(string)
	b.DeviceType, _ = m["device_type"].(string)
	b.GuestFormat, _ = m["guest_format"].(string)
	b.VolumeSize = sizeOf(m["volume_size"])
	if v, ok := m["delete_on_termination"]; ok {
		b.DeleteOnTermination = createBool(v)
	}
	if v, ok := m["boot_index"]; ok && v != nil {
		if n := bootIndexOf(v); n >= 0 {
			b.BootIndex = &n
		}
	}
	switch {
	case b.SourceType == "blank" && b.UUID != "":
		return b, errs.Invalid("Block Device Mapping is Invalid: Invalid device UUID.")
	case b.SourceType != "blank" && b.UUID == "":
		return b, errs.Invalid("Block Device Mapping is Invalid: Missing device UUID.")
	}
	if b.SourceType == "image" && b.DestinationType == "local" {
		if !imageSpecified || bootIndexOf(m["boot_index"]) != 0 {
			return b, errs.Invalid("Block Device Mapping is Invalid: Mapping image to local is not supported.")
		}
	}
	if b.DestinationType == "local" && b.VolumeType != "" {
		return b, errs.Invalid("Block Device Mapping is Invalid: Specifying a volume_type with destination_type=local is not supported.")
	}
	if b.SourceType == "volume" && b.VolumeType != "" {
		return b, errs.Invalid("Block Device Mapping is Invalid: Specifying volume type to existing volume is not supported.")
	}
	return b, nil
}

// bootIndexOf reads a schema-valid boot_index; None means -1.
func bootIndexOf(v any) int {
	s := pyStr(v)
	if v == nil {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
