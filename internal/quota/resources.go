// Package quota keeps Nova's compute quotas: hard limits per project, per
// user and per quota class, with usage counted from the rows that consume
// it (Nova's counting quota driver), never stored.
package quota

import "slices"

// Resource names, as Nova's quota engine registers them.
const (
	Cores                    = "cores"
	FixedIPs                 = "fixed_ips"
	FloatingIPs              = "floating_ips"
	InjectedFileContentBytes = "injected_file_content_bytes"
	InjectedFilePathBytes    = "injected_file_path_bytes"
	InjectedFiles            = "injected_files"
	Instances                = "instances"
	KeyPairs                 = "key_pairs"
	MetadataItems            = "metadata_items"
	RAM                      = "ram"
	SecurityGroupRules       = "security_group_rules"
	SecurityGroups           = "security_groups"
	ServerGroupMembers       = "server_group_members"
	ServerGroups             = "server_groups"
)

// Unlimited is the limit value that means "no limit".
const Unlimited = -1

// MaxLimit is the largest limit Nova's database column holds.
const MaxLimit = 0x7FFFFFFF

// configDefaults are Nova's [quota] option defaults. The nova-network
// resources have no option any more and are always unlimited.
var configDefaults = map[string]int{
	Cores:                    20,
	FixedIPs:                 Unlimited,
	FloatingIPs:              Unlimited,
	InjectedFileContentBytes: 10240,
	InjectedFilePathBytes:    255,
	InjectedFiles:            5,
	Instances:                10,
	KeyPairs:                 100,
	MetadataItems:            128,
	RAM:                      51200,
	SecurityGroupRules:       Unlimited,
	SecurityGroups:           Unlimited,
	ServerGroupMembers:       10,
	ServerGroups:             10,
}

// Resources lists every quota resource, sorted by name.
func Resources() []string {
	names := make([]string, 0, len(configDefaults))
	for n := range configDefaults {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Known reports whether name is a quota resource.
func Known(name string) bool {
	_, ok := configDefaults[name]
	return ok
}

// DefaultClass is the quota class whose limits replace the configured
// defaults.
const DefaultClass = "default"

// Limits maps resource names to hard limits.
type Limits map[string]int

// Usage is one resource's limit and current use, as the detailed
// quota-set view shows it.
type Usage struct {
	Limit int
	InUse int
}

// exceeds reports whether using total would break limit.
func exceeds(limit, total int) bool { return limit >= 0 && limit < total }
