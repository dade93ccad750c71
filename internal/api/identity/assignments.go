package identity

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

// target reads the project or domain of a grant path.
func target(c *api.Call) identity.Target {
	return identity.Target{Project: c.Param("project_id"), Domain: c.Param("domain_id")}
}

func (h *handlers) grantRole(c *api.Call) (*api.Reply, error) {
	if err := h.svc.Grant(c.Ctx, target(c), c.Param("user_id"), c.Param("role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) checkRole(c *api.Call) (*api.Reply, error) {
	if err := h.svc.CheckGrant(c.Ctx, target(c), c.Param("user_id"), c.Param("role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) revokeRole(c *api.Call) (*api.Reply, error) {
	if err := h.svc.RevokeGrant(c.Ctx, target(c), c.Param("user_id"), c.Param("role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) listGrantedRoles(c *api.Call) (*api.Reply, error) {
	rs, err := h.svc.GrantedRoles(c.Ctx, target(c), c.Param("user_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "roles", views(c, rs, roleView))), nil
}

// listRoleAssignments answers GET /v3/role_assignments. kumo has no
// groups and no inheritance, so effective assignments are the direct ones.
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
	if isTrue(q, "effective") && q.Get("group.id") != "" {
		return nil, errs.Invalid("Combining effective and group filter will always result in an empty list.")
	}
	out := []obj{}
	if q.Get("group.id") != "" || q.Has("scope.system") {
		return api.JSON(http.StatusOK, collection(c, "role_assignments", out)), nil
	}
	names := isTrue(q, "include_names")
	as, err := h.svc.ListAssignments(c.Ctx, identity.AssignmentFilter{
		UserID: q.Get("user.id"), ProjectID: project, DomainID: q.Get("scope.domain.id"),
		RoleID: q.Get("role.id"), Names: names, IncludeSubtree: subtree,
	})
	if err != nil {
		return nil, err
	}
	for i := range as {
		out = append(out, assignmentView(c, &as[i], names))
	}
	return api.JSON(http.StatusOK, collection(c, "role_assignments", out)), nil
}

func assignmentView(c *api.Call, a *identity.Assignment, names bool) obj {
	user := obj{"id": a.UserID}
	role := obj{"id": a.RoleID}
	var scope obj
	var link string
	if a.ProjectID != "" {
		project := obj{"id": a.ProjectID}
		if names {
			project["name"] = a.ScopeName
			project["domain"] = obj{"id": a.ScopeDomainID, "name": a.ScopeDomainName}
		}
		scope = obj{"project": project}
		link = "/projects/" + a.ProjectID
	} else {
		domain := obj{"id": a.DomainID}
		if names {
			domain["name"] = a.ScopeName
		}
		scope = obj{"domain": domain}
		link = "/domains/" + a.DomainID
	}
	if names {
		user["name"] = a.UserName
		user["domain"] = obj{"id": a.UserDomainID, "name": a.UserDomainName}
		role["name"] = a.RoleName
	}
	return obj{
		"user": user, "role": role, "scope": scope,
		"links": obj{"assignment": v3(c) + link + "/users/" + a.UserID + "/roles/" + a.RoleID},
	}
}
