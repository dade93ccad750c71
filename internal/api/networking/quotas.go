package networking

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/quota/netquota"
)

// quotaExtensions are quotasv2 and quotasv2_detail.
var quotaExtensions = []extension{
	{"quotas", "Quota management support", "Expose functions for quotas management per project", "2012-07-29T10:00:00-00:00"},
	{"quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project", "2017-02-10T10:00:00-00:00"},
}

// quotaResources are the quota attributes in the order Neutron's
// registry holds them, the order its body checks run in.
var quotaResources = []string{netquota.Network, netquota.Subnet, netquota.Port, netquota.Router, netquota.FloatingIP,
	netquota.SecurityGroup, netquota.SecurityGroupRule}

type quotaHandlers struct{ svc *netquota.Service }

func (h quotaHandlers) routes() []api.Route {
	const one = "/v2.0/quotas/{project_id}"
	return []api.Route{
		{Method: "GET", Path: "/v2.0/quotas", Rule: "get_quota", Handler: h.list},
		{Method: "GET", Path: one, Rule: policy.NetworkQuota, Target: quotaTarget, Handler: h.show},
		{Method: "GET", Path: one + "/default", Rule: policy.NetworkQuota, Target: quotaTarget, Handler: h.defaults},
		{Method: "GET", Path: one + "/details", Rule: policy.NetworkQuotaDetails, Target: quotaTarget, Handler: h.details},
		// Neutron's router takes a .json suffix on any path, and
		// gophercloud asks for the details with one.
		{Method: "GET", Path: one + "/details.json", Rule: policy.NetworkQuotaDetails, Target: quotaTarget, Handler: h.details},
		{Method: "PUT", Path: one, Rule: "update_quota", Handler: h.update},
		{Method: "DELETE", Path: one, Rule: "delete_quota", Handler: h.delete},
	}
}

// quotaTarget names the project the path asks about (quota:project_id)
// beside the caller's own (project_id), which Neutron checks get_quota
// against. A caller without a project never asks about its own.
func quotaTarget(c *api.Call) (policy.Target, error) {
	t := policy.Target{}
	if c.ProjectID() != "" {
		t["quota:project_id"] = c.Param("project_id")
	}
	return t, nil
}

// list answers GET /v2.0/quotas: the projects with limits of their own.
func (h quotaHandlers) list(c *api.Call) (*api.Reply, error) {
	all, err := h.svc.List(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(all))
	for _, p := range all {
		v := quotaView(p.Limits)
		v["project_id"], v["tenant_id"] = p.ProjectID, p.ProjectID
		out = append(out, v)
	}
	return api.JSON(http.StatusOK, map[string]any{"quotas": out}), nil
}

func quotaView(l netquota.Limits) map[string]any {
	v := make(map[string]any, len(l)+2)
	for res, limit := range l {
		v[res] = limit
	}
	return v
}

func (h quotaHandlers) show(c *api.Call) (*api.Reply, error) {
	l, err := h.svc.Get(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota": quotaView(l)}), nil
}

func (h quotaHandlers) defaults(c *api.Call) (*api.Reply, error) {
	return api.JSON(http.StatusOK, map[string]any{"quota": quotaView(netquota.Defaults())}), nil
}

func (h quotaHandlers) details(c *api.Call) (*api.Reply, error) {
	d, err := h.svc.Details(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	v := make(map[string]any, len(d))
	for res, u := range d {
		v[res] = map[string]int{"limit": u.Limit, "used": u.Used, "reserved": u.Reserved}
	}
	return api.JSON(http.StatusOK, map[string]any{"quota": v}), nil
}

func (h quotaHandlers) update(c *api.Call) (*api.Reply, error) {
	changes, force, err := parseQuotaBody(c)
	if err != nil {
		return nil, err
	}
	l, err := h.svc.Set(c.Ctx, c.Param("project_id"), changes, force)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"quota": quotaView(l)}), nil
}

func (h quotaHandlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.Delete(c.Ctx, c.Param("project_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// parseQuotaBody reads {"quota": {...}} as Neutron's update does: force
// and check_limit taken out (only a JSON true forces), unknown resources
// refused, each value converted by int() and kept in [-1, MaxLimit].
// The changes keep the request's order, which the usage check follows.
func parseQuotaBody(c *api.Call) ([]netquota.Change, bool, error) {
	b, err := c.Body()
	if err != nil {
		return nil, false, err
	}
	if err := api.CheckJSON(b); err != nil {
		return nil, false, err
	}
	v, order, err := jsonschema.Decode(b)
	if err != nil {
		return nil, false, badRequest("Malformed request body")
	}
	body, _ := v.(map[string]any)
	if len(body) == 0 {
		return nil, false, badRequest("Resource body required")
	}
	raw, ok := body["quota"]
	if !ok || raw == nil {
		return nil, false, badRequest("Unable to find 'quota' in request body")
	}
	q, ok := raw.(map[string]any)
	if !ok {
		return nil, false, badRequest("Object 'quota' contains invalid data")
	}
	force := q["force"] == true
	var unknown []string
	for k := range q {
		if k != "force" && k != "check_limit" && !netquota.Known(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, false, badRequest("Unrecognized attribute(s) '%s'", strings.Join(unknown, ", "))
	}
	limits := map[string]int{}
	for _, res := range quotaResources {
		if val, ok := q[res]; ok {
			if limits[res], err = quotaLimit(res, val); err != nil {
				return nil, false, err
			}
		}
	}
	var changes []netquota.Change
	for _, k := range order[reflect.ValueOf(q).Pointer()] {
		if l, ok := limits[k]; ok {
			changes = append(changes, netquota.Change{Resource: k, Limit: l})
		}
	}
	return changes, force, nil
}

// quotaLimit is convert_to_int then validate_range(-1, MaxLimit) of one
// value, with their messages.
func quotaLimit(res string, v any) (int, error) {
	n, ok := pyInt(v)
	if !ok {
		return 0, invalidInput("'%s' is not an integer", pyStr(v))
	}
	switch {
	case n.Cmp(big.NewInt(netquota.Unlimited)) < 0:
		return 0, invalidAttr(res, fmt.Sprintf("'%s' is too small - must be at least '%d'", n, netquota.Unlimited))
	case n.Cmp(big.NewInt(netquota.MaxLimit)) > 0:
		return 0, invalidAttr(res, fmt.Sprintf("'%s' is too large - must be no larger than '%d'", n, netquota.MaxLimit))
	}
	return int(n.Int64()), nil
}

// pyInt is Python's int() of a JSON value: integers, floats truncated,
// booleans, and strings of decimal integers.
func pyInt(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case json.Number:
		if n, ok := new(big.Int).SetString(x.String(), 10); ok {
			return n, true
		}
		f, _, err := big.ParseFloat(x.String(), 10, 256, big.ToZero)
		if err != nil {
			return nil, false
		}
		n, _ := f.Int(nil)
		return n, true
	case string:
		return new(big.Int).SetString(strings.TrimSpace(x), 10)
	}
	return nil, false
}

// pyStr is Python's str() of a JSON value.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return api.PyRepr(v)
}
