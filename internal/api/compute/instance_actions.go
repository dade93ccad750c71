package compute

import (
	"net/http"
	"net/url"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// os-instance-actions: what was done to a server, by whom, and how each
// step went. The compute domain records; these routes read.
func (h *handlers) instanceActionRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/servers/{server_id}/os-instance-actions", Rule: "os_compute_api:os-instance-actions:list", Handler: h.listInstanceActions},
		{Method: "GET", Path: "/servers/{server_id}/os-instance-actions/{request_id}", Rule: "os_compute_api:os-instance-actions:show", Handler: h.showInstanceAction},
	}
}

func (h *handlers) listInstanceActions(c *api.Call) (*api.Reply, error) {
	q, err := checkActionQuery(c, actionListQueryRules(c))
	if err != nil {
		return nil, err
	}
	serverID := c.Param("server_id")
	o, err := actionListOptions(c, q)
	if err != nil {
		return nil, err
	}
	actions, err := h.Servers.ListActions(c.Ctx, c.Principal, serverID, o)
	if err != nil {
		return nil, err
	}
	items := make([]map[string]any, len(actions))
	for i, a := range actions {
		items[i] = actionView(c, a)
	}
	body := map[string]any{"instanceActions": items}
	// Nova's _get_collection_links: a full page (the limit in effect,
	// max_limit without one) links to the next.
	if c.AtLeast(mv.V2_58) {
		if limit := *o.Limit; limit > 0 && len(actions) == limit {
			coll := "/servers/" + serverID + "/os-instance-actions"
			body["links"] = []api.Link{{Rel: "next", Href: nextLink(c, coll, q, actions[len(actions)-1].RequestID)}}
		}
	}
	return api.JSON(http.StatusOK, body), nil
}

// actionListOptions turns the validated query into the domain's options.
// Paging and the change windows exist from 2.58 (changes-before from
// 2.66); before that every action is listed.
func actionListOptions(c *api.Call, q url.Values) (compute.ActionListOptions, error) {
	o := compute.ActionListOptions{WithDeleted: c.AtLeast(mv.V2_21)}
	if !c.AtLeast(mv.V2_58) {
		return o, nil
	}
	limit := keypairLimit(q)
	o.Limit = &limit
	if _, ok := q["marker"]; ok {
		m := lastValue(q, "marker")
		o.Marker = &m
	}
	for _, w := range []struct {
		name string
		dst  **time.Time
	}{{"changes-since", &o.ChangesSince}, {"changes-before", &o.ChangesBefore}} {
		if _, ok := q[w.name]; !ok {
			continue
		}
		t, ok := parseISOTime(lastValue(q, w.name))
		if !ok { // the schema let only date-times through
			return o, errs.Invalid("Invalid input for query parameters %s.", w.name)
		}
		*w.dst = &t
	}
	if o.ChangesSince != nil && o.ChangesBefore != nil && o.ChangesBefore.Before(*o.ChangesSince) {
		return o, errs.Invalid("The value of changes-since must be less than or equal to changes-before.")
	}
	return o, nil
}

func (h *handlers) showInstanceAction(c *api.Call) (*api.Reply, error) {
	if _, err := checkActionQuery(c, actionShowQueryRules(c)); err != nil {
		return nil, err
	}
	a, err := h.Servers.GetAction(c.Ctx, c.Principal, c.Param("server_id"), c.Param("request_id"), c.AtLeast(mv.V2_21))
	if err != nil {
		return nil, err
	}
	view := actionView(c, a)
	// Events are for admins (policy os-instance-actions:events) at every
	// version and, without their traceback, for the server's project from
	// 2.51.
	if c.AtLeast(mv.V2_51) || c.Allowed("os_compute_api:os-instance-actions:events", nil) {
		events := make([]map[string]any, len(a.Events))
		for i, e := range a.Events {
			events[i] = actionEventView(c, a.ProjectID, e)
		}
		view["events"] = events
	}
	return api.JSON(http.StatusOK, map[string]any{"instanceAction": view}), nil
}
