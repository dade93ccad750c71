package networking

import (
	"net/http"
	"net/netip"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/router"
)

// routerExtensions are the extensions the router resource brings
// (floating IPs belong to router).
var routerExtensions = []extension{
	{"router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to " +
		"external networks via a NAT gateway.", "2012-07-20T10:00:00-00:00"},
	{"extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router", "2013-02-01T10:00:00-00:00"},
	{"ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for specifying " +
		"whether SNAT should occur on the external gateway", "2013-03-28T10:00:00-00:00"},
}

// routerAttrs are the router attributes a body may hold.
var routerAttrs = attrSpec{
	post: []string{"name", "description", "admin_state_up", "external_gateway_info", "tenant_id", "project_id"},
	put:  []string{"name", "description", "admin_state_up", "external_gateway_info", "routes"},
	readOnly: []string{"id", "status", "routes", "created_at", "updated_at", "revision_number", "tags",
		"availability_zones", "tenant_id", "project_id"},
}

type routerHandlers struct {
	svc  *router.Service
	nets *network.Service
	res  resource
}

func newRouters(svc *router.Service, nets *network.Service) *routerHandlers {
	h := &routerHandlers{svc: svc, nets: nets}
	h.res = resource{
		collection: collection{Name: "routers", Sortable: []string{"id", "name", "status", "admin_state_up", "project_id",
			"tenant_id", "created_at", "updated_at", "revision_number", "description"}},
		Singular: "router", Param: "router_id",
		Target: func(c *api.Call, id string) (policy.Target, error) {
			r, err := svc.Get(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			return routerTarget(r), nil
		},
		NotFound: router.RouterNotFound,
	}
	return h
}

// routerTarget is what the router rules read of r.
func routerTarget(r router.Router) policy.Target {
	return policy.Target{"project_id": r.ProjectID, "tenant_id": r.ProjectID}
}

func (h *routerHandlers) routes() []api.Route {
	r := h.res
	return append([]api.Route{
		{Method: "GET", Path: r.path(), Rule: r.rule("get"), Handler: h.list},
		{Method: "POST", Path: r.path(), Rule: r.rule("create"), Handler: creator{res: r, spec: routerAttrs,
			create: h.create, remove: func(c *api.Call, id string) error { return h.svc.Delete(c.Ctx, id) }}.handler},
		{Method: "GET", Path: r.path(""), Rule: r.rule("get"), Target: r.objectTarget, Handler: h.show},
		{Method: "PUT", Path: r.path(""), Rule: r.rule("update"), Target: r.objectTarget, Handler: h.update},
		{Method: "DELETE", Path: r.path(""), Rule: r.rule("delete"), Target: r.objectTarget, Handler: h.delete},
		{Method: "PUT", Path: r.path("/add_router_interface"), Rule: "add_router_interface", Target: r.objectTarget,
			Handler: h.addInterface},
		{Method: "PUT", Path: r.path("/remove_router_interface"), Rule: "remove_router_interface", Target: r.objectTarget,
			Handler: h.removeInterface},
	}, tagRoutes(r, h.svc)...)
}

// view is a router as Neutron shows it.
func (h *routerHandlers) view(r router.Router) view {
	routes := make([]map[string]string, 0, len(r.Routes))
	for _, rt := range r.Routes {
		routes = append(routes, map[string]string{"destination": rt.Destination, "nexthop": rt.NextHop})
	}
	v := view{"id": r.ID, "name": r.Name, "admin_state_up": r.AdminStateUp, "status": "ACTIVE",
		"external_gateway_info": nil, "routes": routes, "availability_zone_hints": []string{},
		"availability_zones": []string{"nova"}}
	if g := r.Gateway; g != nil {
		fixed := []map[string]string{}
		for _, ip := range g.FixedIPs {
			fixed = append(fixed, map[string]string{"subnet_id": ip.SubnetID, "ip_address": ip.IPAddress})
		}
		v["external_gateway_info"] = map[string]any{"network_id": g.NetworkID, "enable_snat": g.EnableSNAT,
			"external_fixed_ips": fixed}
	}
	return standardAttrs(v, r.ProjectID, r.Description, r.Revision, r.CreatedAt, r.UpdatedAt, r.Tags)
}

func (h *routerHandlers) list(c *api.Call) (*api.Reply, error) {
	rs, err := h.svc.List(c.Ctx, c.ProjectID(), c.IsAdmin())
	if err != nil {
		return nil, err
	}
	views := make([]view, 0, len(rs))
	for _, r := range rs {
		if c.Allowed("get_router", routerTarget(r)) {
			views = append(views, h.view(r))
		}
	}
	return listReply(c, h.res.collection, views)
}

func (h *routerHandlers) show(c *api.Call) (*api.Reply, error) {
	r, err := h.svc.Get(c.Ctx, c.Param("router_id"))
	if err != nil {
		return nil, err
	}
	return showReply(c, "router", h.view(r)), nil
}

// fields reads the router attributes of a body, checking the rules of
// the gateway attributes it sets.
func (h *routerHandlers) fields(c *api.Call, a attrs, action string, target policy.Target) (router.Fields, error) {
	var f router.Fields
	var err error
	if f.Name, err = a.str("name", 255); err != nil {
		return f, err
	}
	if f.Description, err = a.str("description", 255); err != nil {
		return f, err
	}
	if f.AdminStateUp, err = a.boolean("admin_state_up"); err != nil {
		return f, err
	}
	if f.Gateway, err = gatewayInfo(c, a, action, target); err != nil {
		return f, err
	}
	if v, ok := a["routes"]; ok && v == nil {
		// Neutron's convert_none_to_empty_list: null clears them.
		f.Routes = &[]router.Route{}
	} else if rs, err := a.dicts("routes", "destination", "nexthop"); err != nil {
		return f, err
	} else if rs != nil {
		routes := make([]router.Route, 0, len(*rs))
		for _, r := range *rs {
			routes = append(routes, router.Route{Destination: r["destination"], NextHop: r["nexthop"]})
		}
		f.Routes = &routes
	}
	return f, nil
}

// gatewayInfo reads external_gateway_info: absent (nil), null or {}
// (remove the gateway), or {network_id, enable_snat, external_fixed_ips}.
func gatewayInfo(c *api.Call, a attrs, action string, target policy.Target) (**router.GatewayRequest, error) {
	raw, ok := a["external_gateway_info"]
	if !ok {
		return nil, nil
	}
	rule := action + "_router:external_gateway_info"
	if err := forbidden(c, rule, target); err != nil {
		return nil, err
	}
	var g *router.GatewayRequest
	m, isMap := raw.(map[string]any)
	if raw != nil && !isMap {
		return nil, invalidAttr("external_gateway_info", "'"+stringOf(raw)+"' is not a dictionary")
	}
	if len(m) == 0 {
		return &g, nil
	}
	info := attrs(m)
	for k := range info {
		if k != "network_id" && k != "enable_snat" && k != "external_fixed_ips" {
			return nil, invalidAttr("external_gateway_info", "Validation of dictionary's keys failed. Expected keys: "+
				"{'network_id'} Provided keys: "+pySet(mapKeys(m)))
		}
		if err := forbidden(c, rule+":"+k, target); err != nil {
			return nil, err
		}
	}
	netID, err := info.str("network_id", 36)
	if err != nil {
		return nil, err
	}
	if netID == nil {
		return nil, invalidAttr("external_gateway_info", "Validation of dictionary's keys failed. Expected keys: "+
			"{'network_id'} Provided keys: "+pySet(mapKeys(m)))
	}
	g = &router.GatewayRequest{NetworkID: *netID}
	if g.EnableSNAT, err = info.boolean("enable_snat"); err != nil {
		return nil, err
	}
	if g.FixedIPs, err = externalFixedIPs(info); err != nil {
		return nil, err
	}
	return &g, nil
}

// externalFixedIPs reads external_fixed_ips: the gateway port's fixed
// IPs asked for, each a subnet_id and/or an ip_address (nil: absent).
func externalFixedIPs(info attrs) (*[]network.FixedIPRequest, error) {
	raw, ok := info["external_fixed_ips"]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, invalidAttr("external_fixed_ips", "'"+stringOf(raw)+"' is not a list")
	}
	out := make([]network.FixedIPRequest, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, invalidAttr("external_fixed_ips", "'"+stringOf(e)+"' is not a dictionary")
		}
		var r network.FixedIPRequest
		r.SubnetID, _ = m["subnet_id"].(string)
		if ip, _ := m["ip_address"].(string); ip != "" {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				return nil, invalidAttr("external_fixed_ips", "'"+ip+"' is not a valid IP address")
			}
			r.IPAddress = a.String()
		}
		out = append(out, r)
	}
	return &out, nil
}

