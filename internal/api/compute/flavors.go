package compute

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/mv"
)

func (h *handlers) flavorRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/flavors", Rule: "kumo:compute:flavors:read", Handler: h.listFlavors},
		{Method: "GET", Path: "/flavors/detail", Rule: "kumo:compute:flavors:read", Handler: h.listFlavorsDetail},
		{Method: "GET", Path: "/flavors/{flavor_id}", Rule: "kumo:compute:flavors:read", Handler: h.showFlavor},
		{Method: "POST", Path: "/flavors", Rule: manageRule("create"), Handler: h.createFlavor},
		{Method: "PUT", Path: "/flavors/{flavor_id}", Rule: manageRule("update"), Handler: h.updateFlavor, MinVer: mv.V2_55},
		{Method: "DELETE", Path: "/flavors/{flavor_id}", Rule: manageRule("delete"), Handler: h.deleteFlavor},
		{Method: "GET", Path: "/flavors/{flavor_id}/os-extra_specs", Rule: specsRule("index"), Handler: h.listExtraSpecs},
		{Method: "POST", Path: "/flavors/{flavor_id}/os-extra_specs", Rule: specsRule("create"), Handler: h.createExtraSpecs},
		{Method: "GET", Path: "/flavors/{flavor_id}/os-extra_specs/{key}", Rule: specsRule("show"), Handler: h.showExtraSpec},
		{Method: "PUT", Path: "/flavors/{flavor_id}/os-extra_specs/{key}", Rule: specsRule("update"), Handler: h.updateExtraSpec},
		{Method: "DELETE", Path: "/flavors/{flavor_id}/os-extra_specs/{key}", Rule: specsRule("delete"), Handler: h.deleteExtraSpec},
		{Method: "GET", Path: "/flavors/{flavor_id}/os-flavor-access", Rule: "os_compute_api:os-flavor-access", Handler: h.listFlavorAccess},
		actionRoute("/flavors/{flavor_id}/action", h.flavorActions()),
	}
}

func manageRule(op string) string { return "os_compute_api:os-flavor-manage:" + op }
func specsRule(op string) string  { return "os_compute_api:os-flavor-extra-specs:" + op }

func forbidden(rule string) error {
	return errs.Forbidden("Policy doesn't allow %s to be performed.", rule)
}

// flavorQueryRule checks one query parameter's values; it returns a
// jsonschema message for the first bad value, or "".
type flavorQueryRule struct {
	name  string
	check func(v string) string
}

func enumCheck(allowed []string) func(string) string {
	return func(v string) string {
		if contains(allowed, v) {
			return ""
		}
		quoted := make([]string, len(allowed))
		for i, a := range allowed {
			quoted[i] = api.PyRepr(a)
		}
		return api.PyRepr(v) + " is not one of [" + strings.Join(quoted, ", ") + "]"
	}
}

func anyString(string) string { return "" }

var nonNegativeDigits = regexp.MustCompile(`^[0-9]*$`)

func nonNegativeIntegerCheck(v string) string {
	if !nonNegativeDigits.MatchString(v) {
		return api.PyRepr(v) + " does not match '^[0-9]*$'"
	}
	if v == "" {
		return "'' is too short"
	}
	return ""
}

// listQueryRules are Nova's flavor index_query schema at c's version.
func listQueryRules(c *api.Call) []flavorQueryRule {
	keys := flavor.SortKeys
	if c.AtLeast(mv.V2_102) {
		keys = make([]string, 0, len(flavor.SortKeys))
		for _, k := range flavor.SortKeys {
			if k != "rxtx_factor" {
				keys = append(keys, k)
			}
		}
	}
	rules := []flavorQueryRule{
		{"limit", nonNegativeIntegerCheck},
		{"marker", anyString},
		{"is_public", anyString},
		{"minRam", anyString},
		{"minDisk", anyString},
		{"sort_key", enumCheck(keys)},
		{"sort_dir", enumCheck([]string{"asc", "desc"})},
	}
	if c.AtLeast(mv.V2_102) {
		rules = append(rules, flavorQueryRule{"name", anyString})
	}
	return rules
}

