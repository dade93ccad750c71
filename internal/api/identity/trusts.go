package identity

// OS-TRUST trusts (/v3/OS-TRUST/trusts), served as keystone/api/trusts.py
// does with its default policies: only the trustor creates a trust, the
// trustor or trustee reads it and its roles, the trustor or an admin
// deletes it, and the list is an admin's unless it is filtered on the
// caller as trustor or trustee.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) trustRoutes() []api.Route {
	const path = "/v3/OS-TRUST/trusts"
	return []api.Route{
		{Method: "GET", Path: path, Rule: "identity:list_trusts", RuleFor: listTrustsRule, Target: listTrustsTarget, Handler: noAppCredToken(h.listTrusts)},
		{Method: "POST", Path: path, Rule: "identity:create_trust", Target: newTrustTarget, Handler: noAppCredToken(h.createTrust)},
		{Method: "GET", Path: path + "/{trust_id}", Rule: "identity:get_trust", Target: h.trustTarget, Handler: noAppCredToken(h.showTrust)},
		{Method: "DELETE", Path: path + "/{trust_id}", Rule: "identity:delete_trust", Target: h.trustTarget, Handler: noAppCredToken(h.deleteTrust)},
		{Method: "GET", Path: path + "/{trust_id}/roles", Rule: "identity:list_roles_for_trust", Target: h.trustTarget, Handler: noAppCredToken(h.listTrustRoles)},
		{Method: "GET", Path: path + "/{trust_id}/roles/{role_id}", Rule: "identity:get_role_for_trust", Target: h.trustTarget, Handler: noAppCredToken(h.showTrustRole)},
		{Method: "HEAD", Path: path + "/{trust_id}/roles/{role_id}", Rule: "identity:get_role_for_trust", Target: h.trustTarget, Handler: noAppCredToken(h.showTrustRole)},
	}
}

// noAppCredToken refuses every trust call made with a token from an
// application credential, restricted or not, after the call's policy
// (Keystone's _check_application_credential): such a token could
// otherwise reach beyond its one project through the trusts.
func noAppCredToken(handler func(*api.Call) (*api.Reply, error)) func(*api.Call) (*api.Reply, error) {
	return func(c *api.Call) (*api.Reply, error) {
		if c.Principal.AppCred != nil {
			return nil, errs.Forbidden("You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing trusts.")
		}
		return handler(c)
	}
}

// listTrustsRule is Keystone's choice: a trustor filter first, then a
// trustee filter, else the whole list.
func listTrustsRule(c *api.Call) string {
	q := c.Query()
	switch {
	case q.Get("trustor_user_id") != "":
		return "identity:list_trusts_for_trustor"
	case q.Get("trustee_user_id") != "":
		return "identity:list_trusts_for_trustee"
	}
	return "identity:list_trusts"
}

func listTrustsTarget(c *api.Call) (policy.Target, error) {
	q := c.Query()
	return policy.Target{"target.trust.trustor_user_id": q.Get("trustor_user_id"),
		"target.trust.trustee_user_id": q.Get("trustee_user_id")}, nil
}

// trustTarget is the trust in the path: a missing one is a 404 before
// any 403, as Keystone builds the target from it.
func (h *handlers) trustTarget(c *api.Call) (policy.Target, error) {
	tr, err := h.svc.GetTrust(c.Ctx, c.Param("trust_id"))
	if err != nil {
		return nil, err
	}
	return policy.Target{"target.trust.trustor_user_id": tr.TrustorUserID, "target.trust.trustee_user_id": tr.TrusteeUserID}, nil
}

// trustBody is a validated POST body.
type trustBody struct {
	n identity.NewTrust
}

// trustKnown are the attributes Keystone's trust defines; others are kept
// as extra.
var trustKnown = []string{"trustor_user_id", "trustee_user_id", "impersonation", "project_id", "remaining_uses",
	"expires_at", "allow_redelegation", "redelegation_count", "redelegated_trust_id", "roles", "id", "links", "deleted_at"}

