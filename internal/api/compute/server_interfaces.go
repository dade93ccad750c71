package compute

// Interface attachments (/servers/{id}/os-interface): Nova's
// attach_interfaces.py: the server's ports as Nova shows them from
// Neutron, attach (a given port or a new one on a network) and detach.

import (
	"errors"
	"net/http"

	js "github.com/kumocloud/kumo/internal/api/jsonschema"

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
		{Method: "POST", Path: "/servers/{server_id}/os-interface", Rule: ai + "create", Handler: h.attachInterface},
		{Method: "DELETE", Path: "/servers/{server_id}/os-interface/{port_id}", Rule: ai + "delete", Handler: h.detachInterface},
	}
}

// attachInterfaceSchema is schemas/attach_interfaces.py create (2.1) and
// create_v249 (tag).
func attachInterfaceSchema(c *api.Call) js.Schema {
	fixedIP := js.Object([]string{"ip_address"}, js.Property{Name: "ip_address", Schema: csIPAddress})
	props := []js.Property{
		{Name: "net_id", Schema: csUUID},
		{Name: "port_id", Schema: csUUID},
		{Name: "fixed_ips", Schema: js.Schema{js.Type("array"), js.MinItems(1), js.MaxItems(1), js.Items(fixedIP)}},
	}
	if c.AtLeast(mv.V2_49) {
		props = append(props, js.Property{Name: "tag", Schema: csTag})
	}
	return js.Object(nil, js.Property{Name: "interfaceAttachment", Schema: js.Object(nil, props...)})
}

// attachInterface answers the new interface as show does.
func (h *handlers) attachInterface(c *api.Call) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	body, err := schemaChecked(c, raw, attachInterfaceSchema(c))
	if err != nil {
		return nil, err
	}
	var req compute.RequestedNetwork
	if a, ok := body.(map[string]any)["interfaceAttachment"].(map[string]any); ok {
		req.UUID, _ = a["net_id"].(string)
		req.Port, _ = a["port_id"].(string)
		req.Tag, _ = a["tag"].(string)
		if ips, ok := a["fixed_ips"].([]any); ok && len(ips) > 0 {
			req.FixedIP, _ = ips[0].(map[string]any)["ip_address"].(string)
		}
	}
	if req.UUID != "" && req.Port != "" {
		return nil, errs.Invalid("Must not input both network_id and port_id")
	}
	if req.FixedIP != "" && req.UUID == "" {
		return nil, errs.Invalid("Must input network_id when request IP address")
	}
	portID, err := h.Servers.AttachInterface(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID, req)
	if err != nil {
		return nil, attachError(err)
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	return h.interfaceReply(c, srv, portID)
}

// attachError is Nova's status for a refused attach: a port or network
// not found is 404 here (400 in server create).
func attachError(err error) error {
	var e *errs.Error
	if (errors.Is(err, network.ErrPortNotFound) || errors.Is(err, network.ErrNetworkNotFound)) && errors.As(err, &e) {
		return errs.NotFound("%s", e.Message)
	}
	return err
}

func (h *handlers) detachInterface(c *api.Call) (*api.Reply, error) {
	return h.accepted(h.Servers.DetachInterface(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID, c.Param("port_id")))
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
	return h.interfaceReply(c, srv, c.Param("port_id"))
}

// interfaceReply is {"interfaceAttachment": ...} of srv's port id, or
// Nova's 404s.
func (h *handlers) interfaceReply(c *api.Call, srv *compute.Server, id string) (*api.Reply, error) {
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
	// Nova shows the Neutron port's status.
	v := map[string]any{"net_id": p.NetworkID, "port_id": p.ID, "mac_addr": p.MAC, "port_state": p.Status(), "fixed_ips": fixed}
	if c.AtLeast(mv.V2_70) {
		var tag any
		if t := tags[p.ID]; t != "" {
			tag = t
		}
		v["tag"] = tag
	}
	return v
}
