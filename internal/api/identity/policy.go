package identity

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/policy"
)

// forbidden is Keystone's 403 for a policy refusal.
func forbidden(rule string) error {
	return errs.Forbidden("You are not authorized to perform the requested action: %s.", rule)
}

// target is what Keystone's enforcer compares rules with: the objects the
// path names (target.user.id, target.project.id, target.domain.id,
// target.role.id, and user_id for rule:owner) and the domain a listing
// filters on. The domains of the user, project and role in the path only
// matter to domain-scoped callers, so only their calls look them up.
func (h *handlers) target(c *api.Call) policy.Target {
	t := policy.Target{}
	if v := c.Param("user_id"); v != "" {
		t["user_id"], t["target.user.id"] = v, v
	}
	if v := c.Param("project_id"); v != "" {
		t["target.project.id"] = v
	}
	if v := c.Param("domain_id"); v != "" {
		t["target.domain.id"] = v
	}
	if v := c.Param("role_id"); v != "" {
		t["target.role.id"] = v
	}
	if v := c.Param("group_id"); v != "" {
		t["target.group.id"] = v
	}
	if v := c.Req.URL.Query().Get("domain_id"); v != "" {
		t["target.domain_id"] = v
	}
	if c.Principal == nil || c.Principal.DomainID == "" {
		return t
	}
	if c.Param("group_id") == "" && (c.Req.URL.Path == Mount+"/v3/groups") {
		// Keystone checks a domain-scoped listing against the caller's
		// domain, then keeps that domain's groups.
		t["target.group.domain_id"] = c.Principal.DomainID
	}
	if v := c.Param("group_id"); v != "" {
		if g, err := h.svc.GetGroup(c.Ctx, v); err == nil {
			t["target.group.domain_id"] = g.DomainID
		}
	}
	if v := c.Param("user_id"); v != "" {
		if u, err := h.svc.GetUser(c.Ctx, v); err == nil {
			t["target.user.domain_id"] = u.DomainID
		}
	}
	if v := c.Param("project_id"); v != "" {
		if p, err := h.svc.GetProject(c.Ctx, v); err == nil {
			t["target.project.domain_id"] = p.DomainID
		}
	}
	if v := c.Param("role_id"); v != "" {
		if r, err := h.svc.GetRole(c.Ctx, v); err == nil {
			t["target.role.domain_id"], t["target.role.name"] = noneIfEmpty(r.DomainID), r.Name
		}
	}
	return t
}

// noneIfEmpty renders an unset value as Keystone's enforcer sees None.
func noneIfEmpty(v string) string {
	if v == "" {
		return "None"
	}
	return v
}