// parseTrustBody validates a create against Keystone's
// trust_create_request_body schema and its expiration rules.
func parseTrustBody(c *api.Call) (*trustBody, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	// The target reads the body before the handler does.
	c.Req.Body = io.NopCloser(bytes.NewReader(b))
	var body map[string]json.RawMessage
	if err := decodeBytes(b, &body); err != nil {
		return nil, err
	}
	raw, ok := body["trust"]
	if !ok {
		return nil, errs.Invalid("Invalid input for field '/': 'trust' is a required property")
	}
	for k := range body {
		if k != "trust" {
			return nil, errs.Invalid("Invalid input for field '/': Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	var attrs map[string]any
	if err := json.Unmarshal(raw, &attrs); err != nil || attrs == nil {
		return nil, errs.Invalid("Invalid input for field 'trust': %s is not of type 'object'", string(raw))
	}
	for _, k := range []string{"trustor_user_id", "trustee_user_id", "impersonation"} {
		if _, ok := attrs[k]; !ok {
			return nil, errs.Invalid("Invalid input for field 'trust': '%s' is a required property", k)
		}
	}
	var n identity.NewTrust
	str := func(k string, nullable bool) (string, error) {
		v, ok := attrs[k]
		if !ok || (v == nil && nullable) {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", errs.Invalid("Invalid input for field 'trust/%s': %s is not of type 'string'", k, jsonText(v))
		}
		return s, nil
	}
	intOf := func(k string, min int) (*int, error) {
		v, ok := attrs[k]
		if !ok || v == nil {
			return nil, nil
		}
		f, ok := v.(float64)
		if !ok || f != float64(int(f)) {
			return nil, errs.Invalid("Invalid input for field 'trust/%s': %s is not of type 'integer', 'null'", k, jsonText(v))
		}
		if int(f) < min {
			return nil, errs.Invalid("Invalid input for field 'trust/%s': %d is less than the minimum of %d", k, int(f), min)
		}
		i := int(f)
		return &i, nil
	}
	if n.TrustorUserID, err = str("trustor_user_id", false); err != nil {
		return nil, err
	}
	if n.TrusteeUserID, err = str("trustee_user_id", false); err != nil {
		return nil, err
	}
	if n.ProjectID, err = str("project_id", true); err != nil {
		return nil, err
	}
	imp, ok := attrs["impersonation"].(bool)
	if !ok {
		return nil, errs.Invalid("Invalid input for field 'trust/impersonation': %s is not of type 'boolean'", jsonText(attrs["impersonation"]))
	}
	n.Impersonation = imp
	if v, ok := attrs["allow_redelegation"]; ok && v != nil {
		ar, isBool := v.(bool)
		if !isBool {
			return nil, errs.Invalid("Invalid input for field 'trust/allow_redelegation': %s is not of type 'boolean', 'null'", jsonText(v))
		}
		n.AllowRedelegation = ar
	}
	if n.RemainingUses, err = intOf("remaining_uses", 1); err != nil {
		return nil, err
	}
	if n.RedelegationCount, err = intOf("redelegation_count", 0); err != nil {
		return nil, err
	}
	exp, err := str("expires_at", true)
	if err != nil {
		return nil, err
	}
	if exp != "" {
		t, err := parseExpiration(exp)
		if err != nil {
			return nil, err
		}
		n.ExpiresAt = &t
	}
	if v, ok := attrs["roles"]; ok {
		list, isList := v.([]any)
		if !isList {
			return nil, errs.Invalid("Invalid input for field 'trust/roles': %s is not of type 'array'", jsonText(v))
		}
		for _, item := range list {
			m, isObj := item.(map[string]any)
			if !isObj || len(m) != 1 {
				return nil, errs.Invalid("Invalid input for field 'trust/roles': %s is not valid under the given schema", jsonText(item))
			}
			var ref identity.TrustRoleRef
			for k, x := range m {
				s, isStr := x.(string)
				if (k != "id" && k != "name") || !isStr || s == "" {
					return nil, errs.Invalid("Invalid input for field 'trust/roles': %s is not valid under the given schema", jsonText(item))
				}
				if k == "id" {
					ref.ID = s
				} else {
					ref.Name = s
				}
			}
			n.Roles = append(n.Roles, ref)
		}
	}
	n.Extra = map[string]any{}
	for k, v := range attrs {
		if !slices.Contains(trustKnown, k) {
			n.Extra[k] = v
		}
	}
	return &trustBody{n: n}, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// parseExpiration is Keystone's parse_expiration_date: an ISO 8601 time,
// UTC unless it says otherwise, not in the past.
func parseExpiration(s string) (time.Time, error) {
	v := s
	if !strings.HasSuffix(v, "Z") && !strings.ContainsAny(v[min(len(v), 19):], "+-") {
		v += "Z"
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errs.Invalid("Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if t.Before(time.Now()) {
		return time.Time{}, errs.Invalid("The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// newTrustTarget validates the body (Keystone's schema runs before the
// policy) and names its trustor.
func newTrustTarget(c *api.Call) (policy.Target, error) {
	tb, err := parseTrustBody(c)
	if err != nil {
		return nil, err
	}
	return policy.Target{"target.trust.trustor_user_id": tb.n.TrustorUserID}, nil
}

func trustView(c *api.Call, tr *identity.Trust) obj {
	var expires any
	if tr.ExpiresAt != nil {
		expires = keystoneTime(*tr.ExpiresAt)
	}
	var uses any
	if tr.RemainingUses != nil {
		uses = *tr.RemainingUses
	}
	return withExtra(obj{
		"id": tr.ID, "trustor_user_id": tr.TrustorUserID, "trustee_user_id": tr.TrusteeUserID,
		"project_id": nullable(tr.ProjectID), "impersonation": tr.Impersonation, "expires_at": expires,
		"remaining_uses": uses, "deleted_at": nil, "redelegated_trust_id": nullable(tr.RedelegatedTrustID),
		"redelegation_count": tr.RedelegationCount, "links": selfLink(c, "/OS-TRUST/trusts/"+tr.ID),
	}, tr.Extra)
}

// trustRoles are the full roles of a trust, skipping deleted ones as
// Keystone's _normalize_trust_roles does.
func (h *handlers) trustRoles(c *api.Call, tr *identity.Trust) ([]obj, error) {
	out := []obj{}
	for _, id := range tr.RoleIDs {
		r, err := h.svc.GetRole(c.Ctx, id)
		if errs.Is(err, errs.KindNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, roleView(c, r))
	}
	return out, nil
}

// fullTrustView is a trust with its roles, as create and show answer.
func (h *handlers) fullTrustView(c *api.Call, tr *identity.Trust) (obj, error) {
	roles, err := h.trustRoles(c, tr)
	if err != nil {
		return nil, err
	}
	v := trustView(c, tr)
	v["roles"] = roles
	v["roles_links"] = obj{"self": v3(c) + "/OS-TRUST/trusts/" + tr.ID + "/roles", "next": nil, "previous": nil}
	return v, nil
}

func (h *handlers) listTrusts(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	f := identity.TrustFilter{TrustorUserID: q.Get("trustor_user_id")}
	if f.TrustorUserID == "" {
		f.TrusteeUserID = q.Get("trustee_user_id")
	}
	trusts, err := h.svc.ListTrusts(c.Ctx, f)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "trusts", views(c, trusts, trustView))), nil
}

func (h *handlers) createTrust(c *api.Call) (*api.Reply, error) {
	tb, err := parseTrustBody(c)
	if err != nil {
		return nil, err
	}
	if tb.n.ProjectID != "" && len(tb.n.Roles) == 0 {
		return nil, forbidden("At least one role should be specified")
	}
	if c.Principal.UserID != tb.n.TrustorUserID {
		return nil, forbidden("The authenticated user should match the trustor")
	}
	tr, err := h.svc.CreateTrust(c.Ctx, tb.n)
	if err != nil {
		return nil, err
	}
	v, err := h.fullTrustView(c, tr)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"trust": v}), nil
}

func (h *handlers) showTrust(c *api.Call) (*api.Reply, error) {
	tr, err := h.svc.GetTrust(c.Ctx, c.Param("trust_id"))
	if err != nil {
		return nil, err
	}
	v, err := h.fullTrustView(c, tr)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"trust": v}), nil
}

func (h *handlers) deleteTrust(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteTrust(c.Ctx, c.Param("trust_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) listTrustRoles(c *api.Call) (*api.Reply, error) {
	tr, err := h.svc.GetTrust(c.Ctx, c.Param("trust_id"))
	if err != nil {
		return nil, err
	}
	roles, err := h.trustRoles(c, tr)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"roles": roles,
		"links": obj{"self": v3(c) + "/OS-TRUST/trusts/" + tr.ID + "/roles", "next": nil, "previous": nil}}), nil
}

func (h *handlers) showTrustRole(c *api.Call) (*api.Reply, error) {
	tr, err := h.svc.GetTrust(c.Ctx, c.Param("trust_id"))
	if err != nil {
		return nil, err
	}
	id := c.Param("role_id")
	if !slices.Contains(tr.RoleIDs, id) {
		return nil, errs.NotFound("Could not find role: %s.", id)
	}
	r, err := h.svc.GetRole(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"role": roleView(c, r)}), nil
}
