package image

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
)

// versionIDs are the Image API versions a Glance without a cache or
// multiple stores lists, newest first, with their status.
var versionIDs = []struct{ id, status string }{
	{"v2.15", "SUPPORTED"}, {"v2.9", "SUPPORTED"}, {"v2.17", "CURRENT"},
	{"v2.7", "SUPPORTED"}, {"v2.6", "SUPPORTED"}, {"v2.5", "SUPPORTED"}, {"v2.4", "SUPPORTED"},
	{"v2.3", "SUPPORTED"}, {"v2.2", "SUPPORTED"}, {"v2.1", "SUPPORTED"}, {"v2.0", "SUPPORTED"},
}

func versionRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/", Anonymous: true, Handler: listVersions(http.StatusMultipleChoices)},
		{Method: "GET", Path: "/versions", Anonymous: true, Handler: listVersions(http.StatusOK)},
	}
}

// listVersions answers the version document: 300 Multiple Choices at the
// root, 200 at /versions, as Glance does.
func listVersions(status int) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		href := strings.TrimRight(c.BaseURL, "/") + "/v2/"
		versions := make([]map[string]any, 0, len(versionIDs))
		for _, v := range versionIDs {
			versions = append(versions, map[string]any{
				"id": v.id, "status": v.status,
				"links": []api.Link{{Rel: "self", Href: href}},
			})
		}
		return api.JSON(status, map[string]any{"versions": versions}), nil
	}
}
