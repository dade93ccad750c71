package identity

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
)

// versionView describes Identity v3 as Keystone's version documents do.
func versionView(c *api.Call) obj {
	return obj{
		"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links":       []obj{{"rel": "self", "href": c.BaseURL + "/v3/"}},
		"media-types": []obj{{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}
}

// versions answers GET /identity: 300 Multiple Choices, as Keystone does.
func (h *handlers) versions(c *api.Call) (*api.Reply, error) {
	return api.JSON(http.StatusMultipleChoices, obj{"versions": obj{"values": []obj{versionView(c)}}}), nil
}

// version answers GET /identity/v3.
func (h *handlers) version(c *api.Call) (*api.Reply, error) {
	return api.JSON(http.StatusOK, obj{"version": versionView(c)}), nil
}
