package identity

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

// groupRoutes are Keystone's groups, their members, grants to groups,
// OS-INHERIT grants and implied roles.
func (h *handlers) groupRoutes() []api.Route {
	rs := []api.Route{
		{Method: "GET", Path: "/v3/groups", Rule: "identity:list_groups", Handler: h.listGroups},
		{Method: "POST", Path: "/v3/groups", Rule: "identity:create_group", Handler: h.createGroup},
		{Method: "GET", Path: "/v3/groups/{group_id}", Rule: "identity:get_group", Handler: h.showGroup},
		{Method: "PATCH", Path: "/v3/groups/{group_id}", Rule: "identity:update_group", Handler: h.updateGroup},
		{Method: "DELETE", Path: "/v3/groups/{group_id}", Rule: "identity:delete_group", Handler: h.deleteGroup},
		{Method: "GET", Path: "/v3/groups/{group_id}/users", Rule: "identity:list_users_in_group", Handler: h.groupUsers},
		{Method: "PUT", Path: "/v3/groups/{group_id}/users/{user_id}", Rule: "identity:add_user_to_group", Handler: h.addGroupUser},
		{Method: "HEAD", Path: "/v3/groups/{group_id}/users/{user_id}", Rule: "identity:check_user_in_group", Handler: h.checkGroupUser},
		{Method: "GET", Path: "/v3/groups/{group_id}/users/{user_id}", Rule: "identity:check_user_in_group", Handler: h.checkGroupUser},
		{Method: "DELETE", Path: "/v3/groups/{group_id}/users/{user_id}", Rule: "identity:remove_user_from_group", Handler: h.removeGroupUser},

		{Method: "PUT", Path: "/v3/roles/{prior_role_id}/implies/{implied_role_id}", Rule: "identity:create_implied_role", Handler: h.createImpliedRole},
		// HEAD before GET: the router answers HEAD with a GET route.
		{Method: "HEAD", Path: "/v3/roles/{prior_role_id}/implies/{implied_role_id}", Rule: "identity:check_implied_role", Handler: h.checkImpliedRole},
		{Method: "GET", Path: "/v3/roles/{prior_role_id}/implies/{implied_role_id}", Rule: "identity:get_implied_role", Handler: h.showImpliedRole},
		{Method: "DELETE", Path: "/v3/roles/{prior_role_id}/implies/{implied_role_id}", Rule: "identity:delete_implied_role", Handler: h.deleteImpliedRole},
		{Method: "GET", Path: "/v3/roles/{prior_role_id}/implies", Rule: "identity:list_implied_roles", Handler: h.listImpliedRoles},
		{Method: "GET", Path: "/v3/role_inferences", Rule: "identity:list_role_inference_rules", Handler: h.listRoleInferences},
	}
	// System grants: the roles a system-scoped token carries.
	for _, a := range []struct{ path, kind string }{{"users/{user_id}", "user"}, {"groups/{group_id}", "group"}} {
		kind := a.kind
		p := "/v3/system/" + a.path + "/roles"
		rs = append(rs,
			api.Route{Method: "GET", Path: p, Rule: "identity:list_system_grants_for_" + kind, Handler: h.listGrantedRoles},
			api.Route{Method: "PUT", Path: p + "/{role_id}", Rule: "identity:create_system_grant_for_" + kind, Handler: h.grantRole},
			api.Route{Method: "HEAD", Path: p + "/{role_id}", Rule: "identity:check_system_grant_for_" + kind, Handler: h.checkRole},
			api.Route{Method: "GET", Path: p + "/{role_id}", Rule: "identity:check_system_grant_for_" + kind, Handler: h.checkRole},
			api.Route{Method: "DELETE", Path: p + "/{role_id}", Rule: "identity:revoke_system_grant_for_" + kind, Handler: h.revokeRole},
		)
	}
	// Grants to groups, and OS-INHERIT grants to users and groups, share
	// the user grant handlers: the path says who and how.
	for _, scope := range []string{"/v3/projects/{project_id}", "/v3/domains/{domain_id}"} {
		base := scope + "/groups/{group_id}/roles"
		rs = append(rs, grantRoutes(h, base, "")...)
		rs = append(rs, api.Route{Method: "GET", Path: base, Rule: "identity:list_grants", Handler: h.listGrantedRoles})
		for _, actor := range []string{"/users/{user_id}", "/groups/{group_id}"} {
			ib := "/v3/OS-INHERIT" + strings.TrimPrefix(scope, "/v3") + actor + "/roles"
			rs = append(rs, grantRoutes(h, ib, "/inherited_to_projects")...)
			if scope == "/v3/domains/{domain_id}" {
				rs = append(rs, api.Route{Method: "GET", Path: ib + "/inherited_to_projects", Rule: "identity:list_grants", Handler: h.listGrantedRoles})
			}
		}
	}
	return rs
}

