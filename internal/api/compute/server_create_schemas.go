package compute

// Nova's POST /servers schemas (nova/api/openstack/compute/schemas/
// servers.py: create_v20, create, create_v219, v232, v233, v237, v242,
// v252, v257, v263, v267, v274, v290, v294), written as ordered keyword
// lists so the first error is Nova's.

import (
	"sync"

	"github.com/kumocloud/kumo/internal/api"
)

// createFeatures says which parts of the create schema a request's
// microversion has.
type createFeatures struct {
	legacy       bool // create_v20 on the /v2 endpoint
	description  bool // 2.19
	networkTag   bool // 2.32-2.36 and 2.42+
	bdmTag       bool // 2.32 only, then 2.42+
	networks237  bool // 2.37: networks required, "auto"/"none" or a list with uuid formats
	tags         bool // 2.52
	personality  bool // until 2.56
	trustedCerts bool // 2.63
	volumeType   bool // 2.67
	requestHost  bool // 2.74: host and hypervisor_hostname
	hostname     bool // 2.90
	hostnameFQDN bool // 2.94
}

func createFeaturesOf(c *api.Call) createFeatures {
	at := c.AtLeast
	legacy := isLegacyV2(c)
	return createFeatures{
		legacy:       legacy,
		description:  !legacy && at(2, 19),
		networkTag:   (at(2, 32) && !at(2, 37)) || at(2, 42),
		bdmTag:       (at(2, 32) && !at(2, 33)) || at(2, 42),
		networks237:  at(2, 37),
		tags:         at(2, 52),
		personality:  !at(2, 57),
		trustedCerts: at(2, 63),
		volumeType:   at(2, 67),
		requestHost:  at(2, 74),
		hostname:     at(2, 90),
		hostnameFQDN: at(2, 94),
	}
}

// Reused parameter types (nova/api/validation/parameter_types.py).
var (
	csName            = jsSchema{jsType("string"), jsFormat("name"), jsMinLength(1), jsMaxLength(255)}
	csLegacyName      = jsSchema{jsType("string"), jsFormat("name_with_leading_trailing_spaces"), jsMinLength(1), jsMaxLength(255)}
	csUUID            = jsSchema{jsType("string"), jsFormat("uuid")}
	csBoolean         = jsSchema{jsType("boolean", "string"), jsEnum(csBooleanEnum()...)}
	csPositiveInteger = jsSchema{jsType("integer", "string"), jsPattern(`^[0-9]*$`), jsMinimum(1), jsMinLength(1)}
	csIPAddress       = jsSchema{jsType("string"), jsOneOf(jsSchema{jsFormat("ipv4")}, jsSchema{jsFormat("ipv6")})}
	csPort            = jsSchema{jsType("string", "null"), jsFormat("uuid")}
	csTag             = jsSchema{jsType("string"), jsPattern(`^[^,/]*$`), jsMinLength(1), jsMaxLength(60)}
	csVolumeSize      = jsSchema{jsType("integer", "string"), jsPattern(`^[0-9]+$`), jsMinimum(1), jsMaximum(0x7FFFFFFF)}
	csString255       = jsSchema{jsType("string"), jsMaxLength(255)}
)

