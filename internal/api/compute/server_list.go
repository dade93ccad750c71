package compute

// GET /servers and /servers/detail: Nova's _get_servers, turning the
// query into the domain's ListOptions with Nova's rules on who may use
// which filter and sort key, and its errors.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

func (h *handlers) listServers(c *api.Call) (*api.Reply, error) { return h.serverListing(c, false) }
func (h *handlers) listServersDetail(c *api.Call) (*api.Reply, error) {
	return h.serverListing(c, true)
}

func (h *handlers) serverListing(c *api.Call, detail bool) (*api.Reply, error) {
	known, err := checkServerQuery(c)
	if err != nil {
		return nil, err
	}
	q := url.Values(known)
	opts, empty, err := h.serverListOptions(c, q, detail)
	if err != nil {
		return nil, err
	}
	var servers []*compute.Server
	if !empty {
		if servers, err = h.Servers.List(c.Ctx, opts); err != nil {
			return nil, err
		}
	}
	coll := "/servers"
	var items []api.JSONAppender
	if detail {
		coll = "/servers/detail"
		views, err := h.serverViews(c, servers, ServerViewOptions{Full: true})
		if err != nil {
			return nil, err
		}
		items = make([]api.JSONAppender, len(views))
		for i, v := range views {
			items[i] = v
		}
	} else {
		items = make([]api.JSONAppender, len(servers))
		links := newLinkBases(c)
		for i, srv := range servers {
			items[i] = serverBrief{srv: srv, links: &links}
		}
	}
	out := map[string]any{"servers": items}
	limit := compute.MaxLimit
	if _, ok := q["limit"]; ok {
		limit = opts.Limit
	}
	if limit > 0 && len(servers) == limit {
		out["servers_links"] = []api.Link{{Rel: "next", Href: nextLink(c, coll, q, servers[len(servers)-1].ID)}}
	}
	return api.JSON(http.StatusOK, out), nil
}

// serverListOptions builds the domain query. empty is true when Nova
// answers an empty list without looking (an unknown status before 2.38,
// limit=0, an ip filter that matches nothing).
func (h *handlers) serverListOptions(c *api.Call, q url.Values, detail bool) (o compute.ListOptions, empty bool, err error) {
	admin := c.Allowed("os_compute_api:servers:allow_all_filters", nil)
	filters := url.Values{}
	for k, vs := range q {
		if slices.Contains(pagingParams, k) {
			continue
		}
		if admin || slices.Contains(userServerFilters(c), k) {
			filters[k] = vs
		}
	}
	for k := range filters {
		if slices.Contains(joinedTableParams, k) || strings.HasPrefix(k, "_") {
			return o, false, errs.Invalid("Invalid filter field: %s.", k)
		}
	}
	get := func(k string) (string, bool) {
		if _, ok := filters[k]; !ok {
			return "", false
		}
		return lastValue(filters, k), true
	}

	if statuses, ok := filters["status"]; ok {
		f, known := state.StatesForStatus(statuses...)
		if !known {
			if c.AtLeast(mv.V2_38) {
				return o, false, errs.Invalid("Invalid status value")
			}
			return o, true, nil
		}
		if f.OnlyDeleted() {
			if !admin {
				return o, false, errs.Forbidden("Only administrators may list deleted instances")
			}
			o.OnlyDeleted = true
		}
		o.Status = &f
	}
	changes := false
	if v, ok := get("changes-since"); ok {
		t, valid := parseISOTime(v)
		if !valid {
			return o, false, errs.Invalid("Invalid filter field: changes-since.")
		}
		o.ChangesSince, changes = &t, true
	}
	if v, ok := get("changes-before"); ok {
		t, valid := parseISOTime(v)
		if !valid {
			return o, false, errs.Invalid("Invalid filter field: changes-before.")
		}
		if o.ChangesSince != nil && t.Before(*o.ChangesSince) {
			return o, false, errs.Invalid("The value of changes-since must be less than or equal to changes-before.")
		}
		o.ChangesBefore, changes = &t, true
	}
	if v, ok := get("soft_deleted"); ok { // Nova passes the string on: any non-empty value is true
		soft := v != ""
		o.SoftDeleted = &soft
	}
	if v, ok := get("deleted"); ok {
		o.OnlyDeleted = o.OnlyDeleted || boolFromString(v)
	} else if changes && !o.OnlyDeleted {
		// changes-since/-before list recently deleted servers too.
		o.IncludeDeleted = true
	}

	if err := scopeServerList(c, filters, detail, &o); err != nil {
		return o, false, err
	}
	if err := applyServerFilters(c, filters, &o); err != nil {
		return o, false, err
	}
	none, err := h.applyIPFilters(c, filters, &o)
	if err != nil || none {
		return o, none, err
	}
	if err := h.serverPaging(c, q, &o); err != nil {
		return o, false, err
	}
	if _, ok := q["limit"]; ok && o.Limit == 0 {
		return o, true, nil
	}
	return o, false, nil
}
