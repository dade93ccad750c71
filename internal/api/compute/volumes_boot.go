package compute

// /os-volumes_boot: Nova's volumes_boot.py, an alias of the servers API
// from the v2 days (booting from a volume went there). Nova serves it with
// a subclass of the servers controller, under the same policy rules, up
// to 2.102: list, detail, create, show, update, delete and the actions
// the servers controller itself defines. Its views and links are the
// servers' own.

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/mv"
)

// volumesBootActions are the actions of ServersController, the only ones
// volumes_boot's action route dispatches to (the other server actions
// are other controllers', routed on /servers/{id}/action only).
var volumesBootActions = []string{"confirmResize", "revertResize", "reboot", "resize", "rebuild", "createImage",
	"os-start", "os-stop", "trigger_crash_dump"}

func (h *handlers) volumesBootRoutes() []api.Route {
	const srv, path = "os_compute_api:servers:", "/os-volumes_boot"
	all := h.serverActionHandlers()
	actions := make(map[string]action, len(volumesBootActions))
	for _, name := range volumesBootActions {
		a := all[name]
		a.maxVer = mv.V2_102
		actions[name] = a
	}
	rs := []api.Route{
		{Method: "GET", Path: path, Rule: srv + "index", Handler: h.listServers},
		{Method: "POST", Path: path, Rule: srv + "create", Handler: h.createServer},
		{Method: "GET", Path: path + "/detail", Rule: srv + "detail", Handler: h.listServersDetail},
		{Method: "GET", Path: path + "/{server_id}", Rule: srv + "show", Handler: h.showServer},
		{Method: "PUT", Path: path + "/{server_id}", Rule: srv + "update", Handler: h.updateServer},
		{Method: "DELETE", Path: path + "/{server_id}", Rule: srv + "delete", Handler: h.deleteServer},
		actionRoute(path+"/{server_id}/action", actions),
	}
	for i := range rs {
		rs[i].MaxVer = mv.V2_102
	}
	return rs
}
