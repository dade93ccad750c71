package networking

import (
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
)

// portExtensions are the extensions the port resource brings.
var portExtensions = []extension{
	{"binding", "Port Binding", "Expose port bindings of a virtual port to external application", "2014-02-03T10:00:00-00:00"},
	{"allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs", "2013-07-23T10:00:00-00:00"},
	// The fixed_ips filter takes ip_address_substr (matchFixedIPs).
	{"ip-substring-filtering", "IP address substring filtering", "Provides IP address substring filtering when listing ports",
		"2017-11-28T09:00:00-00:00"},
}

// bindingAttrs are the admin-only binding attributes of a port.
var bindingAttrs = []string{"binding:host_id", "binding:profile", "binding:vif_details", "binding:vif_type"}

type portHandlers struct {
	svc *network.Service
	res resource
}

func newPorts(svc *network.Service) *portHandlers {
	h := &portHandlers{svc: svc}
	h.res = resource{
		collection: collection{Name: "ports", Sortable: []string{"id", "name", "network_id", "mac_address", "device_id",
			"device_owner", "status", "admin_state_up", "project_id", "tenant_id", "created_at", "updated_at",
			"revision_number", "description"},
			Filters: map[string]func(view, []string) (bool, error){"fixed_ips": matchFixedIPs}},
		Singular: "port", Param: "port_id",
		Target: func(c *api.Call, id string) (policy.Target, error) {
			p, err := svc.GetPort(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			return portTarget(p), nil
		},
		NotFound: network.PortNotFound,
	}
	return h
}

// portTarget is what the port rules read of p and its network.
func portTarget(p network.Port) policy.Target {
	return policy.Target{"project_id": p.ProjectID, "tenant_id": p.ProjectID,
		"network:project_id": p.NetworkProjectID, "network:tenant_id": p.NetworkProjectID,
		"shared": pyBool(p.NetworkShared), "device_owner": p.DeviceOwner}
}

func (h *portHandlers) routes() []api.Route {
	r := h.res
	return append([]api.Route{
		{Method: "GET", Path: r.path(), Rule: r.rule("get"), Handler: h.list},
		{Method: "POST", Path: r.path(), Rule: r.rule("create"), Handler: creator{res: r, spec: portAttrs,
			create: h.create, remove: func(c *api.Call, id string) error { return h.svc.DeletePort(c.Ctx, id) }}.handler},
		{Method: "GET", Path: r.path(""), Rule: r.rule("get"), Target: r.objectTarget, Handler: h.show},
		{Method: "PUT", Path: r.path(""), Rule: r.rule("update"), Target: r.objectTarget, Handler: h.update},
		{Method: "DELETE", Path: r.path(""), Rule: r.rule("delete"), Target: r.objectTarget, Handler: h.delete},
	}, tagRoutes(r, kindTags{h.svc, network.KindPorts})...)
}

// views shows ports as Neutron does to the caller: the binding details
// only to those their rules let see them.
func (h *portHandlers) views(c *api.Call, ports []network.Port) ([]view, error) {
	out := make([]view, 0, len(ports))
	for _, p := range ports {
		out = append(out, h.view(c, p))
	}
	return out, nil
}

func (h *portHandlers) view(c *api.Call, p network.Port) view {
	fixed := make([]map[string]string, 0, len(p.FixedIPs))
	for _, f := range p.FixedIPs {
		fixed = append(fixed, map[string]string{"subnet_id": f.SubnetID, "ip_address": f.IPAddress})
	}
	v := view{"id": p.ID, "name": p.Name, "network_id": p.NetworkID, "admin_state_up": p.AdminStateUp,
		"mac_address": p.MAC, "fixed_ips": fixed, "device_id": p.DeviceID, "device_owner": p.DeviceOwner,
		"status": p.Status(), "security_groups": nonNil(p.SecurityGroups),
		"allowed_address_pairs": addressPairViews(p.AddressPairs), "port_security_enabled": p.PortSecurity, "ip_allocation": "immediate",
		"binding:vnic_type": p.VNICType}
	standardAttrs(v, p.ProjectID, p.Description, p.Revision, p.CreatedAt, p.UpdatedAt, p.Tags)
	target := portTarget(p)
	for _, attr := range bindingAttrs {
		if c.Allowed("get_port:"+attr, target) {
			v[attr] = bindingValue(p, attr)
		}
	}
	return v
}

// matchFixedIPs is Neutron's fixed_ips filter: each value is
// ip_address=A, subnet_id=S or ip_address_substr=T, and a port passes
// when one of its addresses matches every condition given.
func matchFixedIPs(v view, values []string) (bool, error) {
	cond := map[string]string{}
	for _, val := range values {
		key, want, ok := strings.Cut(val, "=")
		if !ok || (key != "ip_address" && key != "subnet_id" && key != "ip_address_substr") {
			return false, badRequest("Invalid fixed_ips filter %s", val)
		}
		cond[key] = want
	}
	fixed, _ := v["fixed_ips"].([]map[string]string)
	for _, f := range fixed {
		if (cond["ip_address"] == "" || f["ip_address"] == cond["ip_address"]) &&
			(cond["subnet_id"] == "" || f["subnet_id"] == cond["subnet_id"]) &&
			strings.Contains(f["ip_address"], cond["ip_address_substr"]) {
			return true, nil
		}
	}
	return false, nil
}

// bindingValue is a binding attribute of p: bound to its server's host
// or where an admin bound it, on a Linux bridge; its VIF details are
// none.
func bindingValue(p network.Port, attr string) any {
	switch attr {
	case "binding:host_id":
		return p.Host
	case "binding:vif_type":
		return p.VIFType
	case "binding:profile":
		return p.BindingProfile
	}
	return map[string]any{}
}

func (h *portHandlers) list(c *api.Call) (*api.Reply, error) {
	ports, err := h.svc.ListPorts(c.Ctx, network.Scope{ProjectID: c.ProjectID(), All: c.IsAdmin()})
	if err != nil {
		return nil, err
	}
	visible := ports[:0]
	for _, p := range ports {
		if c.Allowed("get_port", portTarget(p)) {
			visible = append(visible, p)
		}
	}
	views, err := h.views(c, visible)
	if err != nil {
		return nil, err
	}
	return listReply(c, h.res.collection, views)
}

func (h *portHandlers) show(c *api.Call) (*api.Reply, error) {
	p, err := h.svc.GetPort(c.Ctx, c.Param("port_id"))
	if err != nil {
		return nil, err
	}
	views, err := h.views(c, []network.Port{p})
	if err != nil {
		return nil, err
	}
	return showReply(c, "port", views[0]), nil
}
