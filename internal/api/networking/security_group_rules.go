package networking

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/secgroup"
)

// securityGroupRuleAttrs are the rule attributes a body may hold; rules
// have no update.
var securityGroupRuleAttrs = attrSpec{
	post: []string{"security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
		"remote_ip_prefix", "remote_group_id", "remote_address_group_id", "description", "tenant_id", "project_id"},
	readOnly: []string{"id", "normalized_cidr", "belongs_to_default_sg", "created_at", "updated_at", "revision_number"},
}

type securityGroupRuleHandlers struct {
	svc *secgroup.Service
	res resource
}

func newSecurityGroupRules(svc *secgroup.Service) *securityGroupRuleHandlers {
	h := &securityGroupRuleHandlers{svc: svc}
	h.res = resource{
		collection: collection{Name: "security_group_rules", Segment: "security-group-rules", Sortable: []string{"id",
			"security_group_id", "remote_group_id", "direction", "protocol", "port_range_min", "port_range_max",
			"ethertype", "remote_ip_prefix", "project_id", "tenant_id", "created_at", "updated_at", "revision_number",
			"description"}},
		Singular: "security_group_rule", Param: "security_group_rule_id",
		Target: func(c *api.Call, id string) (policy.Target, error) {
			r, err := svc.GetRule(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			return ruleTarget(r), nil
		},
		NotFound: secgroup.RuleNotFound, Extension: true,
	}
	return h
}

// ruleTarget is what the rule rules read of r: its project and its
// group's (security_group:project_id, Neutron's parent lookup).
func ruleTarget(r *secgroup.Rule) policy.Target {
	return policy.Target{"project_id": r.ProjectID, "tenant_id": r.ProjectID,
		"security_group:project_id": r.GroupProjectID, "security_group:tenant_id": r.GroupProjectID,
		"belongs_to_default_sg": pyBool(r.InDefault)}
}

func (h *securityGroupRuleHandlers) routes() []api.Route {
	r := h.res
	return []api.Route{
		{Method: "GET", Path: r.path(), Rule: r.rule("get"), Handler: h.list},
		{Method: "POST", Path: r.path(), Rule: r.rule("create"), Handler: h.create},
		{Method: "GET", Path: r.path(""), Rule: r.rule("get"), Target: r.objectTarget, Handler: h.show},
		{Method: "DELETE", Path: r.path(""), Rule: r.rule("delete"), Target: r.objectTarget, Handler: h.delete},
	}
}

// ruleView is a rule as Neutron shows it (rules have no tags).
func ruleView(r *secgroup.Rule) view {
	v := view{"id": r.ID, "security_group_id": r.GroupID, "direction": r.Direction, "ethertype": r.Ethertype,
		"protocol": optString(r.Protocol), "port_range_min": optInt(r.PortMin), "port_range_max": optInt(r.PortMax),
		"remote_ip_prefix": optString(r.RemoteCIDR), "normalized_cidr": optString(secgroup.NormalizedCIDR(r.RemoteCIDR)),
		"remote_group_id": optString(r.RemoteGroupID), "remote_address_group_id": nil,
		"belongs_to_default_sg": r.InDefault}
	standardAttrs(v, r.ProjectID, r.Description, r.Revision, r.CreatedAt, r.UpdatedAt, nil)
	delete(v, "tags")
	return v
}

// optString and optInt are a nullable attribute's value (nil: null).
func optString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func optInt(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

// list answers GET /v2.0/security-group-rules: the rules the caller may
// get, after the default group of the project asked about (Neutron's
// get_security_group_rules makes it too).
func (h *securityGroupRuleHandlers) list(c *api.Call) (*api.Reply, error) {
	rules, err := h.svc.ListRules(c.Ctx, secgroup.Scope{ProjectID: c.ProjectID(), All: c.IsAdmin()}, ensureFor(c))
	if err != nil {
		return nil, err
	}
	views := make([]view, 0, len(rules))
	for i := range rules {
		if c.Allowed("get_security_group_rule", ruleTarget(&rules[i])) {
			views = append(views, ruleView(&rules[i]))
		}
	}
	return listReply(c, h.res.collection, views)
}

func (h *securityGroupRuleHandlers) show(c *api.Call) (*api.Reply, error) {
	r, err := h.svc.GetRule(c.Ctx, c.Param("security_group_rule_id"))
	if err != nil {
		return nil, err
	}
	return showReply(c, "security_group_rule", ruleView(r)), nil
}

// create answers POST /v2.0/security-group-rules in Neutron's order: the
// required attributes, their conversions, the direction, then the group
// (a group the caller may not see is not found), the rule's policy
// against it, and the domain's checks.
func (h *securityGroupRuleHandlers) create(c *api.Call) (*api.Reply, error) {
	a, err := decodeAttrs(c, "security_group_rule", securityGroupRuleAttrs, false)
	if err != nil {
		return nil, err
	}
	for _, key := range []string{"security_group_id", "direction"} {
		if _, ok := a[key]; !ok {
			return nil, badRequest("Failed to parse request. Required attribute '%s' not specified", key)
		}
	}
	nr, err := newRule(a)
	if err != nil {
		return nil, err
	}
	if nr.ProjectID, err = projectOf(c, a); err != nil {
		return nil, err
	}
	g, err := h.svc.GetGroup(c.Ctx, nr.GroupID)
	if err != nil {
		return nil, err
	}
	if !c.Allowed("get_security_group", groupTarget(g)) {
		return nil, secgroup.GroupNotFound(nr.GroupID)
	}
	target := policy.Target{"project_id": nr.ProjectID, "tenant_id": nr.ProjectID,
		"security_group:project_id": g.ProjectID, "security_group:tenant_id": g.ProjectID}
	if err := forbidden(c, "create_security_group_rule", target); err != nil {
		return nil, err
	}
	r, err := h.svc.AddRule(c.Ctx, nr, c.IsAdmin())
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, map[string]any{"security_group_rule": ruleView(r)}), nil
}

// newRule reads a rule's attributes with their converters (protocol,
// ports, ethertype, remote prefix), then the direction's validator.
func newRule(a attrs) (secgroup.NewRule, error) {
	var nr secgroup.NewRule
	var err error
	if nr.Protocol, err = secgroup.ConvertProtocol(a["protocol"]); err != nil {
		return nr, err
	}
	if nr.PortMin, err = secgroup.ConvertPort(a["port_range_min"]); err != nil {
		return nr, err
	}
	if nr.PortMax, err = secgroup.ConvertPort(a["port_range_max"]); err != nil {
		return nr, err
	}
	nr.Ethertype = "IPv4"
	if v, ok := a["ethertype"]; ok {
		if nr.Ethertype, err = secgroup.ConvertEthertype(v); err != nil {
			return nr, err
		}
	}
	if nr.RemoteIPPrefix, err = secgroup.ConvertIPPrefix(a["remote_ip_prefix"]); err != nil {
		return nr, err
	}
	group, err := a.str("security_group_id", 36)
	if err != nil {
		return nr, err
	}
	nr.GroupID = *group
	direction, err := a.str("direction", 0)
	if err != nil {
		return nr, err
	}
	if *direction != "ingress" && *direction != "egress" {
		return nr, invalidAttr("direction", *direction+" is not in valid_values")
	}
	nr.Direction = *direction
	for _, ref := range []struct {
		key string
		dst **string
	}{{"remote_group_id", &nr.RemoteGroupID}, {"remote_address_group_id", &nr.RemoteAddressGroupID}} {
		if v, ok := a[ref.key]; ok && v != nil {
			if *ref.dst, err = a.str(ref.key, 0); err != nil {
				return nr, err
			}
		}
	}
	description, err := a.str("description", 255)
	if err != nil {
		return nr, err
	}
	nr.Description = deref(description)
	return nr, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (h *securityGroupRuleHandlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.RemoveRule(c.Ctx, c.Param("security_group_rule_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
