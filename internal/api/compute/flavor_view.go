package compute

import (
	"net/url"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/mv"
)

// flavorLinks are a flavor's self link (under the versioned endpoint) and
// bookmark link (without the version), in the client's project-id shape.
func flavorLinks(c *api.Call, id string) []api.Link {
	path := "/flavors/" + id
	return []api.Link{
		{Href: c.Link(path), Rel: "self"},
		{Href: bookmarkLink(c, path), Rel: "bookmark"},
	}
}

// bookmarkLink is path under the API's unversioned root, as Nova's
// bookmark links are.
func bookmarkLink(c *api.Call, path string) string {
	base := c.BaseURL
	if i := strings.LastIndexByte(base, '/'); i >= 0 && strings.HasPrefix(base[i+1:], "v") {
		base = base[:i]
	}
	if c.ProjectInURL != "" {
		return base + "/" + c.ProjectInURL + path
	}
	return base + path
}

// flavorBrief is the GET /flavors entry.
func flavorBrief(c *api.Call, f *flavor.Flavor) map[string]any {
	m := map[string]any{"id": f.ID, "name": f.Name, "links": flavorLinks(c, f.ID)}
	if c.AtLeast(mv.V2_55) {
		m["description"] = f.Description
	}
	return m
}

// flavorFull is the flavor as GET /flavors/{id} shows it at c's
// microversion.
func flavorFull(c *api.Call, f *flavor.Flavor, withSpecs bool) map[string]any {
	m := map[string]any{
		"id":                         f.ID,
		"name":                       f.Name,
		"ram":                        f.RAM,
		"disk":                       f.Disk,
		"vcpus":                      f.VCPUs,
		"OS-FLV-EXT-DATA:ephemeral":  f.Ephemeral,
		"os-flavor-access:is_public": f.IsPublic,
		"links":                      flavorLinks(c, f.ID),
	}
	// Before 2.75 Nova shows a zero swap as "".
	if f.Swap == 0 && !c.AtLeast(mv.V2_75) {
		m["swap"] = ""
	} else {
		m["swap"] = f.Swap
	}
	if !c.AtLeast(mv.V2_102) {
		m["OS-FLV-DISABLED:disabled"] = f.Disabled
		m["rxtx_factor"] = f.RxTxFactor
	}
	if c.AtLeast(mv.V2_55) {
		m["description"] = f.Description
	}
	if withSpecs && c.AtLeast(mv.V2_61) {
		specs := f.ExtraSpecs
		if specs == nil {
			specs = map[string]string{}
		}
		m["extra_specs"] = specs
	}
	return m
}

// flavorList renders a page of flavors, with a "next" link when the page
// is full, as Nova's _get_collection_links does.
func flavorList(c *api.Call, flavors []*flavor.Flavor, detail, withSpecs bool, q url.Values, limit int) map[string]any {
	items := make([]map[string]any, len(flavors))
	for i, f := range flavors {
		if detail {
			items[i] = flavorFull(c, f, withSpecs)
		} else {
			items[i] = flavorBrief(c, f)
		}
	}
	out := map[string]any{"flavors": items}
	if limit > 0 && len(flavors) == limit {
		coll := "/flavors"
		if detail {
			coll = "/flavors/detail"
		}
		out["flavors_links"] = []api.Link{{Rel: "next", Href: nextLink(c, coll, q, flavors[len(flavors)-1].ID)}}
	}
	return out
}

// nextLink repeats the request's (validated) query with marker set, the
// way Nova builds it: keys sorted, one value per key (the greatest, as
// OrderedDict(sorted(items)) keeps), marker last unless already present.
func nextLink(c *api.Call, coll string, q url.Values, marker string) string {
	keys := make([]string, 0, len(q)+1)
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if _, ok := q["marker"]; !ok {
		keys = append(keys, "marker")
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := marker
		if k != "marker" {
			v = slices.Max(q[k])
		}
		parts[i] = url.QueryEscape(k) + "=" + url.QueryEscape(v)
	}
	return c.Link(coll) + "?" + strings.Join(parts, "&")
}

// canReadExtraSpecs reports whether flavor views show extra specs: Nova's
// os-flavor-extra-specs:index rule.
func canReadExtraSpecs(c *api.Call) bool { return c.Allowed(specsRule("index"), nil) }

// lastValue is the value webob's MultiDict.get returns: the last one.
func lastValue(q url.Values, k string) string {
	vs := q[k]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}
