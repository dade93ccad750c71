package compute

// Nova's POST /servers schemas (nova/api/openstack/compute/schemas/
// servers.py: create_v20, create, create_v219, v232, v233, v237, v242,
// v252, v257, v263, v267, v274, v290, v294), written as ordered keyword
// lists so the first error is Nova's.

import (
	"sync"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/mv"
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
		description:  !legacy && at(mv.V2_19),
		networkTag:   (at(mv.V2_32) && !at(mv.V2_37)) || at(mv.V2_42),
		bdmTag:       (at(mv.V2_32) && !at(mv.V2_33)) || at(mv.V2_42),
		networks237:  at(mv.V2_37),
		tags:         at(mv.V2_52),
		personality:  !at(mv.V2_57),
		trustedCerts: at(mv.V2_63),
		volumeType:   at(mv.V2_67),
		requestHost:  at(mv.V2_74),
		hostname:     at(mv.V2_90),
		hostnameFQDN: at(mv.V2_94),
	}
}

// Reused parameter types (nova/api/validation/parameter_types.py).
var (
	csName            = js.Schema{js.Type("string"), js.Format("name"), js.MinLength(1), js.MaxLength(255)}
	csLegacyName      = js.Schema{js.Type("string"), js.Format("name_with_leading_trailing_spaces"), js.MinLength(1), js.MaxLength(255)}
	csUUID            = js.Schema{js.Type("string"), js.Format("uuid")}
	csBoolean         = js.Schema{js.Type("boolean", "string"), js.Enum(csBooleanEnum()...)}
	csPositiveInteger = js.Schema{js.Type("integer", "string"), js.Pattern(`^[0-9]*$`), js.Minimum(1), js.MinLength(1)}
	csIPAddress       = js.Schema{js.Type("string"), js.OneOf(js.Schema{js.Format("ipv4")}, js.Schema{js.Format("ipv6")})}
	csPort            = js.Schema{js.Type("string", "null"), js.Format("uuid")}
	csTag             = js.Schema{js.Type("string"), js.Pattern(`^[^,/]*$`), js.MinLength(1), js.MaxLength(60)}
	csVolumeSize      = js.Schema{js.Type("integer", "string"), js.Pattern(`^[0-9]+$`), js.Minimum(1), js.Maximum(0x7FFFFFFF)}
	csString255       = js.Schema{js.Type("string"), js.MaxLength(255)}
)

func csBooleanEnum() []any {
	return []any{true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
		false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"}
}

// csMetadata is parameter_types.metadata.
func csMetadata() js.Schema {
	s := js.Schema{js.Type("object")}
	return append(s, js.PatternProperties(`^[a-zA-Z0-9\-_:. ]{1,255}$`, `^[a-zA-Z0-9-_:. ]{1,255}$`, js.Schema{js.Type("string"), js.MaxLength(255)})...)
}

// csDescription is parameter_types.description.
func csDescription() js.Schema {
	return js.Schema{js.Type("string", "null"), csDescriptionPattern(), js.MinLength(0), js.MaxLength(255)}
}

// csDescriptionPattern is the printable-characters pattern; Nova's message
// shows its generated regex, which is too long to reproduce usefully, so
// the check reports the value as not matching the description pattern.
func csDescriptionPattern() js.Keyword {
	return func(_ *js.Run, path []string, v any) *js.Failure {
		if s, ok := v.(string); ok && !js.Printable(s) {
			return js.FailAt(path, v, "%s does not match the description pattern (printable characters)", api.PyRepr(v))
		}
		return nil
	}
}

// csLegacyBDMProperties are _legacy_block_device_mapping's properties.
func csLegacyBDMProperties() []js.Property {
	return []js.Property{
		{Name: "virtual_name", Schema: csString255},
		{Name: "volume_id", Schema: csUUID},
		{Name: "snapshot_id", Schema: csUUID},
		{Name: "volume_size", Schema: csVolumeSize},
		{Name: "device_name", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255), js.PatternGo(`^[a-zA-Z0-9._/\-]*$`, `^[a-zA-Z0-9._/-]*$`)}},
		{Name: "delete_on_termination", Schema: csBoolean},
		{Name: "no_device", Schema: js.Schema{}},
		{Name: "connection_info", Schema: js.Schema{js.Type("string"), js.MaxLength(16777215)}},
	}
}

