package scheduler

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// host is a live, enabled host with room, in zone nova, changed by edits.
func host(name string, edits ...func(*HostState)) HostState {
	h := HostState{Host: name, Node: name, AZ: DefaultAZ, Heartbeat: t0, VCPUs: 8, MemoryMB: 8192, DiskGB: 100,
		CPURatio: 1, RAMRatio: 1, DiskRatio: 1, HypervisorType: "QEMU", HypervisorVersion: 8002000, Arch: "x86_64"}
	for _, e := range edits {
		e(&h)
	}
	return h
}

func inAggregate(md map[string]string) func(*HostState) {
	return func(h *HostState) { h.Aggregates = append(h.Aggregates, md) }
}

// TestFilters: each filter on its own, one table row per case.
func TestFilters(t *testing.T) {
	byName := map[string]FilterFunc{}
	for _, f := range Filters() {
		byName[f.Name] = f.Check
	}
	small := Request{VCPUs: 1, MemoryMB: 512, DiskGB: 1}
	with := func(edit func(*Request)) Request {
		r := small
		edit(&r)
		return r
	}
	cases := []struct {
		filter string
		name   string
		host   HostState
		req    Request
		now    time.Time
		want   bool
	}{
		{"RequestedDestination", "any host", host("a"), small, t0, true},
		{"RequestedDestination", "the host asked for", host("a"), with(func(r *Request) { r.Host = "a" }), t0, true},
		{"RequestedDestination", "another host", host("a"), with(func(r *Request) { r.Host = "b" }), t0, false},
		{"RequestedDestination", "the node asked for", host("a"), with(func(r *Request) { r.Node = "a" }), t0, true},
		{"RequestedDestination", "another node", host("a"), with(func(r *Request) { r.Node = "b" }), t0, false},
		{"IgnoreHosts", "not ignored", host("a"), with(func(r *Request) { r.Exclude = []string{"b"} }), t0, true},
		{"IgnoreHosts", "ignored", host("a"), with(func(r *Request) { r.Exclude = []string{"b", "a"} }), t0, false},

		{"ComputeFilter", "up and enabled", host("a"), small, t0.Add(59 * time.Second), true},
		{"ComputeFilter", "heartbeat exactly service_down_time old", host("a"), small, t0.Add(60 * time.Second), true},
		{"ComputeFilter", "heartbeat older than service_down_time", host("a"), small, t0.Add(61 * time.Second), false},
		{"ComputeFilter", "configured service_down_time", host("a"),
			with(func(r *Request) { r.Config.ServiceDownTime = 10 * time.Second }), t0.Add(11 * time.Second), false},
		{"ComputeFilter", "longer configured service_down_time", host("a"),
			with(func(r *Request) { r.Config.ServiceDownTime = 5 * time.Minute }), t0.Add(4 * time.Minute), true},
		{"ComputeFilter", "forced down with a fresh heartbeat", host("a", func(h *HostState) { h.ForcedDown = true }), small, t0, false},
		{"ComputeFilter", "disabled", host("a", func(h *HostState) { h.Disabled = true }), small, t0, false},

		{"AvailabilityZoneFilter", "no zone asked", host("a", func(h *HostState) { h.AZ = "z1" }), small, t0, true},
		{"AvailabilityZoneFilter", "its zone", host("a", func(h *HostState) { h.AZ = "z1" }), with(func(r *Request) { r.AZ = "z1" }), t0, true},
		{"AvailabilityZoneFilter", "another zone", host("a", func(h *HostState) { h.AZ = "z1" }), with(func(r *Request) { r.AZ = "nova" }), t0, false},

		{"AggregateCoreFilter", "fits", host("a", func(h *HostState) { h.VCPUsUsed = 7 }), small, t0, true},
		{"AggregateCoreFilter", "full", host("a", func(h *HostState) { h.VCPUsUsed = 8 }), small, t0, false},
		{"AggregateCoreFilter", "host ratio", host("a", func(h *HostState) { h.VCPUsUsed = 8; h.CPURatio = 2 }), small, t0, true},
		{"AggregateCoreFilter", "aggregate ratio overrides the host's", host("a", func(h *HostState) { h.VCPUsUsed = 8; h.CPURatio = 4 },
			inAggregate(map[string]string{"cpu_allocation_ratio": "1.0"})), small, t0, false},
		{"AggregateCoreFilter", "aggregate ratio raises it", host("a", func(h *HostState) { h.VCPUsUsed = 8 },
			inAggregate(map[string]string{"cpu_allocation_ratio": "1.5"})), small, t0, true},
		{"AggregateCoreFilter", "smallest of several aggregates", host("a", func(h *HostState) { h.VCPUsUsed = 8 },
			inAggregate(map[string]string{"cpu_allocation_ratio": "3"}), inAggregate(map[string]string{"cpu_allocation_ratio": "1"})), small, t0, false},
		{"AggregateCoreFilter", "an invalid aggregate ratio falls back to the host's", host("a", func(h *HostState) { h.VCPUsUsed = 8; h.CPURatio = 2 },
			inAggregate(map[string]string{"cpu_allocation_ratio": "lots"})), small, t0, true},
		{"AggregateRamFilter", "fits exactly", host("a", func(h *HostState) { h.MemoryUsed = 7680 }), small, t0, true},
		{"AggregateRamFilter", "too little", host("a", func(h *HostState) { h.MemoryUsed = 7681 }), small, t0, false},
		{"AggregateRamFilter", "host ratio", host("a", func(h *HostState) { h.MemoryUsed = 8192; h.RAMRatio = 1.5 }), small, t0, true},
		{"AggregateRamFilter", "aggregate ratio", host("a", func(h *HostState) { h.MemoryUsed = 8192; h.RAMRatio = 1.5 },
			inAggregate(map[string]string{"ram_allocation_ratio": "1"})), small, t0, false},
		{"AggregateDiskFilter", "fits", host("a", func(h *HostState) { h.DiskUsed = 99 }), small, t0, true},
		{"AggregateDiskFilter", "full", host("a", func(h *HostState) { h.DiskUsed = 100 }), small, t0, false},
		{"AggregateDiskFilter", "aggregate ratio", host("a", func(h *HostState) { h.DiskUsed = 100 },
			inAggregate(map[string]string{"disk_allocation_ratio": "2"})), small, t0, true},

		{"AggregateInstanceExtraSpecsFilter", "no extra specs", host("a"), small, t0, true},
		{"AggregateInstanceExtraSpecsFilter", "scoped key matches", host("a", inAggregate(map[string]string{"ssd": "true"})),
			with(func(r *Request) { r.ExtraSpecs = map[string]string{"aggregate_instance_extra_specs:ssd": "true"} }), t0, true},
		{"AggregateInstanceExtraSpecsFilter", "scoped key differs", host("a", inAggregate(map[string]string{"ssd": "false"})),
			with(func(r *Request) { r.ExtraSpecs = map[string]string{"aggregate_instance_extra_specs:ssd": "true"} }), t0, false},
		{"AggregateInstanceExtraSpecsFilter", "host in no aggregate", host("a"),
			with(func(r *Request) { r.ExtraSpecs = map[string]string{"aggregate_instance_extra_specs:ssd": "true"} }), t0, false},
		{"AggregateInstanceExtraSpecsFilter", "unscoped key matches", host("a", inAggregate(map[string]string{"ssd": "true"})),
			with(func(r *Request) { r.ExtraSpecs = map[string]string{"ssd": "true"} }), t0, true},
		{"AggregateInstanceExtraSpecsFilter", "unscoped key missing", host("a", inAggregate(map[string]string{"gpu": "1"})),
			with(func(r *Request) { r.ExtraSpecs = map[string]string{"ssd": "true"} }), t0, false},
		{"AggregateInstanceExtraSpecsFilter", "other scopes are not its business", host("a"),
			with(func(r *Request) {
				r.ExtraSpecs = map[string]string{"hw:cpu_policy": "dedicated", "quota:cpu_shares": "10"}
			}), t0, true},
		{"AggregateInstanceExtraSpecsFilter", "any of the aggregates' values", host("a", inAggregate(map[string]string{"ssd": "false"}),
			inAggregate(map[string]string{"ssd": "true"})),
			with(func(r *Request) { r.ExtraSpecs = map[string]string{"aggregate_instance_extra_specs:ssd": "true"} }), t0, true},
		{"AggregateInstanceExtraSpecsFilter", "comma-separated values", host("a", inAggregate(map[string]string{"tier": "gold, silver"})),
			with(func(r *Request) { r.ExtraSpecs = map[string]string{"aggregate_instance_extra_specs:tier": "silver"} }), t0, true},
		{"AggregateInstanceExtraSpecsFilter", "operator", host("a", inAggregate(map[string]string{"cores": "16"})),
			with(func(r *Request) { r.ExtraSpecs = map[string]string{"aggregate_instance_extra_specs:cores": ">= 8"} }), t0, true},

		{"AggregateMultiTenancyIsolation", "no tenant filter", host("a", inAggregate(map[string]string{"ssd": "true"})),
			with(func(r *Request) { r.ProjectID = "p1" }), t0, true},
		{"AggregateMultiTenancyIsolation", "the tenant", host("a", inAggregate(map[string]string{"filter_tenant_id": "p1"})),
			with(func(r *Request) { r.ProjectID = "p1" }), t0, true},
		{"AggregateMultiTenancyIsolation", "another tenant", host("a", inAggregate(map[string]string{"filter_tenant_id": "p2"})),
			with(func(r *Request) { r.ProjectID = "p1" }), t0, false},
		{"AggregateMultiTenancyIsolation", "suffixed keys", host("a", inAggregate(map[string]string{"filter_tenant_id_1": "p2", "filter_tenant_id_2": "p1"})),
			with(func(r *Request) { r.ProjectID = "p1" }), t0, true},
		{"AggregateMultiTenancyIsolation", "comma-separated tenants", host("a", inAggregate(map[string]string{"filter_tenant_id": "p2,p1"})),
			with(func(r *Request) { r.ProjectID = "p1" }), t0, true},

		{"ImagePropertiesFilter", "no properties", host("a"), small, t0, true},
		{"ImagePropertiesFilter", "its architecture", host("a"),
			with(func(r *Request) { r.ImageProperties = map[string]string{"hw_architecture": "x86_64"} }), t0, true},
		{"ImagePropertiesFilter", "an alias of its architecture", host("a"),
			with(func(r *Request) { r.ImageProperties = map[string]string{"architecture": "AMD64"} }), t0, true},
		{"ImagePropertiesFilter", "another architecture", host("a"),
			with(func(r *Request) { r.ImageProperties = map[string]string{"hw_architecture": "aarch64"} }), t0, false},
		{"ImagePropertiesFilter", "its hypervisor type and vm mode", host("a"),
			with(func(r *Request) { r.ImageProperties = map[string]string{"img_hv_type": "qemu", "hw_vm_mode": "hvm"} }), t0, true},
		{"ImagePropertiesFilter", "kvm on a host without it", host("a"),
			with(func(r *Request) { r.ImageProperties = map[string]string{"img_hv_type": "kvm"} }), t0, false},
		{"ImagePropertiesFilter", "kvm on a host with it", host("a", func(h *HostState) { h.Accel = "kvm" }),
			with(func(r *Request) { r.ImageProperties = map[string]string{"img_hv_type": "kvm"} }), t0, true},
		{"ImagePropertiesFilter", "another vm mode", host("a"),
			with(func(r *Request) { r.ImageProperties = map[string]string{"hw_vm_mode": "xen"} }), t0, false},
		{"ImagePropertiesFilter", "a host that reports nothing", host("a", func(h *HostState) { h.Arch = "" }),
			with(func(r *Request) { r.ImageProperties = map[string]string{"hw_architecture": "x86_64"} }), t0, false},
		{"ImagePropertiesFilter", "hypervisor version too old", host("a"),
			with(func(r *Request) {
				r.ImageProperties = map[string]string{"hw_architecture": "x86_64", "img_hv_requested_version": ">= 9000000"}
			}), t0, false},

		{"ServerGroupAffinityFilter", "no group", host("a"), small, t0, true},
		{"ServerGroupAffinityFilter", "first member goes anywhere", host("a"),
			with(func(r *Request) { r.Group = &Group{Policy: PolicyAffinity, Members: map[string]int{}} }), t0, true},
		{"ServerGroupAffinityFilter", "the members' host", host("a"),
			with(func(r *Request) { r.Group = &Group{Policy: PolicyAffinity, Members: map[string]int{"a": 1}} }), t0, true},
		{"ServerGroupAffinityFilter", "another host", host("a"),
			with(func(r *Request) { r.Group = &Group{Policy: PolicyAffinity, Members: map[string]int{"b": 1}} }), t0, false},
		{"ServerGroupAffinityFilter", "anti-affinity is not its business", host("a"),
			with(func(r *Request) { r.Group = &Group{Policy: PolicyAntiAffinity, Members: map[string]int{"b": 1}} }), t0, true},
		{"ServerGroupAntiAffinityFilter", "host without members", host("a"),
			with(func(r *Request) { r.Group = &Group{Policy: PolicyAntiAffinity, Members: map[string]int{"b": 1}} }), t0, true},
		{"ServerGroupAntiAffinityFilter", "host with a member", host("a"),
			with(func(r *Request) { r.Group = &Group{Policy: PolicyAntiAffinity, Members: map[string]int{"a": 1}} }), t0, false},
		{"ServerGroupAntiAffinityFilter", "under max_server_per_host", host("a"),
			with(func(r *Request) {
				r.Group = &Group{Policy: PolicyAntiAffinity, MaxPerHost: 2, Members: map[string]int{"a": 1}}
			}), t0, true},
		{"ServerGroupAntiAffinityFilter", "at max_server_per_host", host("a"),
			with(func(r *Request) {
				r.Group = &Group{Policy: PolicyAntiAffinity, MaxPerHost: 2, Members: map[string]int{"a": 2}}
			}), t0, false},
		{"ServerGroupAntiAffinityFilter", "soft anti-affinity only weighs", host("a"),
			with(func(r *Request) { r.Group = &Group{Policy: PolicySoftAntiAffinity, Members: map[string]int{"a": 3}} }), t0, true},

		{"SameHostFilter", "no hint", host("a"), small, t0, true},
		{"SameHostFilter", "a hinted server's host", host("a"), with(func(r *Request) { r.SameHost = []string{"b", "a"} }), t0, true},
		{"SameHostFilter", "not a hinted server's host", host("a"), with(func(r *Request) { r.SameHost = []string{"b"} }), t0, false},
		{"SameHostFilter", "hinted servers have no host", host("a"), with(func(r *Request) { r.SameHost = []string{} }), t0, false},
		{"DifferentHostFilter", "no hint", host("a"), small, t0, true},
		{"DifferentHostFilter", "a hinted server's host", host("a"), with(func(r *Request) { r.DifferentHost = []string{"a"} }), t0, false},
		{"DifferentHostFilter", "not a hinted server's host", host("a"), with(func(r *Request) { r.DifferentHost = []string{"b"} }), t0, true},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		t.Run(c.filter+"/"+c.name, func(t *testing.T) {
			f, ok := byName[c.filter]
			if !ok {
				t.Fatalf("no filter %s", c.filter)
			}
			h, r := c.host, c.req
			if got := f(&h, &r, c.now); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
		tested[c.filter] = true
	}
	for name := range byName {
		if !tested[name] {
			t.Errorf("filter %s has no test", name)
		}
	}
}

// TestForcedSkipsFilters: a forced host ("az:host:node") is taken
// disabled, down or outside the zone, but not beyond its capacity.
func TestForcedSkipsFilters(t *testing.T) {
	down := host("a", func(h *HostState) { h.Disabled, h.ForcedDown, h.AZ = true, true, "z1" })
	full := host("b", func(h *HostState) { h.MemoryUsed = 8192 })
	hosts := []HostState{down, full, host("c")}
	for _, c := range []struct {
		name string
		req  Request
		want []string
	}{
		{"forced to a down host", Request{MemoryMB: 512, Host: "a", Forced: true, AZ: "nova"}, []string{"a"}},
		{"forced to a full host", Request{MemoryMB: 512, Host: "b", Forced: true}, nil},
		{"the same host asked for without force", Request{MemoryMB: 512, Host: "a"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, h := range Filter(hosts, &c.req, t0) {
				got = append(got, h.Host)
			}
			if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestMatchExtraSpec: Nova's extra_specs_ops.match.
func TestMatchExtraSpec(t *testing.T) {
	for _, c := range []struct {
		value, req string
		want       bool
	}{
		{"1", "1", true}, {"1", "2", false}, {"abc", "abc", true},
		{"4", "= 2", true}, {"1", "= 2", false}, {"x", "= 2", false},
		{"2", "== 2.0", true}, {"2", "!= 2", false}, {"3", ">= 3", true}, {"3", "<= 2", false},
		{"abc", "s== abc", true}, {"abc", "s!= abc", false}, {"abc", "s< abd", true}, {"abc", "s<= abc", true},
		{"abd", "s> abc", true}, {"abc", "s>= abd", false},
		{"avx sse", "<in> sse", true}, {"avx", "<in> sse", false},
		{"avx sse aes", "<all-in> sse aes", true}, {"avx sse", "<all-in> sse aes", false},
		{"b", "<or> a <or> b <or> c", true}, {"d", "<or> a <or> b <or> c", false},
		{"1", "==", false},
	} {
		if got := MatchExtraSpec(c.value, c.req); got != c.want {
			t.Errorf("MatchExtraSpec(%q, %q) = %v, want %v", c.value, c.req, got, c.want)
		}
	}
}
