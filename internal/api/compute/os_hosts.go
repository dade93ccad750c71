package compute

// os-hosts (Nova's hosts.py, deprecated and gone after 2.42): the service
// hosts with their zones, a compute host's resources, and the host
// update and power calls, which Nova's libvirt driver does not implement
// (501), as kumo's drivers do not.

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/mv"
)

// hostRoutes serve os-hosts up to 2.42.
func (h *handlers) hostRoutes() []api.Route {
	rule := func(op string) string { return "os_compute_api:os-hosts:" + op }
	return []api.Route{
		{Method: "GET", Path: "/os-hosts", Rule: rule("list"), Handler: h.listHosts, MaxVer: mv.V2_42},
		{Method: "GET", Path: "/os-hosts/{host_name}", Rule: rule("show"), Handler: h.showHost, MaxVer: mv.V2_42},
		{Method: "PUT", Path: "/os-hosts/{host_name}", Rule: rule("update"), Handler: h.updateHost, MaxVer: mv.V2_42},
		{Method: "GET", Path: "/os-hosts/{host_name}/reboot", Rule: rule("reboot"), Handler: h.hostPowerAction, MaxVer: mv.V2_42},
		{Method: "GET", Path: "/os-hosts/{host_name}/shutdown", Rule: rule("shutdown"), Handler: h.hostPowerAction, MaxVer: mv.V2_42},
		{Method: "GET", Path: "/os-hosts/{host_name}/startup", Rule: rule("start"), Handler: h.hostPowerAction, MaxVer: mv.V2_42},
	}
}

// listHosts is Nova's index: every enabled service but the API ones, with
// its topic and zone, optionally of one zone.
func (h *handlers) listHosts(c *api.Call) (*api.Reply, error) {
	all, err := h.Hosts.Services(c.Ctx)
	if err != nil {
		return nil, err
	}
	zone := c.Query().Get("zone")
	out := []map[string]any{}
	for _, s := range all {
		if s.Disabled || s.Binary == "nova-osapi_compute" || s.Binary == "nova-metadata" {
			continue
		}
		if zone != "" && s.Zone != zone {
			continue
		}
		out = append(out, map[string]any{"host_name": s.Host, "service": strings.TrimPrefix(s.Binary, "nova-"), "zone": s.Zone})
	}
	return api.JSON(http.StatusOK, map[string]any{"hosts": out}), nil
}

func hostNotMapped(name string) error {
	return errs.NotFound("Host '%s' is not mapped to any cell", name)
}

// computeHostNamed returns the compute host called name (Nova's host
// mapping lookup: 404 for any other name).
func (h *handlers) computeHostNamed(c *api.Call, name string) (hosts.Host, error) {
	host, err := h.Hosts.GetByName(c.Ctx, name)
	if errs.Is(err, errs.KindNotFound) {
		return hosts.Host{}, hostNotMapped(name)
	}
	return host, err
}

// showHost is the host's total, used-now and used-max resources, then
// its usage per project.
func (h *handlers) showHost(c *api.Call) (*api.Reply, error) {
	name := c.Param("host_name")
	host, err := h.computeHostNamed(c, name)
	if err != nil {
		return nil, err
	}
	usage, err := h.Hosts.ProjectUsage(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	resource := func(project string, cpu, mem, disk int64) map[string]any {
		return map[string]any{"resource": map[string]any{"host": name, "project": project, "cpu": cpu, "memory_mb": mem, "disk_gb": disk}}
	}
	var cpu, mem, disk int64
	for _, u := range usage {
		cpu, mem, disk = cpu+u.VCPUs, mem+u.MemoryMB, disk+u.DiskGB
	}
	out := []map[string]any{
		resource("(total)", host.VCPUs, host.MemoryMB, host.LocalGB),
		resource("(used_now)", host.VCPUsUsed, host.MemUsed, host.LocalUsed),
		resource("(used_max)", cpu, mem, disk),
	}
	for _, u := range usage {
		out = append(out, resource(u.ProjectID, u.VCPUs, u.MemoryMB, u.DiskGB))
	}
	return api.JSON(http.StatusOK, map[string]any{"host": out}), nil
}

var hostUpdateSchema = func() js.Schema {
	mode := js.Schema{js.Type("string"), js.Enum("enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE")}
	s := js.Object(nil, js.Property{Name: "status", Schema: mode}, js.Property{Name: "maintenance_mode", Schema: mode})
	return append(s, jsStatusOrMaintenance)
}()

// jsStatusOrMaintenance is the update schema's anyOf: status or
// maintenance_mode is required.
func jsStatusOrMaintenance(r *js.Run, path []string, v any) *js.Failure {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	_, status := m["status"]
	_, maint := m["maintenance_mode"]
	if !status && !maint {
		return js.FailAt(path, v, "%s is not valid under any of the given schemas", r.Repr(v))
	}
	return nil
}

// updateHost validates the body and the host, then answers what Nova's
// libvirt driver does: enabling or maintenance of a host is not
// implemented (use os-services to disable a compute service).
func (h *handlers) updateHost(c *api.Call) (*api.Reply, error) {
	if _, err := decodeSchemaBody(c, hostUpdateSchema); err != nil {
		return nil, err
	}
	if _, err := h.computeHostNamed(c, c.Param("host_name")); err != nil {
		return nil, err
	}
	return nil, hostFeatureNotSupported()
}

// hostPowerAction answers reboot, shutdown and startup: 404 for an
// unknown host, else 501 as Nova's libvirt driver.
func (h *handlers) hostPowerAction(c *api.Call) (*api.Reply, error) {
	if _, err := h.computeHostNamed(c, c.Param("host_name")); err != nil {
		return nil, err
	}
	return nil, hostFeatureNotSupported()
}

// hostFeatureNotSupported is Nova's common.raise_feature_not_supported.
func hostFeatureNotSupported() error {
	return &errs.Error{Kind: errs.KindNotImplemented, Message: "Feature not supported."}
}
