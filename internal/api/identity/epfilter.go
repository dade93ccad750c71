package identity

// OS-EP-FILTER project endpoint associations, as keystone/api/os_ep_filter.py.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
)

func (h *handlers) epFilterRoutes() []api.Route {
	const pe = "/v3/OS-EP-FILTER/projects/{project_id}/endpoints"
	return []api.Route{
		{Method: "GET", Path: pe, Rule: "identity:list_endpoints_for_project", Handler: h.listProjectEndpoints},
		{Method: "PUT", Path: pe + "/{endpoint_id}", Rule: "identity:add_endpoint_to_project", Handler: h.addProjectEndpoint},
		{Method: "GET", Path: pe + "/{endpoint_id}", Rule: "identity:check_endpoint_in_project", Handler: h.checkProjectEndpoint},
		{Method: "HEAD", Path: pe + "/{endpoint_id}", Rule: "identity:check_endpoint_in_project", Handler: h.checkProjectEndpoint},
		{Method: "DELETE", Path: pe + "/{endpoint_id}", Rule: "identity:remove_endpoint_from_project", Handler: h.removeProjectEndpoint},
		{Method: "GET", Path: "/v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects", Rule: "identity:list_projects_for_endpoint", Handler: h.listEndpointProjects},
	}
}

func (h *handlers) listProjectEndpoints(c *api.Call) (*api.Reply, error) {
	es, err := h.svc.ListEndpointsForProject(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "endpoints", views(c, es, endpointView))), nil
}

func (h *handlers) addProjectEndpoint(c *api.Call) (*api.Reply, error) {
	if err := h.svc.AddEndpointToProject(c.Ctx, c.Param("project_id"), c.Param("endpoint_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) checkProjectEndpoint(c *api.Call) (*api.Reply, error) {
	if err := h.svc.CheckEndpointInProject(c.Ctx, c.Param("project_id"), c.Param("endpoint_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) removeProjectEndpoint(c *api.Call) (*api.Reply, error) {
	if err := h.svc.RemoveEndpointFromProject(c.Ctx, c.Param("project_id"), c.Param("endpoint_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) listEndpointProjects(c *api.Call) (*api.Reply, error) {
	ps, err := h.svc.ListProjectsForEndpoint(c.Ctx, c.Param("endpoint_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "projects", views(c, ps, projectView))), nil
}
