package identity

// OS-ENDPOINT-POLICY associations, as keystone/api/policy.py and
// keystone/api/endpoints.py serve them.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/identity"
)

func (h *handlers) endpointPolicyRoutes() []api.Route {
	const pp = "/v3/policies/{policy_id}/OS-ENDPOINT-POLICY"
	var routes []api.Route
	for _, a := range []struct{ path, kind string }{
		{pp + "/endpoints/{endpoint_id}", "endpoint"},
		{pp + "/services/{service_id}", "service"},
		{pp + "/services/{service_id}/regions/{region_id}", "region_and_service"},
	} {
		routes = append(routes,
			api.Route{Method: "PUT", Path: a.path, Rule: "identity:create_policy_association_for_" + a.kind, Handler: h.associatePolicy},
			api.Route{Method: "GET", Path: a.path, Rule: "identity:check_policy_association_for_" + a.kind, Handler: h.checkPolicyAssociation},
			api.Route{Method: "HEAD", Path: a.path, Rule: "identity:check_policy_association_for_" + a.kind, Handler: h.checkPolicyAssociation},
			api.Route{Method: "DELETE", Path: a.path, Rule: "identity:delete_policy_association_for_" + a.kind, Handler: h.deletePolicyAssociation},
		)
	}
	return append(routes,
		api.Route{Method: "GET", Path: pp + "/endpoints", Rule: "identity:list_endpoints_for_policy", Handler: h.listPolicyEndpoints},
		api.Route{Method: "GET", Path: "/v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy", Rule: "identity:get_policy_for_endpoint", Handler: h.endpointPolicy},
		api.Route{Method: "HEAD", Path: "/v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy", Rule: "identity:get_policy_for_endpoint", Handler: h.endpointPolicy},
	)
}

// policyTarget is the association a route's path names.
func policyTarget(c *api.Call) identity.PolicyTarget {
	return identity.PolicyTarget{EndpointID: c.Param("endpoint_id"), ServiceID: c.Param("service_id"), RegionID: c.Param("region_id")}
}

func (h *handlers) associatePolicy(c *api.Call) (*api.Reply, error) {
	if err := h.svc.AssociatePolicy(c.Ctx, c.Param("policy_id"), policyTarget(c)); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) checkPolicyAssociation(c *api.Call) (*api.Reply, error) {
	if err := h.svc.CheckPolicyAssociation(c.Ctx, c.Param("policy_id"), policyTarget(c)); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) deletePolicyAssociation(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeletePolicyAssociation(c.Ctx, c.Param("policy_id"), policyTarget(c)); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// policyEndpointView is an endpoint as Keystone lists a policy's: the
// catalog's record, without the legacy "region" its endpoint API adds.
func policyEndpointView(c *api.Call, e *identity.Endpoint) obj {
	v := endpointView(c, e)
	delete(v, "region")
	return v
}

func (h *handlers) listPolicyEndpoints(c *api.Call) (*api.Reply, error) {
	es, err := h.svc.ListEndpointsForPolicy(c.Ctx, c.Param("policy_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "endpoints", views(c, es, policyEndpointView))), nil
}

func (h *handlers) endpointPolicy(c *api.Call) (*api.Reply, error) {
	p, err := h.svc.PolicyForEndpoint(c.Ctx, c.Param("endpoint_id"))
	if err != nil {
		return nil, err
	}
	v := policyView(c, p)
	// Keystone wraps the policy as a member of "endpoints", so its self
	// link names /v3/endpoints/{policy_id}.
	v["links"] = selfLink(c, "/endpoints/"+p.ID)
	return api.JSON(http.StatusOK, obj{"policy": v}), nil
}
