package virt

import (
	"fmt"
	"time"
)

// Diagnostics is what a driver reports of a guest for Nova's server
// diagnostics (2.48's standard form). Counters a driver cannot measure
// are nil; Nova's API shows them as null.
type Diagnostics struct {
	Power        PowerState
	Driver       string
	Hypervisor   string
	HypervisorOS string
	Uptime       *int64 // seconds since the guest started
	ConfigDrive  bool
	MemoryMaxMB  int
	MemoryUsedMB *int64
	CPUs         []CPUDiagnostics
	NICs         []NICDiagnostics
	Disks        []DiskDiagnostics
}

// CPUDiagnostics is one vCPU's time used (ns) and utilisation (%).
type CPUDiagnostics struct {
	ID          int
	TimeNS      *int64
	Utilisation *int64
}

// NICDiagnostics is one interface's traffic.
type NICDiagnostics struct {
	MAC                                           string
	RxOctets, RxErrors, RxDrop, RxPackets, RxRate *int64
	TxOctets, TxErrors, TxDrop, TxPackets, TxRate *int64
}

// DiskDiagnostics is one disk's I/O.
type DiskDiagnostics struct {
	ReadBytes, ReadRequests, WriteBytes, WriteRequests, Errors *int64
}

// DiagnosticsDriver is the driver kumo's guests report in diagnostics.
// Nova's API types the field as an enum of its own drivers (libvirt,
// xenapi, vmwareapi, ironic, hyperv; clients validate it); kumo's guests
// are QEMU machines, which is what Nova's libvirt driver runs, and Nova's
// fake driver reports libvirt too. The hypervisor field tells them apart.
const DiagnosticsDriver = "libvirt"

// SpecDiagnostics fills what g's spec tells (vCPUs, memory, one NIC per
// network, its disks: root (its image's or its root volume), ephemeral,
// swap, config drive, then each other volume, as Nova's libvirt driver
// lists the domain's disks), every counter unknown; drivers add what
// they measure.
func SpecDiagnostics(g *Guest, power PowerState, hypervisor string, configDrive bool) *Diagnostics {
	d := &Diagnostics{Power: power, Driver: DiagnosticsDriver, Hypervisor: hypervisor, HypervisorOS: "linux",
		ConfigDrive: configDrive, MemoryMaxMB: g.MemoryMB}
	for i := 0; i < g.VCPUs; i++ {
		d.CPUs = append(d.CPUs, CPUDiagnostics{ID: i})
	}
	for _, n := range g.NICs {
		d.NICs = append(d.NICs, NICDiagnostics{MAC: n.MAC})
	}
	disks := 1
	for _, present := range []bool{g.EphemeralGB > 0, g.SwapMB > 0, configDrive} {
		if present {
			disks++
		}
	}
	root := false
	for _, v := range g.Volumes {
		if v.BootIndex == 0 && !root {
			root = true // the root disk, counted
			continue
		}
		disks++
	}
	d.Disks = make([]DiskDiagnostics, disks)
	return d
}

// Since is the whole seconds from t to now, as an Uptime.
func Since(t, now time.Time) *int64 {
	s := int64(now.Sub(t) / time.Second)
	return &s
}

// String summarises d for logs.
func (d *Diagnostics) String() string {
	return fmt.Sprintf("%s %s: %d vCPUs, %d MB, %d NICs, %d disks", d.Driver, d.Power, len(d.CPUs), d.MemoryMaxMB, len(d.NICs), len(d.Disks))
}
