package identity

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

type projectBody struct {
	Project *struct {
		Name        *string        `json:"name"`
		DomainID    *string        `json:"domain_id"`
		ParentID    *string        `json:"parent_id"`
		Description *string        `json:"description"`
		Enabled     *bool          `json:"enabled"`
		IsDomain    *bool          `json:"is_domain"`
		Tags        *[]string      `json:"tags"`
		Options     map[string]any `json:"options"`
	} `json:"project"`
}

func projectFilter(c *api.Call) identity.ProjectFilter {
	q := c.Query()
	return identity.ProjectFilter{
		Name: q.Get("name"), DomainID: q.Get("domain_id"), ParentID: q.Get("parent_id"),
		Enabled: boolQuery(c, "enabled"),
		Tags:    tagList(q.Get("tags")), TagsAny: tagList(q.Get("tags-any")),
		NotTags: tagList(q.Get("not-tags")), NotTagsAny: tagList(q.Get("not-tags-any")),
		Inexact: inexact(c, "name", "domain_id", "parent_id"),
	}
}

func (h *handlers) listProjects(c *api.Call) (*api.Reply, error) {
	if c.Query().Has("is_domain") && queryFlag(c.Query().Get("is_domain")) {
		// Domains are the only projects acting as domains; they have no
		// domain, parent or tags to match.
		q := c.Query()
		if q.Get("domain_id") != "" || q.Get("parent_id") != "" || q.Get("tags") != "" || q.Get("tags-any") != "" {
			return api.JSON(http.StatusOK, collection(c, "projects", nil)), nil
		}
		ds, err := h.svc.ListDomains(c.Ctx, identity.DomainFilter{Name: c.Query().Get("name"), Enabled: boolQuery(c, "enabled"),
			Inexact: inexact(c, "name", "domain_id", "parent_id")})
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusOK, collection(c, "projects", views(c, ds, domainAsProjectView))), nil
	}
	ps, err := h.svc.ListProjects(c.Ctx, projectFilter(c))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "projects", views(c, ps, projectView))), nil
}

