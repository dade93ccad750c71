package networking

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/secgroup"
)

// securityGroupExtensions are the extensions the security group
// resources bring (neutron/extensions/securitygroup.py and neutron-lib's
// definitions).
var securityGroupExtensions = []extension{
	{"security-group", "security-group", "The security groups extension.", "2012-10-05T10:00:00-00:00"},
	{"stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not",
		"2019-11-26T09:00:00-00:00"},
	{"security-groups-normalized-cidr", "Normalized CIDR field for security group rules",
		"Add new field with normalized remote_ip_prefix cidr in SG rule", "2020-07-28T10:00:00-00:00"},
	{"security-groups-rules-belongs-to-default-sg", "Security group rule belongs to the project's default security group",
		"Flag to determine if the security group rule belongs to the project's default security group",
		"2023-05-23T10:00:00-00:00"},
}

// securityGroupAttrs are the security group attributes a body may hold.
var securityGroupAttrs = attrSpec{
	post:     []string{"name", "description", "stateful", "tenant_id", "project_id"},
	put:      []string{"name", "description", "stateful"},
	readOnly: []string{"id", "security_group_rules", "shared", "created_at", "updated_at", "revision_number", "tags"},
}

type securityGroupHandlers struct {
	svc *secgroup.Service
	res resource
}

func newSecurityGroups(svc *secgroup.Service) *securityGroupHandlers {
	h := &securityGroupHandlers{svc: svc}
	h.res = resource{
		collection: collection{Name: "security_groups", Segment: "security-groups", Sortable: []string{"id", "name", "project_id", "tenant_id",
			"stateful", "shared", "created_at", "updated_at", "revision_number", "description"}},
		Singular: "security_group", Param: "security_group_id",
		Target: func(c *api.Call, id string) (policy.Target, error) {
			g, err := svc.GetGroup(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			return groupTarget(g), nil
		},
		NotFound: secgroup.GroupNotFound, Extension: true,
	}
	return h
}

// groupTarget is what the security group rules read of g.
func groupTarget(g *secgroup.Group) policy.Target {
	return policy.Target{"project_id": g.ProjectID, "tenant_id": g.ProjectID, "shared": pyBool(false)}
}

func (h *securityGroupHandlers) routes() []api.Route {
	r := h.res
	return append([]api.Route{
		{Method: "GET", Path: r.path(), Rule: r.rule("get"), Handler: h.list},
		{Method: "POST", Path: r.path(), Rule: r.rule("create"), Handler: h.create},
		{Method: "GET", Path: r.path(""), Rule: r.rule("get"), Target: r.objectTarget, Handler: h.show},
		{Method: "PUT", Path: r.path(""), Rule: r.rule("update"), Target: r.objectTarget, Handler: h.update},
		{Method: "DELETE", Path: r.path(""), Rule: r.rule("delete"), Target: r.objectTarget, Handler: h.delete},
	}, tagRoutes(r, h.svc)...)
}

// groupView is a security group as Neutron shows it, with its rules.
func groupView(g *secgroup.Group) view {
	rules := make([]view, 0, len(g.Rules))
	for i := range g.Rules {
		rules = append(rules, ruleView(&g.Rules[i]))
	}
	v := view{"id": g.ID, "name": g.Name, "stateful": g.Stateful, "shared": false, "security_group_rules": rules}
	return standardAttrs(v, g.ProjectID, g.Description, g.Revision, g.CreatedAt, g.UpdatedAt, g.Tags)
}

// ensureFor is the project whose default group a listing makes first:
// the caller's, or for an admin the project the listing filters on (as
// Neutron's get_security_groups does).
func ensureFor(c *api.Call) string {
	if c.IsAdmin() {
		q := c.Query()
		for _, key := range []string{"project_id", "tenant_id"} {
			if p := nonEmpty(q[key]); len(p) > 0 {
				return p[0]
			}
		}
	}
	return c.ProjectID()
}

// list answers GET /v2.0/security-groups: the groups the caller may get.
func (h *securityGroupHandlers) list(c *api.Call) (*api.Reply, error) {
	groups, err := h.svc.ListGroups(c.Ctx, secgroup.Scope{ProjectID: c.ProjectID(), All: c.IsAdmin()}, ensureFor(c))
	if err != nil {
		return nil, err
	}
	views := make([]view, 0, len(groups))
	for i := range groups {
		if c.Allowed("get_security_group", groupTarget(&groups[i])) {
			views = append(views, groupView(&groups[i]))
		}
	}
	return listReply(c, h.res.collection, views)
}

func (h *securityGroupHandlers) show(c *api.Call) (*api.Reply, error) {
	g, err := h.svc.GetGroup(c.Ctx, c.Param("security_group_id"))
	if err != nil {
		return nil, err
	}
	return showReply(c, "security_group", groupView(g)), nil
}

// fields reads a body's group attributes.
func groupFields(a attrs) (secgroup.GroupFields, error) {
	var f secgroup.GroupFields
	var err error
	if f.Name, err = a.str("name", 255); err != nil {
		return f, err
	}
	if f.Description, err = a.str("description", 255); err != nil {
		return f, err
	}
	if f.Stateful, err = a.boolean("stateful"); err != nil {
		return f, err
	}
	return f, nil
}

func (h *securityGroupHandlers) create(c *api.Call) (*api.Reply, error) {
	a, err := decodeAttrs(c, "security_group", securityGroupAttrs, false)
	if err != nil {
		return nil, err
	}
	project, err := projectOf(c, a)
	if err != nil {
		return nil, err
	}
	if project != c.ProjectID() {
		if err := forbidden(c, "create_security_group", policy.Target{"project_id": project, "tenant_id": project}); err != nil {
			return nil, err
		}
	}
	f, err := groupFields(a)
	if err != nil {
		return nil, err
	}
	g, err := h.svc.CreateGroup(c.Ctx, project, f)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, map[string]any{"security_group": groupView(g)}), nil
}

func (h *securityGroupHandlers) update(c *api.Call) (*api.Reply, error) {
	a, err := decodeAttrs(c, "security_group", securityGroupAttrs, true)
	if err != nil {
		return nil, err
	}
	f, err := groupFields(a)
	if err != nil {
		return nil, err
	}
	g, err := h.svc.UpdateGroup(c.Ctx, c.Param("security_group_id"), f)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"security_group": groupView(g)}), nil
}

func (h *securityGroupHandlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteGroup(c.Ctx, c.Param("security_group_id"), c.IsAdmin()); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
