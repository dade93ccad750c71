package scheduler

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// A FilterFunc reports whether host h may take the request r at now.
type FilterFunc func(h *HostState, r *Request, now time.Time) bool

// NamedFilter is one of Nova's host filters. Forced requests (Nova's
// force_hosts) run only the filters marked Forced: the destination and
// the capacity, which placement checks in Nova whatever the filters.
type NamedFilter struct {
	Name   string
	Check  FilterFunc
	Forced bool
}

// Filters are the filters every request runs, in order: Nova's default
// enabled_filters plus the aggregate, image, host-hint and resource
// filters kumo always enables.
func Filters() []NamedFilter {
	return []NamedFilter{
		{"RequestedDestination", requestedDestination, true},
		{"IgnoreHosts", ignoreHosts, true},
		{"ComputeFilter", computeFilter, false},
		{"AvailabilityZoneFilter", availabilityZoneFilter, false},
		{"AggregateCoreFilter", coreFilter, true},
		{"AggregateRamFilter", ramFilter, true},
		{"AggregateDiskFilter", diskFilter, true},
		{"AggregateInstanceExtraSpecsFilter", aggregateInstanceExtraSpecsFilter, false},
		{"AggregateMultiTenancyIsolation", aggregateMultiTenancyIsolation, false},
		{"ImagePropertiesFilter", imagePropertiesFilter, false},
		{"ServerGroupAntiAffinityFilter", serverGroupAntiAffinityFilter, false},
		{"ServerGroupAffinityFilter", serverGroupAffinityFilter, false},
		{"SameHostFilter", sameHostFilter, false},
		{"DifferentHostFilter", differentHostFilter, false},
	}
}

// Filter returns the hosts every filter lets take r, in their order.
func Filter(hosts []HostState, r *Request, now time.Time) []HostState {
	var out []HostState
	all := Filters()
next:
	for i := range hosts {
		for _, f := range all {
			if (!r.Forced || f.Forced) && !f.Check(&hosts[i], r, now) {
				continue next
			}
		}
		out = append(out, hosts[i])
	}
	return out
}

// requestedDestination keeps only the host and node asked for (Nova's
// requested_destination and force_hosts/force_nodes).
func requestedDestination(h *HostState, r *Request, _ time.Time) bool {
	return (r.Host == "" || r.Host == h.Host) && (r.Node == "" || r.Node == h.Node)
}

// ignoreHosts drops the hosts a move leaves (Nova's ignore_hosts).
func ignoreHosts(h *HostState, r *Request, _ time.Time) bool {
	return !slices.Contains(r.Exclude, h.Host)
}

// computeFilter passes enabled hosts whose service is up (not forced
// down, heartbeat within service_down_time).
func computeFilter(h *HostState, r *Request, now time.Time) bool {
	return !h.Disabled && h.Up(now, r.Config)
}

// availabilityZoneFilter passes the hosts of the zone asked for.
func availabilityZoneFilter(h *HostState, r *Request, _ time.Time) bool {
	return r.AZ == "" || r.AZ == h.AZ
}

// coreFilter, ramFilter and diskFilter pass hosts with room for the
// request under the allocation ratios in force (HostState.Ratios).
func coreFilter(h *HostState, r *Request, _ time.Time) bool {
	cpu, _, _ := h.Ratios()
	return float64(h.VCPUsUsed+int64(r.VCPUs)) <= float64(h.VCPUs)*cpu
}

func ramFilter(h *HostState, r *Request, _ time.Time) bool {
	_, ram, _ := h.Ratios()
	return float64(h.MemoryUsed+int64(r.MemoryMB)) <= float64(h.MemoryMB)*ram
}

func diskFilter(h *HostState, r *Request, _ time.Time) bool {
	_, _, disk := h.Ratios()
	return float64(h.DiskUsed+int64(r.DiskGB)) <= float64(h.DiskGB)*disk
}

// extraSpecsScope is the flavor extra spec scope the aggregate filter
// reads; other scoped keys are left to their own filters.
const extraSpecsScope = "aggregate_instance_extra_specs"

// aggregateInstanceExtraSpecsFilter passes hosts whose aggregates'
// metadata match every unscoped and aggregate_instance_extra_specs:
// scoped flavor extra spec (Nova's AggregateInstanceExtraSpecsFilter).
func aggregateInstanceExtraSpecsFilter(h *HostState, r *Request, _ time.Time) bool {
	if len(r.ExtraSpecs) == 0 {
		return true
	}
	md := h.aggregateMetadata()
	for key, want := range r.ExtraSpecs {
		if scope, rest, scoped := strings.Cut(key, ":"); scoped {
			if scope != extraSpecsScope {
				continue
			}
			key = rest
		}
		values := md[key]
		if len(values) == 0 {
			return false
		}
		if !slices.ContainsFunc(values, func(v string) bool { return MatchExtraSpec(v, want) }) {
			return false
		}
	}
	return true
}

// aggregateMultiTenancyIsolation passes hosts whose aggregates name no
// tenant in filter_tenant_id* metadata, or name the request's project.
func aggregateMultiTenancyIsolation(h *HostState, r *Request, _ time.Time) bool {
	var tenants []string
	for key, values := range h.aggregateMetadata() {
		if strings.HasPrefix(key, "filter_tenant_id") {
			tenants = append(tenants, values...)
		}
	}
	return len(tenants) == 0 || slices.Contains(tenants, r.ProjectID)
}

