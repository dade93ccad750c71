package image

import (
	"time"

	"github.com/kumocloud/kumo/internal/image"
)

// isoTime formats a stored timestamp as Glance does: seconds, UTC, "Z".
func isoTime(us int64) string { return time.UnixMicro(us).UTC().Format(time.RFC3339) }

// imageView is an image as Glance v2 shows it: extra properties at the
// top level beside the base attributes, which are null when unset.
func imageView(img *image.Image) map[string]any {
	v := make(map[string]any, len(img.Properties)+24)
	for k, val := range img.Properties {
		v[k] = val
	}
	href := "/v2/images/" + img.ID
	v["id"] = img.ID
	v["name"] = img.Name
	v["status"] = img.Status
	v["visibility"] = img.Visibility
	v["owner"] = img.Owner
	v["container_format"] = img.ContainerFormat
	v["disk_format"] = img.DiskFormat
	v["size"] = img.Size
	v["virtual_size"] = img.VirtualSize
	v["checksum"] = img.Checksum
	v["os_hash_algo"] = img.OSHashAlgo
	v["os_hash_value"] = img.OSHashValue
	v["min_disk"] = img.MinDisk
	v["min_ram"] = img.MinRAM
	v["protected"] = img.Protected
	v["os_hidden"] = img.OSHidden
	v["tags"] = img.Tags
	v["created_at"] = isoTime(img.CreatedAt)
	v["updated_at"] = isoTime(img.UpdatedAt)
	v["self"] = href
	v["file"] = href + "/file"
	v["schema"] = "/v2/schemas/image"
	return v
}

// memberView is an image membership as Glance shows it.
func memberView(m *image.Member) map[string]any {
	return map[string]any{
		"image_id":   m.ImageID,
		"member_id":  m.MemberID,
		"status":     m.Status,
		"created_at": isoTime(m.CreatedAt),
		"updated_at": isoTime(m.UpdatedAt),
		"schema":     "/v2/schemas/member",
	}
}