// showProject answers GET /v3/projects/{project_id}, for a domain too
// (a project acting as a domain), with Keystone's parents and subtree.
func (h *handlers) showProject(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	parentsList, parentsIDs := isTrue(q, "parents_as_list"), isTrue(q, "parents_as_ids")
	subtreeList, subtreeIDs := isTrue(q, "subtree_as_list"), isTrue(q, "subtree_as_ids")
	if parentsList && parentsIDs {
		return nil, errs.Invalid("Cannot use parents_as_list and parents_as_ids query params at the same time.")
	}
	if subtreeList && subtreeIDs {
		return nil, errs.Invalid("Cannot use subtree_as_list and subtree_as_ids query params at the same time.")
	}
	limits := isTrue(q, "include_limits")
	p, err := h.svc.GetProjectOrDomain(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	v := projectView(c, p)
	if parentsList || parentsIDs {
		parents, err := h.svc.ProjectParents(c.Ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if parentsList {
			v["parents"], err = h.visibleProjects(c, parents, limits)
			if err != nil {
				return nil, err
			}
		} else {
			v["parents"] = parentsAsIDs(parents)
		}
	}
	if subtreeList || subtreeIDs {
		subtree, err := h.svc.ProjectSubtree(c.Ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if subtreeList {
			v["subtree"], err = h.visibleProjects(c, subtree, limits)
			if err != nil {
				return nil, err
			}
		} else {
			v["subtree"] = subtreeAsIDs(p.ID, subtree)
		}
	}
	return api.JSON(http.StatusOK, obj{"project": v}), nil
}

// visibleProjects renders the projects of a parents_as_list or
// subtree_as_list: only those the caller holds a role on, each wrapped as
// {"project": ...}, as Keystone filters them; include_limits (limits) adds
// each one's limits as Keystone's driver gives them (no links).
func (h *handlers) visibleProjects(c *api.Call, ps []identity.Project, limits bool) ([]obj, error) {
	mine := map[string]bool{}
	if c.Principal != nil {
		own, err := h.svc.UserProjects(c.Ctx, c.Principal.UserID, identity.ProjectFilter{})
		if err != nil {
			return nil, err
		}
		for _, p := range own {
			mine[p.ID] = true
		}
	}
	out := []obj{}
	for i := range ps {
		if !mine[ps[i].ID] {
			continue
		}
		v := projectView(c, &ps[i])
		if limits {
			ls, err := h.svc.ProjectLimits(c.Ctx, ps[i].ID)
			if err != nil {
				return nil, err
			}
			items := []obj{}
			for j := range ls {
				l := limitView(c, &ls[j])
				delete(l, "links")
				items = append(items, l)
			}
			v["limits"] = items
		}
		out = append(out, obj{"project": v})
	}
	return out, nil
}

// parentsAsIDs nests the parents' ids from the nearest up: {parent:
// {grandparent: {domain: null}}}; null for a domain.
func parentsAsIDs(parents []identity.Project) any {
	var out any
	for i := len(parents) - 1; i >= 0; i-- {
		out = obj{parents[i].ID: out}
	}
	return out
}

// subtreeAsIDs nests the subtree's ids under their parents: {child:
// {grandchild: null}}; null without children.
func subtreeAsIDs(root string, subtree []identity.Project) any {
	children := map[string][]string{}
	for _, p := range subtree {
		parent := p.ParentID
		if parent == "" {
			parent = p.DomainID
		}
		children[parent] = append(children[parent], p.ID)
	}
	var build func(id string) any
	build = func(id string) any {
		if len(children[id]) == 0 {
			return nil
		}
		m := obj{}
		for _, c := range children[id] {
			m[c] = build(c)
		}
		return m
	}
	return build(root)
}

// projectAttributes are the project attributes Keystone defines; others
// are kept as extra attributes.
func projectAttributes() []string {
	return []string{"id", "name", "domain_id", "parent_id", "description", "enabled", "is_domain", "tags", "options", "links"}
}

func (h *handlers) createProject(c *api.Call) (*api.Reply, error) {
	var b projectBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return nil, err
	}
	if b.Project == nil || b.Project.Name == nil {
		return nil, required("name")
	}
	in := b.Project
	enabled := in.Enabled == nil || *in.Enabled
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	if in.IsDomain != nil && *in.IsDomain {
		// Keystone makes the domain_id the parent, and a domain has none.
		if str(in.ParentID) != "" || str(in.DomainID) != "" {
			return nil, errs.Invalid("only root projects are allowed to act as domains.")
		}
		d, err := h.svc.CreateDomain(c.Ctx, identity.Domain{Name: *in.Name, Description: desc, Enabled: enabled})
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusCreated, obj{"project": domainAsProjectView(c, d)}), nil
	}
	p := identity.Project{Name: *in.Name, Description: desc, Enabled: enabled,
		Extra: extraAttributes(raw, "project", projectAttributes()...)}
	if in.DomainID != nil {
		p.DomainID = *in.DomainID
	}
	if in.ParentID != nil {
		p.ParentID = *in.ParentID
	}
	if p.DomainID == "" && p.ParentID == "" && c.Principal != nil {
		// Keystone puts the project in the caller's domain.
		p.DomainID = c.Principal.UserDomain
	}
	if in.Tags != nil {
		p.Tags = *in.Tags
	}
	out, err := h.svc.CreateProject(c.Ctx, p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"project": projectView(c, out)}), nil
}

func (h *handlers) updateProject(c *api.Call) (*api.Reply, error) {
	var b projectBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return nil, err
	}
	if b.Project == nil {
		return nil, required("project")
	}
	in := b.Project
	id := c.Param("project_id")
	cur, err := h.svc.GetProjectOrDomain(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	if in.DomainID != nil && *in.DomainID != cur.DomainID {
		return nil, errs.Invalid("Cannot change Domain ID")
	}
	if in.ParentID != nil && *in.ParentID != cur.ParentID && !(cur.ParentID == "" && *in.ParentID == cur.DomainID) {
		return nil, errs.Forbidden("Update of `parent_id` is not allowed.")
	}
	if in.IsDomain != nil && *in.IsDomain != cur.IsDomain {
		return nil, errs.Invalid("Update of `is_domain` is not allowed.")
	}
	if cur.IsDomain {
		// A project acting as a domain is the domain: Keystone updates
		// both at once.
		d, err := h.svc.UpdateDomain(c.Ctx, id, identity.DomainPatch{Name: in.Name, Description: in.Description, Enabled: in.Enabled})
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusOK, obj{"project": domainAsProjectView(c, d)}), nil
	}
	p, err := h.svc.UpdateProject(c.Ctx, id, identity.ProjectPatch{
		Name: in.Name, Description: in.Description, Enabled: in.Enabled, Tags: in.Tags,
		Extra: extraAttributes(raw, "project", projectAttributes()...),
	})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"project": projectView(c, p)}), nil
}

// deleteProject answers DELETE /v3/projects/{project_id}; a project
// acting as a domain is deleted as the domain (it must be disabled first).
func (h *handlers) deleteProject(c *api.Call) (*api.Reply, error) {
	id := c.Param("project_id")
	cur, err := h.svc.GetProjectOrDomain(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.IsDomain {
		err = h.svc.DeleteDomain(c.Ctx, id)
	} else {
		err = h.svc.DeleteProject(c.Ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
