package compute

// GET /extensions and /extensions/{alias}: Nova's deprecated extension
// list, a fixed table (extensions_list.go) served as extension_info.py
// serves it, the /v2 endpoint with one more entry.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// extension is one entry of novaExtensions.
type extension struct {
	alias, name, description string
	legacyOnly               bool
}

// extensionView is an extension as Nova renders it; namespace, updated
// and links are the same placeholders for every entry.
type extensionView struct {
	Alias       string     `json:"alias"`
	Description string     `json:"description"`
	Links       []api.Link `json:"links"`
	Name        string     `json:"name"`
	Namespace   string     `json:"namespace"`
	Updated     string     `json:"updated"`
}

func (e extension) view() extensionView {
	return extensionView{
		Alias: e.alias, Description: e.description, Links: []api.Link{}, Name: e.name,
		Namespace: "http://docs.openstack.org/compute/ext/fake_xml", Updated: "2014-12-03T00:00:00Z",
	}
}

// extensionRoutes are open to every authenticated caller
// (os_compute_api:extensions is "@").
func (h *handlers) extensionRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/extensions", Rule: "os_compute_api:extensions", Handler: listExtensions},
		{Method: "GET", Path: "/extensions/{alias}", Rule: "os_compute_api:extensions", Handler: showExtension},
	}
}

// advertised reports whether the endpoint c came through lists e.
func advertised(c *api.Call, e extension) bool { return !e.legacyOnly || isLegacyV2(c) }

func listExtensions(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, strictQuery(c, mv.V2_102)); err != nil {
		return nil, err
	}
	out := make([]extensionView, 0, len(novaExtensions))
	for _, e := range novaExtensions {
		if advertised(c, e) {
			out = append(out, e.view())
		}
	}
	return api.JSON(http.StatusOK, map[string]any{"extensions": out}), nil
}

func showExtension(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, strictQuery(c, mv.V2_102)); err != nil {
		return nil, err
	}
	alias := c.Param("alias")
	for _, e := range novaExtensions {
		if e.alias == alias && advertised(c, e) {
			return api.JSON(http.StatusOK, map[string]any{"extension": e.view()}), nil
		}
	}
	// Nova raises a bare webob HTTPNotFound.
	return nil, errs.NotFound("The resource could not be found.")
}
