package compute

// Interface attachments (/servers/{id}/os-interface): Nova's
// attach_interfaces.py, read side — the server's ports as Nova shows them
// from Neutron. Attach and detach are not built.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/network"
)

func (h *handlers) interfaceRoutes() []api.Route {
	const ai = "os_compute_api:os-attach-interfaces:"
	return []api.Route{
		{Method: "GET", Path: "/servers/{server_id}/os-interface", Rule: ai + "list", Handler: h.listInterfaces},
		{Method: "GET", Path: "/servers/{server_id}/os-interface/{port_id}", Rule: ai + "show", Handler: h.showInterface},
	}
}

func (h *handlers) listInterfaces(c *api.Call) (*api.Reply, error) {
	srv, err := h.interfaceServer(c)
	if err != nil {
		return nil, err
	}
	ports, err := h.Network.PortsOfDevice(c.Ctx, srv.ID)
	if err != nil {
		return nil, err
	}
	tags, err := h.portTags(c, srv)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(ports))
	for _, p := range ports {
		out = append(out, interfaceView(c, p, tags))
	}
	return api.JSON(http.StatusOK, map[string]any{"interfaceAttachments": out}), nil
}

func (h *handlers) showInterface(c *api.Call) (*api.Reply, error) {
	srv, err := h.interfaceServer(c)
	if err != nil {
		return nil, err
	}
	id := c.Param("port_id")
	p, err := h.Network.GetPort(c.Ctx, id)
	switch {
	case errs.KindOf(err) == errs.KindNotFound:
		return nil, errs.NotFound("Port id %s could not be found.", id)
	case err != nil:
		return nil, err
	case p.DeviceID != srv.ID && p.ProjectID != srv.ProjectID && p.NetworkProjectID != srv.ProjectID:
		// Neutron hides another project's port from the server's owner.
		return nil, errs.NotFound("Port id %s could not be found.", id)
	case p.DeviceID != srv.ID:
		return nil, errs.NotFound("Instance %s does not have a port with id %s", srv.ID, id)
	}
	tags, err := h.portTags(c, srv)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"interfaceAttachment": interfaceView(c, p, tags)}), nil
}

// interfaceServer is the server of an os-interface call, after the query
// check and the same visibility check as GET /servers/{id}.
func (h *handlers) interfaceServer(c *api.Call) (*compute.Server, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	return h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
}

// portTags are the device tags of the server's ports (2.70+), by port.
func (h *handlers) portTags(c *api.Call, srv *compute.Server) (map[string]string, error) {
	if !c.AtLeast(mv.V2_70) {
		return nil, nil
	}
	addrs, err := h.addressesOf(c, srv)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, a := range addrs {
		tags[a.PortID] = a.Tag
	}
	return tags, nil
}

// interfaceView is Nova's interfaceAttachment of port p; tags non-nil
// (2.70+) adds "tag", null for an untagged port.
func interfaceView(c *api.Call, p network.Port, tags map[string]string) map[string]any {
	fixed := make([]map[string]any, 0, len(p.FixedIPs))
	for _, f := range p.FixedIPs {
		fixed = append(fixed, map[string]any{"subnet_id": f.SubnetID, "ip_address": f.IPAddress})
	}
	state := "DOWN"
	if p.Active {
		state = "ACTIVE"
	}
	v := map[string]any{"net_id": p.NetworkID, "port_id": p.ID, "mac_addr": p.MAC, "port_state": state, "fixed_ips": fixed}
	if c.AtLeast(mv.V2_70) {
		var tag any
		if t := tags[p.ID]; t != "" {
			tag = t
		}
		v["tag"] = tag
	}
	return v
}
