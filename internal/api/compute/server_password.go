package compute

// os-server-password (Nova's server_password.py): the encrypted password
// a guest posted to the metadata service, and clearing it.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
)

// serverPasswordRoutes serve /servers/{server_id}/os-server-password.
func (h *handlers) serverPasswordRoutes() []api.Route {
	const pol = "os_compute_api:os-server-password:"
	return []api.Route{
		{Method: "GET", Path: "/servers/{server_id}/os-server-password", Rule: pol + "show", Handler: h.showServerPassword},
		{Method: "DELETE", Path: "/servers/{server_id}/os-server-password", Rule: pol + "clear", Handler: h.clearServerPassword},
	}
}

func (h *handlers) showServerPassword(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	pw, err := h.Servers.ServerPassword(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"password": pw}), nil
}

func (h *handlers) clearServerPassword(c *api.Call) (*api.Reply, error) {
	if err := h.Servers.ClearServerPassword(c.Ctx, c.Principal, c.Param("server_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
