package compute

import (
	"encoding/json"
	"net/http"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/mv"
)

// os-hypervisors: the compute hosts as Nova's compute nodes, admin only.
func (h *handlers) hypervisorRoutes() []api.Route {
	rule := func(op string) string { return "os_compute_api:os-hypervisors:" + op }
	return []api.Route{
		{Method: "GET", Path: "/os-hypervisors", Rule: rule("list"), Handler: h.listHypervisors},
		{Method: "GET", Path: "/os-hypervisors/detail", Rule: rule("list-detail"), Handler: h.listHypervisorsDetail},
		{Method: "GET", Path: "/os-hypervisors/statistics", Rule: rule("statistics"), Handler: h.hypervisorStatistics, MaxVer: mv.V2_87},
		{Method: "GET", Path: "/os-hypervisors/{hypervisor_id}", Rule: rule("show"), Handler: h.showHypervisor},
		{Method: "GET", Path: "/os-hypervisors/{hypervisor_id}/uptime", Rule: rule("uptime"), Handler: h.hypervisorUptime, MaxVer: mv.V2_87},
		{Method: "GET", Path: "/os-hypervisors/{pattern}/search", Rule: rule("search"), Handler: h.searchHypervisors, MaxVer: mv.V2_52},
		{Method: "GET", Path: "/os-hypervisors/{pattern}/servers", Rule: rule("servers"), Handler: h.hypervisorServers, MaxVer: mv.V2_52},
	}
}

func (h *handlers) listHypervisors(c *api.Call) (*api.Reply, error) {
	return h.hypervisorList(c, false)
}

func (h *handlers) listHypervisorsDetail(c *api.Call) (*api.Reply, error) {
	return h.hypervisorList(c, true)
}

// hypervisorView is Nova's _view_hypervisor: the summary always, the
// detail fields when asked, servers when listed (from 2.75 an empty
// list when asked for and none run there).
func (h *handlers) hypervisorView(c *api.Call, host hosts.Host, detail bool, servers []hosts.ServerRef, withServers bool) map[string]any {
	now := h.Hosts.Now()
	v := map[string]any{
		"id":                  hypervisorID(c, host),
		"hypervisor_hostname": host.Hostname,
		"state":               upDown(host.Up(now)),
		"status":              enabledDisabled(host.Disabled),
	}
	if detail {
		svc := hosts.ComputeService(host, now)
		v["hypervisor_type"] = host.HypervisorType
		v["hypervisor_version"] = host.HypervisorVersion
		v["host_ip"] = host.HostIP
		var svcID any = svc.ID
		if c.AtLeast(mv.V2_53) {
			svcID = svc.UUID
		}
		v["service"] = map[string]any{"id": svcID, "host": host.Hostname, "disabled_reason": host.DisabledReason}
		if c.AtLeast(mv.V2_88) {
			v["uptime"] = h.hostUptime(c.Ctx, host, now)
		} else {
			for k, n := range map[string]int64{
				"vcpus": host.VCPUs, "memory_mb": host.MemoryMB, "local_gb": host.LocalGB,
				"vcpus_used": host.VCPUsUsed, "memory_mb_used": host.MemUsed, "local_gb_used": host.LocalUsed,
				"free_ram_mb": host.MemoryMB - host.MemUsed, "free_disk_gb": host.LocalGB - host.LocalUsed,
				"current_workload": host.Workload, "running_vms": host.RunningVMs,
				"disk_available_least": host.LocalGB - host.LocalUsed,
			} {
				v[k] = n
			}
			v["cpu_info"] = cpuInfo(c, host.CPUInfo)
		}
	}
	switch {
	case len(servers) > 0:
		list := make([]map[string]any, len(servers))
		for i, s := range servers {
			list[i] = map[string]any{"name": s.Name, "uuid": s.UUID}
		}
		v["servers"] = list
	case withServers && c.AtLeast(mv.V2_75):
		v["servers"] = []map[string]any{}
	}
	return v
}

// hypervisorID is the compute node's integer id, its uuid from 2.53.
func hypervisorID(c *api.Call, host hosts.Host) any {
	if c.AtLeast(mv.V2_53) {
		return host.ID
	}
	return host.Number
}

