package compute

// Block device mappings on create. kumo has no volume service: a server's
// disks are the image's root disk and the flavor's local disks. So the
// mappings Nova accepts without Cinder pass (the image as the local boot
// disk, blank local disks, "no_device"), and anything that needs a volume
// fails with the 400 Nova gives when Cinder cannot produce the volume.

import (
	"strconv"

	"github.com/kumocloud/kumo/internal/errs"
)

// createBDM is one mapping reduced to what kumo decides on.
type createBDM struct {
	sourceType      string // "image", "volume", "snapshot", "blank" or "" (legacy / no_device)
	destinationType string
	id              string // the source's uuid
	noDevice        bool
	legacy          bool
}

// needsVolume reports whether the mapping needs a volume service.
func (b createBDM) needsVolume() bool {
	if b.noDevice {
		return false
	}
	if b.legacy {
		return b.id != ""
	}
	return b.destinationType == "volume" || b.sourceType == "volume" || b.sourceType == "snapshot"
}

// volumeError is Nova's answer for a mapping whose volume cannot be had.
func (b createBDM) volumeError() error {
	switch b.sourceType {
	case "volume":
		return errs.Invalid("Block Device Mapping is Invalid: failed to get volume %s.", b.id)
	case "snapshot":
		return errs.Invalid("Block Device Mapping is Invalid: failed to get snapshot %s.", b.id)
	}
	return errs.Invalid("Block Device Mapping is Invalid.")
}

// parseBDMs applies servers.py _process_bdms_for_create and
// BlockDeviceDict.from_api to the two mapping syntaxes.
func parseBDMs(server map[string]any) ([]createBDM, error) {
	legacyList := createList(server["block_device_mapping"])
	v2List := createList(server["block_device_mapping_v2"])
	if len(legacyList) > 0 && len(v2List) > 0 {
		return nil, errs.Invalid("Using different block_device_mapping syntaxes is not allowed in the same request.")
	}
	var out []createBDM
	for _, item := range legacyList {
		m := item.(map[string]any)
		b := createBDM{legacy: true, noDevice: m["no_device"] != nil && m["no_device"] != false}
		if id, ok := m["volume_id"].(string); ok && id != "" {
			b.sourceType, b.id = "volume", id
		} else if id, ok := m["snapshot_id"].(string); ok && id != "" {
			b.sourceType, b.id = "snapshot", id
		}
		out = append(out, b)
	}
	imageRef, _ := server["imageRef"].(string)
	for _, item := range v2List {
		b, err := bdmFromAPI(item.(map[string]any), imageRef != "")
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// bdmFromAPI is Nova's BlockDeviceDict.from_api format check.
func bdmFromAPI(m map[string]any, imageSpecified bool) (createBDM, error) {
	b := createBDM{}
	b.sourceType, _ = m["source_type"].(string)
	b.destinationType, _ = m["destination_type"].(string)
	b.id, _ = m["uuid"].(string)
	if nd, ok := m["no_device"]; ok && nd != nil && nd != false && nd != "" {
		b.noDevice = true
		return b, nil
	}
	volumeType, _ := m["volume_type"].(string)
	switch {
	case b.sourceType == "blank" && b.id != "":
		return b, errs.Invalid("Block Device Mapping is Invalid: Invalid device UUID.")
	case b.sourceType != "blank" && b.id == "":
		return b, errs.Invalid("Block Device Mapping is Invalid: Missing device UUID.")
	}
	if b.sourceType == "image" && b.destinationType == "local" {
		if !imageSpecified || bootIndexOf(m["boot_index"]) != 0 {
			return b, errs.Invalid("Block Device Mapping is Invalid: Mapping image to local is not supported.")
		}
	}
	if b.destinationType == "local" && volumeType != "" {
		return b, errs.Invalid("Block Device Mapping is Invalid: Specifying a volume_type with destination_type=local is not supported.")
	}
	if b.sourceType == "volume" && volumeType != "" {
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
