package api

import (
	"maps"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/policy"
)

// authorizeRoute checks the route's rule for the call before its handler
// runs.
func (s *Service) authorizeRoute(c *Call, r *Route) error {
	var extra policy.Target
	if r.Target != nil {
		t, err := r.Target(c)
		if err != nil {
			return err
		}
		extra = t
	}
	rule := r.Rule
	if r.RuleFor != nil {
		rule = r.RuleFor(c)
	}
	return c.Authorize(rule, extra)
}

// Authorize checks rule of the call's policy set against the service's
// default target overlaid with extra. A refusal is the API's 403, or a
// 404 when the path names an object the caller may not see (Conceal).
func (c *Call) Authorize(rule string, extra policy.Target) error {
	if c.Allowed(rule, extra) {
		return nil
	}
	s := c.svc
	if s.Conceal != nil {
		if err := s.Conceal(c); err != nil {
			return err
		}
	}
	if s.Denied != nil {
		return s.Denied(rule)
	}
	return errs.Forbidden("Policy doesn't allow %s to be performed.", rule)
}

// Allowed reports whether the caller passes rule against the service's
// default target overlaid with extra: for the decisions a handler makes
// within a call (whether a listing may span projects, whether a view shows
// admin-only fields).
func (c *Call) Allowed(rule string, extra policy.Target) bool {
	s := c.svc
	if s == nil || s.Policy == nil || c.Principal == nil {
		return false
	}
	if extra != nil && s.Policy.ReadsTarget(rule) {
		return s.Policy.Allowed(c.Principal, rule, c.target(extra))
	}
	// A rule that reads no target is decided once per call (a listing
	// asks it for every object it shows).
	if ok, seen := c.decided[rule]; seen {
		return ok
	}
	ok := s.Policy.Allowed(c.Principal, rule, c.target(nil))
	if c.decided == nil {
		c.decided = map[string]bool{}
	}
	c.decided[rule] = ok
	return ok
}

func (c *Call) target(extra policy.Target) policy.Target {
	var t policy.Target
	if c.svc.Target != nil {
		t = c.svc.Target(c)
	}
	if t == nil {
		t = policy.Target{}
	}
	maps.Copy(t, extra)
	return t
}

// CallerTarget is Nova's and Glance's default target: the caller's own
// project and user. A token without a project scope leaves project_id
// out, so no project_id:%(project_id)s check passes for it: such a token
// cannot create or change project-owned resources.
func CallerTarget(c *Call) policy.Target {
	t := policy.Target{"user_id": c.Principal.UserID}
	if p := c.ProjectID(); p != "" {
		t["project_id"] = p
	}
	return t
}
