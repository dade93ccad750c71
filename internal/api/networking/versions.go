package networking

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/policy"
)

// versionRoutes serve Neutron's version document at the root, without a
// token, and the v2.0 resource list.
func versionRoutes(collections []resource) []api.Route {
	versions := func(c *api.Call) (*api.Reply, error) {
		return api.JSON(http.StatusOK, map[string]any{"versions": []any{map[string]any{
			"id": "v2.0", "status": "CURRENT",
			"links": []api.Link{{Rel: "self", Href: c.BaseURL + "/v2.0/"}},
		}}}), nil
	}
	resources := func(c *api.Call) (*api.Reply, error) {
		out := make([]any, 0, len(collections))
		for _, r := range collections {
			if r.Extension {
				continue
			}
			out = append(out, map[string]any{"name": r.Singular, "collection": r.Name,
				"links": []api.Link{{Rel: "self", Href: c.BaseURL + "/v2.0/" + r.Name}}})
		}
		return api.JSON(http.StatusOK, map[string]any{"resources": out}), nil
	}
	return []api.Route{
		{Method: "GET", Path: "/", Anonymous: true, Handler: versions},
		{Method: "GET", Path: "/v2.0", Rule: policy.NetworkDiscovery, Handler: resources, Name: "/v2.0/"},
	}
}
