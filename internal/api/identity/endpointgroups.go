package identity

// OS-EP-FILTER endpoint groups, as keystone/api/os_ep_filter.py.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

func (h *handlers) endpointGroupRoutes() []api.Route {
	const eg = "/v3/OS-EP-FILTER/endpoint_groups"
	const one = eg + "/{endpoint_group_id}"
	return []api.Route{
		{Method: "GET", Path: eg, Rule: "identity:list_endpoint_groups", Handler: h.listEndpointGroups},
		{Method: "POST", Path: eg, Rule: "identity:create_endpoint_group", Handler: h.createEndpointGroup},
		{Method: "GET", Path: one, Rule: "identity:get_endpoint_group", Handler: h.showEndpointGroup},
		{Method: "HEAD", Path: one, Rule: "identity:get_endpoint_group", Handler: h.showEndpointGroup},
		{Method: "PATCH", Path: one, Rule: "identity:update_endpoint_group", Handler: h.updateEndpointGroup},
		{Method: "DELETE", Path: one, Rule: "identity:delete_endpoint_group", Handler: h.deleteEndpointGroup},
		{Method: "GET", Path: one + "/projects", Rule: "identity:list_projects_associated_with_endpoint_group", Handler: h.listEndpointGroupProjects},
		{Method: "GET", Path: one + "/endpoints", Rule: "identity:list_endpoints_associated_with_endpoint_group", Handler: h.listEndpointGroupEndpoints},
		{Method: "GET", Path: one + "/projects/{project_id}", Rule: "identity:get_endpoint_group_in_project", Handler: h.checkEndpointGroupProject},
		{Method: "HEAD", Path: one + "/projects/{project_id}", Rule: "identity:get_endpoint_group_in_project", Handler: h.checkEndpointGroupProject},
		{Method: "PUT", Path: one + "/projects/{project_id}", Rule: "identity:add_endpoint_group_to_project", Handler: h.addEndpointGroupProject},
		{Method: "DELETE", Path: one + "/projects/{project_id}", Rule: "identity:remove_endpoint_group_from_project", Handler: h.removeEndpointGroupProject},
		{Method: "GET", Path: "/v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups", Rule: "identity:list_endpoint_groups_for_project", Handler: h.listProjectEndpointGroups},
	}
}

func endpointGroupView(c *api.Call, g *identity.EndpointGroup) obj {
	return obj{"id": g.ID, "name": g.Name, "description": g.Description, "filters": g.Filters,
		"links": selfLink(c, "/OS-EP-FILTER/endpoint_groups/"+g.ID)}
}

// endpointGroupBody reads an endpoint group body: Keystone's schema
// (no other attributes) and _require_valid_filter.
func endpointGroupBody(m map[string]any) (name, desc *string, filters map[string]any, err error) {
	for k := range m {
		switch k {
		case "name", "description", "filters":
		default:
			return nil, nil, nil, errs.Invalid("Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	if v, present, err := bodyField(m, "name", false); err != nil {
		return nil, nil, nil, err
	} else if present {
		name = &v
	}
	if v, present, err := bodyField(m, "description", true); err != nil {
		return nil, nil, nil, err
	} else if present {
		desc = &v
	}
	if raw, ok := m["filters"]; ok {
		f, ok := raw.(map[string]any)
		if !ok {
			return nil, nil, nil, errs.Invalid("Invalid input for field 'filters': %s is not of type 'object'", api.PyRepr(raw))
		}
		for k := range f {
			if k != "service_id" && k != "region_id" && k != "interface" {
				return nil, nil, nil, errs.Invalid("Expecting to find service_id or region_id or interface in endpoint_group. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
			}
		}
		filters = f
	}
	return name, desc, filters, nil
}

func (h *handlers) listEndpointGroups(c *api.Call) (*api.Reply, error) {
	gs, err := h.svc.ListEndpointGroups(c.Ctx, c.Query().Get("name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "endpoint_groups", views(c, gs, endpointGroupView))), nil
}

func (h *handlers) createEndpointGroup(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "endpoint_group")
	if err != nil {
		return nil, err
	}
	name, desc, filters, err := endpointGroupBody(m)
	if err != nil {
		return nil, err
	}
	if name == nil {
		return nil, required("name")
	}
	if len(filters) == 0 {
		return nil, errs.Invalid("filters field is required and cannot be empty")
	}
	g, err := h.svc.CreateEndpointGroup(c.Ctx, identity.EndpointGroup{Name: *name, Description: str(desc), Filters: filters})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"endpoint_group": endpointGroupView(c, g)}), nil
}

func (h *handlers) showEndpointGroup(c *api.Call) (*api.Reply, error) {
	g, err := h.svc.GetEndpointGroup(c.Ctx, c.Param("endpoint_group_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"endpoint_group": endpointGroupView(c, g)}), nil
}

func (h *handlers) updateEndpointGroup(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "endpoint_group")
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(m, "endpoint_group"); err != nil {
		return nil, err
	}
	name, desc, filters, err := endpointGroupBody(m)
	if err != nil {
		return nil, err
	}
	g, err := h.svc.UpdateEndpointGroup(c.Ctx, c.Param("endpoint_group_id"), identity.EndpointGroupPatch{Name: name, Description: desc, Filters: filters})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"endpoint_group": endpointGroupView(c, g)}), nil
}

func (h *handlers) deleteEndpointGroup(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteEndpointGroup(c.Ctx, c.Param("endpoint_group_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) listEndpointGroupProjects(c *api.Call) (*api.Reply, error) {
	ps, err := h.svc.ListProjectsForEndpointGroup(c.Ctx, c.Param("endpoint_group_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "projects", views(c, ps, projectView))), nil
}

func (h *handlers) listEndpointGroupEndpoints(c *api.Call) (*api.Reply, error) {
	es, err := h.svc.EndpointsInGroup(c.Ctx, c.Param("endpoint_group_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "endpoints", views(c, es, endpointView))), nil
}

func (h *handlers) checkEndpointGroupProject(c *api.Call) (*api.Reply, error) {
	gid, pid := c.Param("endpoint_group_id"), c.Param("project_id")
	if err := h.svc.CheckEndpointGroupInProject(c.Ctx, gid, pid); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"project_endpoint_group": obj{"endpoint_group_id": gid, "project_id": pid,
		"links": selfLink(c, "/OS-EP-FILTER/endpoint_groups/"+gid+"/projects/"+pid)}}), nil
}

func (h *handlers) addEndpointGroupProject(c *api.Call) (*api.Reply, error) {
	if err := h.svc.AddEndpointGroupToProject(c.Ctx, c.Param("endpoint_group_id"), c.Param("project_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) removeEndpointGroupProject(c *api.Call) (*api.Reply, error) {
	if err := h.svc.RemoveEndpointGroupFromProject(c.Ctx, c.Param("endpoint_group_id"), c.Param("project_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) listProjectEndpointGroups(c *api.Call) (*api.Reply, error) {
	gs, err := h.svc.ListEndpointGroupsForProject(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "endpoint_groups", views(c, gs, endpointGroupView))), nil
}
