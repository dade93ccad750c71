package blockstorage

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) quotaRoutes() []api.Route {
	const one = "/os-quota-sets/{project_id}"
	return []api.Route{
		{Method: "GET", Path: one, Rule: "volume_extension:quotas:show", Target: quotaTarget, Handler: h.showQuotas},
		{Method: "GET", Path: one + "/defaults", Rule: "volume_extension:quotas:show", Target: quotaTarget, Handler: h.defaultQuotas},
		{Method: "PUT", Path: one, Rule: "volume_extension:quotas:update", Target: quotaTarget, Handler: h.updateQuotas},
		{Method: "DELETE", Path: one, Rule: "volume_extension:quotas:delete", Target: quotaTarget, Handler: h.deleteQuotas},
		{Method: "GET", Path: "/os-quota-class-sets/{class_name}", Rule: "volume_extension:quota_classes:get", Handler: h.showQuotaClass},
		{Method: "PUT", Path: "/os-quota-class-sets/{class_name}", Rule: "volume_extension:quota_classes:update", Handler: h.updateQuotaClass},
		{Method: "GET", Path: "/limits", Rule: policy.VolumeLimits, Handler: h.limits},
	}
}

// quotaTarget is Cinder's target for the quota rules: the project the
// path names.
func quotaTarget(c *api.Call) (policy.Target, error) {
	return policy.Target{"project_id": c.Param("project_id")}, nil
}

func quotaSet(id string, limits map[string]int64) map[string]any {
	out := make(map[string]any, len(limits)+1)
	for k, v := range limits {
		out[k] = v
	}
	if id != "" {
		out["id"] = id
	}
	return out
}

// showQuotas answers GET /os-quota-sets/{project_id}, ?usage=True for
// limits with in_use and reserved.
func (h *handlers) showQuotas(c *api.Call) (*api.Reply, error) {
	id := c.Param("project_id")
	q := c.Query()
	usage := false
	if q.Has("usage") {
		b, ok := parseBool(q.Get("usage"))
		if !ok {
			return nil, errs.Invalid("Invalid value '%s' for usage", q.Get("usage"))
		}
		usage = b
	}
	if usage {
		u, err := h.vols.QuotaUsage(c.Ctx, id)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"id": id}
		for k, v := range u {
			out[k] = map[string]int64{"limit": v.Limit, "in_use": v.InUse, "reserved": v.Reserved}
		}
		return api.JSON(http.StatusOK, map[string]any{"quota_set": out}), nil
	}
	l, err := h.vols.Quotas(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_set": quotaSet(id, l)}), nil
}

func (h *handlers) defaultQuotas(c *api.Call) (*api.Reply, error) {
	l, err := h.vols.DefaultQuotas(c.Ctx)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_set": quotaSet(c.Param("project_id"), l)}), nil
}

var quotaUpdateSchema = js.Object([]string{"quota_set"}, js.Property{Name: "quota_set", Schema: js.Schema{js.Type("object"),
	func(r *js.Run, path []string, v any) *js.Failure {
		if m, ok := v.(map[string]any); ok && len(m) < 1 {
			return js.FailAt(path, v, "%s does not have enough properties", r.Repr(v))
		}
		return nil
	}}})

// nonQuotaKeys are quota.NON_QUOTA_KEYS, accepted and ignored.
var nonQuotaKeys = []string{"tenant_id", "id"}