// csBDMv2Properties are _block_device_mapping_v2's properties at f.
func csBDMv2Properties(f createFeatures) []js.Property {
	props := csLegacyBDMProperties()
	props = append(props,
		js.Property{Name: "source_type", Schema: js.Schema{js.Type("string"), js.Enum("volume", "image", "snapshot", "blank")}},
		js.Property{Name: "uuid", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255), js.PatternGo(`^[a-zA-Z0-9._\-]*$`, `^[a-zA-Z0-9._-]*$`)}},
		js.Property{Name: "image_id", Schema: csUUID},
		js.Property{Name: "destination_type", Schema: js.Schema{js.Type("string"), js.Enum("local", "volume")}},
		js.Property{Name: "guest_format", Schema: csString255},
		js.Property{Name: "device_type", Schema: csString255},
		js.Property{Name: "disk_bus", Schema: csString255},
		js.Property{Name: "boot_index", Schema: js.Schema{js.Type("integer", "string", "null"), js.Pattern(`^-?[0-9]+$`)}},
	)
	if f.bdmTag {
		props = append(props, js.Property{Name: "tag", Schema: csTag})
	}
	if f.volumeType {
		props = append(props, js.Property{Name: "volume_type", Schema: js.Schema{js.Type("string", "null"), js.MinLength(0), js.MaxLength(255)}})
	}
	return props
}

// csNetworkItem are a networks list entry's properties.
func csNetworkItem(f createFeatures) []js.Property {
	uuidProp := js.Schema{js.Type("string")}
	if f.networks237 {
		uuidProp = csUUID
	}
	props := []js.Property{{Name: "fixed_ip", Schema: csIPAddress}, {Name: "port", Schema: csPort}, {Name: "uuid", Schema: uuidProp}}
	if f.networkTag {
		props = append(props, js.Property{Name: "tag", Schema: csTag})
	}
	return props
}

func csNetworks(f createFeatures) js.Schema {
	list := js.Schema{js.Type("array"), js.Items(js.Object(nil, csNetworkItem(f)...))}
	if !f.networks237 {
		return list
	}
	return js.Schema{js.OneOf(list, js.Schema{js.Type("string"), js.Enum("none", "auto")})}
}

