package image

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// Discovery calls: kumo offers no interoperable import methods (data is
// uploaded with PUT .../file) and has a single store.
func infoRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/v2/info/import", Rule: "kumo:image:get_info", Handler: importInfo},
		{Method: "GET", Path: "/v2/info/stores", Rule: "kumo:image:get_info", Handler: storesInfo},
	}
}

func importInfo(c *api.Call) (*api.Reply, error) {
	return api.JSON(http.StatusOK, map[string]any{"import-methods": map[string]any{
		"description": "Import methods available.", "type": "array", "value": []string{},
	}}), nil
}

func storesInfo(c *api.Call) (*api.Reply, error) {
	return nil, errs.NotFound("Multi backend is not supported at this site.")
}