func csBooleanEnum() []any {
	return []any{true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
		false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"}
}

// csMetadata is parameter_types.metadata.
func csMetadata() jsSchema {
	s := jsSchema{jsType("object")}
	return append(s, jsPatternProperties(`^[a-zA-Z0-9\-_:. ]{1,255}$`, `^[a-zA-Z0-9-_:. ]{1,255}$`, jsSchema{jsType("string"), jsMaxLength(255)})...)
}

// csDescription is parameter_types.description.
func csDescription() jsSchema {
	return jsSchema{jsType("string", "null"), csDescriptionPattern(), jsMinLength(0), jsMaxLength(255)}
}

// csDescriptionPattern is the printable-characters pattern; Nova's message
// shows its generated regex, which is too long to reproduce usefully, so
// the check reports the value as not matching the description pattern.
func csDescriptionPattern() jsKeyword {
	return func(_ *jsRun, path []string, v any) *jsFail {
		if s, ok := v.(string); ok && !validDescription(s) {
			return jsFailAt(path, v, "%s does not match the description pattern (printable characters)", api.PyRepr(v))
		}
		return nil
	}
}

// csLegacyBDMProperties are _legacy_block_device_mapping's properties.
func csLegacyBDMProperties() []jsProperty {
	return []jsProperty{
		{"virtual_name", csString255},
		{"volume_id", csUUID},
		{"snapshot_id", csUUID},
		{"volume_size", csVolumeSize},
		{"device_name", jsSchema{jsType("string"), jsMinLength(1), jsMaxLength(255), jsPatternGo(`^[a-zA-Z0-9._/\-]*$`, `^[a-zA-Z0-9._/-]*$`)}},
		{"delete_on_termination", csBoolean},
		{"no_device", jsSchema{}},
		{"connection_info", jsSchema{jsType("string"), jsMaxLength(16777215)}},
	}
}

// csBDMv2Properties are _block_device_mapping_v2's properties at f.
func csBDMv2Properties(f createFeatures) []jsProperty {
	props := csLegacyBDMProperties()
	props = append(props,
		jsProperty{"source_type", jsSchema{jsType("string"), jsEnum("volume", "image", "snapshot", "blank")}},
		jsProperty{"uuid", jsSchema{jsType("string"), jsMinLength(1), jsMaxLength(255), jsPatternGo(`^[a-zA-Z0-9._\-]*$`, `^[a-zA-Z0-9._-]*$`)}},
		jsProperty{"image_id", csUUID},
		jsProperty{"destination_type", jsSchema{jsType("string"), jsEnum("local", "volume")}},
		jsProperty{"guest_format", csString255},
		jsProperty{"device_type", csString255},
		jsProperty{"disk_bus", csString255},
		jsProperty{"boot_index", jsSchema{jsType("integer", "string", "null"), jsPattern(`^-?[0-9]+$`)}},
	)
	if f.bdmTag {
		props = append(props, jsProperty{"tag", csTag})
	}
	if f.volumeType {
		props = append(props, jsProperty{"volume_type", jsSchema{jsType("string", "null"), jsMinLength(0), jsMaxLength(255)}})
	}
	return props
}

// csNetworkItem are a networks list entry's properties.
func csNetworkItem(f createFeatures) []jsProperty {
	uuidProp := jsSchema{jsType("string")}
	if f.networks237 {
		uuidProp = csUUID
	}
	props := []jsProperty{{"fixed_ip", csIPAddress}, {"port", csPort}, {"uuid", uuidProp}}
	if f.networkTag {
		props = append(props, jsProperty{"tag", csTag})
	}
	return props
}

func csNetworks(f createFeatures) jsSchema {
	list := jsSchema{jsType("array"), jsItems(jsObject(nil, csNetworkItem(f)...))}
	if !f.networks237 {
		return list
	}
	return jsSchema{jsOneOf(list, jsSchema{jsType("string"), jsEnum("none", "auto")})}
}

// csServerProperties lists the server object's properties in Nova's order.
func csServerProperties(f createFeatures) []jsProperty {
	name, userData := csName, jsSchema{jsType("string"), jsFormat("base64"), jsMaxLength(65535)}
	if f.legacy {
		name = csLegacyName
		userData = jsSchema{jsType("string", "null"), jsFormat("base64"), jsMaxLength(65535)}
	}
	props := []jsProperty{
		{"name", name},
		{"imageRef", jsSchema{jsOneOf(csUUID, jsSchema{jsType("string"), jsMaxLength(0)})}},
		{"flavorRef", jsSchema{jsType("string", "integer"), jsMinLength(1)}},
		{"adminPass", jsSchema{jsType("string")}},
		{"metadata", csMetadata()},
		{"networks", csNetworks(f)},
		{"OS-DCF:diskConfig", jsSchema{jsType("string"), jsEnum("AUTO", "MANUAL")}},
		{"accessIPv4", jsSchema{jsType("string"), jsFormat("ipv4")}},
		{"accessIPv6", jsSchema{jsType("string"), jsFormat("ipv6")}},
	}
	if f.personality {
		props = append(props, jsProperty{"personality", jsSchema{jsType("array"), jsItems(jsObject(nil,
			jsProperty{"path", jsSchema{jsType("string")}},
			jsProperty{"contents", jsSchema{jsType("string"), jsFormat("base64")}},
		))}})
	}
	props = append(props,
		jsProperty{"availability_zone", name},
		jsProperty{"block_device_mapping", jsSchema{jsType("array"), jsItems(jsObject(nil, csLegacyBDMProperties()...))}},
		jsProperty{"block_device_mapping_v2", jsSchema{jsType("array"), jsItems(jsObject(nil, csBDMv2Properties(f)...))}},
		jsProperty{"config_drive", csBoolean},
		jsProperty{"key_name", name},
		jsProperty{"min_count", csPositiveInteger},
		jsProperty{"max_count", csPositiveInteger},
		jsProperty{"return_reservation_id", csBoolean},
		jsProperty{"security_groups", jsSchema{jsType("array"), jsItems(jsObject(nil, jsProperty{"name", name}))}},
		jsProperty{"user_data", userData},
	)
	if f.description {
		props = append(props, jsProperty{"description", csDescription()})
	}
	if f.tags {
		props = append(props, jsProperty{"tags", jsSchema{jsType("array"), jsItems(csTag), jsMaxItems(50)}})
	}
	if f.trustedCerts {
		props = append(props, jsProperty{"trusted_image_certificates", jsSchema{jsType("array", "null"),
			jsMinItems(1), jsMaxItems(50), jsUniqueItems(), jsItems(jsSchema{jsType("string"), jsMinLength(1)})}})
	}
	fqdn := jsSchema{jsType("string"), jsPatternGo(`^[a-zA-Z0-9\-._]*$`, `^[a-zA-Z0-9-._]*$`), jsMinLength(1), jsMaxLength(255)}
	if f.requestHost {
		props = append(props, jsProperty{"host", fqdn}, jsProperty{"hypervisor_hostname", fqdn})
	}
	if f.hostnameFQDN {
		props = append(props, jsProperty{"hostname", fqdn})
	} else if f.hostname {
		props = append(props, jsProperty{"hostname", jsSchema{jsType("string"),
			jsPattern(`^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$`), jsMinLength(2), jsMaxLength(63)}})
	}
	return props
}

// csSchedulerHints is _hints: a few known hints are checked, the rest
// pass (additionalProperties true).
func csSchedulerHints() jsSchema {
	uuidList := jsSchema{jsType("array"), jsItems(csUUID)}
	return jsSchema{jsType("object"), jsProperties(
		jsProperty{"group", jsSchema{jsOneOf(uuidList, csUUID)}},
		jsProperty{"different_host", jsSchema{jsOneOf(csUUID, uuidList)}},
		jsProperty{"same_host", jsSchema{jsType("string", "array"), jsItems(csUUID)}},
		jsProperty{"query", jsSchema{jsType("string", "object")}},
		jsProperty{"target_cell", csName},
		jsProperty{"different_cell", jsSchema{jsType("string", "array"), jsItems(jsSchema{jsType("string")})}},
		jsProperty{"build_near_host_ip", csIPAddress},
		jsProperty{"cidr", jsSchema{jsType("string"), jsPattern(`^/[0-9a-f.:]+$`)}},
	)}
}

// createSchemas builds the create schema of each feature set once:
// building one compiles a dozen regular expressions, which was a tenth of
// a create's CPU. A schema is only read while it validates.
type createSchemas struct {
	built sync.Map // createFeatures → jsSchema
}

func (s *createSchemas) get(f createFeatures) jsSchema {
	if v, ok := s.built.Load(f); ok {
		return v.(jsSchema)
	}
	v, _ := s.built.LoadOrStore(f, createSchema(f))
	return v.(jsSchema)
}

// createSchema is the whole body's schema at f.
func createSchema(f createFeatures) jsSchema {
	required := []string{"name", "flavorRef"}
	if f.networks237 {
		required = append(required, "networks")
	}
	server := jsObject(required, csServerProperties(f)...)
	return jsObject([]string{"server"},
		jsProperty{"server", server},
		jsProperty{"os:scheduler_hints", csSchedulerHints()},
		jsProperty{"OS-SCH-HNT:scheduler_hints", csSchedulerHints()},
	)
}
