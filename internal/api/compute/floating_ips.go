package compute

// os-floating-ips and os-floating-ip-pools: Nova's deprecated proxies to
// Neutron's floating IPs (floating_ips.py, floating_ip_pools.py), served
// by the built-in pool up to 2.35 and gone (404) from 2.36.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/mv"
)

// maxNetworkProxy is MAX_PROXY_API_SUPPORT_VERSION.
var maxNetworkProxy = mv.V2_35

// floatingIPRoutes serve os-floating-ips and os-floating-ip-pools (proxies until 2.36).
func (h *handlers) floatingIPRoutes() []api.Route {
	const rule = "os_compute_api:os-floating-ips:"
	upTo := func(r api.Route) api.Route { r.MaxVer = maxNetworkProxy; return r }
	return []api.Route{
		upTo(api.Route{Method: "GET", Path: "/os-floating-ip-pools", Rule: "os_compute_api:os-floating-ip-pools", Handler: h.listFloatingIPPools}),
		upTo(api.Route{Method: "GET", Path: "/os-floating-ips", Rule: rule + "list", Handler: h.listFloatingIPs}),
		// create checks its policy after the body, as Nova does.
		upTo(api.Route{Method: "POST", Path: "/os-floating-ips", Rule: rule + "create", Handler: h.allocateFloatingIP}),
		upTo(api.Route{Method: "GET", Path: "/os-floating-ips/{id}", Rule: rule + "show", Handler: h.showFloatingIP}),
		upTo(api.Route{Method: "DELETE", Path: "/os-floating-ips/{id}", Rule: rule + "delete", Handler: h.releaseFloatingIP}),
	}
}

// floatingIPView is Nova's _translate_floating_ip_view.
func floatingIPView(f *floatingip.FloatingIP) map[string]any {
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{
		"id": f.ID, "ip": f.Address, "pool": f.Pool,
		"fixed_ip": orNull(f.FixedAddress), "instance_id": orNull(f.InstanceID),
	}
}

func (h *handlers) listFloatingIPPools(c *api.Call) (*api.Reply, error) {
	names, err := h.FloatingIPs.PoolNames(c.Ctx)
	if err != nil {
		return nil, err
	}
	pools := []map[string]any{}
	for _, name := range names {
		pools = append(pools, map[string]any{"name": name})
	}
	return api.JSON(http.StatusOK, map[string]any{"floating_ip_pools": pools}), nil
}

func (h *handlers) listFloatingIPs(c *api.Call) (*api.Reply, error) {
	fips, err := h.FloatingIPs.List(c.Ctx, c.ProjectID())
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(fips))
	for i := range fips {
		out = append(out, floatingIPView(&fips[i]))
	}
	return api.JSON(http.StatusOK, map[string]any{"floating_ips": out}), nil
}

func (h *handlers) showFloatingIP(c *api.Call) (*api.Reply, error) {
	f, err := h.FloatingIPs.Get(c.Ctx, c.Principal, c.Param("id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"floating_ip": floatingIPView(f)}), nil
}

// floatingIPCreateSchema is schemas/floating_ips.py create: a body is
// optional, null or an object whose pool is a string or null.
var floatingIPCreateSchema = js.Schema{js.Type("object", "null"),
	js.Properties(js.Property{Name: "pool", Schema: js.Schema{js.Type("string", "null")}})}

func (h *handlers) allocateFloatingIP(c *api.Call) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	var pool string
	if len(raw) > 0 {
		body, err := validatedJSON(c, raw, floatingIPCreateSchema)
		if err != nil {
			return nil, err
		}
		if obj, ok := body.(map[string]any); ok {
			pool, _ = obj["pool"].(string)
		}
	}
	f, err := h.FloatingIPs.Allocate(c.Ctx, c.ProjectID(), pool)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"floating_ip": floatingIPView(f)}), nil
}

func (h *handlers) releaseFloatingIP(c *api.Call) (*api.Reply, error) {
	if err := h.FloatingIPs.Release(c.Ctx, c.Principal, c.Param("id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}