// quotaValues reads a quota set body with validate_integer's messages,
// refusing unknown keys as the quota_set format does.
func quotaValues(body map[string]any, known map[string]int64, label string) (map[string]int64, error) {
	var bad []string
	for k := range body {
		if _, ok := known[k]; !ok && !slices.Contains(nonQuotaKeys, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, errs.Invalid("Invalid input received: Bad key(s) in %s: %s", label, strings.Join(bad, ", "))
	}
	out := map[string]int64{}
	for k, v := range body {
		if slices.Contains(nonQuotaKeys, k) {
			continue
		}
		var n int64
		switch t := v.(type) {
		case string:
			x, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
			if err != nil {
				return nil, errs.Invalid("%s must be an integer.", k)
			}
			n = x
		default:
			f, _, ok := js.NumberOf(v)
			if !ok || f != float64(int64(f)) {
				return nil, errs.Invalid("%s must be an integer.", k)
			}
			n = int64(f)
		}
		if n < -1 {
			return nil, errs.Invalid("%s must be >= -1", k)
		}
		if n > 2147483647 {
			return nil, errs.Invalid("%s must be <= 2147483647", k)
		}
		out[k] = n
	}
	return out, nil
}

// updateQuotas answers PUT /os-quota-sets/{project_id}: the new set,
// without an id.
func (h *handlers) updateQuotas(c *api.Call) (*api.Reply, error) {
	id := c.Param("project_id")
	body, err := decodeBody(c, quotaUpdateSchema)
	if err != nil {
		return nil, err
	}
	usage, err := h.vols.QuotaUsage(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	known := map[string]int64{}
	for k, u := range usage {
		known[k] = u.Limit
	}
	set, err := quotaValues(body["quota_set"].(map[string]any), known, "quota set")
	if err != nil {
		return nil, err
	}
	for k, v := range set {
		u := usage[k]
		if k == "per_volume_gigabytes" || v == -1 {
			continue
		}
		if used := u.InUse + u.Reserved; v < used {
			return nil, errs.Invalid("Quota %s limit must be equal or greater than existing resources. Current usage is %d and the requested limit is %d.", k, used, v)
		}
	}
	l, err := h.vols.SetQuotas(c.Ctx, id, set)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_set": quotaSet("", l)}), nil
}

func (h *handlers) deleteQuotas(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DeleteQuotas(c.Ctx, c.Param("project_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusOK), nil
}

func (h *handlers) showQuotaClass(c *api.Call) (*api.Reply, error) {
	name := c.Param("class_name")
	l, err := h.vols.QuotaClass(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_class_set": quotaSet(name, l)}), nil
}

var quotaClassUpdateSchema = js.Object([]string{"quota_class_set"}, js.Property{Name: "quota_class_set", Schema: js.Schema{js.Type("object")}})

func (h *handlers) updateQuotaClass(c *api.Call) (*api.Reply, error) {
	name := c.Param("class_name")
	body, err := decodeBody(c, quotaClassUpdateSchema)
	if err != nil {
		return nil, err
	}
	known, err := h.vols.QuotaClass(c.Ctx, name)
	if err != nil {
		return nil, err
	}
	set, err := quotaValues(body["quota_class_set"].(map[string]any), known, "quota class set")
	if err != nil {
		return nil, err
	}
	l, err := h.vols.SetQuotaClass(c.Ctx, name, set)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota_class_set": quotaSet("", l)}), nil
}

// limitNames are views/limits.py's absolute limits and used_limits'
// usage, by quota resource.
var limitNames = map[string][2]string{
	"volumes": {"maxTotalVolumes", "totalVolumesUsed"}, "snapshots": {"maxTotalSnapshots", "totalSnapshotsUsed"},
	"gigabytes": {"maxTotalVolumeGigabytes", "totalGigabytesUsed"}, "backups": {"maxTotalBackups", "totalBackupsUsed"},
	"backup_gigabytes": {"maxTotalBackupGigabytes", "totalBackupGigabytesUsed"},
}

// limits answers GET /limits: the caller's project's (an admin's
// ?project_id= from 3.39), with usage when used_limits allows.
func (h *handlers) limits(c *api.Call) (*api.Reply, error) {
	project := c.ProjectID()
	q := c.Query()
	if c.IsAdmin() && c.AtLeast(mv.Version{Major: 3, Minor: 39}) {
		if p := q.Get("project_id"); p != "" {
			project = p
		} else if p := q.Get("tenant_id"); p != "" {
			project = p
		}
	}
	u, err := h.vols.QuotaUsage(c.Ctx, project)
	if err != nil {
		return nil, err
	}
	abs := map[string]int64{}
	used := c.Allowed("limits_extension:used_limits", nil)
	for res, names := range limitNames {
		v, ok := u[res]
		if !ok {
			continue
		}
		abs[names[0]] = v.Limit
		if used {
			abs[names[1]] = v.InUse
		}
	}
	return api.JSON(http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": abs}}), nil
}