// create makes one router of a create body.
func (h *routerHandlers) create(c *api.Call, a attrs) (view, error) {
	project, err := projectOf(c, a)
	if err != nil {
		return nil, err
	}
	target := policy.Target{"project_id": project, "tenant_id": project}
	if project != c.ProjectID() {
		if err := forbidden(c, "create_router", target); err != nil {
			return nil, err
		}
	}
	f, err := h.fields(c, a, "create", target)
	if err != nil {
		return nil, err
	}
	r, err := h.svc.Create(c.Ctx, project, f)
	if err != nil {
		return nil, err
	}
	return h.view(r), nil
}

func (h *routerHandlers) update(c *api.Call) (*api.Reply, error) {
	id := c.Param("router_id")
	a, err := decodeAttrs(c, "router", routerAttrs, true)
	if err != nil {
		return nil, err
	}
	r, err := h.svc.Get(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := h.fields(c, a, "update", routerTarget(r))
	if err != nil {
		return nil, err
	}
	if r, err = h.svc.Update(c.Ctx, id, f); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"router": h.view(r)}), nil
}

func (h *routerHandlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.Delete(c.Ctx, c.Param("router_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// interfaceBody reads {subnet_id, port_id} of an interface call.
func interfaceBody(c *api.Call) (subnetID, portID string, err error) {
	var body map[string]any
	if err := c.DecodeJSON(&body); err != nil {
		return "", "", err
	}
	a := attrs(body)
	for _, k := range mapKeys(body) {
		if k != "subnet_id" && k != "port_id" {
			return "", "", badRequest("Unrecognized attribute(s) '%s'", k)
		}
	}
	s, err := a.str("subnet_id", 36)
	if err != nil {
		return "", "", err
	}
	p, err := a.str("port_id", 36)
	if err != nil {
		return "", "", err
	}
	if s != nil {
		subnetID = *s
	}
	if p != nil {
		portID = *p
	}
	return subnetID, portID, nil
}

// visible checks the caller may see the subnet and port an interface
// call names (their 404s otherwise).
func (h *routerHandlers) visible(c *api.Call, subnetID, portID string) error {
	if subnetID != "" {
		if _, err := visibleSubnet(c, h.nets, subnetID); err != nil {
			return err
		}
	}
	if portID != "" {
		p, err := h.nets.GetPort(c.Ctx, portID)
		if err != nil {
			return err
		}
		if !c.Allowed("get_port", portTarget(p)) {
			return network.PortNotFound(portID)
		}
	}
	return nil
}

func interfaceView(i router.Interface) map[string]any {
	return map[string]any{"id": i.RouterID, "tenant_id": i.ProjectID, "project_id": i.ProjectID,
		"network_id": i.NetworkID, "port_id": i.PortID, "subnet_id": i.SubnetID, "subnet_ids": i.SubnetIDs, "tags": []string{}}
}

// addInterface answers PUT .../add_router_interface: the subnet or port
// must be one the caller may see.
func (h *routerHandlers) addInterface(c *api.Call) (*api.Reply, error) {
	subnetID, portID, err := interfaceBody(c)
	if err != nil {
		return nil, err
	}
	if err := h.visible(c, subnetID, portID); err != nil {
		return nil, err
	}
	i, err := h.svc.AddInterface(c.Ctx, c.Param("router_id"), subnetID, portID)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, interfaceView(i)), nil
}

func (h *routerHandlers) removeInterface(c *api.Call) (*api.Reply, error) {
	subnetID, portID, err := interfaceBody(c)
	if err != nil {
		return nil, err
	}
	i, err := h.svc.RemoveInterface(c.Ctx, c.Param("router_id"), subnetID, portID)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, interfaceView(i)), nil
}
