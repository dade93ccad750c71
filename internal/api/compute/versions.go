package compute

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/mv"
)

// Dates Nova reports for its two API versions.
const (
	v2Updated  = "2025-07-04T12:00:00Z"
	v21Updated = "2013-07-23T11:33:21Z"
)

func (h *handlers) versionRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/", Anonymous: true, Handler: h.showVersion},
	}
}

type versionDoc struct {
	ID         string      `json:"id"`
	Links      []api.Link  `json:"links"`
	MediaTypes []mediaType `json:"media-types,omitempty"`
	Status     string      `json:"status"`
	Version    string      `json:"version"`
	MinVersion string      `json:"min_version"`
	Updated    string      `json:"updated"`
}

type mediaType struct {
	Base string `json:"base"`
	Type string `json:"type"`
}

// versionDocs describes both endpoints with links under origin.
func versionDocs(origin string) []versionDoc {
	r := mv.Supported()
	return []versionDoc{
		{ID: "v2.0", Status: "DEPRECATED", Updated: v2Updated,
			Links:      []api.Link{{Href: origin + "/v2/", Rel: "self"}},
			MediaTypes: []mediaType{{Base: "application/json", Type: "application/vnd.openstack.compute+json;version=2"}}},
		{ID: "v2.1", Status: "CURRENT", Version: r.Max.String(), MinVersion: r.Min.String(), Updated: v21Updated,
			Links:      []api.Link{{Href: origin + "/v2.1/", Rel: "self"}},
			MediaTypes: []mediaType{{Base: "application/json", Type: "application/vnd.openstack.compute+json;version=2.1"}}},
	}
}

// showVersion answers GET /v2.1/ and GET /v2/ with that endpoint's document.
func (h *handlers) showVersion(c *api.Call) (*api.Reply, error) {
	origin := strings.TrimSuffix(c.BaseURL, "/v2.1")
	origin = strings.TrimSuffix(origin, "/v2")
	docs := versionDocs(origin)
	doc := docs[1]
	if strings.HasSuffix(c.BaseURL, "/v2") {
		doc = docs[0]
	}
	doc.Links = append(doc.Links, api.Link{Href: "http://docs.openstack.org/", Rel: "describedby", Type: "text/html"})
	return api.JSON(http.StatusOK, map[string]any{"version": doc}), nil
}

// VersionList serves GET / : the compute version list, outside any
// microversioned service.
func VersionList(publicURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			ct, body := api.NovaFault(http.StatusNotFound, "The resource could not be found.")
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(body)
			return
		}
		origin := api.RequestOrigin(r)
		if publicURL != "" {
			origin = strings.TrimRight(publicURL, "/")
		}
		docs := versionDocs(origin)
		for i := range docs {
			docs[i].MediaTypes = nil
		}
		api.WriteJSON(w, http.StatusOK, map[string]any{"versions": docs})
	})
}
