package compute

// os-quota-sets, os-quota-class-sets and limits (Nova's quota_sets.py,
// quota_classes.py, limits.py).

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/quota"
)

func (h *handlers) quotaRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/os-quota-sets/{tenant_id}", Rule: quotaSetsRule("show"), Target: projectInPath, Handler: h.showQuotaSet},
		{Method: "GET", Path: "/os-quota-sets/{tenant_id}/detail", Rule: quotaSetsRule("detail"), Target: projectInPath, Handler: h.showQuotaSetDetail},
		{Method: "GET", Path: "/os-quota-sets/{tenant_id}/defaults", Rule: quotaSetsRule("defaults"), Handler: h.showQuotaDefaults},
		{Method: "PUT", Path: "/os-quota-sets/{tenant_id}", Rule: quotaSetsRule("update"), Target: projectInPath, Handler: h.updateQuotaSet},
		{Method: "DELETE", Path: "/os-quota-sets/{tenant_id}", Rule: quotaSetsRule("delete"), Target: projectInPath, Handler: h.deleteQuotaSet},
		{Method: "GET", Path: "/os-quota-class-sets/{id}", Rule: quotaClassRule("show"), Handler: h.showQuotaClass},
		{Method: "PUT", Path: "/os-quota-class-sets/{id}", Rule: quotaClassRule("update"), Handler: h.updateQuotaClass},
		{Method: "GET", Path: "/limits", Rule: "os_compute_api:limits", Handler: h.showLimits},
	}
}

func quotaSetsRule(op string) string { return "os_compute_api:os-quota-sets:" + op }

// projectInPath is the target of calls about the project named in the
// path (Nova's target={'project_id': id}).
func projectInPath(c *api.Call) (policy.Target, error) {
	return policy.Target{"project_id": c.Param("tenant_id")}, nil
}

// userIDQuery validates the query of quota-set calls (only user_id, and
// strictly from 2.75) and returns the user id, "" when absent.
func userIDQuery(c *api.Call) (string, error) {
	q, err := checkQuery(c, []flavorQueryRule{{name: "user_id", check: func(string) string { return "" }}}, c.AtLeast(mv.V2_75))
	if err != nil {
		return "", err
	}
	return q.Get("user_id"), nil
}

// verifyProject asks the identity service whether the project exists, as
// Nova does with the caller's token: callers who could not see another
// project get the benefit of the doubt.
func (h *handlers) verifyProject(c *api.Call, projectID string) error {
	if !c.IsAdmin() && c.ProjectID() != projectID {
		return nil
	}
	return h.Quotas.VerifyProject(c.Ctx, projectID)
}

func (h *handlers) showQuotaSet(c *api.Call) (*api.Reply, error) {
	return h.readQuotaSet(c, "show")
}

func (h *handlers) showQuotaSetDetail(c *api.Call) (*api.Reply, error) {
	return h.readQuotaSet(c, "detail")
}

func (h *handlers) readQuotaSet(c *api.Call, op string) (*api.Reply, error) {
	projectID := c.Param("tenant_id")
	userID, err := userIDQuery(c)
	if err != nil {
		return nil, err
	}
	if err := h.verifyProject(c, projectID); err != nil {
		return nil, err
	}
	shown := quotaSetResources(c)
	if op == "show" {
		limits, err := h.Quotas.Get(c.Ctx, projectID, userID)
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusOK, map[string]any{"quota_set": quotaMap(projectID, limits, shown)}), nil
	}
	detail, err := h.Quotas.Detail(c.Ctx, projectID, userID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"id": projectID}
	for _, r := range shown {
		u := detail[r]
		out[r] = map[string]any{"in_use": u.InUse, "limit": u.Limit, "reserved": 0}
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_set": out}), nil
}

func (h *handlers) showQuotaDefaults(c *api.Call) (*api.Reply, error) {
	projectID := c.Param("tenant_id")
	if err := h.verifyProject(c, projectID); err != nil {
		return nil, err
	}
	limits, err := h.Quotas.Defaults(c.Ctx)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_set": quotaMap(projectID, limits, quotaSetResources(c))}), nil
}

func (h *handlers) updateQuotaSet(c *api.Call) (*api.Reply, error) {
	projectID := c.Param("tenant_id")
	shown := quotaSetResources(c)
	body, err := parseQuotaBody(c, "quota_set", shown, true)
	if err != nil {
		return nil, err
	}
	userID, err := userIDQuery(c)
	if err != nil {
		return nil, err
	}
	if err := h.verifyProject(c, projectID); err != nil {
		return nil, err
	}
	limits, err := h.Quotas.Set(c.Ctx, projectID, userID, body.changes, body.force)
	if err != nil {
		return nil, err
	}
	// Like Nova, the update answer has no id.
	return api.JSON(http.StatusOK, map[string]any{"quota_set": quotaMap("", limits, shown)}), nil
}

func (h *handlers) deleteQuotaSet(c *api.Call) (*api.Reply, error) {
	userID, err := userIDQuery(c)
	if err != nil {
		return nil, err
	}
	if err := h.Quotas.Delete(c.Ctx, c.Param("tenant_id"), userID); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

func quotaClassRule(op string) string { return "os_compute_api:os-quota-class-sets:" + op }

// quotaClassShown are the resources a quota class view shows: before 2.50
// v2.1 left out the server group quotas.
func quotaClassShown(c *api.Call) []string {
	all := quotaClassResources(c)
	if c.AtLeast(mv.V2_50) {
		return all
	}
	var out []string
	for _, r := range all {
		if r != quota.ServerGroups && r != quota.ServerGroupMembers {
			out = append(out, r)
		}
	}
	return out
}

func (h *handlers) showQuotaClass(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, c.AtLeast(mv.V2_102)); err != nil {
		return nil, err
	}
	id := c.Param("id")
	limits, err := h.Quotas.Class(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_class_set": quotaMap(id, limits, quotaClassShown(c))}), nil
}

func (h *handlers) updateQuotaClass(c *api.Call) (*api.Reply, error) {
	body, err := parseQuotaBody(c, "quota_class_set", quotaClassResources(c), false)
	if err != nil {
		return nil, err
	}
	id := c.Param("id")
	if n := len([]rune(id)); n > 255 {
		return nil, errs.Invalid("quota_class_name has %d characters, more than 255.", n)
	}
	values := quota.Limits{}
	for _, ch := range body.changes {
		values[ch.Resource] = ch.Limit
	}
	limits, err := h.Quotas.SetClass(c.Ctx, id, values)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_class_set": quotaMap("", limits, quotaClassShown(c))}), nil
}
