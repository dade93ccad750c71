package scheduler

import (
	"math"
	"slices"
	"testing"
)

// TestNormalize: Nova's weights.normalize.
func TestNormalize(t *testing.T) {
	for _, c := range []struct {
		in, want []float64
	}{
		{nil, []float64{}},
		{[]float64{5}, []float64{0}},
		{[]float64{3, 3, 3}, []float64{0, 0, 0}},
		{[]float64{0, 5, 10}, []float64{0, 0.5, 1}},
		{[]float64{-4, 0, -2}, []float64{0, 1, 0.5}},
	} {
		got := Normalize(c.in)
		if !slices.EqualFunc(got, c.want, func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }) {
			t.Errorf("Normalize(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestWeighers: each weigher's raw weight.
func TestWeighers(t *testing.T) {
	byName := map[string]Weigher{}
	for _, w := range Weighers() {
		byName[w.Name] = w
	}
	group := func(policy string) *Request {
		return &Request{Group: &Group{Policy: policy, Members: map[string]int{"a": 2}}}
	}
	used := host("a", func(h *HostState) { h.MemoryUsed, h.VCPUsUsed, h.DiskUsed, h.CPURatio = 2048, 2, 10, 2 })
	cases := []struct {
		weigher string
		name    string
		host    HostState
		req     *Request
		want    float64
	}{
		{"RAMWeigher", "free RAM", used, &Request{}, 6144},
		{"CPUWeigher", "free vCPUs under the allocation ratio", used, &Request{}, 14},
		{"CPUWeigher", "under the aggregate's ratio", host("a", func(h *HostState) { h.VCPUsUsed = 2 },
			inAggregate(map[string]string{"cpu_allocation_ratio": "4"})), &Request{}, 30},
		{"DiskWeigher", "free disk in MB", used, &Request{}, 90 * 1024},
		{"ServerGroupSoftAffinityWeigher", "members on the host", used, group(PolicySoftAffinity), 2},
		{"ServerGroupSoftAffinityWeigher", "no members on the host", host("b"), group(PolicySoftAffinity), 0},
		{"ServerGroupSoftAffinityWeigher", "another policy", used, group(PolicySoftAntiAffinity), 0},
		{"ServerGroupSoftAntiAffinityWeigher", "members on the host", used, group(PolicySoftAntiAffinity), -2},
		{"ServerGroupSoftAntiAffinityWeigher", "another policy", used, group(PolicyAntiAffinity), 0},
		{"ServerGroupSoftAntiAffinityWeigher", "no group", used, &Request{}, 0},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		t.Run(c.weigher+"/"+c.name, func(t *testing.T) {
			w, ok := byName[c.weigher]
			if !ok {
				t.Fatalf("no weigher %s", c.weigher)
			}
			h := c.host
			if got := w.Weight(&h, c.req); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
		tested[c.weigher] = true
	}
	for name := range byName {
		if !tested[name] {
			t.Errorf("weigher %s has no test", name)
		}
	}
}

// TestWeigh: the order the weighers give hosts, by default (spread) and
// with the multipliers an operator sets.
func TestWeigh(t *testing.T) {
	free := host("free")
	half := host("half", func(h *HostState) { h.MemoryUsed, h.VCPUsUsed, h.DiskUsed = 4096, 4, 50 })
	busy := host("busy", func(h *HostState) { h.MemoryUsed, h.VCPUsUsed, h.DiskUsed = 6144, 6, 75 })
	pack := Config{Multipliers: map[string]float64{"ram_weight_multiplier": -1, "cpu_weight_multiplier": -1, "disk_weight_multiplier": -1}}
	soft := func(policy string, members map[string]int) *Group { return &Group{Policy: policy, Members: members} }
	for _, c := range []struct {
		name  string
		hosts []HostState
		req   Request
		want  []string
	}{
		{"spread by default", []HostState{busy, half, free}, Request{}, []string{"free", "half", "busy"}},
		{"pack with negative multipliers", []HostState{free, half, busy}, Request{Config: pack}, []string{"busy", "half", "free"}},
		{"ties keep the hosts' order", []HostState{host("x"), host("y")}, Request{}, []string{"x", "y"}},
		{"zero multipliers weigh nothing", []HostState{busy, free}, Request{Config: Config{Multipliers: map[string]float64{
			"ram_weight_multiplier": 0, "cpu_weight_multiplier": 0, "disk_weight_multiplier": 0}}}, []string{"busy", "free"}},
		{"RAM alone decides when the others are off", []HostState{
			host("lots-ram", func(h *HostState) { h.VCPUsUsed = 8; h.DiskUsed = 90 }),
			host("lots-cpu", func(h *HostState) { h.MemoryUsed = 4096 })},
			Request{Config: Config{Multipliers: map[string]float64{"cpu_weight_multiplier": 0, "disk_weight_multiplier": 0}}},
			[]string{"lots-ram", "lots-cpu"}},
		{"an aggregate's multiplier overrides the configured one", []HostState{
			host("a", inAggregate(map[string]string{"ram_weight_multiplier": "-5"})),
			host("b", func(h *HostState) { h.MemoryUsed = 4096 })},
			Request{Config: Config{Multipliers: map[string]float64{"cpu_weight_multiplier": 0, "disk_weight_multiplier": 0}}},
			[]string{"b", "a"}},
		{"soft affinity outweighs free room", []HostState{free, busy},
			Request{Group: soft(PolicySoftAffinity, map[string]int{"busy": 1}), Config: Config{Multipliers: map[string]float64{
				"soft_affinity_weight_multiplier": 10}}}, []string{"busy", "free"}},
		{"soft anti-affinity avoids the members' host", []HostState{free, half},
			Request{Group: soft(PolicySoftAntiAffinity, map[string]int{"free": 1}), Config: Config{Multipliers: map[string]float64{
				"soft_anti_affinity_weight_multiplier": 10}}}, []string{"half", "free"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, h := range Weigh(c.hosts, &c.req) {
				got = append(got, h.Host)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
