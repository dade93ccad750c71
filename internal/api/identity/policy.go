package identity

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// forbidden is Keystone's 403 for a policy refusal.
func forbidden(rule string) error {
	return errs.Forbidden("You are not authorized to perform the requested action: %s.", rule)
}

// adminOr allows callers holding the admin role, or those for whom
// allowed returns true (owners of the target, in Keystone's defaults).
func adminOr(rule string, allowed func(c *api.Call) bool) api.Policy {
	return api.Policy{Check: func(c *api.Call) error {
		if c.IsAdmin() || (allowed != nil && allowed(c)) {
			return nil
		}
		return forbidden(rule)
	}}
}

// admin allows only callers holding the admin role.
func admin(rule string) api.Policy { return adminOr(rule, nil) }

// self matches callers acting on their own user (path parameter user_id).
func self(c *api.Call) bool {
	return c.Principal != nil && c.Principal.UserID == c.Param("user_id")
}

// ownProject matches callers scoped to the project in the path.
func ownProject(c *api.Call) bool {
	return c.Principal != nil && c.Principal.ProjectID != "" && c.Principal.ProjectID == c.Param("project_id")
}

// ownOrProjectDomain matches callers scoped to the domain in the path or
// to a project in it (Keystone's get_domain default:
// token.domain.id or token.project.domain.id is the target).
func (h *handlers) ownOrProjectDomain(c *api.Call) bool {
	if ownDomain(c) {
		return true
	}
	if c.Principal == nil || c.Principal.ProjectID == "" {
		return false
	}
	p, err := h.svc.GetProject(c.Ctx, c.Principal.ProjectID)
	return err == nil && p.DomainID == c.Param("domain_id")
}

// ownDomain matches callers scoped to the domain in the path.
func ownDomain(c *api.Call) bool {
	return c.Principal != nil && c.Principal.DomainID != "" && c.Principal.DomainID == c.Param("domain_id")
}
