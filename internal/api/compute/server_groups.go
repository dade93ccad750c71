package compute

// Server groups (Nova's server_groups.py): create, list, show and delete.
// Before 2.64 a group shows "policies" (a one-item list) and an always
// empty "metadata"; from 2.64 "policy" and "rules". 2.13 adds project_id
// and user_id; 2.15 the soft policies.

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/servergroup"
)

// serverGroupRoutes serve os-server-groups.
func (h *handlers) serverGroupRoutes() []api.Route {
	const pol = "os_compute_api:os-server-groups:"
	return []api.Route{
		{Method: "GET", Path: "/os-server-groups", Rule: pol + "index", Handler: h.listServerGroups},
		{Method: "POST", Path: "/os-server-groups", Rule: pol + "create", Handler: h.createServerGroup},
		{Method: "GET", Path: "/os-server-groups/{group_id}", Rule: pol + "show", Handler: h.showServerGroup},
		{Method: "DELETE", Path: "/os-server-groups/{group_id}", Rule: pol + "delete", Handler: h.deleteServerGroup},
	}
}

// serverGroupSchema is Nova's create schema at c's version.
func serverGroupSchema(c *api.Call) js.Schema {
	if c.AtLeast(mv.V2_64) {
		return js.Object([]string{"server_group"}, js.Property{Name: "server_group", Schema: js.Object([]string{"name", "policy"},
			js.Property{Name: "name", Schema: csName},
			js.Property{Name: "policy", Schema: js.Schema{js.Type("string"), js.Enum(servergroup.AntiAffinity, servergroup.Affinity,
				servergroup.SoftAntiAffinity, servergroup.SoftAffinity)}},
			js.Property{Name: "rules", Schema: js.Object(nil, js.Property{Name: "max_server_per_host",
				Schema: js.Schema{js.Type("integer", "string"), js.Pattern(`^[0-9]*$`), js.Minimum(1)}})},
		)})
	}
	policies := []any{servergroup.AntiAffinity, servergroup.Affinity}
	if c.AtLeast(mv.V2_15) {
		policies = append(policies, servergroup.SoftAntiAffinity, servergroup.SoftAffinity)
	}
	return js.Object([]string{"server_group"}, js.Property{Name: "server_group", Schema: js.Object([]string{"name", "policies"},
		js.Property{Name: "name", Schema: csName},
		js.Property{Name: "policies", Schema: js.Schema{js.Type("array"), js.Items(js.Schema{js.Type("string"), js.Enum(policies...)}),
			js.UniqueItems(), js.MinItems(1), js.MaxItems(1)}},
	)})
}

func (h *handlers) createServerGroup(c *api.Call) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	body, err := schemaChecked(c, raw, serverGroupSchema(c))
	if err != nil {
		return nil, err
	}
	sg := body.(map[string]any)["server_group"].(map[string]any)
	name := sg["name"].(string)
	var policy string
	rules := map[string]int{}
	if c.AtLeast(mv.V2_64) {
		policy = sg["policy"].(string)
		if r, ok := sg["rules"].(map[string]any); ok {
			if v, ok := r["max_server_per_host"]; ok {
				if policy != servergroup.AntiAffinity {
					return nil, errs.Invalid("Only anti-affinity policy supports rules.")
				}
				n, err := positiveInt(v)
				if err != nil {
					return nil, err
				}
				rules["max_server_per_host"] = n
			}
		}
	} else {
		policy = sg["policies"].([]any)[0].(string)
	}
	g, err := h.ServerGroups.Create(c.Ctx, c.Principal, name, policy, rules, h.serverGroupLimit)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"server_group": serverGroupView(c, g)}), nil
}

// serverGroupLimit is the server_groups quota.
func (h *handlers) serverGroupLimit(ctx context.Context, projectID, userID string) (int, error) {
	return h.Quotas.Limit(ctx, projectID, userID, quota.ServerGroups)
}

func positiveInt(v any) (int, error) {
	switch x := v.(type) {
	case float64:
		return int(x), nil
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return 0, errs.Invalid("Invalid input for field/attribute max_server_per_host. Value: %s.", x)
		}
		return int(n), nil
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, errs.Invalid("Invalid input for field/attribute max_server_per_host. Value: %s.", x)
		}
		return n, nil
	}
	return 0, errs.Invalid("Invalid input for field/attribute max_server_per_host.")
}

var serverGroupListQuery = []flavorQueryRule{
	{"all_projects", anyString},
	{"limit", nonNegativeIntegerCheck},
	{"offset", nonNegativeIntegerCheck},
}

func (h *handlers) listServerGroups(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, serverGroupListQuery, strictQuery(c, mv.V2_75))
	if err != nil {
		return nil, err
	}
	_, all := q["all_projects"]
	groups, err := h.ServerGroups.List(c.Ctx, c.Principal, all)
	if err != nil {
		return nil, err
	}
	groups = limitOffset(groups, q.Get("offset"), q.Get("limit"))
	out := make([]map[string]any, 0, len(groups))
	for _, g := range groups {
		out = append(out, serverGroupView(c, g))
	}
	return api.JSON(http.StatusOK, map[string]any{"server_groups": out}), nil
}

// limitOffset applies Nova's common.limited: skip offset, then at most
// limit (0 or absent: no limit beyond Nova's max of 1000).
func limitOffset[T any](items []T, offset, limit string) []T {
	const maxLimit = 1000
	off, _ := strconv.Atoi(offset)
	lim, _ := strconv.Atoi(limit)
	if lim <= 0 || lim > maxLimit {
		lim = maxLimit
	}
	if off >= len(items) {
		return items[:0]
	}
	items = items[off:]
	if len(items) > lim {
		items = items[:lim]
	}
	return items
}

func (h *handlers) showServerGroup(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	g, err := h.ServerGroups.Get(c.Ctx, c.Principal, c.Param("group_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"server_group": serverGroupView(c, g)}), nil
}

func (h *handlers) deleteServerGroup(c *api.Call) (*api.Reply, error) {
	if err := h.ServerGroups.Delete(c.Ctx, c.Principal, c.Param("group_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func serverGroupView(c *api.Call, g *servergroup.Group) map[string]any {
	m := map[string]any{"id": g.ID, "name": g.Name, "members": g.Members}
	if c.AtLeast(mv.V2_64) {
		m["policy"] = g.Policy
		rules := map[string]any{}
		for k, v := range g.Rules {
			rules[k] = v
		}
		m["rules"] = rules
	} else {
		m["policies"] = []string{g.Policy}
		m["metadata"] = map[string]any{}
	}
	if c.AtLeast(mv.V2_13) {
		m["project_id"] = g.ProjectID
		m["user_id"] = g.UserID
	}
	return m
}