// cpuInfo is the driver's JSON as a string before 2.28, parsed after.
func cpuInfo(c *api.Call, raw string) any {
	if !c.AtLeast(mv.V2_28) {
		return raw
	}
	var obj map[string]any
	if raw == "" || json.Unmarshal([]byte(raw), &obj) != nil || obj == nil {
		return map[string]any{}
	}
	return obj
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

func enabledDisabled(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

// findHypervisor resolves the path id as Nova's _validate_id: before
// 2.53 a non-integer is a 404, from 2.53 a non-uuid a 400.
func (h *handlers) findHypervisor(c *api.Call, id string) (hosts.Host, error) {
	notFound := errs.NotFound("Hypervisor with ID '%s' could not be found.", id)
	var host hosts.Host
	var err error
	if c.AtLeast(mv.V2_53) {
		u, perr := uuid.Parse(id)
		if perr != nil {
			return hosts.Host{}, errs.Invalid("Invalid uuid %s", id)
		}
		host, err = h.Hosts.Get(c.Ctx, u.String())
	} else {
		n, ok := pyInt(id)
		if !ok {
			return hosts.Host{}, notFound
		}
		host, err = h.Hosts.GetByNumber(c.Ctx, n)
	}
	if errs.Is(err, errs.KindNotFound) {
		return hosts.Host{}, notFound
	}
	return host, err
}

func (h *handlers) showHypervisor(c *api.Call) (*api.Reply, error) {
	if c.Param("hypervisor_id") == "statistics" {
		// Nova routes statistics on its own; after 2.87 it is gone, not an id.
		return nil, errs.NotFound("The resource could not be found.")
	}
	withServers := false
	if c.AtLeast(mv.V2_53) {
		q, err := checkActionQuery(c, actionQuery{rules: []flavorQueryRule{{"with_servers", jsonBooleanCheck}}, strict: true})
		if err != nil {
			return nil, err
		}
		withServers, _ = strictBool(lastValue(q, "with_servers"))
	}
	host, err := h.findHypervisor(c, c.Param("hypervisor_id"))
	if err != nil {
		return nil, err
	}
	var servers []hosts.ServerRef
	if withServers {
		if servers, err = h.Hosts.Servers(c.Ctx, host.Hostname); err != nil {
			return nil, err
		}
	}
	return api.JSON(http.StatusOK, map[string]any{"hypervisor": h.hypervisorView(c, host, true, servers, withServers)}), nil
}

func (h *handlers) hypervisorUptime(c *api.Call) (*api.Reply, error) {
	host, err := h.findHypervisor(c, c.Param("hypervisor_id"))
	if err != nil {
		return nil, err
	}
	// A driver that measures no uptime (the fake one, as Nova's) makes
	// this a 501, which the openstack CLI's hypervisor show expects.
	line, err := h.askUptime(c.Ctx, host, h.Hosts.Now())
	if err != nil {
		return nil, err
	}
	v := h.hypervisorView(c, host, false, nil, false)
	v["uptime"] = line
	return api.JSON(http.StatusOK, map[string]any{"hypervisor": v}), nil
}

// matchingHypervisors is Nova's hostname search: none is a 404.
func (h *handlers) matchingHypervisors(c *api.Call, pattern string) ([]hosts.Host, error) {
	found, err := h.Hosts.Search(c.Ctx, pattern)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, errs.NotFound("No hypervisor matching '%s' could be found.", pattern)
	}
	return found, nil
}

func (h *handlers) searchHypervisors(c *api.Call) (*api.Reply, error) {
	found, err := h.matchingHypervisors(c, c.Param("pattern"))
	if err != nil {
		return nil, err
	}
	items := make([]map[string]any, len(found))
	for i, host := range found {
		items[i] = h.hypervisorView(c, host, false, nil, false)
	}
	return api.JSON(http.StatusOK, map[string]any{"hypervisors": items}), nil
}

func (h *handlers) hypervisorServers(c *api.Call) (*api.Reply, error) {
	found, err := h.matchingHypervisors(c, c.Param("pattern"))
	if err != nil {
		return nil, err
	}
	items := make([]map[string]any, len(found))
	for i, host := range found {
		servers, err := h.Hosts.Servers(c.Ctx, host.Hostname)
		if err != nil {
			return nil, err
		}
		items[i] = h.hypervisorView(c, host, false, servers, false)
	}
	return api.JSON(http.StatusOK, map[string]any{"hypervisors": items}), nil
}

// hypervisorStatistics sums the hosts whose service is enabled, as
// Nova's compute_node_statistics does.
func (h *handlers) hypervisorStatistics(c *api.Call) (*api.Reply, error) {
	all, err := h.Hosts.List(c.Ctx)
	if err != nil {
		return nil, err
	}
	keys := []string{"count", "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
		"free_ram_mb", "free_disk_gb", "current_workload", "running_vms", "disk_available_least"}
	sum := make(map[string]int64, len(keys))
	for _, k := range keys {
		sum[k] = 0
	}
	for _, host := range all {
		if host.Disabled {
			continue
		}
		sum["count"]++
		sum["vcpus"] += host.VCPUs
		sum["memory_mb"] += host.MemoryMB
		sum["local_gb"] += host.LocalGB
		sum["vcpus_used"] += host.VCPUsUsed
		sum["memory_mb_used"] += host.MemUsed
		sum["local_gb_used"] += host.LocalUsed
		sum["free_ram_mb"] += host.MemoryMB - host.MemUsed
		sum["free_disk_gb"] += host.LocalGB - host.LocalUsed
		sum["current_workload"] += host.Workload
		sum["running_vms"] += host.RunningVMs
		sum["disk_available_least"] += host.LocalGB - host.LocalUsed
	}
	return api.JSON(http.StatusOK, map[string]any{"hypervisor_statistics": sum}), nil
}
