package compute

// Server tags (Nova's server_tags.py, 2.26): list, check, add, replace and
// delete the tags of a server. Tags are also set at create (2.52) and shown
// in the server view.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// serverTagRoutes serve /servers/{server_id}/tags (2.26).
func (h *handlers) serverTagRoutes() []api.Route {
	const pol = "os_compute_api:os-server-tags:"
	return []api.Route{
		{Method: "GET", Path: "/servers/{server_id}/tags", Rule: pol + "index", Handler: h.listServerTags, MinVer: mv.V2_26},
		{Method: "PUT", Path: "/servers/{server_id}/tags", Rule: pol + "update_all", Handler: h.replaceServerTags, MinVer: mv.V2_26},
		{Method: "DELETE", Path: "/servers/{server_id}/tags", Rule: pol + "delete_all", Handler: h.deleteServerTags, MinVer: mv.V2_26},
		{Method: "GET", Path: "/servers/{server_id}/tags/{tag}", Rule: pol + "show", Handler: h.checkServerTag, MinVer: mv.V2_26},
		{Method: "PUT", Path: "/servers/{server_id}/tags/{tag}", Rule: pol + "update", Handler: h.addServerTag, MinVer: mv.V2_26},
		{Method: "DELETE", Path: "/servers/{server_id}/tags/{tag}", Rule: pol + "delete", Handler: h.deleteServerTag, MinVer: mv.V2_26},
	}
}

var serverTagsSchema = js.Object([]string{"tags"},
	js.Property{Name: "tags", Schema: js.Schema{js.Type("array"), js.Items(csTag), js.MaxItems(compute.MaxServerTags)}})

func (h *handlers) listServerTags(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	tags, err := h.Servers.Tags(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"tags": nonNilTags(tags)}), nil
}

func (h *handlers) checkServerTag(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	id, tag := c.Param("server_id"), c.Param("tag")
	tags, err := h.Servers.Tags(c.Ctx, c.Principal, id)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		if t == tag {
			return api.NoContent(http.StatusNoContent), nil
		}
	}
	return nil, errs.NotFound("Server %s has no tag '%s'", id, tag)
}

func (h *handlers) replaceServerTags(c *api.Call) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	body, err := schemaChecked(c, raw, serverTagsSchema)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, t := range body.(map[string]any)["tags"].([]any) {
		tags = append(tags, t.(string))
	}
	out, err := h.Servers.ReplaceTags(c.Ctx, c.Principal, c.Param("server_id"), tags)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"tags": nonNilTags(out)}), nil
}

// addServerTag answers 201 with the tag's Location, or 204 when the server
// already has the tag.
func (h *handlers) addServerTag(c *api.Call) (*api.Reply, error) {
	id, tag := c.Param("server_id"), c.Param("tag")
	valid := func(t string) error {
		run := &js.Run{}
		if f := csTag.Validate(run, nil, t); f != nil {
			return errs.Invalid("Tag '%s' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: %s", t, f.Message)
		}
		return nil
	}
	created, err := h.Servers.AddTag(c.Ctx, c.Principal, id, tag, valid)
	if err != nil {
		return nil, err
	}
	if !created {
		return api.NoContent(http.StatusNoContent), nil
	}
	return api.NoContent(http.StatusCreated).WithHeader("Location", c.Link("/servers/"+id+"/tags/"+tag)), nil
}

func (h *handlers) deleteServerTags(c *api.Call) (*api.Reply, error) {
	if err := h.Servers.DeleteAllTags(c.Ctx, c.Principal, c.Param("server_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) deleteServerTag(c *api.Call) (*api.Reply, error) {
	if err := h.Servers.DeleteTag(c.Ctx, c.Principal, c.Param("server_id"), c.Param("tag")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func nonNilTags(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}
