package agent

import (
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/virt"
)

// novaPower is Nova's power_state for what a driver reports.
func novaPower(p virt.PowerState) state.PowerState {
	switch p {
	case virt.PowerRunning:
		return state.PowerRunning
	case virt.PowerPaused:
		return state.PowerPaused
	case virt.PowerShutdown:
		return state.PowerShutdown
	case virt.PowerCrashed:
		return state.PowerCrashed
	case virt.PowerSuspended:
		return state.PowerSuspended
	}
	return state.PowerNoState
}

// novaDiagnostics is d in the compute domain's terms.
func novaDiagnostics(d *virt.Diagnostics) *compute.Diagnostics {
	out := &compute.Diagnostics{Power: novaPower(d.Power), Driver: d.Driver, Hypervisor: d.Hypervisor,
		HypervisorOS: d.HypervisorOS, Uptime: d.Uptime, ConfigDrive: d.ConfigDrive, MemoryMaxMB: d.MemoryMaxMB,
		MemoryUsedMB: d.MemoryUsedMB}
	for _, c := range d.CPUs {
		out.CPUs = append(out.CPUs, compute.CPUDiagnostics(c))
	}
	for _, n := range d.NICs {
		out.NICs = append(out.NICs, compute.NICDiagnostics(n))
	}
	for _, k := range d.Disks {
		out.Disks = append(out.Disks, compute.DiskDiagnostics(k))
	}
	return out
}
