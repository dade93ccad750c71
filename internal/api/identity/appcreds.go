package identity

// Application credentials and access rules under /v3/users/{user_id}, as
// keystone/api/users.py serves them with Keystone's default policies: the
// owner manages them (an admin may also list, read and delete them). A
// token issued from a restricted application credential may not create
// or delete application credentials.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) appCredRoutes() []api.Route {
	const creds = "/v3/users/{user_id}/application_credentials"
	const rules = "/v3/users/{user_id}/access_rules"
	return []api.Route{
		{Method: "GET", Path: creds, Rule: "identity:list_application_credentials", Handler: notDelegated(h.listAppCreds)},
		{Method: "POST", Path: creds, Rule: "identity:create_application_credential", Handler: notDelegated(h.createAppCred)},
		{Method: "GET", Path: creds + "/{application_credential_id}", Rule: "identity:get_application_credential", Target: h.appCredTarget, Handler: notDelegated(h.showAppCred)},
		{Method: "DELETE", Path: creds + "/{application_credential_id}", Rule: "identity:delete_application_credential", Target: h.appCredTarget, Handler: notDelegated(h.deleteAppCred)},
		{Method: "GET", Path: rules, Rule: "identity:list_access_rules", Handler: notDelegated(h.listAccessRules)},
		{Method: "GET", Path: rules + "/{access_rule_id}", Rule: "identity:get_access_rule", Handler: notDelegated(h.showAccessRule)},
		{Method: "DELETE", Path: rules + "/{access_rule_id}", Rule: "identity:delete_access_rule", Handler: notDelegated(h.deleteAccessRule)},
	}
}

