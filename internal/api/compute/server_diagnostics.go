package compute

// os-server-diagnostics (Nova's server_diagnostics.py): what the
// server's hypervisor measures of it, admin only. From 2.48 in Nova's
// standard form; before, in the libvirt driver's free-form keys.

import (
	"fmt"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/mv"
)

// serverDiagnosticsRoutes serve /servers/{server_id}/diagnostics.
func (h *handlers) serverDiagnosticsRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/servers/{server_id}/diagnostics", Rule: "os_compute_api:os-server-diagnostics", Handler: h.showServerDiagnostics},
	}
}

func (h *handlers) showServerDiagnostics(c *api.Call) (*api.Reply, error) {
	d, err := h.Servers.Diagnostics(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID)
	if err != nil {
		return nil, err
	}
	if c.AtLeast(mv.V2_48) {
		return api.JSON(http.StatusOK, diagnosticsView(d)), nil
	}
	return api.JSON(http.StatusOK, legacyDiagnosticsView(d)), nil
}

// diagnosticsView is Nova's 2.48 form; unmeasured counters are null.
func diagnosticsView(d *compute.Diagnostics) map[string]any {
	cpus := make([]any, len(d.CPUs))
	for i, c := range d.CPUs {
		cpus[i] = map[string]any{"id": c.ID, "time": orNull(c.TimeNS), "utilisation": orNull(c.Utilisation)}
	}
	nics := make([]any, len(d.NICs))
	for i, n := range d.NICs {
		nics[i] = map[string]any{"mac_address": n.MAC,
			"rx_octets": orNull(n.RxOctets), "rx_errors": orNull(n.RxErrors), "rx_drop": orNull(n.RxDrop),
			"rx_packets": orNull(n.RxPackets), "rx_rate": orNull(n.RxRate),
			"tx_octets": orNull(n.TxOctets), "tx_errors": orNull(n.TxErrors), "tx_drop": orNull(n.TxDrop),
			"tx_packets": orNull(n.TxPackets), "tx_rate": orNull(n.TxRate)}
	}
	disks := make([]any, len(d.Disks))
	for i, k := range d.Disks {
		disks[i] = map[string]any{"read_bytes": orNull(k.ReadBytes), "read_requests": orNull(k.ReadRequests),
			"write_bytes": orNull(k.WriteBytes), "write_requests": orNull(k.WriteRequests), "errors_count": orNull(k.Errors)}
	}
	return map[string]any{
		"state": d.Power.String(), "driver": d.Driver, "hypervisor": d.Hypervisor, "hypervisor_os": d.HypervisorOS,
		"uptime": orNull(d.Uptime), "config_drive": d.ConfigDrive,
		"num_cpus": len(d.CPUs), "num_nics": len(d.NICs), "num_disks": len(d.Disks),
		"memory_details": map[string]any{"maximum": d.MemoryMaxMB, "used": orNull(d.MemoryUsedMB)},
		"cpu_details":    cpus, "nic_details": nics, "disk_details": disks,
	}
}

// legacyDiagnosticsView is the libvirt driver's pre-2.48 form: memory in
// KiB, then a key per measured counter (cpu0_time, vda_read, vnet0_rx...).
func legacyDiagnosticsView(d *compute.Diagnostics) map[string]any {
	m := map[string]any{"memory": d.MemoryMaxMB * 1024}
	set := func(key string, v *int64) {
		if v != nil {
			m[key] = *v
		}
	}
	for _, c := range d.CPUs {
		set(fmt.Sprintf("cpu%d_time", c.ID), c.TimeNS)
	}
	for i, k := range d.Disks {
		dev := fmt.Sprintf("vd%c", 'a'+i)
		set(dev+"_read", k.ReadBytes)
		set(dev+"_read_req", k.ReadRequests)
		set(dev+"_write", k.WriteBytes)
		set(dev+"_write_req", k.WriteRequests)
		set(dev+"_errors", k.Errors)
	}
	for i, n := range d.NICs {
		dev := fmt.Sprintf("vnet%d", i)
		set(dev+"_rx", n.RxOctets)
		set(dev+"_rx_drop", n.RxDrop)
		set(dev+"_rx_errors", n.RxErrors)
		set(dev+"_rx_packets", n.RxPackets)
		set(dev+"_tx", n.TxOctets)
		set(dev+"_tx_drop", n.TxDrop)
		set(dev+"_tx_errors", n.TxErrors)
		set(dev+"_tx_packets", n.TxPackets)
	}
	return m
}

// orNull is v's value, or JSON null when unmeasured.
func orNull(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}