// csServerProperties lists the server object's properties in Nova's order.
func csServerProperties(f createFeatures) []js.Property {
	name, userData := csName, js.Schema{js.Type("string"), js.Format("base64"), js.MaxLength(65535)}
	if f.legacy {
		name = csLegacyName
		userData = js.Schema{js.Type("string", "null"), js.Format("base64"), js.MaxLength(65535)}
	}
	props := []js.Property{
		{Name: "name", Schema: name},
		{Name: "imageRef", Schema: js.Schema{js.OneOf(csUUID, js.Schema{js.Type("string"), js.MaxLength(0)})}},
		{Name: "flavorRef", Schema: js.Schema{js.Type("string", "integer"), js.MinLength(1)}},
		{Name: "adminPass", Schema: js.Schema{js.Type("string")}},
		{Name: "metadata", Schema: csMetadata()},
		{Name: "networks", Schema: csNetworks(f)},
		{Name: "OS-DCF:diskConfig", Schema: js.Schema{js.Type("string"), js.Enum("AUTO", "MANUAL")}},
		{Name: "accessIPv4", Schema: js.Schema{js.Type("string"), js.Format("ipv4")}},
		{Name: "accessIPv6", Schema: js.Schema{js.Type("string"), js.Format("ipv6")}},
	}
	if f.personality {
		props = append(props, js.Property{Name: "personality", Schema: js.Schema{js.Type("array"), js.Items(js.Object(nil,
			js.Property{Name: "path", Schema: js.Schema{js.Type("string")}},
			js.Property{Name: "contents", Schema: js.Schema{js.Type("string"), js.Format("base64")}},
		))}})
	}
	props = append(props,
		js.Property{Name: "availability_zone", Schema: name},
		js.Property{Name: "block_device_mapping", Schema: js.Schema{js.Type("array"), js.Items(js.Object(nil, csLegacyBDMProperties()...))}},
		js.Property{Name: "block_device_mapping_v2", Schema: js.Schema{js.Type("array"), js.Items(js.Object(nil, csBDMv2Properties(f)...))}},
		js.Property{Name: "config_drive", Schema: csBoolean},
		js.Property{Name: "key_name", Schema: name},
		js.Property{Name: "min_count", Schema: csPositiveInteger},
		js.Property{Name: "max_count", Schema: csPositiveInteger},
		js.Property{Name: "return_reservation_id", Schema: csBoolean},
		js.Property{Name: "security_groups", Schema: js.Schema{js.Type("array"), js.Items(js.Object(nil, js.Property{Name: "name", Schema: name}))}},
		js.Property{Name: "user_data", Schema: userData},
	)
	if f.description {
		props = append(props, js.Property{Name: "description", Schema: csDescription()})
	}
	if f.tags {
		props = append(props, js.Property{Name: "tags", Schema: js.Schema{js.Type("array"), js.Items(csTag), js.MaxItems(50)}})
	}
	if f.trustedCerts {
		props = append(props, js.Property{Name: "trusted_image_certificates", Schema: js.Schema{js.Type("array", "null"),
			js.MinItems(1), js.MaxItems(50), js.UniqueItems(), js.Items(js.Schema{js.Type("string"), js.MinLength(1)})}})
	}
	fqdn := js.Schema{js.Type("string"), js.PatternGo(`^[a-zA-Z0-9\-._]*$`, `^[a-zA-Z0-9-._]*$`), js.MinLength(1), js.MaxLength(255)}
	if f.requestHost {
		props = append(props, js.Property{Name: "host", Schema: fqdn}, js.Property{Name: "hypervisor_hostname", Schema: fqdn})
	}
	if f.hostnameFQDN {
		props = append(props, js.Property{Name: "hostname", Schema: fqdn})
	} else if f.hostname {
		props = append(props, js.Property{Name: "hostname", Schema: js.Schema{js.Type("string"),
			js.Pattern(`^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$`), js.MinLength(2), js.MaxLength(63)}})
	}
	return props
}

// csSchedulerHints is _hints: a few known hints are checked, the rest
// pass (additionalProperties true).
func csSchedulerHints() js.Schema {
	uuidList := js.Schema{js.Type("array"), js.Items(csUUID)}
	return js.Schema{js.Type("object"), js.Properties(
		js.Property{Name: "group", Schema: js.Schema{js.OneOf(uuidList, csUUID)}},
		js.Property{Name: "different_host", Schema: js.Schema{js.OneOf(csUUID, uuidList)}},
		js.Property{Name: "same_host", Schema: js.Schema{js.Type("string", "array"), js.Items(csUUID)}},
		js.Property{Name: "query", Schema: js.Schema{js.Type("string", "object")}},
		js.Property{Name: "target_cell", Schema: csName},
		js.Property{Name: "different_cell", Schema: js.Schema{js.Type("string", "array"), js.Items(js.Schema{js.Type("string")})}},
		js.Property{Name: "build_near_host_ip", Schema: csIPAddress},
		js.Property{Name: "cidr", Schema: js.Schema{js.Type("string"), js.Pattern(`^/[0-9a-f.:]+$`)}},
	)}
}

// createSchemas builds the create schema of each feature set once:
// building one compiles a dozen regular expressions, which was a tenth of
// a create's CPU. A schema is only read while it validates.
type createSchemas struct {
	built sync.Map // createFeatures → js.Schema
}

func (s *createSchemas) get(f createFeatures) js.Schema {
	if v, ok := s.built.Load(f); ok {
		return v.(js.Schema)
	}
	v, _ := s.built.LoadOrStore(f, createSchema(f))
	return v.(js.Schema)
}

// createSchema is the whole body's schema at f.
func createSchema(f createFeatures) js.Schema {
	required := []string{"name", "flavorRef"}
	if f.networks237 {
		required = append(required, "networks")
	}
	server := js.Object(required, csServerProperties(f)...)
	return js.Object([]string{"server"},
		js.Property{Name: "server", Schema: server},
		js.Property{Name: "os:scheduler_hints", Schema: csSchedulerHints()},
		js.Property{Name: "OS-SCH-HNT:scheduler_hints", Schema: csSchedulerHints()},
	)
}
