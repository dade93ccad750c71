package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// HostState is one compute host as the filters and weighers see it:
// Nova's HostState, read from compute_hosts and the host's aggregates.
type HostState struct {
	Host, Node, AZ       string
	Disabled, ForcedDown bool
	Heartbeat            time.Time
	VCPUs, VCPUsUsed     int64
	MemoryMB, MemoryUsed int64
	DiskGB, DiskUsed     int64
	RunningVMs           int64
	CPURatio, RAMRatio   float64 // the host's own allocation ratios
	DiskRatio            float64
	HypervisorType       string
	HypervisorVersion    int64
	Arch                 string // from cpu_info
	Accel                string // from cpu_info ("kvm" when the host offers it)
	Aggregates           []map[string]string
}

// LoadHosts reads every compute host with its aggregates' metadata,
// oldest registration first.
func LoadHosts(ctx context.Context, q store.Querier) ([]HostState, error) {
	rows, err := q.QueryContext(ctx, `SELECT hostname, availability_zone, disabled, forced_down, heartbeat_at,
		vcpus, vcpus_used, memory_mb, memory_mb_used, local_gb, local_gb_used, running_vms,
		cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio, hypervisor_type, hypervisor_version, cpu_info
		FROM compute_hosts ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("read host states: %w", err)
	}
	var hosts []HostState
	index := map[string]int{}
	for rows.Next() {
		var h HostState
		var hb int64
		var cpuInfo string
		if err := rows.Scan(&h.Host, &h.AZ, &h.Disabled, &h.ForcedDown, &hb, &h.VCPUs, &h.VCPUsUsed,
			&h.MemoryMB, &h.MemoryUsed, &h.DiskGB, &h.DiskUsed, &h.RunningVMs,
			&h.CPURatio, &h.RAMRatio, &h.DiskRatio, &h.HypervisorType, &h.HypervisorVersion, &cpuInfo); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read host states: %w", err)
		}
		h.Node, h.Heartbeat = h.Host, store.Time(hb)
		var info struct{ Arch, Accel string }
		if json.Unmarshal([]byte(cpuInfo), &info) == nil {
			h.Arch, h.Accel = info.Arch, info.Accel
		}
		index[h.Host] = len(hosts)
		hosts = append(hosts, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read host states: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT h.host, h.aggregate_id, m.key, m.value FROM aggregate_hosts h
		JOIN aggregates a ON a.id = h.aggregate_id AND a.deleted = FALSE
		LEFT JOIN aggregate_metadata m ON m.aggregate_id = h.aggregate_id
		ORDER BY h.host, h.aggregate_id`)
	if err != nil {
		return nil, fmt.Errorf("read host aggregates: %w", err)
	}
	defer rows.Close()
	lastHost, lastAgg := "", int64(-1)
	for rows.Next() {
		var host string
		var agg int64
		var key, value *string
		if err := rows.Scan(&host, &agg, &key, &value); err != nil {
			return nil, fmt.Errorf("read host aggregates: %w", err)
		}
		i, ok := index[host]
		if !ok {
			continue // an aggregate may name a host not registered (yet)
		}
		if host != lastHost || agg != lastAgg {
			hosts[i].Aggregates = append(hosts[i].Aggregates, map[string]string{})
			lastHost, lastAgg = host, agg
		}
		if key != nil && value != nil {
			hosts[i].Aggregates[len(hosts[i].Aggregates)-1][*key] = *value
		}
	}
	return hosts, rows.Err()
}

// Up reports whether the host's service is alive at now: a forced-down
// host is down whatever its heartbeat says, as in Nova's servicegroup.
func (h *HostState) Up(now time.Time, c Config) bool {
	return !h.ForcedDown && !h.Heartbeat.Before(c.LiveSince(now))
}

// Ratios are the allocation ratios in force on h: an aggregate's
// cpu/ram/disk_allocation_ratio metadata (the smallest when several of
// the host's aggregates set one), else the host's own, as Nova's
// Aggregate{Core,Ram,Disk}Filter.
func (h *HostState) Ratios() (cpu, ram, disk float64) {
	return h.aggregateFloat("cpu_allocation_ratio", h.CPURatio),
		h.aggregateFloat("ram_allocation_ratio", h.RAMRatio),
		h.aggregateFloat("disk_allocation_ratio", h.DiskRatio)
}

// aggregateFloat is the smallest valid number the host's aggregates give
// key (Nova's validate_num_values based on min), else def.
func (h *HostState) aggregateFloat(key string, def float64) float64 {
	v, found := math.Inf(1), false
	for _, md := range h.Aggregates {
		raw, ok := md[key]
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(f) {
			return def // Nova falls back to the default on a bad value
		}
		v, found = min(v, f), true
	}
	if !found {
		return def
	}
	return v
}

// aggregateMetadata is the union of the host's aggregates' metadata, each
// value split at commas (Nova's aggregate_metadata_get_by_host).
func (h *HostState) aggregateMetadata() map[string][]string {
	out := map[string][]string{}
	for _, md := range h.Aggregates {
		for k, v := range md {
			for _, part := range strings.Split(v, ",") {
				out[k] = append(out[k], strings.TrimSpace(part))
			}
		}
	}
	return out
}

// supportedInstances are the (architecture, hypervisor type, vm mode)
// triples the host runs, as Nova's drivers report them: QEMU hosts with
// KVM run both domain types.
func (h *HostState) supportedInstances() [][3]string {
	if h.Arch == "" {
		return nil
	}
	hv := strings.ToLower(h.HypervisorType)
	out := [][3]string{{h.Arch, hv, "hvm"}}
	if hv == "qemu" && h.Accel == "kvm" {
		out = append(out, [3]string{h.Arch, "kvm", "hvm"})
	}
	return out
}

// free* are what a host has left; Nova's weighers use them.
func (h *HostState) freeRAM() float64  { return float64(h.MemoryMB - h.MemoryUsed) }
func (h *HostState) freeDisk() float64 { return float64(h.DiskGB-h.DiskUsed) * 1024 }
func (h *HostState) freeVCPUs() float64 {
	cpu, _, _ := h.Ratios()
	return float64(h.VCPUs)*cpu - float64(h.VCPUsUsed)
}
