package image

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/image"
)

// The JSON schemas Glance serves; clients such as glanceclient read them
// to validate changes before sending a PATCH.

func schemaRoutes() []api.Route {
	serve := func(build func() map[string]any) api.Handler {
		return func(c *api.Call) (*api.Reply, error) { return api.JSON(http.StatusOK, build()), nil }
	}
	return []api.Route{
		{Method: "GET", Path: "/v2/schemas/image", Rule: "kumo:image:get_schemas", Handler: serve(imageSchema)},
		{Method: "GET", Path: "/v2/schemas/images", Rule: "kumo:image:get_schemas", Handler: serve(imagesSchema)},
		{Method: "GET", Path: "/v2/schemas/member", Rule: "kumo:image:get_schemas", Handler: serve(memberSchema)},
		{Method: "GET", Path: "/v2/schemas/members", Rule: "kumo:image:get_schemas", Handler: serve(membersSchema)},
	}
}

type obj = map[string]any

const uuidPattern = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"

var nullOrString = []string{"null", "string"}

func enumWithNull(values []string) []any {
	out := []any{nil}
	for _, v := range values {
		out = append(out, v)
	}
	return out
}

func readOnly(typ any, description string) obj {
	return obj{"type": typ, "readOnly": true, "description": description}
}

// customProperty is one of the extra properties Glance's default schema
// describes (is_base false: clients treat them as plain properties).
func customProperty(description string, extra obj) obj {
	p := obj{"type": "string", "is_base": false, "description": description}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func imageProperties() obj {
	ro := func(t any, d string) obj { return readOnly(t, d) }
	checksum := ro(nullOrString, "md5 hash of image contents.")
	checksum["maxLength"] = 32
	algo := ro(nullOrString, "Algorithm to calculate the os_hash_value")
	algo["maxLength"] = 64
	hash := ro(nullOrString, "Hexdigest of the image contents using the algorithm specified by the os_hash_algo")
	hash["maxLength"] = 128
	status := ro("string", "Status of the image")
	status["enum"] = []string{"queued", "saving", "active", "killed", "deleted", "pending_delete", "deactivated", "uploading", "importing"}
	return obj{
		"id":               obj{"type": "string", "description": "An identifier for the image", "pattern": uuidPattern},
		"name":             obj{"type": nullOrString, "description": "Descriptive name for the image", "maxLength": 255},
		"status":           status,
		"visibility":       obj{"type": "string", "description": "Scope of image accessibility", "enum": image.Visibilities},
		"protected":        obj{"type": "boolean", "description": "If true, image will not be deletable."},
		"os_hidden":        obj{"type": "boolean", "description": "If true, image will not appear in default image list response."},
		"checksum":         checksum,
		"os_hash_algo":     algo,
		"os_hash_value":    hash,
		"owner":            obj{"type": nullOrString, "description": "Owner of the image", "maxLength": 255},
		"size":             ro([]string{"null", "integer"}, "Size of image file in bytes"),
		"virtual_size":     ro([]string{"null", "integer"}, "Virtual size of image in bytes"),
		"container_format": obj{"type": nullOrString, "description": "Format of the container", "enum": enumWithNull(image.ContainerFormats)},
		"disk_format":      obj{"type": nullOrString, "description": "Format of the disk", "enum": enumWithNull(image.DiskFormats)},
		"created_at":       ro("string", "Date and time of image registration"),
		"updated_at":       ro("string", "Date and time of the last image modification"),
		"tags": obj{"type": "array", "description": "List of strings related to the image",
			"items": obj{"type": "string", "maxLength": 255}},
		"direct_url": ro("string", "URL to access the image file kept in external store"),
		"min_ram":    obj{"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
		"min_disk":   obj{"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
		"self":       ro("string", "An image self url"),
		"file":       ro("string", "An image file url"),
		"schema":     ro("string", "An image schema url"),
		"locations": obj{"type": "array", "description": "A set of URLs to access the image file kept in external store",
			"items": obj{"type": "object", "required": []string{"url", "metadata"}, "properties": obj{
				"url":      obj{"type": "string", "maxLength": 255},
				"metadata": obj{"type": "object"},
				"validation_data": obj{
					"description":          "Values to be used to populate the corresponding image properties. If the image status is not queued, values must exactly match those already contained in the image properties.",
					"type":                 "object",
					"writeOnly":            true,
					"additionalProperties": false,
					"required":             []string{"os_hash_algo", "os_hash_value"},
					"properties": obj{
						"checksum":      obj{"type": "string", "minLength": 32, "maxLength": 32},
						"os_hash_algo":  obj{"type": "string", "maxLength": 64},
						"os_hash_value": obj{"type": "string", "maxLength": 128},
					},
				},
			}}},
		"kernel_id": customProperty("ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.",
			obj{"type": nullOrString, "pattern": uuidPattern}),
		"ramdisk_id": customProperty("ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.",
			obj{"type": nullOrString, "pattern": uuidPattern}),
		"instance_uuid": customProperty("Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)", nil),
		"architecture":  customProperty("Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html", nil),
		"os_distro":     customProperty("Common name of operating system distribution as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html", nil),
		"os_version":    customProperty("Operating system version as specified by the distributor", nil),
	}
}

func imageSchema() map[string]any {
	return obj{
		"name":                 "image",
		"properties":           imageProperties(),
		"additionalProperties": obj{"type": "string"},
		"links": []obj{
			{"rel": "self", "href": "{self}"},
			{"rel": "enclosure", "href": "{file}"},
			{"rel": "describedby", "href": "{schema}"},
		},
	}
}

func imagesSchema() map[string]any {
	return obj{
		"name": "images",
		"properties": obj{
			"images": obj{"type": "array", "items": imageSchema()},
			"schema": obj{"type": "string"},
			"first":  obj{"type": "string"},
			"next":   obj{"type": "string"},
		},
		"links": []obj{
			{"rel": "first", "href": "{first}"},
			{"rel": "next", "href": "{next}"},
			{"rel": "describedby", "href": "{schema}"},
		},
	}
}

func memberProperties() obj {
	return obj{
		"image_id":   obj{"type": "string", "description": "An identifier for the image", "pattern": uuidPattern},
		"member_id":  obj{"type": "string", "description": "An identifier for the image member (tenantId)"},
		"created_at": obj{"type": "string", "description": "Date and time of image member creation"},
		"updated_at": obj{"type": "string", "description": "Date and time of last modification of image member"},
		"status": obj{"type": "string", "description": "The status of this image member",
			"enum": []string{image.MemberPending, image.MemberAccepted, image.MemberRejected}},
		"schema": obj{"type": "string", "readOnly": true},
	}
}

func memberSchema() map[string]any {
	return obj{"name": "member", "properties": memberProperties()}
}

func membersSchema() map[string]any {
	return obj{
		"name": "members",
		"properties": obj{
			"members": obj{"type": "array", "items": obj{"name": "member", "properties": memberProperties()}},
			"schema":  obj{"type": "string"},
		},
		"links": []obj{{"rel": "describedby", "href": "{schema}"}},
	}
}
