package identity

// The policy API (/v3/policies), as keystone/api/policy.py: documents
// stored and returned as given, never enforced.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

func (h *handlers) policyRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/v3/policies", Rule: "identity:list_policies", Handler: h.listPolicies},
		{Method: "POST", Path: "/v3/policies", Rule: "identity:create_policy", Handler: h.createPolicy},
		{Method: "GET", Path: "/v3/policies/{policy_id}", Rule: "identity:get_policy", Handler: h.showPolicy},
		{Method: "PATCH", Path: "/v3/policies/{policy_id}", Rule: "identity:update_policy", Handler: h.updatePolicy},
		{Method: "DELETE", Path: "/v3/policies/{policy_id}", Rule: "identity:delete_policy", Handler: h.deletePolicy},
	}
}

func policyView(c *api.Call, p *identity.Policy) obj {
	return withExtra(obj{"id": p.ID, "type": p.Type, "blob": p.Blob, "links": selfLink(c, "/policies/"+p.ID)}, p.Extra)
}

var policyAttributes = []string{"id", "type", "blob", "links"}

// policyFields reads a policy body's blob and type.
func policyFields(m map[string]any) (blob, typ *string, err error) {
	if v, present, err := bodyField(m, "blob", false); err != nil {
		return nil, nil, err
	} else if present {
		blob = &v
	}
	if v, present, err := bodyField(m, "type", false); err != nil {
		return nil, nil, err
	} else if present {
		if len(v) > 255 {
			return nil, nil, errs.Invalid("Invalid input for field 'type': '%s' is too long", v)
		}
		typ = &v
	}
	return blob, typ, nil
}

func (h *handlers) listPolicies(c *api.Call) (*api.Reply, error) {
	ps, err := h.svc.ListPolicies(c.Ctx, c.Query().Get("type"), inexact(c, "type")...)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "policies", views(c, ps, policyView))), nil
}

func (h *handlers) createPolicy(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "policy")
	if err != nil {
		return nil, err
	}
	blob, typ, err := policyFields(m)
	if err != nil {
		return nil, err
	}
	if blob == nil {
		return nil, required("blob")
	}
	if typ == nil {
		return nil, required("type")
	}
	p, err := h.svc.CreatePolicy(c.Ctx, identity.Policy{Type: *typ, Blob: *blob, Extra: extraOf(m, policyAttributes...)})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"policy": policyView(c, p)}), nil
}

func (h *handlers) showPolicy(c *api.Call) (*api.Reply, error) {
	p, err := h.svc.GetPolicy(c.Ctx, c.Param("policy_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"policy": policyView(c, p)}), nil
}

func (h *handlers) updatePolicy(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "policy")
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(m, "policy"); err != nil {
		return nil, err
	}
	blob, typ, err := policyFields(m)
	if err != nil {
		return nil, err
	}
	if err := matchingID(m, c.Param("policy_id")); err != nil {
		return nil, err
	}
	p, err := h.svc.UpdatePolicy(c.Ctx, c.Param("policy_id"), identity.PolicyPatch{Type: typ, Blob: blob, Extra: extraOf(m, policyAttributes...)})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"policy": policyView(c, p)}), nil
}

func (h *handlers) deletePolicy(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeletePolicy(c.Ctx, c.Param("policy_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
