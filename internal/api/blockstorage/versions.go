package blockstorage

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/mv"
)

// updated is Cinder's api_version_request.UPDATED for 3.71.
const updated = "2023-08-31T00:00:00Z"

// versionDocument is Cinder's _KNOWN_VERSIONS with its links
// (cinder/api/versions.py, views/versions.py): the self link is the v3
// root under the API's origin.
func versionDocument(c *api.Call) map[string]any {
	r := mv.VolumeSupported()
	origin := strings.TrimSuffix(strings.TrimSuffix(c.BaseURL, "/v3"), Mount)
	return map[string]any{"versions": []any{map[string]any{
		"id": "v3.0", "status": "CURRENT", "version": r.Max.String(), "min_version": r.Min.String(),
		"updated": updated,
		"links": []map[string]string{
			{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
			{"rel": "self", "href": origin + Mount + "/v3/"},
		},
		"media-types": []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}},
	}}}
}

// rootRoutes serve the version list at /volume/: 300 Multiple Choices,
// as Cinder's VersionsController.all.
func rootRoutes() []api.Route {
	all := func(c *api.Call) (*api.Reply, error) {
		return api.JSON(http.StatusMultipleChoices, versionDocument(c)), nil
	}
	return []api.Route{{Method: "GET", Path: "/", Anonymous: true, Handler: all, Name: "versions"}}
}

// versionRoutes serve the same document at /volume/v3/ with 200
// (VersionsController.index).
func versionRoutes() []api.Route {
	index := func(c *api.Call) (*api.Reply, error) {
		return api.JSON(http.StatusOK, versionDocument(c)), nil
	}
	return []api.Route{{Method: "GET", Path: "/", Anonymous: true, Handler: index, Name: "versions"}}
}
