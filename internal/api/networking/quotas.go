package networking

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
)

// quotaExtensions are the extensions of the quota API.
var quotaExtensions = []extension{
	{"quotas", "Quota management support", "Expose functions for quotas management per project", "2012-07-29T10:00:00-00:00"},
	{"quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project", "2017-02-10T10:00:00-00:00"},
}

type quotaHandlers struct{ svc *network.Service }

func (h quotaHandlers) routes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/v2.0/quotas", Rule: "get_quota", Handler: h.list},
		{Method: "GET", Path: "/v2.0/quotas/{project_id}", Rule: policy.NetworkQuotaRead, Handler: h.show},
		{Method: "GET", Path: "/v2.0/quotas/{project_id}/default", Rule: policy.NetworkQuotaRead, Handler: h.defaults},
		{Method: "GET", Path: "/v2.0/quotas/{project_id}/details", Rule: policy.NetworkQuotaRead, Handler: h.details},
		{Method: "PUT", Path: "/v2.0/quotas/{project_id}", Rule: "update_quota", Handler: h.update},
		{Method: "DELETE", Path: "/v2.0/quotas/{project_id}", Rule: "delete_quota", Handler: h.reset},
	}
}

// mayRead is Neutron's check on reading a project's quotas: its own
// always, another's with get_quota (checked against the caller's own
// project, as quotasv2.py does).
func (h quotaHandlers) mayRead(c *api.Call) error {
	if c.Param("project_id") == c.ProjectID() {
		return nil
	}
	return forbidden(c, "get_quota", nil)
}

func quotaView(limits map[string]int) map[string]any {
	out := make(map[string]any, len(limits))
	for k, v := range limits {
		out[k] = v
	}
	return out
}

// list answers GET /v2.0/quotas: the projects with limits set.
func (h quotaHandlers) list(c *api.Call) (*api.Reply, error) {
	all, err := h.svc.ProjectQuotas(c.Ctx)
	if err != nil {
		return nil, err
	}
	projects := make([]string, 0, len(all))
	for p := range all {
		projects = append(projects, p)
	}
	slices.Sort(projects)
	out := make([]map[string]any, 0, len(projects))
	for _, p := range projects {
		if !c.IsAdmin() && p != c.ProjectID() {
			continue
		}
		v := quotaView(all[p])
		v["project_id"], v["tenant_id"] = p, p
		out = append(out, v)
	}
	return api.JSON(http.StatusOK, map[string]any{"quotas": out}), nil
}

func (h quotaHandlers) show(c *api.Call) (*api.Reply, error) {
	if err := h.mayRead(c); err != nil {
		return nil, err
	}
	limits, err := h.svc.Quotas(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota": quotaView(limits)}), nil
}

func (h quotaHandlers) defaults(c *api.Call) (*api.Reply, error) {
	if err := h.mayRead(c); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota": quotaView(h.svc.QuotaDefaults())}), nil
}

func (h quotaHandlers) details(c *api.Call) (*api.Reply, error) {
	if err := h.mayRead(c); err != nil {
		return nil, err
	}
	usage, err := h.svc.QuotaDetails(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(usage))
	for name, u := range usage {
		out[name] = map[string]any{"limit": u.Limit, "used": u.Used, "reserved": 0}
	}
	return api.JSON(http.StatusOK, map[string]any{"quota": out}), nil
}

// update answers PUT /v2.0/quotas/{project_id} {"quota": {"network": 5}}:
// integer limits from -1 (unlimited).
func (h quotaHandlers) update(c *api.Call) (*api.Reply, error) {
	var body map[string]any
	if err := c.DecodeJSON(&body); err != nil {
		return nil, err
	}
	raw, ok := body["quota"].(map[string]any)
	if !ok {
		return nil, badRequest("Unable to find 'quota' in request body")
	}
	a := attrs(raw)
	delete(a, "force")
	delete(a, "check_limit")
	limits := map[string]int{}
	for name := range a {
		n, err := a.integer(name)
		if err != nil {
			return nil, err
		}
		if *n < network.Unlimited {
			return nil, invalidAttr(name, fmt.Sprintf("'%d' is too small - must be at least '-1'", *n))
		}
		limits[name] = *n
	}
	out, err := h.svc.SetQuotas(c.Ctx, c.Param("project_id"), limits)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota": quotaView(out)}), nil
}

func (h quotaHandlers) reset(c *api.Call) (*api.Reply, error) {
	if err := h.svc.ResetQuotas(c.Ctx, c.Param("project_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
