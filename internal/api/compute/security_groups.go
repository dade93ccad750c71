package compute

// os-security-groups, os-security-group-rules and a server's groups:
// Nova's proxies to Neutron's security groups (security_groups.py),
// served by the built-in store (internal/secgroup). The proxies end at
// 2.35 like the other network proxies; a server's groups and the
// add/removeSecurityGroup actions stay.

import (
	"net/http"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/secgroup"
)

// securityGroupRoutes serve os-security-groups, os-security-group-rules (proxies until 2.36) and GET /servers/{server_id}/os-security-groups.
func (h *handlers) securityGroupRoutes() []api.Route {
	const rule = "os_compute_api:os-security-groups:"
	upTo := func(r api.Route) api.Route { r.MaxVer = maxImageProxy; return r }
	return []api.Route{
		upTo(api.Route{Method: "GET", Path: "/os-security-groups", Rule: rule + "get", Handler: h.listSecurityGroups}),
		upTo(api.Route{Method: "POST", Path: "/os-security-groups", Rule: rule + "create", Handler: h.createSecurityGroup}),
		upTo(api.Route{Method: "GET", Path: "/os-security-groups/{id}", Rule: rule + "show", Handler: h.showSecurityGroup}),
		upTo(api.Route{Method: "PUT", Path: "/os-security-groups/{id}", Rule: rule + "update", Handler: h.updateSecurityGroup}),
		upTo(api.Route{Method: "DELETE", Path: "/os-security-groups/{id}", Rule: rule + "delete", Handler: h.deleteSecurityGroup}),
		upTo(api.Route{Method: "POST", Path: "/os-security-group-rules", Rule: rule + "rule:create", Handler: h.createSecurityGroupRule}),
		upTo(api.Route{Method: "DELETE", Path: "/os-security-group-rules/{id}", Rule: rule + "rule:delete", Handler: h.deleteSecurityGroupRule}),
		{Method: "GET", Path: "/servers/{server_id}/os-security-groups", Rule: rule + "list", Handler: h.listServerSecurityGroups},
	}
}

// securityGroupView is Nova's _format_security_group: ingress rules only.
func securityGroupView(g *secgroup.Group) map[string]any {
	rules := []map[string]any{}
	for _, r := range g.IngressRules() {
		rules = append(rules, securityGroupRuleView(&r))
	}
	return map[string]any{"id": g.ID, "name": g.Name, "description": g.Description, "tenant_id": g.ProjectID, "rules": rules}
}

// securityGroupRuleView is Nova's _format_security_group_rule: a rule
// from a group names the group, any other shows its CIDR.
func securityGroupRuleView(r *secgroup.Rule) map[string]any {
	from, to := r.NovaPorts()
	m := map[string]any{"id": r.ID, "parent_group_id": r.GroupID, "ip_protocol": nullableStr(r.Protocol),
		"from_port": nullableInt(from), "to_port": nullableInt(to), "group": map[string]any{}, "ip_range": map[string]any{}}
	switch {
	case r.RemoteGroup != nil:
		m["group"] = map[string]any{"name": r.RemoteGroup.Name, "tenant_id": r.RemoteGroup.ProjectID}
	case r.RemoteCIDR != nil:
		m["ip_range"] = map[string]any{"cidr": *r.RemoteCIDR}
	default:
		m["ip_range"] = map[string]any{"cidr": "0.0.0.0/0"}
	}
	return m
}

func nullableStr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func nullableInt(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

// securityGroupsReply sorts groups by project and name, as Nova does.
func securityGroupsReply(groups []secgroup.Group) *api.Reply {
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].ProjectID != groups[j].ProjectID {
			return groups[i].ProjectID < groups[j].ProjectID
		}
		return groups[i].Name < groups[j].Name
	})
	out := make([]map[string]any, 0, len(groups))
	for i := range groups {
		out = append(out, securityGroupView(&groups[i]))
	}
	return api.JSON(http.StatusOK, map[string]any{"security_groups": out})
}

var securityGroupListQuery = []flavorQueryRule{
	{"limit", nonNegativeIntegerCheck},
	{"offset", nonNegativeIntegerCheck},
	{"all_tenants", anyString},
}

func (h *handlers) listSecurityGroups(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, securityGroupListQuery, false)
	if err != nil {
		return nil, err
	}
	_, all := q["all_tenants"]
	groups, err := h.SecurityGroups.List(c.Ctx, c.Principal, all)
	if err != nil {
		return nil, err
	}
	return securityGroupsReply(limitOffset(groups, q.Get("offset"), q.Get("limit"))), nil
}

