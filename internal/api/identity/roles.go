package identity

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

type roleBody struct {
	Role *struct {
		Name        *string        `json:"name"`
		DomainID    *string        `json:"domain_id"`
		Description *string        `json:"description"`
		Options     map[string]any `json:"options"`
	} `json:"role"`
}

func (h *handlers) listRoles(c *api.Call) (*api.Reply, error) {
	rs, err := h.svc.ListRoles(c.Ctx, c.Query().Get("name"), c.Query().Get("domain_id"), inexact(c, "name", "domain_id")...)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "roles", views(c, rs, roleView))), nil
}

func (h *handlers) showRole(c *api.Call) (*api.Reply, error) {
	r, err := h.svc.GetRole(c.Ctx, c.Param("role_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"role": roleView(c, r)}), nil
}

// roleAttributes are the role attributes Keystone defines; others are
// kept as extra attributes.
func roleAttributes() []string {
	return []string{"id", "name", "domain_id", "description", "options", "links"}
}

func (h *handlers) createRole(c *api.Call) (*api.Reply, error) {
	var b roleBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return nil, err
	}
	if b.Role == nil || b.Role.Name == nil {
		return nil, required("name")
	}
	r, err := h.svc.CreateRole(c.Ctx, identity.Role{Name: *b.Role.Name, DomainID: str(b.Role.DomainID), Description: str(b.Role.Description),
		Extra: extraAttributes(raw, "role", roleAttributes()...)})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"role": roleView(c, r)}), nil
}

func (h *handlers) updateRole(c *api.Call) (*api.Reply, error) {
	var b roleBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return nil, err
	}
	if b.Role == nil {
		return nil, required("role")
	}
	id := c.Param("role_id")
	if b.Role.DomainID != nil {
		cur, err := h.svc.GetRole(c.Ctx, id)
		if err != nil {
			return nil, err
		}
		if *b.Role.DomainID != cur.DomainID {
			return nil, errs.Invalid("Update of `domain_id` is not allowed.")
		}
	}
	r, err := h.svc.UpdateRole(c.Ctx, id, identity.RolePatch{Name: b.Role.Name, Description: b.Role.Description,
		Extra: extraAttributes(raw, "role", roleAttributes()...)})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"role": roleView(c, r)}), nil
}

func (h *handlers) deleteRole(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteRole(c.Ctx, c.Param("role_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
