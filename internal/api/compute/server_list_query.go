package compute

// The servers list query schema (Nova's index_query, index_query_v226,
// v266, v273 and v275) and the filters non-admins may use.

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/mv"
)

// Nova's sort keys: valid before 2.73, and ignored though accepted.
var (
	serverSortKeys = []string{"access_ip_v4", "access_ip_v6", "auto_disk_config",
		"availability_zone", "config_drive", "created_at",
		"display_description", "display_name", "host", "hostname",
		"image_ref", "instance_type_id", "kernel_id", "key_name",
		"launch_index", "launched_at", "locked_by", "node", "power_state",
		"progress", "project_id", "ramdisk_id", "root_device_name",
		"task_state", "terminated_at", "updated_at", "user_id", "uuid",
		"vm_state"}
	serverIgnoredSortKeys = []string{"architecture", "cell_name", "cleaned", "default_ephemeral_device",
		"default_swap_device", "deleted", "deleted_at", "disable_terminate",
		"ephemeral_gb", "ephemeral_key_uuid", "id", "key_data", "launched_on",
		"locked", "memory_mb", "os_type", "reservation_id", "root_gb",
		"shutdown_terminate", "user_data", "vcpus", "vm_mode"}
)

// ignoredSortKeys are dropped from the sort at c's version (2.73 makes
// "locked" a real key).
func ignoredSortKeys(c *api.Call) []string {
	if !c.AtLeast(mv.V2_73) {
		return serverIgnoredSortKeys
	}
	var out []string
	for _, k := range serverIgnoredSortKeys {
		if k != "locked" {
			out = append(out, k)
		}
	}
	return out
}

// validSortKeys is the sort_key enum at c's version; from 2.75 the
// ignored keys are invalid.
func validSortKeys(c *api.Call) []string {
	keys := append([]string(nil), serverSortKeys...)
	if c.AtLeast(mv.V2_73) {
		keys = append([]string{"locked"}, keys...)
	}
	if !c.AtLeast(mv.V2_75) {
		keys = append(keys, ignoredSortKeys(c)...)
	}
	return keys
}

// joinedTableParams are accepted by the schema and then refused with
// "Invalid filter field" (for those allowed to use any filter).
var joinedTableParams = []string{"block_device_mapping", "services", "metadata", "system_metadata",
	"info_cache", "security_groups", "pci_devices"}

// serverQueryRules is the list query schema at c's version.
func serverQueryRules(c *api.Call) []flavorQueryRule {
	plain := []string{"user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image",
		"vm_state", "task_state", "host", "uuid", "sort_dir", "all_tenants", "soft_deleted",
		"deleted", "status"}
	regex := []string{"kernel_id", "ramdisk_id", "hostname", "key_name", "power_state", "node",
		"flavor", "reservation_id", "launched_at", "terminated_at", "availability_zone", "name",
		"display_name", "description", "display_description", "locked_by", "root_device_name",
		"config_drive", "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "ip", "ip6",
		"created_at"}
	if c.AtLeast(mv.V2_26) {
		regex = append(regex, "tags", "tags-any", "not-tags", "not-tags-any")
	}
	var rules []flavorQueryRule
	for _, k := range plain {
		rules = append(rules, flavorQueryRule{k, anyString})
	}
	for _, k := range joinedTableParams {
		rules = append(rules, flavorQueryRule{k, anyString})
	}
	for _, k := range regex {
		check := regexCheck
		if slices.Contains(databaseRegexParams, k) {
			check = databaseRegexCheck
		}
		rules = append(rules, flavorQueryRule{k, check})
	}
	rules = append(rules,
		flavorQueryRule{"sort_key", enumCheck(validSortKeys(c))},
		flavorQueryRule{"changes-since", dateTimeCheck},
		flavorQueryRule{"limit", nonNegativeIntegerCheck},
		flavorQueryRule{"marker", anyString},
	)
	if c.AtLeast(mv.V2_66) {
		rules = append(rules, flavorQueryRule{"changes-before", dateTimeCheck})
	}
	if c.AtLeast(mv.V2_73) {
		rules = append(rules, flavorQueryRule{"locked", anyString})
	}
	return rules
}

// checkServerQuery validates the list query: unknown parameters are
// dropped before 2.75 and refused from it on; parameters starting with
// "_" always pass the schema (the handler refuses them later).
func checkServerQuery(c *api.Call) (map[string][]string, error) {
	rules := serverQueryRules(c)
	for k := range c.Query() {
		if strings.HasPrefix(k, "_") {
			rules = append(rules, flavorQueryRule{k, anyString})
		}
	}
	return checkQuery(c, rules, c.AtLeast(mv.V2_75))
}

func regexCheck(v string) string {
	if _, err := regexp.Compile(v); err != nil {
		return api.PyRepr(v) + " is not a 'regex'"
	}
	return ""
}

// databaseRegexParams are the filters the database matches as regular
// expressions (compute.ListOptions' regex columns).
var databaseRegexParams = []string{"name", "display_name", "description", "display_description",
	"node", "availability_zone", "key_name", "reservation_id", "hostname", "access_ip_v4", "access_ip_v6"}

// databaseRegexCheck is regexCheck for a pattern that the database runs:
// it must be one both engines take alike (compute.CheckFilterRegexp), so a huge
// or pathological pattern is a 400 on SQLite and PostgreSQL rather than
// PostgreSQL's 500 "regular expression is too complex". Nova has no
// bound (MySQL errs on such patterns); the message is jsonschema's for
// maxLength, else the format's.
func databaseRegexCheck(v string) string {
	if len(v) > compute.MaxFilterRegexpLen {
		return api.PyRepr(v) + " is too long"
	}
	if compute.CheckFilterRegexp(v) != nil {
		return api.PyRepr(v) + " is not a 'regex'"
	}
	return ""
}

func dateTimeCheck(v string) string {
	if _, ok := parseISOTime(v); !ok {
		return api.PyRepr(v) + " is not a 'date-time'"
	}
	return ""
}

// isoLayouts are the ISO 8601 shapes oslo's parse_isotime accepts.
var isoLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02",
}

// parseISOTime parses an ISO 8601 time; without a zone it is UTC.
func parseISOTime(s string) (time.Time, bool) {
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// userServerFilters are the filters non-admins may use at c's version
// (Nova's _get_server_search_options); others are silently dropped.
func userServerFilters(c *api.Call) []string {
	opts := []string{"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since", "all_tenants"}
	if c.AtLeast(mv.V2_5) {
		opts = append(opts, "ip6")
	}
	if c.AtLeast(mv.V2_26) {
		opts = append(opts, "tags", "tags-any", "not-tags", "not-tags-any")
	}
	if c.AtLeast(mv.V2_66) {
		opts = append(opts, "changes-before")
	}
	if c.AtLeast(mv.V2_73) {
		opts = append(opts, "locked")
	}
	if c.AtLeast(mv.V2_83) {
		opts = append(opts, "availability_zone", "config_drive", "key_name", "created_at", "launched_at",
			"terminated_at", "power_state", "task_state", "vm_state", "progress", "user_id")
	}
	if c.AtLeast(mv.V2_90) {
		opts = append(opts, "hostname")
	}
	return opts
}

// pagingParams are not filters; Nova takes them out before filtering.
var pagingParams = []string{"sort_key", "sort_dir", "limit", "marker"}
