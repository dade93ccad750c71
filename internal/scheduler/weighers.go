package scheduler

import (
	"cmp"
	"slices"
)

// Weigher is one of Nova's host weighers: Weight is the raw weight of a
// host for the request; the raw weights of one request are normalised to
// 0..1, multiplied by the multiplier and summed over the weighers.
type Weigher struct {
	Name string
	// Option is the multiplier's name in Nova's [filter_scheduler]
	// section, also the key in Config.Multipliers and the metadata key
	// an aggregate overrides it with.
	Option  string
	Default float64
	Weight  func(h *HostState, r *Request) float64
}

// Weighers are the weighers every request runs, with Nova's default
// multipliers: by default free RAM, vCPUs and disk spread servers out,
// and soft (anti-)affinity groups gather or scatter their members.
func Weighers() []Weigher {
	return []Weigher{
		{"RAMWeigher", "ram_weight_multiplier", 1.0, func(h *HostState, _ *Request) float64 { return h.freeRAM() }},
		{"CPUWeigher", "cpu_weight_multiplier", 1.0, func(h *HostState, _ *Request) float64 { return h.freeVCPUs() }},
		{"DiskWeigher", "disk_weight_multiplier", 1.0, func(h *HostState, _ *Request) float64 { return h.freeDisk() }},
		{"ServerGroupSoftAffinityWeigher", "soft_affinity_weight_multiplier", 1.0, func(h *HostState, r *Request) float64 {
			return groupMembers(h, r, PolicySoftAffinity)
		}},
		{"ServerGroupSoftAntiAffinityWeigher", "soft_anti_affinity_weight_multiplier", 1.0, func(h *HostState, r *Request) float64 {
			return -groupMembers(h, r, PolicySoftAntiAffinity)
		}},
	}
}

// groupMembers counts the members of r's group on h when the group has
// policy, else 0.
func groupMembers(h *HostState, r *Request, policy string) float64 {
	if r.Group == nil || r.Group.Policy != policy {
		return 0
	}
	return float64(r.Group.Members[h.Host])
}

// multiplier is w's multiplier on h: the smallest an aggregate of h sets,
// else the configured one, else Nova's default (get_weight_multiplier).
func (w Weigher) multiplier(h *HostState, c Config) float64 {
	def := w.Default
	if m, ok := c.Multipliers[w.Option]; ok {
		def = m
	}
	return h.aggregateFloat(w.Option, def)
}

// Weigh orders hosts best first, as Nova's weight handler: each
// weigher's raw weights normalised to 0..1 over the hosts (all 0 when
// they are equal), times its multiplier, summed. Ties keep the hosts'
// order.
func Weigh(hosts []HostState, r *Request) []HostState {
	if len(hosts) < 2 {
		return hosts
	}
	total := make([]float64, len(hosts))
	raw := make([]float64, len(hosts))
	for _, w := range Weighers() {
		for i := range hosts {
			raw[i] = w.Weight(&hosts[i], r)
		}
		for i, n := range Normalize(raw) {
			total[i] += w.multiplier(&hosts[i], r.Config) * n
		}
	}
	order := make([]int, len(hosts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(total[b], total[a]) })
	out := make([]HostState, len(hosts))
	for i, j := range order {
		out[i] = hosts[j]
	}
	return out
}

// Normalize maps weights onto 0..1 between their minimum and maximum
// (Nova's weights.normalize); equal weights are all 0.
func Normalize(weights []float64) []float64 {
	out := make([]float64, len(weights))
	if len(weights) == 0 {
		return out
	}
	lo, hi := slices.Min(weights), slices.Max(weights)
	if lo == hi {
		return out
	}
	for i, w := range weights {
		out[i] = (w - lo) / (hi - lo)
	}
	return out
}