// grantRoutes are the PUT, HEAD, GET and DELETE of one grant path.
func grantRoutes(h *handlers, base, suffix string) []api.Route {
	p := base + "/{role_id}" + suffix
	return []api.Route{
		{Method: "PUT", Path: p, Rule: "identity:create_grant", Handler: h.grantRole},
		{Method: "HEAD", Path: p, Rule: "identity:check_grant", Handler: h.checkRole},
		{Method: "GET", Path: p, Rule: "identity:check_grant", Handler: h.checkRole},
		{Method: "DELETE", Path: p, Rule: "identity:revoke_grant", Handler: h.revokeRole},
	}
}

type groupBody struct {
	Group *struct {
		Name        *string `json:"name"`
		DomainID    *string `json:"domain_id"`
		Description *string `json:"description"`
	} `json:"group"`
}

// groupAttributes are the group attributes Keystone defines; others are
// kept as extra attributes.
func groupAttributes() []string {
	return []string{"id", "name", "domain_id", "description", "links"}
}

func groupView(c *api.Call, g *identity.Group) obj {
	return withExtra(obj{
		"id": g.ID, "name": g.Name, "domain_id": g.DomainID, "description": g.Description,
		"links": selfLink(c, "/groups/"+g.ID),
	}, g.Extra)
}

// principalDomain is the domain of a domain-scoped caller, "" otherwise.
func principalDomain(c *api.Call) string {
	if c.Principal == nil {
		return ""
	}
	return c.Principal.DomainID
}

func (h *handlers) listGroups(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	gs, err := h.svc.ListGroups(c.Ctx, identity.GroupFilter{Name: q.Get("name"), DomainID: q.Get("domain_id"),
		Inexact: inexact(c, "name", "domain_id")})
	if err != nil {
		return nil, err
	}
	// A domain-scoped caller sees its domain's groups only, as Keystone.
	if d := principalDomain(c); d != "" {
		kept := gs[:0]
		for _, g := range gs {
			if g.DomainID == d {
				kept = append(kept, g)
			}
		}
		gs = kept
	}
	return api.JSON(http.StatusOK, collection(c, "groups", views(c, gs, groupView))), nil
}

func (h *handlers) showGroup(c *api.Call) (*api.Reply, error) {
	g, err := h.svc.GetGroup(c.Ctx, c.Param("group_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"group": groupView(c, g)}), nil
}

func (h *handlers) createGroup(c *api.Call) (*api.Reply, error) {
	var b groupBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return nil, err
	}
	if b.Group == nil || b.Group.Name == nil {
		return nil, errs.Invalid("Invalid input for field 'group': 'name' is a required property")
	}
	// Keystone puts a group without a domain in the caller's domain
	// scope, else the default domain.
	g := identity.Group{Name: *b.Group.Name, DomainID: str(b.Group.DomainID), Description: str(b.Group.Description),
		Extra: extraAttributes(raw, "group", groupAttributes()...)}
	if g.DomainID == "" {
		g.DomainID = principalDomain(c)
	}
	out, err := h.svc.CreateGroup(c.Ctx, g)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"group": groupView(c, out)}), nil
}

func (h *handlers) updateGroup(c *api.Call) (*api.Reply, error) {
	var b groupBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return nil, err
	}
	if b.Group == nil {
		return nil, required("group")
	}
	id := c.Param("group_id")
	if b.Group.DomainID != nil {
		cur, err := h.svc.GetGroup(c.Ctx, id)
		if err != nil {
			return nil, err
		}
		if *b.Group.DomainID != cur.DomainID {
			return nil, errs.Invalid("Cannot change Domain ID")
		}
	}
	g, err := h.svc.UpdateGroup(c.Ctx, id, identity.GroupPatch{Name: b.Group.Name, Description: b.Group.Description,
		Extra: extraAttributes(raw, "group", groupAttributes()...)})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"group": groupView(c, g)}), nil
}

