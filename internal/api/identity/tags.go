package identity

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

// tagList splits a comma-separated tag filter.
func tagList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// tagsView is Keystone's body for a project's tags.
func tagsView(c *api.Call, tags []string) obj {
	if tags == nil {
		tags = []string{}
	}
	return obj{"tags": tags, "links": obj{"self": c.BaseURL + strings.TrimPrefix(c.Req.URL.Path, Mount)}}
}

func (h *handlers) listProjectTags(c *api.Call) (*api.Reply, error) {
	p, err := h.svc.GetProject(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, tagsView(c, p.Tags)), nil
}

func (h *handlers) replaceProjectTags(c *api.Call) (*api.Reply, error) {
	var b struct {
		Tags *[]string `json:"tags"`
	}
	if err := decode(c, &b); err != nil {
		return nil, err
	}
	if b.Tags == nil {
		return nil, required("tags")
	}
	p, err := h.svc.UpdateProject(c.Ctx, c.Param("project_id"), identity.ProjectPatch{Tags: b.Tags})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, tagsView(c, p.Tags)), nil
}

func (h *handlers) clearProjectTags(c *api.Call) (*api.Reply, error) {
	none := []string{}
	if _, err := h.svc.UpdateProject(c.Ctx, c.Param("project_id"), identity.ProjectPatch{Tags: &none}); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) checkProjectTag(c *api.Call) (*api.Reply, error) {
	p, err := h.svc.GetProject(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	for _, t := range p.Tags {
		if t == c.Param("tag") {
			return api.NoContent(http.StatusNoContent), nil
		}
	}
	return nil, errs.NotFound("Could not find project tag: %s.", c.Param("tag"))
}

func (h *handlers) addProjectTag(c *api.Call) (*api.Reply, error) {
	id, tag := c.Param("project_id"), c.Param("tag")
	if err := h.svc.AddProjectTag(c.Ctx, id, tag); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusCreated).WithHeader("Location", v3(c)+"/projects/"+id+"/tags/"+tag), nil
}

func (h *handlers) removeProjectTag(c *api.Call) (*api.Reply, error) {
	if err := h.svc.RemoveProjectTag(c.Ctx, c.Param("project_id"), c.Param("tag")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