func (h *handlers) showSecurityGroup(c *api.Call) (*api.Reply, error) {
	g, err := h.SecurityGroups.Get(c.Ctx, c.Principal, c.Param("id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"security_group": securityGroupView(g)}), nil
}

// securityGroupSchema is schemas/security_groups.py create (and update):
// a name and description of at most 255 characters, other keys allowed.
var securityGroupSchema = js.Schema{js.Type("object"), js.Properties(js.Property{Name: "security_group", Schema: js.Schema{
	js.Type("object"),
	js.Properties(
		js.Property{Name: "name", Schema: js.Schema{js.Type("string"), js.MinLength(0), js.MaxLength(255)}},
		js.Property{Name: "description", Schema: js.Schema{js.Type("string"), js.MinLength(0), js.MaxLength(255)}}),
	js.Required("name", "description"),
}}), js.Required("security_group")}

// securityGroupBody validates a create or update body and returns its
// name and description.
func securityGroupBody(c *api.Call) (name, description string, err error) {
	body, err := validatedBody(c, securityGroupSchema)
	if err != nil {
		return "", "", err
	}
	sg := body.(map[string]any)["security_group"].(map[string]any)
	name = sg["name"].(string)
	// Nova's validate_property: a name of only blanks is none.
	if strings.TrimSpace(name) == "" {
		return "", "", errs.Invalid("Invalid input received: name has a minimum character requirement of 1.")
	}
	return name, sg["description"].(string), nil
}

// validatedBody decodes the request body and checks it against schema.
func validatedBody(c *api.Call, schema js.Schema) (any, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	return validatedJSON(c, raw, schema)
}

// validatedJSON is validatedBody for a body already read.
func validatedJSON(c *api.Call, raw []byte, schema js.Schema) (any, error) {
	var probe any
	if err := api.DecodeJSON(raw, &probe); err != nil {
		return nil, err
	}
	return schemaChecked(c, raw, schema)
}

// schemaChecked decodes raw keeping its key order and validates it
// against schema at the call's microversion; JSON that does not parse is
// Nova's "Malformed request body".
func schemaChecked(c *api.Call, raw []byte, schema js.Schema) (any, error) {
	body, order, err := js.Decode(raw)
	if err != nil {
		return nil, errs.Invalid("Malformed request body")
	}
	run := &js.Run{Relaxed: isLegacyV2(c), Order: order}
	if f := schema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	return body, nil
}

func (h *handlers) createSecurityGroup(c *api.Call) (*api.Reply, error) {
	name, description, err := securityGroupBody(c)
	if err != nil {
		return nil, err
	}
	g, err := h.SecurityGroups.Create(c.Ctx, c.Principal, name, description)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"security_group": securityGroupView(g)}), nil
}

func (h *handlers) updateSecurityGroup(c *api.Call) (*api.Reply, error) {
	name, description, err := securityGroupBody(c)
	if err != nil {
		return nil, err
	}
	g, err := h.SecurityGroups.Update(c.Ctx, c.Principal, c.Param("id"), name, description)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"security_group": securityGroupView(g)}), nil
}

func (h *handlers) deleteSecurityGroup(c *api.Call) (*api.Reply, error) {
	if err := h.SecurityGroups.Delete(c.Ctx, c.Principal, c.Param("id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// securityGroupRuleSchema is schemas/security_groups.py create_rules:
// only the group ids are checked, the rest is Nova's code's.
var securityGroupRuleSchema = js.Schema{js.Type("object"), js.Properties(js.Property{Name: "security_group_rule", Schema: js.Schema{
	js.Type("object"),
	js.Properties(
		js.Property{Name: "group_id", Schema: js.Schema{js.Type("string", "null"), js.Format("uuid")}},
		js.Property{Name: "parent_group_id", Schema: js.Schema{js.Type("string"), js.Format("uuid")}}),
	js.Required("parent_group_id"),
}}), js.Required("security_group_rule")}

func (h *handlers) createSecurityGroupRule(c *api.Call) (*api.Reply, error) {
	body, err := validatedBody(c, securityGroupRuleSchema)
	if err != nil {
		return nil, err
	}
	in := body.(map[string]any)["security_group_rule"].(map[string]any)
	req := secgroup.RuleRequest{ParentGroupID: in["parent_group_id"].(string),
		IPProtocol: in["ip_protocol"], FromPort: in["from_port"], ToPort: in["to_port"], CIDR: in["cidr"]}
	if g, ok := in["group_id"].(string); ok {
		req.GroupID = &g
	}
	r, err := h.SecurityGroups.CreateRule(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"security_group_rule": securityGroupRuleView(r)}), nil
}

func (h *handlers) deleteSecurityGroupRule(c *api.Call) (*api.Reply, error) {
	if err := h.SecurityGroups.DeleteRule(c.Ctx, c.Principal, c.Param("id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// listServerSecurityGroups is ServerSecurityGroupController.index: the
// groups of a server the caller may see, with their rules.
func (h *handlers) listServerSecurityGroups(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	groups, err := h.SecurityGroups.ServerGroups(c.Ctx, c.Principal, srv.ID)
	if err != nil {
		return nil, err
	}
	return securityGroupsReply(groups), nil
}