func (h *handlers) deleteGroup(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteGroup(c.Ctx, c.Param("group_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) groupUsers(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	us, err := h.svc.GroupUsers(c.Ctx, c.Param("group_id"), identity.UserFilter{Name: q.Get("name"), DomainID: q.Get("domain_id"),
		Enabled: boolQuery(c, "enabled"), Inexact: inexact(c, "name", "domain_id")})
	if err != nil {
		return nil, err
	}
	if d := principalDomain(c); d != "" {
		kept := us[:0]
		for _, u := range us {
			if u.DomainID == d {
				kept = append(kept, u)
			}
		}
		us = kept
	}
	return api.JSON(http.StatusOK, collection(c, "users", views(c, us, userView))), nil
}

func (h *handlers) addGroupUser(c *api.Call) (*api.Reply, error) {
	if err := h.svc.AddUserToGroup(c.Ctx, c.Param("group_id"), c.Param("user_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) checkGroupUser(c *api.Call) (*api.Reply, error) {
	if err := h.svc.CheckUserInGroup(c.Ctx, c.Param("group_id"), c.Param("user_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) removeGroupUser(c *api.Call) (*api.Reply, error) {
	if err := h.svc.RemoveUserFromGroup(c.Ctx, c.Param("group_id"), c.Param("user_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// userGroups answers GET /v3/users/{user_id}/groups.
func (h *handlers) userGroups(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	gs, err := h.svc.UserGroups(c.Ctx, c.Param("user_id"), identity.GroupFilter{Name: q.Get("name"), DomainID: q.Get("domain_id"),
		Inexact: inexact(c, "name", "domain_id")})
	if err != nil {
		return nil, err
	}
	out := views(c, gs, groupView)
	for _, g := range out {
		g["membership_expires_at"] = nil // kumo has no federated, expiring memberships
	}
	return api.JSON(http.StatusOK, collection(c, "groups", out)), nil
}

// Implied roles.

func impliedRef(c *api.Call, r identity.Role) obj {
	return obj{"id": r.ID, "name": r.Name, "links": selfLink(c, "/roles/"+r.ID)}
}

func inferenceView(c *api.Call, ri *identity.RoleInference, one bool, self string) obj {
	implies := []obj{}
	for _, r := range ri.Implies {
		implies = append(implies, impliedRef(c, r))
	}
	inf := obj{"prior_role": impliedRef(c, ri.Prior)}
	if one {
		inf["implies"] = implies[0]
	} else {
		inf["implies"] = implies
	}
	return obj{"role_inference": inf, "links": obj{"self": v3(c) + self}}
}

func (h *handlers) createImpliedRole(c *api.Call) (*api.Reply, error) {
	prior, implied := c.Param("prior_role_id"), c.Param("implied_role_id")
	ri, err := h.svc.CreateImpliedRole(c.Ctx, prior, implied)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, inferenceView(c, ri, true, "/roles/"+prior+"/implies/"+implied)), nil
}

func (h *handlers) showImpliedRole(c *api.Call) (*api.Reply, error) {
	prior, implied := c.Param("prior_role_id"), c.Param("implied_role_id")
	ri, err := h.svc.GetImpliedRole(c.Ctx, prior, implied)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, inferenceView(c, ri, true, "/roles/"+prior+"/implies/"+implied)), nil
}

// checkImpliedRole answers HEAD with 204, as Keystone documents.
func (h *handlers) checkImpliedRole(c *api.Call) (*api.Reply, error) {
	if _, err := h.svc.GetImpliedRole(c.Ctx, c.Param("prior_role_id"), c.Param("implied_role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) deleteImpliedRole(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteImpliedRole(c.Ctx, c.Param("prior_role_id"), c.Param("implied_role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) listImpliedRoles(c *api.Call) (*api.Reply, error) {
	prior := c.Param("prior_role_id")
	ri, err := h.svc.ListImpliedRoles(c.Ctx, prior)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, inferenceView(c, ri, false, "/roles/"+prior+"/implies")), nil
}

func (h *handlers) listRoleInferences(c *api.Call) (*api.Reply, error) {
	ris, err := h.svc.RoleInferences(c.Ctx, "")
	if err != nil {
		return nil, err
	}
	out := []obj{}
	for _, ri := range ris {
		implies := []obj{}
		for _, r := range ri.Implies {
			implies = append(implies, impliedRef(c, r))
		}
		out = append(out, obj{"prior_role": impliedRef(c, ri.Prior), "implies": implies})
	}
	return api.JSON(http.StatusOK, obj{"role_inferences": out}), nil
}
