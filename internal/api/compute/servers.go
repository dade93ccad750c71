package compute

// The servers API apart from create: list, detail, show, update, delete
// (Nova's servers.py index/detail/show/update/delete), plus the routes of
// server metadata and server ips.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/mv"
)

func (h *handlers) serverRoutes() []api.Route {
	const srv, meta, ips = "os_compute_api:servers:", "os_compute_api:server-metadata:", "os_compute_api:ips:"
	return []api.Route{
		{Method: "GET", Path: "/servers", Rule: srv + "index", Handler: h.listServers},
		{Method: "GET", Path: "/servers/detail", Rule: srv + "detail", Handler: h.listServersDetail},
		{Method: "GET", Path: "/servers/{server_id}", Rule: srv + "show", Handler: h.showServer},
		{Method: "PUT", Path: "/servers/{server_id}", Rule: srv + "update", Handler: h.updateServer},
		{Method: "DELETE", Path: "/servers/{server_id}", Rule: srv + "delete", Handler: h.deleteServer},

		{Method: "GET", Path: "/servers/{server_id}/metadata", Rule: meta + "index", Handler: h.listServerMetadata},
		{Method: "POST", Path: "/servers/{server_id}/metadata", Rule: meta + "create", Handler: h.mergeServerMetadata},
		{Method: "PUT", Path: "/servers/{server_id}/metadata", Rule: meta + "update_all", Handler: h.replaceServerMetadata},
		{Method: "GET", Path: "/servers/{server_id}/metadata/{key}", Rule: meta + "show", Handler: h.showServerMetadataItem},
		{Method: "PUT", Path: "/servers/{server_id}/metadata/{key}", Rule: meta + "update", Handler: h.setServerMetadataItem},
		{Method: "DELETE", Path: "/servers/{server_id}/metadata/{key}", Rule: meta + "delete", Handler: h.deleteServerMetadataItem},

		{Method: "GET", Path: "/servers/{server_id}/ips", Rule: ips + "index", Handler: h.listServerIPs},
		{Method: "GET", Path: "/servers/{server_id}/ips/{network_label}", Rule: ips + "show", Handler: h.showServerIPs},
	}
}

// checkPlainQuery applies Nova's query schema of GET calls that take no
// parameters: anything goes before 2.102, nothing from it on.
func checkPlainQuery(c *api.Call) error {
	_, err := checkQuery(c, nil, strictQuery(c, mv.V2_102))
	return err
}

func (h *handlers) showServer(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	view, err := h.ServerView(c, srv, ServerViewOptions{Full: true, ServerGroups: c.AtLeast(mv.V2_71)})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"server": view}), nil
}

// updateServer answers PUT /servers/{id}. Before 2.75 the answer leaves
// out what Nova's update view hides; from 2.75 it is the full show view.
func (h *handlers) updateServer(c *api.Call) (*api.Reply, error) {
	req, err := parseServerUpdate(c)
	if err != nil {
		return nil, err
	}
	// Nova settles the pinned zone before the other attributes.
	if req.SetPinAZ {
		if err := h.Servers.SetPinnedAZ(c.Ctx, c.Principal, c.Param("server_id"), req.PinAZ); err != nil {
			return nil, err
		}
	}
	srv, err := h.Servers.Update(c.Ctx, c.Principal, c.Param("server_id"), req.UpdateRequest)
	if err != nil {
		return nil, err
	}
	view, err := h.ServerView(c, srv, ServerViewOptions{Full: c.AtLeast(mv.V2_75), ServerGroups: c.AtLeast(mv.V2_71)})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"server": view}), nil
}

func (h *handlers) deleteServer(c *api.Call) (*api.Reply, error) {
	if err := h.Servers.Delete(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
