package identity

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/identity"
)

type domainBody struct {
	Domain *struct {
		ID          *string        `json:"id"`
		Name        *string        `json:"name"`
		Description *string        `json:"description"`
		Enabled     *bool          `json:"enabled"`
		Tags        []string       `json:"tags"`
		Options     map[string]any `json:"options"`
	} `json:"domain"`
}

func (h *handlers) listDomains(c *api.Call) (*api.Reply, error) {
	ds, err := h.svc.ListDomains(c.Ctx, identity.DomainFilter{Name: c.Query().Get("name"), Enabled: boolQuery(c, "enabled"),
		Inexact: inexact(c, "name")})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "domains", views(c, ds, domainView))), nil
}

func (h *handlers) showDomain(c *api.Call) (*api.Reply, error) {
	d, err := h.svc.GetDomain(c.Ctx, c.Param("domain_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"domain": domainView(c, d)}), nil
}

func (h *handlers) createDomain(c *api.Call) (*api.Reply, error) {
	var b domainBody
	if err := decode(c, &b); err != nil {
		return nil, err
	}
	if b.Domain == nil || b.Domain.Name == nil {
		return nil, required("name")
	}
	d := identity.Domain{Name: *b.Domain.Name, Enabled: true}
	if b.Domain.ID != nil {
		d.ID = *b.Domain.ID
	}
	if b.Domain.Description != nil {
		d.Description = *b.Domain.Description
	}
	if b.Domain.Enabled != nil {
		d.Enabled = *b.Domain.Enabled
	}
	out, err := h.svc.CreateDomain(c.Ctx, d)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"domain": domainView(c, out)}), nil
}

func (h *handlers) updateDomain(c *api.Call) (*api.Reply, error) {
	var b domainBody
	if err := decode(c, &b); err != nil {
		return nil, err
	}
	if b.Domain == nil {
		return nil, required("domain")
	}
	d, err := h.svc.UpdateDomain(c.Ctx, c.Param("domain_id"), identity.DomainPatch{
		Name: b.Domain.Name, Description: b.Domain.Description, Enabled: b.Domain.Enabled,
	})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"domain": domainView(c, d)}), nil
}

func (h *handlers) deleteDomain(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteDomain(c.Ctx, c.Param("domain_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