// appCredTarget is Keystone's _update_request_user_id_attribute: the
// owner is the credential's user, not the path's, so naming oneself in
// the path does not reach another user's credential. A missing one is
// left to the handler's 404.
func (h *handlers) appCredTarget(c *api.Call) (policy.Target, error) {
	ac, err := h.svc.GetApplicationCredential(c.Ctx, c.Param("application_credential_id"))
	if errs.Is(err, errs.KindNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return policy.Target{"user_id": ac.UserID, "target.user.id": ac.UserID}, nil
}

// notDelegated refuses application credential and access rule calls made
// with a token of a trust or an OAuth1 access token, after the call's
// policy (Keystone's _block_delegated_token_app_creds): a credential made
// through a delegation would outlive it. Keystone's Forbidden shows only
// its generic message.
func notDelegated(handler func(*api.Call) (*api.Reply, error)) func(*api.Call) (*api.Reply, error) {
	return func(c *api.Call) (*api.Reply, error) {
		if c.Principal.Delegated {
			return nil, errs.Forbidden("You are not authorized to perform the requested action.")
		}
		return handler(c)
	}
}

// refuseRestricted is Keystone's _check_unrestricted_application_credential.
func refuseRestricted(c *api.Call) error {
	if c.Principal.Restricted() {
		return errs.Forbidden("You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.")
	}
	return nil
}

func appCredView(c *api.Call, ac *identity.ApplicationCredential) obj {
	roles := make([]obj, 0, len(ac.Roles))
	for _, r := range ac.Roles {
		roles = append(roles, obj{"id": r.ID, "name": r.Name, "domain_id": nullable(r.DomainID),
			"description": nullable(r.Description), "options": obj{}})
	}
	v := obj{
		"id": ac.ID, "name": ac.Name, "description": nil, "project_id": ac.ProjectID, "roles": roles,
		"expires_at": nil, "unrestricted": ac.Unrestricted,
		"links": selfLink(c, "/users/"+ac.UserID+"/application_credentials/"+ac.ID),
	}
	if ac.Description != nil {
		v["description"] = *ac.Description
	}
	if ac.ExpiresAt != nil {
		// oslo.serialization's datetime format, without a zone.
		v["expires_at"] = ac.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000000")
	}
	if len(ac.AccessRules) > 0 {
		rules := make([]obj, 0, len(ac.AccessRules))
		for _, r := range ac.AccessRules {
			rules = append(rules, obj{"id": r.ID, "service": r.Service, "path": r.Path, "method": r.Method})
		}
		v["access_rules"] = rules
	}
	if ac.Secret != "" {
		v["secret"] = ac.Secret
	}
	return v
}

func accessRuleView(c *api.Call, r *auth.AccessRule) obj {
	return obj{"id": r.ID, "service": r.Service, "path": r.Path, "method": r.Method,
		"links": selfLink(c, "/access_rules/"+r.ID)}
}

// tokenAppCredView is a token's application_credential object.
func tokenAppCredView(ac *auth.AppCredential) obj {
	v := obj{"id": ac.ID, "name": ac.Name, "restricted": !ac.Unrestricted}
	if len(ac.AccessRules) > 0 {
		rules := make([]obj, 0, len(ac.AccessRules))
		for _, r := range ac.AccessRules {
			rules = append(rules, obj{"id": r.ID, "service": r.Service, "path": r.Path, "method": r.Method})
		}
		v["access_rules"] = rules
	}
	return v
}

// checkAccessRulesSupport is Keystone's _validate_token_access_rules: a
// token limited by access rules only validates for a caller that says
// (OpenStack-Identity-Access-Rules) it enforces them.
func checkAccessRulesSupport(c *api.Call, t *identity.Token) error {
	if t.AppCred == nil || len(t.AppCred.AccessRules) == 0 {
		return nil
	}
	v, err := strconv.ParseFloat(c.Req.Header.Get("OpenStack-Identity-Access-Rules"), 64)
	if err != nil || v < 1.0 {
		return errs.NotFound("Failed to validate token")
	}
	return nil
}

func (h *handlers) listAppCreds(c *api.Call) (*api.Reply, error) {
	acs, err := h.svc.ListApplicationCredentials(c.Ctx, c.Param("user_id"), c.Query().Get("name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "application_credentials", views(c, acs, appCredView))), nil
}

func (h *handlers) showAppCred(c *api.Call) (*api.Reply, error) {
	ac, err := h.svc.GetApplicationCredential(c.Ctx, c.Param("application_credential_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"application_credential": appCredView(c, ac)}), nil
}

func (h *handlers) deleteAppCred(c *api.Call) (*api.Reply, error) {
	if err := refuseRestricted(c); err != nil {
		return nil, err
	}
	if err := h.svc.DeleteApplicationCredential(c.Ctx, c.Param("application_credential_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) createAppCred(c *api.Call) (*api.Reply, error) {
	req, err := appCredCreateRequest(c)
	if err != nil {
		return nil, err
	}
	if err := refuseRestricted(c); err != nil {
		return nil, err
	}
	if c.Principal.UserID != c.Param("user_id") {
		return nil, errs.Forbidden("You are not authorized to perform the requested action: Cannot create an application credential for another user.")
	}
	// The rule's scope type is project: other tokens fail oslo.policy's
	// scope check.
	if c.Principal.ProjectID == "" {
		return nil, forbidden("identity:create_application_credential")
	}
	ac, err := h.svc.CreateApplicationCredential(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"application_credential": appCredView(c, ac)}), nil
}

func (h *handlers) listAccessRules(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	rules, err := h.svc.ListAccessRules(c.Ctx, c.Param("user_id"), identity.AccessRuleFilter{
		Service: q.Get("service"), Path: q.Get("path"), Method: q.Get("method")})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "access_rules", views(c, rules, accessRuleView))), nil
}

func (h *handlers) showAccessRule(c *api.Call) (*api.Reply, error) {
	r, err := h.svc.GetAccessRule(c.Ctx, c.Param("user_id"), c.Param("access_rule_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"access_rule": accessRuleView(c, r)}), nil
}

func (h *handlers) deleteAccessRule(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteAccessRule(c.Ctx, c.Param("user_id"), c.Param("access_rule_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// appCredCreateBody is Keystone's application_credential_create_request_body.
type appCredCreateBody struct {
	ApplicationCredential *struct {
		Name         *string    `json:"name"`
		Description  *string    `json:"description"`
		Secret       *string    `json:"secret"`
		ExpiresAt    *string    `json:"expires_at"`
		Unrestricted *bool      `json:"unrestricted"`
		Roles        []nameOrID `json:"roles"`
		AccessRules  []struct {
			ID      string `json:"id"`
			Service string `json:"service"`
			Path    string `json:"path"`
			Method  string `json:"method"`
		} `json:"access_rules"`
	} `json:"application_credential"`
}

var appCredCreateFields = []string{"id", "secret", "name", "description", "expires_at", "project_id",
	"access_rules", "unrestricted", "system", "roles"}

// appCredCreateRequest validates the body as Keystone's schema does and
// turns it into the domain's request.
func appCredCreateRequest(c *api.Call) (identity.AppCredCreate, error) {
	var req identity.AppCredCreate
	var b appCredCreateBody
	raw, err := decodeBody(c, &b)
	if err != nil {
		return req, err
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return req, errs.Invalid("Invalid input for field '': %s is not of type 'object'", strings.TrimSpace(string(raw)))
	}
	for k := range top {
		if k != "application_credential" {
			return req, errs.Invalid("Invalid input for field '': Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	if b.ApplicationCredential == nil {
		return req, required("application_credential")
	}
	if extra := extraAttributes(raw, "application_credential", appCredCreateFields...); len(extra) > 0 {
		keys := make([]string, 0, len(extra))
		for k := range extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return req, errs.Invalid("Invalid input for field 'application_credential': Additional properties are not allowed ('%s' was unexpected)", keys[0])
	}
	in := b.ApplicationCredential
	if in.Name == nil {
		return req, errs.Invalid("Invalid input for field 'application_credential': 'name' is a required property")
	}
	if msg := nameCheck(*in.Name); msg != "" {
		return req, errs.Invalid("Invalid input for field 'application_credential/name': %s", msg)
	}
	req.Name, req.Description = *in.Name, in.Description
	if in.Secret != nil {
		req.Secret = *in.Secret
	}
	if in.Unrestricted != nil {
		req.Unrestricted = *in.Unrestricted
	}
	if in.ExpiresAt != nil && *in.ExpiresAt != "" {
		t, err := identity.ParseExpiresAt(*in.ExpiresAt)
		if err != nil {
			return req, err
		}
		req.ExpiresAt = &t
	}
	var items []map[string]json.RawMessage
	var body struct {
		AC struct {
			Roles []map[string]json.RawMessage `json:"roles"`
		} `json:"application_credential"`
	}
	if json.Unmarshal(raw, &body) == nil {
		items = body.AC.Roles
	}
	for i, r := range in.Roles {
		field := fmt.Sprintf("application_credential/roles/%d", i)
		if i < len(items) && len(items[i]) != 1 {
			if len(items[i]) == 0 {
				return req, errs.Invalid("Invalid input for field '%s': {} does not have enough properties", field)
			}
			return req, errs.Invalid("Invalid input for field '%s': the role has too many properties", field)
		}
		if i < len(items) {
			for k := range items[i] {
				if k != "id" && k != "name" {
					return req, errs.Invalid("Invalid input for field '%s': Additional properties are not allowed ('%s' was unexpected)", field, k)
				}
			}
		}
		switch {
		case r.ID != "":
			if msg := idCheck(r.ID); msg != "" {
				return req, errs.Invalid("Invalid input for field '%s/id': %s", field, msg)
			}
		case r.Name != "":
			if msg := nameCheck(r.Name); msg != "" {
				return req, errs.Invalid("Invalid input for field '%s/name': %s", field, msg)
			}
		default:
			return req, errs.Invalid("Invalid input for field '%s': the role needs an id or a name", field)
		}
		req.Roles = append(req.Roles, identity.RoleRef{ID: r.ID, Name: r.Name})
	}
	for i, r := range in.AccessRules {
		field := fmt.Sprintf("application_credential/access_rules/%d", i)
		if r.ID != "" {
			if msg := idCheck(r.ID); msg != "" {
				return req, errs.Invalid("Invalid input for field '%s/id': %s", field, msg)
			}
		}
		if r.Service != "" {
			if msg := idCheck(r.Service); msg != "" {
				return req, errs.Invalid("Invalid input for field '%s/service': %s", field, msg)
			}
		}
		if r.Path != "" && (!strings.HasPrefix(r.Path, "/") || len([]rune(r.Path)) > 225) {
			if len([]rune(r.Path)) > 225 {
				return req, errs.Invalid("Invalid input for field '%s/path': %s is too long", field, api.PyRepr(r.Path))
			}
			return req, errs.Invalid("Invalid input for field '%s/path': %s does not match '^/\\\\.*'", field, api.PyRepr(r.Path))
		}
		if r.Method != "" && !identity.ValidAccessRuleMethod(r.Method) {
			return req, errs.Invalid("Invalid input for field '%s/method': %s is not one of ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT']", field, api.PyRepr(r.Method))
		}
		req.AccessRules = append(req.AccessRules, auth.AccessRule{ID: r.ID, Service: r.Service, Path: r.Path, Method: r.Method})
	}
	return req, nil
}

// appCredAuthBody is the application_credential method of POST /v3/auth/tokens.
type appCredAuthBody struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Secret string `json:"secret"`
	User   *struct {
		ID     string    `json:"id"`
		Name   string    `json:"name"`
		Domain *nameOrID `json:"domain"`
	} `json:"user"`
}

func (b *appCredAuthBody) request() *identity.AppCredAuth {
	a := &identity.AppCredAuth{ID: b.ID, Name: b.Name, Secret: b.Secret}
	if b.User != nil {
		a.UserGiven = true
		a.UserID, a.UserName = b.User.ID, b.User.Name
		if b.User.Domain != nil {
			a.DomainID, a.DomainName = b.User.Domain.ID, b.User.Domain.Name
		}
	}
	return a
}
