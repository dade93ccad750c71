package compute

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/mv"
)

// hypervisorListQuery is Nova's index/detail query schema at c's
// version: anything before 2.33; limit and marker (others ignored) to
// 2.52; from 2.53 also the hostname pattern and with_servers, nothing else.
func hypervisorListQuery(c *api.Call) actionQuery {
	switch {
	case !c.AtLeast(mv.V2_33):
		return actionQuery{}
	case !c.AtLeast(mv.V2_53):
		return actionQuery{rules: []flavorQueryRule{{"limit", nonNegativeIntegerCheck}, {"marker", anyString}}}
	}
	return actionQuery{strict: true, rules: []flavorQueryRule{
		{"limit", nonNegativeIntegerCheck}, {"marker", anyString},
		{"hypervisor_hostname_pattern", fqdnCheck}, {"with_servers", jsonBooleanCheck},
	}}
}

func (h *handlers) hypervisorList(c *api.Call, detail bool) (*api.Reply, error) {
	q, err := checkActionQuery(c, hypervisorListQuery(c))
	if err != nil {
		return nil, err
	}
	withServers, _ := strictBool(lastValue(q, "with_servers"))
	_, hasLimit := q["limit"]
	_, hasMarker := q["marker"]
	var found []hosts.Host
	paged := false
	if _, ok := q["hypervisor_hostname_pattern"]; ok {
		if hasLimit || (hasMarker && lastValue(q, "marker") != "") {
			return nil, errs.Invalid("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.")
		}
		if found, err = h.matchingHypervisors(c, lastValue(q, "hypervisor_hostname_pattern")); err != nil {
			return nil, err
		}
	} else {
		if found, err = h.Hosts.List(c.Ctx); err != nil {
			return nil, err
		}
		if c.AtLeast(mv.V2_33) {
			paged = true
			if found, err = hypervisorPage(c, found, q); err != nil {
				return nil, err
			}
		}
	}
	// From 2.88 each detailed view asks its host for its uptime (a call
	// to the host's endpoint, bounded by uptimeWait): the views are built
	// side by side, so a listing waits for the slowest host, not for the
	// sum of them.
	items := make([]map[string]any, len(found))
	var g errgroup.Group
	g.SetLimit(8)
	for i, host := range found {
		g.Go(func() error {
			var servers []hosts.ServerRef
			if withServers {
				var err error
				if servers, err = h.Hosts.Servers(c.Ctx, host.Hostname); err != nil {
					return err
				}
			}
			items[i] = h.hypervisorView(c, host, detail, servers, withServers)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	body := map[string]any{"hypervisors": items}
	if paged && len(found) > 0 && len(found) == keypairLimit(q) {
		coll := "/os-hypervisors"
		if detail {
			coll += "/detail"
		}
		last := hypervisorID(c, found[len(found)-1])
		body["hypervisors_links"] = []api.Link{{Rel: "next", Href: nextLink(c, coll, q, idString(last))}}
	}
	return api.JSON(http.StatusOK, body), nil
}

// hypervisorPage applies marker (the id of the last host seen, as the
// version shows ids) and limit.
func hypervisorPage(c *api.Call, all []hosts.Host, q url.Values) ([]hosts.Host, error) {
	if marker := lastValue(q, "marker"); marker != "" {
		at := -1
		for i, host := range all {
			if idString(hypervisorID(c, host)) == normalizeMarker(c, marker) {
				at = i
				break
			}
		}
		if at < 0 {
			return nil, errs.Invalid("marker [%s] not found", marker)
		}
		all = all[at+1:]
	}
	if limit := keypairLimit(q); len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

func normalizeMarker(c *api.Call, m string) string {
	if c.AtLeast(mv.V2_53) {
		if u, err := uuid.Parse(m); err == nil {
			return u.String()
		}
	}
	return m
}

func idString(id any) string {
	switch v := id.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// fqdnCheck is parameter_types.fqdn: 1-255 of letters, digits, - . _
func fqdnCheck(v string) string {
	switch {
	case !fqdnPattern.MatchString(v):
		return api.PyRepr(v) + " does not match '^[a-zA-Z0-9-._]*$'"
	case v == "":
		return "'' is too short"
	case len(v) > 255:
		return api.PyRepr(v) + " is too long"
	}
	return ""
}

// jsonBooleanValues is parameter_types.boolean's enum.
var jsonBooleanValues = []string{"True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
	"False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"}

func jsonBooleanCheck(v string) string {
	for _, b := range jsonBooleanValues {
		if v == b {
			return ""
		}
	}
	return api.PyRepr(v) + " is not one of [" + jsonBooleanEnum() + "]"
}

// jsonBooleanEnum is the enum as jsonschema prints it: each Python
// boolean ahead of its strings.
func jsonBooleanEnum() string {
	quoted := make([]string, len(jsonBooleanValues))
	for i, b := range jsonBooleanValues {
		quoted[i] = api.PyRepr(b)
	}
	return "True, " + strings.Join(quoted[:10], ", ") + ", False, " + strings.Join(quoted[10:], ", ")
}
