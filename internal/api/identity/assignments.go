package identity

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

// target reads the project or domain of a grant path, and whether it is
// an OS-INHERIT one.
func target(c *api.Call) identity.Target {
	return identity.Target{Project: c.Param("project_id"), Domain: c.Param("domain_id"),
		Inherited: strings.HasPrefix(c.Req.URL.Path, Mount+"/v3/OS-INHERIT/"),
		System:    strings.HasPrefix(c.Req.URL.Path, Mount+"/v3/system/")}
}

// actor reads the user or group of a grant path.
func actor(c *api.Call) identity.Actor {
	if g := c.Param("group_id"); g != "" {
		return identity.GroupActor(g)
	}
	return identity.UserActor(c.Param("user_id"))
}

func (h *handlers) grantRole(c *api.Call) (*api.Reply, error) {
	if err := h.svc.GrantActor(c.Ctx, target(c), actor(c), c.Param("role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) checkRole(c *api.Call) (*api.Reply, error) {
	if err := h.svc.CheckGrantActor(c.Ctx, target(c), actor(c), c.Param("role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) revokeRole(c *api.Call) (*api.Reply, error) {
	if err := h.svc.RevokeGrantActor(c.Ctx, target(c), actor(c), c.Param("role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) listGrantedRoles(c *api.Call) (*api.Reply, error) {
	rs, err := h.svc.GrantedRolesOf(c.Ctx, target(c), actor(c))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "roles", views(c, rs, roleView))), nil
}

// listRoleAssignments answers GET /v3/role_assignments: the stored
// assignments, or with effective what they amount to for each user.
func (h *handlers) listRoleAssignments(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	subtree := isTrue(q, "include_subtree")
	project := q.Get("scope.project.id")
	if subtree {
		// Keystone looks the project up (404) before asking for it (400).
		if project != "" {
			if _, err := h.svc.GetProjectOrDomain(c.Ctx, project); err != nil {
				return nil, err
			}
		} else {
			return nil, errs.Invalid("scope.project.id must be specified if include_subtree is also specified")
		}
	}
	for _, pair := range [][3]string{
		{"scope.domain.id", "scope.project.id", "Specify a domain or project, not both"},
		{"scope.domain.id", "scope.system", "Specify system or domain, not both"},
		{"scope.project.id", "scope.system", "Specify system or project, not both"},
		{"user.id", "group.id", "Specify a user or group, not both"},
	} {
		if q.Get(pair[0]) != "" && q.Get(pair[1]) != "" {
			return nil, errs.Invalid("%s", pair[2])
		}
	}
	effective := isTrue(q, "effective")
	var inherited *bool
	if q.Has("scope.OS-INHERIT:inherited_to") {
		v := q.Get("scope.OS-INHERIT:inherited_to") == "projects"
		inherited = &v
	}
	if effective && q.Get("group.id") != "" {
		return nil, errs.Invalid("Combining effective and group filter will always result in an empty list.")
	}
	if effective && inherited != nil && *inherited && q.Get("scope.domain.id") != "" {
		return nil, errs.Invalid("Combining effective, domain and inherited filters will always result in an empty list.")
	}
	out := []obj{}
	names := isTrue(q, "include_names")
	as, err := h.svc.ListAssignments(c.Ctx, identity.AssignmentFilter{
		UserID: q.Get("user.id"), GroupID: q.Get("group.id"), ProjectID: project, DomainID: q.Get("scope.domain.id"),
		RoleID: q.Get("role.id"), Names: names, IncludeSubtree: subtree, Inherited: inherited, Effective: effective,
		// Keystone ignores a scope.system other than "all".
		System: q.Get("scope.system") == "all",
	})
	if err != nil {
		return nil, err
	}
	for i := range as {
		out = append(out, assignmentView(c, &as[i], names))
	}
	return api.JSON(http.StatusOK, collection(c, "role_assignments", out)), nil
}

// assignmentView renders an assignment as Keystone's _format_entity
// does, links included: an effective assignment links to the grant it
// comes from (the group's, the inherited one, the prior role's).
func assignmentView(c *api.Call, a *identity.Assignment, names bool) obj {
	links := obj{}
	var scope obj
	var link string
	if a.System {
		scope = obj{"system": obj{"all": true}}
		link = "/system"
	} else if a.ProjectID != "" {
		project := obj{"id": a.ProjectID}
		if names {
			project["name"] = a.ScopeName
			project["domain"] = obj{"id": a.ScopeDomainID, "name": a.ScopeDomainName}
		}
		scope = obj{"project": project}
		switch {
		case a.ViaDomain != "":
			link = "/domains/" + a.ViaDomain
		case a.ViaProject != "":
			link = "/projects/" + a.ViaProject
		default:
			link = "/projects/" + a.ProjectID
		}
	} else {
		domain := obj{"id": a.DomainID}
		if names {
			domain["name"] = a.ScopeName
		}
		scope = obj{"domain": domain}
		link = "/domains/" + a.DomainID
	}
	v := obj{"scope": scope, "links": links}
	if a.UserID != "" {
		user := obj{"id": a.UserID}
		if names {
			user["name"] = a.UserName
			user["domain"] = obj{"id": a.UserDomainID, "name": a.UserDomainName}
		}
		v["user"] = user
		if a.ViaGroup != "" {
			links["membership"] = v3(c) + "/groups/" + a.ViaGroup + "/users/" + a.UserID
			link += "/groups/" + a.ViaGroup
		} else {
			link += "/users/" + a.UserID
		}
	} else {
		group := obj{"id": a.GroupID}
		if names {
			group["name"] = a.GroupName
			group["domain"] = obj{"id": a.GroupDomainID, "name": a.GroupDomainName}
		}
		v["group"] = group
		link += "/groups/" + a.GroupID
	}
	role := obj{"id": a.RoleID}
	if names {
		role["name"] = a.RoleName
	}
	v["role"] = role
	if a.PriorRoleID != "" {
		link += "/roles/" + a.PriorRoleID
		// Keystone's link names the implied role as the prior one.
		links["prior_role"] = v3(c) + "/prior_role/" + a.RoleID + "/implies/" + a.PriorRoleID
	} else {
		link += "/roles/" + a.RoleID
	}
	if a.Inherited {
		scope["OS-INHERIT:inherited_to"] = "projects"
		link = "/OS-INHERIT" + link + "/inherited_to_projects"
	}
	links["assignment"] = v3(c) + link
	return v
}
