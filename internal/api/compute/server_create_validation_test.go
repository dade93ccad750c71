package compute_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

const (
	netA  = "3cb9bc59-5699-4588-a4b1-b87f96708bc6"
	portA = "a0d0a4c4-34d3-4b2e-8e6a-3f1f8a0e9c11"
)

// createCase is one POST /servers and the answer Nova gives.
type createCase struct {
	name    string
	version string
	admin   bool
	extra   map[string]any // server keys to set (nil values remove the key)
	top     map[string]any // keys beside "server"
	raw     string         // the whole body, instead of extra and top
	status  int
	// msg is the exact fault message ("{image}" stands for the image id);
	// suffix, when set instead, is how the message ends.
	msg, suffix string
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

func manyKeys(n int) map[string]any {
	m := map[string]any{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("k%03d", i)] = "v"
	}
	return m
}

func manyFiles(n int, path string) []any {
	files := make([]any, n)
	for i := range files {
		files[i] = map[string]any{"path": path, "contents": "YQ=="}
	}
	return files
}

func createSchemaCases() []createCase {
	booleans := "[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"
	return []createCase{
		{name: "body not an object", version: "2.1", raw: `[]`, status: 400, msg: "[] is not of type 'object'"},
		{name: "no server", version: "2.1", raw: `{"servers": {}}`, status: 400, msg: "'server' is a required property"},
		{name: "no name", version: "2.1", raw: `{"server": {"flavorRef": "1"}}`, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1'}. 'name' is a required property"},
		{name: "key order kept", version: "2.1", raw: `{"server": {"name": "x", "flavorRef": "1", "zzz": 1, "aaa": 2}}`, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'name': 'x', 'flavorRef': '1', 'zzz': 1, 'aaa': 2}. Additional properties are not allowed ('aaa', 'zzz' were unexpected)"},
		{name: "unknown server key", version: "2.1", extra: map[string]any{"foo": 1}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1', 'foo': 1, 'imageRef': '{image}', 'name': 'web'}. Additional properties are not allowed ('foo' was unexpected)"},
		{name: "unknown top key", version: "2.1", top: map[string]any{"foo": 1}, status: 400, msg: "Additional properties are not allowed ('foo' was unexpected)"},
		{name: "name type", version: "2.1", extra: map[string]any{"name": 1}, status: 400, msg: "Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'"},
		{name: "name spaces", version: "2.1", extra: map[string]any{"name": " web"}, status: 400,
			msg: "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{name: "name empty", version: "2.1", extra: map[string]any{"name": ""}, status: 400, msg: "Invalid input for field/attribute name. Value: . '' should be non-empty"},
		{name: "name long", version: "2.1", extra: map[string]any{"name": repeat("n", 256)}, status: 400, suffix: "' is too long"},
		{name: "imageRef not uuid", version: "2.1", extra: map[string]any{"imageRef": "abc"}, status: 400,
			msg: "Invalid input for field/attribute imageRef. Value: abc. 'abc' is not valid under any of the given schemas"},
		{name: "imageRef url", version: "2.1", extra: map[string]any{"imageRef": "http://glance/v2/images/" + netA}, status: 400,
			msg: "Invalid input for field/attribute imageRef. Value: http://glance/v2/images/" + netA + ". 'http://glance/v2/images/" + netA + "' is not valid under any of the given schemas"},
		{name: "flavorRef empty", version: "2.1", extra: map[string]any{"flavorRef": ""}, status: 400, msg: "Invalid input for field/attribute flavorRef. Value: . '' should be non-empty"},
		{name: "flavorRef bool", version: "2.1", extra: map[string]any{"flavorRef": true}, status: 400,
			msg: "Invalid input for field/attribute flavorRef. Value: True. True is not of type 'string', 'integer'"},
		{name: "metadata value type", version: "2.1", extra: map[string]any{"metadata": map[string]any{"k": 1}}, status: 400,
			msg: "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'"},
		{name: "metadata key", version: "2.1", extra: map[string]any{"metadata": map[string]any{"a/b": "v"}}, status: 400,
			msg: "Invalid input for field/attribute metadata. Value: {'a/b': 'v'}. 'a/b' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
		{name: "diskConfig", version: "2.1", extra: map[string]any{"OS-DCF:diskConfig": "auto"}, status: 400,
			msg: "Invalid input for field/attribute OS-DCF:diskConfig. Value: auto. 'auto' is not one of ['AUTO', 'MANUAL']"},
		{name: "accessIPv4", version: "2.1", extra: map[string]any{"accessIPv4": "1.2.3"}, status: 400,
			msg: "Invalid input for field/attribute accessIPv4. Value: 1.2.3. '1.2.3' is not a 'ipv4'"},
		{name: "accessIPv6", version: "2.1", extra: map[string]any{"accessIPv6": "1.2.3.4"}, status: 400,
			msg: "Invalid input for field/attribute accessIPv6. Value: 1.2.3.4. '1.2.3.4' is not a 'ipv6'"},
		{name: "personality base64", version: "2.1", extra: map[string]any{"personality": []any{map[string]any{"path": "/a", "contents": "abc"}}}, status: 400,
			msg: "Invalid input for field/attribute contents. Value: abc. 'abc' is not a 'base64'"},
		{name: "personality gone", version: "2.57", extra: map[string]any{"personality": []any{map[string]any{"path": "/a", "contents": "YQ=="}}}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1', 'imageRef': '{image}', 'name': 'web', 'networks': 'auto', 'personality': [{'contents': 'YQ==', 'path': '/a'}]}. Additional properties are not allowed ('personality' was unexpected)"},
		{name: "user_data base64", version: "2.1", extra: map[string]any{"user_data": "abc"}, status: 400,
			msg: "Invalid input for field/attribute user_data. Value: abc. 'abc' is not a 'base64'"},
		{name: "user_data long", version: "2.1", extra: map[string]any{"user_data": repeat("A", 65536)}, status: 400, suffix: "' is too long"},
		{name: "min_count zero", version: "2.1", extra: map[string]any{"min_count": 0}, status: 400,
			msg: "Invalid input for field/attribute min_count. Value: 0. 0 is less than the minimum of 1"},
		{name: "min_count string zero", version: "2.1", extra: map[string]any{"min_count": "0"}, status: 400,
			msg: "Invalid input for field/attribute min_count. Value: 0. 0 is less than the minimum of 1"},
		{name: "min_count letters", version: "2.1", extra: map[string]any{"min_count": "a"}, status: 400,
			msg: "Invalid input for field/attribute min_count. Value: a. 'a' does not match '^[0-9]*$'"},
		{name: "min_count fraction", version: "2.1", extra: map[string]any{"min_count": 1.5}, status: 400,
			msg: "Invalid input for field/attribute min_count. Value: 1.5. 1.5 is not of type 'integer', 'string'"},
		{name: "min over max", version: "2.1", extra: map[string]any{"min_count": 3, "max_count": "2"}, status: 400, msg: "min_count must be <= max_count"},
		{name: "return_reservation_id", version: "2.1", extra: map[string]any{"return_reservation_id": "maybe"}, status: 400,
			msg: "Invalid input for field/attribute return_reservation_id. Value: maybe. 'maybe' is not one of " + booleans},
		{name: "config_drive", version: "2.1", extra: map[string]any{"config_drive": 2}, status: 400,
			msg: "Invalid input for field/attribute config_drive. Value: 2. 2 is not of type 'boolean', 'string'"},
		{name: "security group name", version: "2.1", extra: map[string]any{"security_groups": []any{map[string]any{"name": ""}}}, status: 400,
			msg: "Invalid input for field/attribute name. Value: . '' should be non-empty"},
		{name: "security group keys", version: "2.1", extra: map[string]any{"security_groups": []any{map[string]any{"id": "x"}}}, status: 400,
			msg: "Invalid input for field/attribute 0. Value: {'id': 'x'}. Additional properties are not allowed ('id' was unexpected)"},
		{name: "hints group", version: "2.1", top: map[string]any{"os:scheduler_hints": map[string]any{"group": "x"}}, status: 400,
			msg: "Invalid input for field/attribute group. Value: x. 'x' is not valid under any of the given schemas"},
		{name: "hints alias", version: "2.1", top: map[string]any{"OS-SCH-HNT:scheduler_hints": map[string]any{"same_host": []any{"x"}}}, status: 400,
			msg: "Invalid input for field/attribute 0. Value: x. 'x' is not a 'uuid'"},
		{name: "hints free form", version: "2.1", top: map[string]any{"os:scheduler_hints": map[string]any{"anything": []any{1}}}, status: 202},
	}
}

func createNetworkCases() []createCase {
	return []createCase{
		{name: "string before 2.37", version: "2.36", extra: map[string]any{"networks": "auto"}, status: 400,
			msg: "Invalid input for field/attribute networks. Value: auto. 'auto' is not of type 'array'"},
		{name: "absent before 2.37", version: "2.36", status: 202},
		{name: "required from 2.37", version: "2.37", extra: map[string]any{"networks": nil}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1', 'imageRef': '{image}', 'name': 'web'}. 'networks' is a required property"},
		{name: "required at 2.104", version: "2.104", extra: map[string]any{"networks": nil}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1', 'imageRef': '{image}', 'name': 'web'}. 'networks' is a required property"},
		{name: "none", version: "2.37", extra: map[string]any{"networks": "none"}, status: 202},
		{name: "bad enum", version: "2.37", extra: map[string]any{"networks": "foo"}, status: 400,
			msg: "Invalid input for field/attribute networks. Value: foo. 'foo' is not valid under any of the given schemas"},
		{name: "uuid format before 2.37", version: "2.1", extra: map[string]any{"networks": []any{map[string]any{"uuid": "net"}}}, status: 400,
			msg: "Bad networks format: network uuid is not in proper format (net)"},
		{name: "uuid format from 2.37", version: "2.37", extra: map[string]any{"networks": []any{map[string]any{"uuid": "net"}}}, status: 400,
			msg: "Invalid input for field/attribute networks. Value: [{'uuid': 'net'}]. [{'uuid': 'net'}] is not valid under any of the given schemas"},
		{name: "missing uuid", version: "2.1", extra: map[string]any{"networks": []any{map[string]any{"fixed_ip": "10.0.0.5"}}}, status: 400,
			msg: "Bad network format: missing 'uuid'"},
		{name: "fixed ip format", version: "2.1", extra: map[string]any{"networks": []any{map[string]any{"uuid": netA, "fixed_ip": "1.2.3"}}}, status: 400,
			msg: "Invalid input for field/attribute fixed_ip. Value: 1.2.3. '1.2.3' is not valid under any of the given schemas"},
		{name: "port and fixed ip", version: "2.1", extra: map[string]any{"networks": []any{map[string]any{"port": portA, "fixed_ip": "10.0.0.5"}}}, status: 400,
			msg: "Specified Fixed IP '10.0.0.5' cannot be used with port '" + portA + "': the two cannot be specified together."},
		{name: "port twice", version: "2.1", extra: map[string]any{"networks": []any{map[string]any{"port": portA}, map[string]any{"port": portA}}}, status: 400,
			msg: "Port ID '" + portA + "' was specified twice: you cannot attach a port multiple times."},
		{name: "tag before 2.32", version: "2.31", extra: map[string]any{"networks": []any{map[string]any{"uuid": netA, "tag": "nic1"}}}, status: 400,
			msg: "Invalid input for field/attribute 0. Value: {'tag': 'nic1', 'uuid': '" + netA + "'}. Additional properties are not allowed ('tag' was unexpected)"},
		{name: "tag at 2.33", version: "2.33", extra: map[string]any{"networks": []any{map[string]any{"uuid": netA, "tag": "nic1"}}}, status: 202},
		{name: "tag at 2.37", version: "2.37", extra: map[string]any{"networks": []any{map[string]any{"uuid": netA, "tag": "nic1"}}}, status: 400,
			msg: "Invalid input for field/attribute networks. Value: [{'tag': 'nic1', 'uuid': '" + netA + "'}]. [{'tag': 'nic1', 'uuid': '" + netA + "'}] is not valid under any of the given schemas"},
		{name: "tag at 2.42", version: "2.42", extra: map[string]any{"networks": []any{map[string]any{"uuid": netA, "tag": "nic1"}}}, status: 202},
		{name: "fixed ip with max_count", version: "2.1", extra: map[string]any{"max_count": 2, "networks": []any{map[string]any{"uuid": netA, "fixed_ip": "10.0.0.5"}}}, status: 400,
			msg: "Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified."},
		{name: "port with max_count", version: "2.1", extra: map[string]any{"max_count": 2, "networks": []any{map[string]any{"port": portA}}}, status: 400,
			msg: "Failed to launch instances: Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports."},
	}
}

func createVersionedFieldCases() []createCase {
	return []createCase{
		{name: "description before 2.19", version: "2.18", extra: map[string]any{"description": "d"}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'description': 'd', 'flavorRef': '1', 'imageRef': '{image}', 'name': 'web'}. Additional properties are not allowed ('description' was unexpected)"},
		{name: "description long", version: "2.19", extra: map[string]any{"description": repeat("d", 256)}, status: 400, suffix: "' is too long"},
		{name: "tags before 2.52", version: "2.51", extra: map[string]any{"tags": []any{"a"}}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1', 'imageRef': '{image}', 'name': 'web', 'networks': 'auto', 'tags': ['a']}. Additional properties are not allowed ('tags' was unexpected)"},
		{name: "tag slash", version: "2.52", extra: map[string]any{"tags": []any{"a/b"}}, status: 400,
			msg: "Invalid input for field/attribute 0. Value: a/b. 'a/b' does not match '^[^,/]*$'"},
		{name: "tag long", version: "2.52", extra: map[string]any{"tags": []any{repeat("t", 61)}}, status: 400, suffix: "' is too long"},
		{name: "too many tags", version: "2.52", extra: map[string]any{"tags": func() []any {
			tags := make([]any, 51)
			for i := range tags {
				tags[i] = fmt.Sprint(i)
			}
			return tags
		}()}, status: 400, suffix: "'50'] is too long"},
		{name: "trusted certs before 2.63", version: "2.62", extra: map[string]any{"trusted_image_certificates": []any{"a"}}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1', 'imageRef': '{image}', 'name': 'web', 'networks': 'auto', 'trusted_image_certificates': ['a']}. Additional properties are not allowed ('trusted_image_certificates' was unexpected)"},
		{name: "trusted certs empty", version: "2.63", extra: map[string]any{"trusted_image_certificates": []any{}}, status: 400,
			msg: "Invalid input for field/attribute trusted_image_certificates. Value: []. [] should be non-empty"},
		{name: "trusted certs repeated", version: "2.63", extra: map[string]any{"trusted_image_certificates": []any{"a", "a"}}, status: 400,
			msg: "Invalid input for field/attribute trusted_image_certificates. Value: ['a', 'a']. ['a', 'a'] has non-unique elements"},
		{name: "trusted certs", version: "2.63", extra: map[string]any{"trusted_image_certificates": []any{"a"}}, status: 202},
		{name: "trusted certs null", version: "2.63", extra: map[string]any{"trusted_image_certificates": nil}, status: 202},
		{name: "hostname before 2.90", version: "2.89", extra: map[string]any{"hostname": "web"}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1', 'hostname': 'web', 'imageRef': '{image}', 'name': 'web', 'networks': 'auto'}. Additional properties are not allowed ('hostname' was unexpected)"},
		{name: "hostname pattern", version: "2.90", extra: map[string]any{"hostname": "a_b"}, status: 400,
			msg: "Invalid input for field/attribute hostname. Value: a_b. 'a_b' does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'"},
		{name: "hostname fqdn at 2.90", version: "2.90", extra: map[string]any{"hostname": "web.example.com"}, status: 400,
			msg: "Invalid input for field/attribute hostname. Value: web.example.com. 'web.example.com' does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'"},
		{name: "hostname fqdn at 2.94", version: "2.94", extra: map[string]any{"hostname": "web.example.com"}, status: 202},
		{name: "hostname with max_count", version: "2.90", extra: map[string]any{"hostname": "web", "max_count": 2}, status: 400,
			msg: "Unable to allocate a single hostname to multiple instances"},
	}
}

func createPlacementCases() []createCase {
	return []createCase{
		{name: "host needs admin", version: "2.74", extra: map[string]any{"host": "fake-host"}, status: 403,
			msg: "Policy doesn't allow compute:servers:create:requested_destination to be performed."},
		{name: "node needs admin", version: "2.74", extra: map[string]any{"hypervisor_hostname": "fake-host"}, status: 403,
			msg: "Policy doesn't allow compute:servers:create:requested_destination to be performed."},
		{name: "host before 2.74", version: "2.73", admin: true, extra: map[string]any{"host": "fake-host"}, status: 400,
			msg: "Invalid input for field/attribute server. Value: {'flavorRef': '1', 'host': 'fake-host', 'imageRef': '{image}', 'name': 'web', 'networks': 'auto'}. Additional properties are not allowed ('host' was unexpected)"},
		{name: "host pattern", version: "2.74", admin: true, extra: map[string]any{"host": "a b"}, status: 400,
			msg: "Invalid input for field/attribute host. Value: a b. 'a b' does not match '^[a-zA-Z0-9-._]*$'"},
		{name: "unknown host", version: "2.74", admin: true, extra: map[string]any{"host": "nohost"}, status: 400, msg: "Compute host nohost could not be found."},
		{name: "node of another host", version: "2.74", admin: true, extra: map[string]any{"host": "fake-host", "hypervisor_hostname": "other"}, status: 400,
			msg: "Compute host fake-host could not be found."},
		{name: "host and node", version: "2.74", admin: true, extra: map[string]any{"host": "fake-host", "hypervisor_hostname": "fake-host"}, status: 202},
		{name: "unknown node", version: "2.74", admin: true, extra: map[string]any{"hypervisor_hostname": "nonode"}, status: 400, msg: "Compute host nonode could not be found."},
		{name: "host and forced host", version: "2.74", admin: true, extra: map[string]any{"host": "fake-host", "availability_zone": "nova:fake-host"}, status: 400,
			msg: "One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive."},
		{name: "forced host needs admin", version: "2.1", extra: map[string]any{"availability_zone": "nova:fake-host"}, status: 403,
			msg: "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed."},
		{name: "forced node needs admin", version: "2.1", extra: map[string]any{"availability_zone": "nova::fake-host"}, status: 403,
			msg: "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed."},
		{name: "forced host", version: "2.1", admin: true, extra: map[string]any{"availability_zone": "nova:fake-host"}, status: 202},
		{name: "zone unparsable", version: "2.1", extra: map[string]any{"availability_zone": "a:b:c:d"}, status: 400,
			msg: "Invalid input received: Unable to parse availability_zone"},
		{name: "unknown zone", version: "2.1", extra: map[string]any{"availability_zone": "nowhere"}, status: 400, msg: "The requested availability zone is not available"},
		{name: "known zone", version: "2.1", extra: map[string]any{"availability_zone": "nova"}, status: 202},
	}
}

func createReferenceCases() []createCase {
	return []createCase{
		{name: "no imageRef", version: "2.1", extra: map[string]any{"imageRef": nil}, status: 400, msg: "Missing imageRef attribute"},
		{name: "empty imageRef", version: "2.1", extra: map[string]any{"imageRef": ""}, status: 400, msg: "Missing imageRef attribute"},
		{name: "unknown image", version: "2.1", extra: map[string]any{"imageRef": netA}, status: 400, msg: "Can not find requested image"},
		{name: "unknown flavor", version: "2.1", extra: map[string]any{"flavorRef": "999"}, status: 400, msg: "Flavor 999 could not be found."},
		{name: "flavor url", version: "2.1", extra: map[string]any{"flavorRef": "http://openstack.example.com/flavors/999"}, status: 400, msg: "Flavor 999 could not be found."},
		{name: "flavor as url", version: "2.1", extra: map[string]any{"flavorRef": "http://openstack.example.com/flavors/1"}, status: 202},
		{name: "flavor as integer", version: "2.1", extra: map[string]any{"flavorRef": 1}, status: 202},
		{name: "unknown key", version: "2.1", extra: map[string]any{"key_name": "nokey"}, status: 400, msg: "Invalid key_name provided."},
		{name: "two bdm syntaxes", version: "2.1", extra: map[string]any{
			"block_device_mapping":    []any{map[string]any{"device_name": "vdb", "volume_id": netA}},
			"block_device_mapping_v2": []any{map[string]any{"source_type": "blank", "destination_type": "local", "boot_index": -1}},
		}, status: 400, msg: "Using different block_device_mapping syntaxes is not allowed in the same request."},
		{name: "boot from volume", version: "2.1", extra: map[string]any{"imageRef": "", "block_device_mapping_v2": []any{
			map[string]any{"source_type": "volume", "uuid": netA, "destination_type": "volume", "boot_index": 0}}},
			status: 400, msg: "Block Device Mapping is Invalid: failed to get volume " + netA + "."},
		{name: "legacy volume", version: "2.1", extra: map[string]any{"block_device_mapping": []any{map[string]any{"device_name": "vdb", "volume_id": netA}}},
			status: 400, msg: "Block Device Mapping is Invalid: failed to get volume " + netA + "."},
		{name: "snapshot", version: "2.1", extra: map[string]any{"block_device_mapping_v2": []any{
			map[string]any{"source_type": "snapshot", "uuid": netA, "destination_type": "volume", "boot_index": 1}}},
			status: 400, msg: "Block Device Mapping is Invalid: failed to get snapshot " + netA + "."},
		{name: "unknown volume type", version: "2.67", extra: map[string]any{"block_device_mapping_v2": []any{
			map[string]any{"source_type": "blank", "destination_type": "volume", "boot_index": 1, "volume_size": 1, "volume_type": "nosuch"}}},
			status: 400, msg: "Volume type nosuch could not be found."},
		{name: "image to volume", version: "2.1", extra: map[string]any{"block_device_mapping_v2": []any{
			map[string]any{"source_type": "image", "uuid": netA, "destination_type": "volume", "boot_index": 0, "volume_size": 1}}},
			status: 400, msg: "Block Device Mapping is Invalid: failed to get image " + netA + "."},
		{name: "image to local without imageRef", version: "2.1", extra: map[string]any{"imageRef": nil, "block_device_mapping_v2": []any{
			map[string]any{"source_type": "image", "uuid": netA, "destination_type": "local", "boot_index": 0}}},
			status: 400, msg: "Block Device Mapping is Invalid: Mapping image to local is not supported."},
		{name: "image to local", version: "2.1", extra: map[string]any{"block_device_mapping_v2": []any{
			map[string]any{"source_type": "image", "uuid": "{image}", "destination_type": "local", "boot_index": "0"}}}, status: 202},
		{name: "blank with uuid", version: "2.1", extra: map[string]any{"block_device_mapping_v2": []any{
			map[string]any{"source_type": "blank", "uuid": netA, "destination_type": "local"}}},
			status: 400, msg: "Block Device Mapping is Invalid: Invalid device UUID."},
		{name: "volume without uuid", version: "2.1", extra: map[string]any{"block_device_mapping_v2": []any{
			map[string]any{"source_type": "volume", "destination_type": "volume"}}},
			status: 400, msg: "Block Device Mapping is Invalid: Missing device UUID."},
		{name: "bdm source type", version: "2.1", extra: map[string]any{"block_device_mapping_v2": []any{map[string]any{"source_type": "disk"}}},
			status: 400, msg: "Invalid input for field/attribute source_type. Value: disk. 'disk' is not one of ['volume', 'image', 'snapshot', 'blank']"},
		{name: "bdm tag at 2.33", version: "2.33", extra: map[string]any{"block_device_mapping_v2": []any{map[string]any{"source_type": "blank", "tag": "t"}}},
			status: 400, msg: "Invalid input for field/attribute 0. Value: {'source_type': 'blank', 'tag': 't'}. Additional properties are not allowed ('tag' was unexpected)"},
		{name: "trusted certs and volume", version: "2.63", extra: map[string]any{"imageRef": "", "trusted_image_certificates": []any{"a"},
			"block_device_mapping_v2": []any{map[string]any{"source_type": "volume", "uuid": netA, "destination_type": "volume", "boot_index": 0}}},
			status: 400, msg: "Image certificate validation is not supported when booting from volume"},
		{name: "metadata quota", version: "2.1", extra: map[string]any{"metadata": manyKeys(129)}, status: 403, msg: "Maximum number of metadata items exceeds 128"},
		{name: "personality count", version: "2.1", extra: map[string]any{"personality": manyFiles(6, "/a")}, status: 403, msg: "Personality file limit exceeded"},
		{name: "personality path", version: "2.1", extra: map[string]any{"personality": manyFiles(1, "/"+repeat("p", 255))}, status: 403,
			msg: "Personality file path exceeds maximum 255"},
		{name: "personality", version: "2.56", extra: map[string]any{"personality": manyFiles(5, "/a")}, status: 202},
	}
}

// TestServerCreateValidation sends invalid (and borderline valid) bodies
// and expects Nova's status and message for each.
func TestServerCreateValidation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		// Cases per engine: their bodies are resolved against its cloud.
		groups := map[string][]createCase{
			"schema": createSchemaCases(), "networks": createNetworkCases(), "versioned": createVersionedFieldCases(),
			"placement": createPlacementCases(), "references": createReferenceCases(),
		}
		cc := newCreateCloud(t, database)
		n := 0
		for group, cases := range groups {
			for _, tc := range cases {
				n++
				t.Run(group+"/"+tc.version+"/"+tc.name, func(t *testing.T) {
					// Each case has a project of its own, so that the ones
					// that succeed stay within the instance quota.
					token := fmt.Sprintf("u%d:p%d", n, n)
					if tc.admin {
						token = adminToken
					}
					var body any = tc.raw
					if tc.raw == "" {
						extra := resolveImage(tc.extra, cc.ImageID)
						if tc.status == 202 { // netA stands for the project's network
							_, project, _ := strings.Cut(token, ":")
							extra = resolveNetwork(extra, cc.networkOf(t, project))
						}
						b := cc.body(tc.version, extra)
						for k, v := range tc.top {
							b[k] = v
						}
						body = b
					}
					r := cc.client.As(token, tc.version).Do("POST", "/v2.1/servers", body).Expect(t, tc.status)
					if tc.status == 202 {
						if _, ok := r.JSON(t)["server"]; !ok {
							t.Fatalf("no server: %s", r.Body)
						}
						return
					}
					got := faultMessage(t, r)
					want := strings.ReplaceAll(tc.msg, "{image}", cc.ImageID)
					if tc.suffix != "" && !strings.HasSuffix(got, tc.suffix) || tc.suffix == "" && got != want {
						t.Fatalf("message\n got %q\nwant %q%s", got, want, tc.suffix)
					}
				})
			}
		}
	})
}

// resolveImage replaces "{image}" values in BDM entries with the image id.
func resolveImage(extra map[string]any, imageID string) map[string]any {
	for _, item := range createListOf(extra["block_device_mapping_v2"]) {
		if m, ok := item.(map[string]any); ok && m["uuid"] == "{image}" {
			m["uuid"] = imageID
		}
	}
	return extra
}

// resolveNetwork replaces netA in requested networks with the id of a
// real network.
func resolveNetwork(extra map[string]any, netID string) map[string]any {
	for _, item := range createListOf(extra["networks"]) {
		if m, ok := item.(map[string]any); ok && m["uuid"] == netA {
			m["uuid"] = netID
		}
	}
	return extra
}

func createListOf(v any) []any {
	l, _ := v.([]any)
	return l
}