// imagePropertiesFilter passes hosts that run the image's architecture,
// hypervisor type and vm mode (Nova's ImagePropertiesFilter, with the
// legacy property names Nova's ImageMetaProps still accepts).
func imagePropertiesFilter(h *HostState, r *Request, _ time.Time) bool {
	prop := func(names ...string) string {
		for _, n := range names {
			if v := r.ImageProperties[n]; v != "" {
				return strings.ToLower(v)
			}
		}
		return ""
	}
	want := [3]string{canonicalArch(prop("hw_architecture", "architecture")),
		canonicalHVType(prop("img_hv_type", "hypervisor_type")), canonicalVMMode(prop("hw_vm_mode", "vm_mode"))}
	if want == [3]string{} {
		return true
	}
	if v := r.ImageProperties["img_hv_requested_version"]; v != "" && !MatchExtraSpec(strconv.FormatInt(h.HypervisorVersion, 10), v) {
		return false
	}
	for _, have := range h.supportedInstances() {
		ok := true
		for i := range want {
			if want[i] != "" && want[i] != have[i] {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// canonicalArch, canonicalHVType and canonicalVMMode are Nova's
// canonicalize of each field's aliases.
func canonicalArch(a string) string {
	switch a {
	case "amd64", "x64":
		return "x86_64"
	case "i386", "i486", "i586", "x86":
		return "i686"
	}
	return a
}

func canonicalHVType(t string) string {
	if t == "xapi" {
		return "xen"
	}
	return t
}

func canonicalVMMode(m string) string {
	switch m {
	case "hv":
		return "hvm"
	case "pv":
		return "xen"
	case "baremetal":
		return "hvm"
	}
	return m
}

// serverGroupAffinityFilter keeps an affinity group on the host its
// members are on (any host for the first member).
func serverGroupAffinityFilter(h *HostState, r *Request, _ time.Time) bool {
	g := r.Group
	if g == nil || g.Policy != PolicyAffinity || len(g.Members) == 0 {
		return true
	}
	return g.Members[h.Host] > 0
}

// serverGroupAntiAffinityFilter passes hosts holding fewer than
// max_server_per_host of an anti-affinity group's members (1 before 2.64).
func serverGroupAntiAffinityFilter(h *HostState, r *Request, _ time.Time) bool {
	g := r.Group
	if g == nil || g.Policy != PolicyAntiAffinity {
		return true
	}
	return g.Members[h.Host] < max(g.MaxPerHost, 1)
}

// sameHostFilter passes the hosts of the servers a same_host hint names.
func sameHostFilter(h *HostState, r *Request, _ time.Time) bool {
	return r.SameHost == nil || slices.Contains(r.SameHost, h.Host)
}

// differentHostFilter drops the hosts of the servers a different_host
// hint names.
func differentHostFilter(h *HostState, r *Request, _ time.Time) bool {
	return !slices.Contains(r.DifferentHost, h.Host)
}

// MatchExtraSpec reports whether value satisfies req, an extra spec with
// an optional operator (Nova's extra_specs_ops.match): "=" (at least, as
// numbers), "==", "!=", ">=", "<=" (numbers), "s==", "s!=", "s<", "s<=",
// "s>", "s>=" (strings), "<in>" (substring), "<all-in>", "<or>"; a
// request without an operator is a plain string comparison.
func MatchExtraSpec(value, req string) bool {
	words := strings.Fields(req)
	if len(words) == 0 {
		return value == req
	}
	op, args := words[0], words[1:]
	num := func(cmp func(a, b float64) bool) bool {
		a, err1 := strconv.ParseFloat(value, 64)
		b, err2 := strconv.ParseFloat(args[0], 64)
		return err1 == nil && err2 == nil && cmp(a, b)
	}
	if op == "<or>" {
		for i := 0; i < len(args); i += 2 {
			if args[i] == value {
				return true
			}
		}
		return false
	}
	ops := map[string]func() bool{
		"=":    func() bool { return num(func(a, b float64) bool { return a >= b }) },
		"==":   func() bool { return num(func(a, b float64) bool { return a == b }) },
		"!=":   func() bool { return num(func(a, b float64) bool { return a != b }) },
		">=":   func() bool { return num(func(a, b float64) bool { return a >= b }) },
		"<=":   func() bool { return num(func(a, b float64) bool { return a <= b }) },
		"s==":  func() bool { return value == args[0] },
		"s!=":  func() bool { return value != args[0] },
		"s<":   func() bool { return value < args[0] },
		"s<=":  func() bool { return value <= args[0] },
		"s>":   func() bool { return value > args[0] },
		"s>=":  func() bool { return value >= args[0] },
		"<in>": func() bool { return strings.Contains(value, args[0]) },
		"<all-in>": func() bool {
			return !slices.ContainsFunc(args, func(a string) bool { return !strings.Contains(value, a) })
		},
	}
	f, ok := ops[op]
	if !ok {
		return value == req
	}
	if len(args) == 0 {
		return false
	}
	return f()
}
