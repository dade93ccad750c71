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
	}
}

func (h *handlers) listProjects(c *api.Call) (*api.Reply, error) {
	if c.Query().Has("is_domain") && queryFlag(c.Query().Get("is_domain")) {
		// Domains are the only projects acting as domains.
		ds, err := h.svc.ListDomains(c.Ctx, identity.DomainFilter{Name: c.Query().Get("name"), Enabled: boolQuery(c, "enabled")})
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

func (h *handlers) showProject(c *api.Call) (*api.Reply, error) {
	p, err := h.svc.GetProject(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"project": projectView(c, p)}), nil
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
	cur, err := h.svc.GetProject(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	if in.DomainID != nil && *in.DomainID != cur.DomainID {
		return nil, errs.Invalid("Update of `domain_id` is not allowed.")
	}
	if in.IsDomain != nil && *in.IsDomain {
		return nil, errs.Invalid("Update of `is_domain` is not allowed.")
	}
	if in.ParentID != nil && *in.ParentID != cur.ParentID && !(cur.ParentID == "" && *in.ParentID == cur.DomainID) {
		return nil, errs.Forbidden("Update of `parent_id` is not allowed.")
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

func (h *handlers) deleteProject(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteProject(c.Ctx, c.Param("project_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