// checkQuery validates the query string against rules. Unknown parameters
// are an error when strict, and are otherwise dropped, as Nova strips them
// before the handler (and its next links) see them.
func checkQuery(c *api.Call, rules []flavorQueryRule, strict bool) (url.Values, error) {
	q := c.Query()
	known := url.Values{}
	var extra []string
	for k, vs := range q {
		found := false
		for _, r := range rules {
			if r.name == k {
				found = true
			}
		}
		if found {
			known[k] = vs
		} else {
			extra = append(extra, k)
		}
	}
	if strict && len(extra) > 0 {
		sortStrings(extra)
		return nil, errs.Invalid("%s", js.AdditionalPropertiesMessage(extra))
	}
	for _, r := range rules {
		for _, v := range known[r.name] {
			if msg := r.check(v); msg != "" {
				return nil, errs.Invalid("Invalid input for query parameters %s. Value: %s. %s", r.name, v, msg)
			}
		}
	}
	return known, nil
}

// strictQuery reports whether unknown query parameters are rejected at
// c's version for an API whose own cut-over is at minor (2.75 for the
// flavor listings, 2.102 for everything else).
func strictQuery(c *api.Call, from mv.Version) bool { return c.AtLeast(from) }

func (h *handlers) listFlavors(c *api.Call) (*api.Reply, error) { return h.flavorListing(c, false) }
func (h *handlers) listFlavorsDetail(c *api.Call) (*api.Reply, error) {
	return h.flavorListing(c, true)
}

func (h *handlers) flavorListing(c *api.Call, detail bool) (*api.Reply, error) {
	q, err := checkQuery(c, listQueryRules(c), strictQuery(c, mv.V2_75))
	if err != nil {
		return nil, err
	}
	opts, limit, err := listOptions(c, q)
	if err != nil {
		return nil, err
	}
	flavors, err := h.Flavors.List(c.Ctx, flavor.ViewerOf(c.Principal), opts)
	if err != nil {
		return nil, err
	}
	withSpecs := detail && canReadExtraSpecs(c)
	return api.JSON(http.StatusOK, flavorList(c, flavors, detail, withSpecs, q, limit)), nil
}

// maxLimit is Nova's [api]max_limit default.
const maxLimit = 1000

// listOptions turns the validated query into listing options, with Nova's
// messages for bad filter values; limit is the page size in effect.
func listOptions(c *api.Call, q url.Values) (flavor.ListOptions, int, error) {
	o := flavor.ListOptions{SortKey: "flavorid", Limit: maxLimit}
	if v := lastValue(q, "sort_key"); v != "" {
		o.SortKey = v
	}
	o.SortDesc = lastValue(q, "sort_dir") == "desc"
	if _, ok := q["limit"]; ok {
		// The schema allows digits only, so a failure here is an overflow:
		// Nova clamps any huge limit to max_limit.
		n, err := strconv.Atoi(lastValue(q, "limit"))
		if err != nil {
			n = maxLimit
		}
		o.Limit = min(n, maxLimit)
	}
	if _, ok := q["marker"]; ok {
		o.Marker = lastValue(q, "marker")
		if o.Marker == "" {
			return o, 0, errs.Invalid("marker [] not found")
		}
	}
	if c.IsAdmin() {
		if _, ok := q["is_public"]; ok {
			v := lastValue(q, "is_public")
			if strings.EqualFold(v, "none") {
				o.Visibility = flavor.AllFlavors
			} else if b, ok := flavor.ParseBool(v); !ok {
				return o, 0, errs.Invalid("Invalid is_public filter [%s]", v)
			} else if !b {
				o.Visibility = flavor.PrivateOnly
			}
		}
	}
	for _, f := range []struct {
		param string
		dst   **int
	}{{"minRam", &o.MinRAM}, {"minDisk", &o.MinDisk}} {
		if _, ok := q[f.param]; !ok {
			continue
		}
		v := lastValue(q, f.param)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return o, 0, errs.Invalid("Invalid %s filter [%s]", f.param, v)
		}
		*f.dst = &n
	}
	if _, ok := q["name"]; ok {
		re, err := regexp.Compile(lastValue(q, "name"))
		if err != nil {
			return o, 0, errs.Invalid("Invalid input for query parameters name. Value: %s. %s", lastValue(q, "name"), err)
		}
		o.Name = re
	}
	return o, o.Limit, nil
}

func (h *handlers) showFlavor(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, strictQuery(c, mv.V2_102)); err != nil {
		return nil, err
	}
	f, err := h.Flavors.Get(c.Ctx, flavor.ViewerOf(c.Principal), c.Param("flavor_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"flavor": flavorFull(c, f, canReadExtraSpecs(c))}), nil
}
