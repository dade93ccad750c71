package networking

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/policy"
)

// extension is one entry of GET /v2.0/extensions, with the name,
// description and date neutron-lib's API definition gives it.
type extension struct {
	alias, name, description, updated string
}

// machineryExtensions are what the shared machinery gives every
// resource: project_id beside tenant_id, pagination and sorting on every
// list, tags, description, timestamps and revision numbers.
var machineryExtensions = []extension{
	{"project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled.", "2016-09-09T09:09:09-09:09"},
	{"pagination", "Pagination support", "Extension that indicates that pagination is enabled.", "2016-06-12T00:00:00-00:00"},
	{"sorting", "Sorting support", "Extension that indicates that sorting is enabled.", "2016-06-12T00:00:00-00:00"},
	{"standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes", "2016-02-10T10:00:00-00:00"},
	{"standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources.", "2016-04-11T10:00:00-00:00"},
	{"standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.", "2016-09-12T10:00:00-00:00"},
}

// tagExtension is standard-attr-tag, named after the resources that
// have tags.
func tagExtension(taggable []string) extension {
	return extension{"standard-attr-tag", "Tag support for resources with standard attribute: " + strings.Join(taggable, ", "),
		"Enables to set tag on resources with standard attribute.", "2017-01-01T00:00:00-00:00"}
}

func (e extension) view() map[string]any {
	return map[string]any{"name": e.name, "alias": e.alias, "description": e.description, "updated": e.updated, "links": []any{}}
}

// extensionRoutes serve the extensions list: exactly exts, which the
// resources registered declare.
func extensionRoutes(exts []extension) []api.Route {
	sorted := slices.Clone(exts)
	slices.SortFunc(sorted, func(a, b extension) int { return strings.Compare(a.alias, b.alias) })
	list := func(c *api.Call) (*api.Reply, error) {
		views := make([]map[string]any, 0, len(sorted))
		for _, e := range sorted {
			views = append(views, e.view())
		}
		return api.JSON(http.StatusOK, map[string]any{"extensions": views}), nil
	}
	show := func(c *api.Call) (*api.Reply, error) {
		alias := c.Param("alias")
		for _, e := range sorted {
			if e.alias == alias {
				return api.JSON(http.StatusOK, map[string]any{"extension": e.view()}), nil
			}
		}
		return nil, errs.NotFound("Extension with alias %s does not exist", alias)
	}
	return []api.Route{
		{Method: "GET", Path: "/v2.0/extensions", Rule: policy.NetworkDiscovery, Handler: list},
		{Method: "GET", Path: "/v2.0/extensions/{alias}", Rule: policy.NetworkDiscovery, Handler: show},
	}
}
