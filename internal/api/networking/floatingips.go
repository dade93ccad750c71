package networking

import (
	"net/http"
	"slices"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
)

// floatingIPExtensions are the extensions the floating IP resource
// brings.
var floatingIPExtensions = []extension{
	{"fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource", "2018-04-09T10:00:00-00:00"},
}

// floatingIPAttrs are the floating IP attributes a body may hold.
var floatingIPAttrs = attrSpec{
	post: []string{"floating_network_id", "floating_ip_address", "subnet_id", "port_id", "fixed_ip_address", "description",
		"tenant_id", "project_id"},
	put: []string{"port_id", "fixed_ip_address", "description"},
	readOnly: []string{"id", "router_id", "status", "port_details", "created_at", "updated_at", "revision_number", "tags",
		"floating_network_id", "floating_ip_address", "subnet_id", "tenant_id", "project_id"},
}

type floatingIPHandlers struct {
	svc  *floatingip.Service
	nets *network.Service
	res  resource
}

func newFloatingIPs(svc *floatingip.Service, nets *network.Service) *floatingIPHandlers {
	h := &floatingIPHandlers{svc: svc, nets: nets}
	h.res = resource{
		collection: collection{Name: "floatingips", Sortable: []string{"id", "floating_ip_address", "floating_network_id",
			"fixed_ip_address", "port_id", "router_id", "status", "project_id", "tenant_id", "created_at", "updated_at",
			"revision_number", "description"}},
		Singular: "floatingip", Param: "floatingip_id",
		Target: func(c *api.Call, id string) (policy.Target, error) {
			r, err := svc.Record(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			return floatingIPTarget(r), nil
		},
		NotFound: floatingip.FloatingIPNotFound,
	}
	return h
}

// floatingIPTarget is what the floating IP rules read of r.
func floatingIPTarget(r floatingip.Record) policy.Target {
	return policy.Target{"project_id": r.ProjectID, "tenant_id": r.ProjectID}
}

func (h *floatingIPHandlers) routes() []api.Route {
	r := h.res
	return append([]api.Route{
		{Method: "GET", Path: r.path(), Rule: r.rule("get"), Handler: h.list},
		{Method: "POST", Path: r.path(), Rule: r.rule("create"), Handler: creator{res: r, spec: floatingIPAttrs,
			create: h.create, remove: func(c *api.Call, id string) error { return h.svc.DeleteRecord(c.Ctx, id) }}.handler},
		{Method: "GET", Path: r.path(""), Rule: r.rule("get"), Target: r.objectTarget, Handler: h.show},
		{Method: "PUT", Path: r.path(""), Rule: r.rule("update"), Target: r.objectTarget, Handler: h.update},
		{Method: "DELETE", Path: r.path(""), Rule: r.rule("delete"), Target: r.objectTarget, Handler: h.delete},
	}, tagRoutes(r, h.svc)...)
}

// views shows floating IPs with the details of the ports they are bound
// to (fip-port-details).
func (h *floatingIPHandlers) views(c *api.Call, recs []floatingip.Record) ([]view, error) {
	out := make([]view, 0, len(recs))
	for _, r := range recs {
		v := view{"id": r.ID, "floating_ip_address": r.Address, "floating_network_id": nullable(r.NetworkID), "router_id": nil,
			"port_id": nil, "fixed_ip_address": nil, "status": "DOWN", "port_details": nil}
		if r.PortID != "" {
			p, err := h.nets.GetPort(c.Ctx, r.PortID)
			if err != nil {
				return nil, err
			}
			v["port_id"], v["fixed_ip_address"], v["status"] = r.PortID, r.FixedAddress, "ACTIVE"
			if r.RouterID != "" {
				v["router_id"] = r.RouterID
			}
			v["port_details"] = portDetails(p)
		}
		out = append(out, standardAttrs(v, r.ProjectID, r.Description, r.Revision, r.CreatedAt, r.UpdatedAt, r.Tags))
	}
	return out, nil
}

// portDetails is fip-port-details' summary of the bound port.
func portDetails(p network.Port) map[string]any {
	return map[string]any{"name": p.Name, "network_id": p.NetworkID, "mac_address": p.MAC, "admin_state_up": p.AdminStateUp,
		"status": p.Status(), "device_id": p.DeviceID, "device_owner": p.DeviceOwner}
}

func (h *floatingIPHandlers) list(c *api.Call) (*api.Reply, error) {
	recs, err := h.svc.Records(c.Ctx, c.ProjectID(), c.IsAdmin())
	if err != nil {
		return nil, err
	}
	visible := recs[:0]
	for _, r := range recs {
		if c.Allowed("get_floatingip", floatingIPTarget(r)) {
			visible = append(visible, r)
		}
	}
	views, err := h.views(c, visible)
	if err != nil {
		return nil, err
	}
	return listReply(c, h.res.collection, views)
}

func (h *floatingIPHandlers) show(c *api.Call) (*api.Reply, error) {
	r, err := h.svc.Record(c.Ctx, c.Param("floatingip_id"))
	if err != nil {
		return nil, err
	}
	views, err := h.views(c, []floatingip.Record{r})
	if err != nil {
		return nil, err
	}
	return showReply(c, "floatingip", views[0]), nil
}

// binding reads port_id and fixed_ip_address: nil when the body does not
// touch the association; the port must be one the caller may see.
func (h *floatingIPHandlers) binding(c *api.Call, a attrs) (*floatingip.Binding, error) {
	fixed, err := a.str("fixed_ip_address", 64)
	if err != nil {
		return nil, err
	}
	raw, ok := a["port_id"]
	if !ok || raw == nil {
		if fixed != nil {
			return nil, floatingip.BadRequest("fixed_ip_address cannot be specified without a port_id")
		}
		if ok {
			return &floatingip.Binding{}, nil
		}
		return nil, nil
	}
	portID, err := a.str("port_id", 36)
	if err != nil {
		return nil, err
	}
	p, err := h.nets.GetPort(c.Ctx, *portID)
	if err != nil {
		return nil, err
	}
	if !c.Allowed("get_port", portTarget(p)) {
		return nil, network.PortNotFound(*portID)
	}
	b := &floatingip.Binding{PortID: p.ID, Admin: c.IsAdmin()}
	if fixed != nil {
		b.FixedAddress = *fixed
	}
	return b, nil
}

// create allocates one floating IP of a create body.
func (h *floatingIPHandlers) create(c *api.Call, a attrs) (view, error) {
	netID, err := a.str("floating_network_id", 36)
	if err != nil {
		return nil, err
	}
	if netID == nil {
		return nil, badRequest("Failed to parse request. Required attribute 'floating_network_id' not specified")
	}
	project, err := projectOf(c, a)
	if err != nil {
		return nil, err
	}
	target := policy.Target{"project_id": project, "tenant_id": project}
	if project != c.ProjectID() {
		if err := forbidden(c, "create_floatingip", target); err != nil {
			return nil, err
		}
	}
	fc := floatingip.Create{ProjectID: project, NetworkID: *netID}
	if fc.SubnetID, err = h.checkNetwork(c, a, *netID); err != nil {
		return nil, err
	}
	if addr, err := a.str("floating_ip_address", 64); err != nil {
		return nil, err
	} else if addr != nil {
		if err := forbidden(c, "create_floatingip:floating_ip_address", target); err != nil {
			return nil, err
		}
		fc.Address = *addr
	}
	if d, err := a.str("description", 255); err != nil {
		return nil, err
	} else if d != nil {
		fc.Description = *d
	}
	if fc.Bind, err = h.binding(c, a); err != nil {
		return nil, err
	}
	if fc.Bind != nil && fc.Bind.PortID == "" {
		fc.Bind = nil
	}
	r, err := h.svc.CreateRecord(c.Ctx, fc)
	if err != nil {
		return nil, err
	}
	views, err := h.views(c, []floatingip.Record{r})
	if err != nil {
		return nil, err
	}
	return views[0], nil
}

// checkNetwork checks the network and subnet a create names: a
// router:external network the caller sees, and one of its subnets. It
// returns the subnet ("": none named).
func (h *floatingIPHandlers) checkNetwork(c *api.Call, a attrs, netID string) (string, error) {
	n, err := h.nets.GetNetwork(c.Ctx, netID)
	if err != nil {
		return "", err
	}
	if !c.Allowed("get_network", networkTarget(n)) {
		return "", network.NetworkNotFound(netID)
	}
	if !n.External {
		return "", floatingip.BadRequest("Network %s is not a valid external network", netID)
	}
	subnetID, err := a.str("subnet_id", 36)
	if err != nil || subnetID == nil {
		return "", err
	}
	if !slices.Contains(n.Subnets, *subnetID) {
		return "", floatingip.BadRequest("Subnet %s is not a subnet of network %s", *subnetID, netID)
	}
	return *subnetID, nil
}

func (h *floatingIPHandlers) update(c *api.Call) (*api.Reply, error) {
	id := c.Param("floatingip_id")
	a, err := decodeAttrs(c, "floatingip", floatingIPAttrs, true)
	if err != nil {
		return nil, err
	}
	var u floatingip.Update
	if u.Description, err = a.str("description", 255); err != nil {
		return nil, err
	}
	if u.Bind, err = h.binding(c, a); err != nil {
		return nil, err
	}
	r, err := h.svc.UpdateRecord(c.Ctx, id, u)
	if err != nil {
		return nil, err
	}
	views, err := h.views(c, []floatingip.Record{r})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"floatingip": views[0]}), nil
}

func (h *floatingIPHandlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteRecord(c.Ctx, c.Param("floatingip_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
