package image

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
)

// Discovery calls: kumo offers Glance's import methods but copy-image
// (which needs several stores), has a single store (so no stores list,
// as Glance without enabled_backends), and reports the caller's quota
// usage.
func (h *handlers) infoRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/v2/info/import", Rule: "kumo:image:get_info", Handler: importInfo},
		{Method: "GET", Path: "/v2/info/stores", Rule: "kumo:image:get_info", Handler: storesInfo},
		{Method: "GET", Path: "/v2/info/usage", Rule: "kumo:image:get_info", Handler: h.usageInfo},
	}
}

// usageInfo answers GET /v2/info/usage: the caller's project's limit
// and usage of each of Glance's quota resources.
func (h *handlers) usageInfo(c *api.Call) (*api.Reply, error) {
	usage, err := h.svc.Usage(c.Ctx, c.Principal)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(usage))
	for name, u := range usage {
		out[name] = map[string]any{"limit": u.Limit, "usage": u.Usage}
	}
	return api.JSON(http.StatusOK, map[string]any{"usage": out}), nil
}

func importInfo(c *api.Call) (*api.Reply, error) {
	return api.JSON(http.StatusOK, map[string]any{"import-methods": map[string]any{
		"description": "Import methods available.", "type": "array", "value": image.ImportMethods,
	}}), nil
}

func storesInfo(c *api.Call) (*api.Reply, error) {
	return nil, errs.NotFound("Multi backend is not supported at this site.")
}
