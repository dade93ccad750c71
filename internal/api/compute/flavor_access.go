package compute

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

func flavorAccessBody(flavorID string, projects []string) map[string]any {
	list := make([]map[string]string, len(projects))
	for i, p := range projects {
		list[i] = map[string]string{"flavor_id": flavorID, "tenant_id": p}
	}
	return map[string]any{"flavor_access": list}
}

// listFlavorAccess is GET /flavors/{id}/os-flavor-access.
func (h *handlers) listFlavorAccess(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, strictQuery(c, mv.V2_102)); err != nil {
		return nil, err
	}
	f, err := h.Flavors.Get(c.Ctx, flavorViewer(c), c.Param("flavor_id"))
	if err != nil {
		return nil, err
	}
	if f.IsPublic {
		return nil, errs.NotFound("Access list not available for public flavors.")
	}
	projects, err := h.Flavors.Projects(c.Ctx, f.ID)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, flavorAccessBody(f.ID, projects)), nil
}

// flavorActions are addTenantAccess and removeTenantAccess.
func (h *handlers) flavorActions() map[string]action {
	return map[string]action{
		"addTenantAccess": {policy: "os_compute_api:os-flavor-access:add_tenant_access",
			handle: func(c *api.Call, _ *js.Run, body map[string]any, _ any) (*api.Reply, error) {
				return h.addTenantAccess(c, body)
			}},
		"removeTenantAccess": {policy: "os_compute_api:os-flavor-access:remove_tenant_access",
			handle: func(c *api.Call, _ *js.Run, body map[string]any, _ any) (*api.Reply, error) {
				return h.removeTenantAccess(c, body)
			}},
	}
}

// parseTenant validates {"<action>": {"tenant": "..."}}.
func parseTenant(c *api.Call, body any, action string) (string, error) {
	e := newSchemaErrors(c)
	root := e.checkObject(nil, body, []string{action}, []string{action})
	inner := e.checkObject([]string{action}, root[action], []string{"tenant"}, []string{"tenant"})
	if v, ok := inner["tenant"]; ok && e.checkType([]string{action, "tenant"}, v, "string") {
		e.checkLength([]string{action, "tenant"}, v, 1, 255)
	}
	if err := e.err(); err != nil {
		return "", err
	}
	return inner["tenant"].(string), nil
}

func (h *handlers) addTenantAccess(c *api.Call, body any) (*api.Reply, error) {
	tenant, err := parseTenant(c, body, "addTenantAccess")
	if err != nil {
		return nil, err
	}
	f, err := h.Flavors.Get(c.Ctx, flavorViewer(c), c.Param("flavor_id"))
	if err != nil {
		return nil, err
	}
	if c.AtLeast(mv.V2_7) && f.IsPublic {
		return nil, errs.Conflict("Can not add access to a public flavor.")
	}
	projects, err := h.Flavors.AddAccess(c.Ctx, f.ID, tenant)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, flavorAccessBody(f.ID, projects)), nil
}

func (h *handlers) removeTenantAccess(c *api.Call, body any) (*api.Reply, error) {
	tenant, err := parseTenant(c, body, "removeTenantAccess")
	if err != nil {
		return nil, err
	}
	f, err := h.Flavors.Get(c.Ctx, flavorViewer(c), c.Param("flavor_id"))
	if err != nil {
		return nil, err
	}
	projects, err := h.Flavors.RemoveAccess(c.Ctx, f.ID, tenant)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, flavorAccessBody(f.ID, projects)), nil
}
