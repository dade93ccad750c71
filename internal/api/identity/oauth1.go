package identity

// OS-OAUTH1 (/v3/OS-OAUTH1 and the users' access tokens), served as
// keystone/api/os_oauth1.py and keystone/api/users.py do with their
// default policies: consumers (admin writes, admin or system reader
// reads; the secret is shown once, in the create answer), request
// tokens asked for by a signed request of the consumer, authorized by a
// user, exchanged for access tokens, which admins list, show and revoke.

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

func (h *handlers) oauth1Routes() []api.Route {
	const path = "/v3/OS-OAUTH1/consumers"
	const tokens = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"
	return []api.Route{
		{Method: "GET", Path: path, Rule: "identity:list_consumers", Handler: h.listConsumers},
		{Method: "POST", Path: path, Rule: "identity:create_consumer", Handler: h.createConsumer},
		{Method: "GET", Path: path + "/{consumer_id}", Rule: "identity:get_consumer", Handler: h.showConsumer},
		{Method: "PATCH", Path: path + "/{consumer_id}", Rule: "identity:update_consumer", Handler: h.updateConsumer},
		{Method: "DELETE", Path: path + "/{consumer_id}", Rule: "identity:delete_consumer", Handler: h.deleteConsumer},

		// The consumer's signature is these two calls' authentication.
		{Method: "POST", Path: "/v3/OS-OAUTH1/request_token", Anonymous: true, Handler: h.createRequestToken},
		{Method: "POST", Path: "/v3/OS-OAUTH1/access_token", Anonymous: true, Handler: h.createAccessToken},
		{Method: "PUT", Path: "/v3/OS-OAUTH1/authorize/{request_token_id}", Rule: "identity:authorize_request_token", Handler: h.authorizeRequestToken},

		{Method: "GET", Path: tokens, Rule: "identity:list_access_tokens", Handler: h.listAccessTokens},
		{Method: "GET", Path: tokens + "/{access_token_id}", Rule: "identity:get_access_token", Handler: h.showAccessToken},
		// Keystone's code checks ec2_delete_credential here, against a
		// target without a credential, so only its admin half can pass:
		// the same callers as the documented rule's default.
		{Method: "DELETE", Path: tokens + "/{access_token_id}", Rule: "identity:delete_access_token", Handler: h.deleteAccessToken},
		{Method: "GET", Path: tokens + "/{access_token_id}/roles", Rule: "identity:list_access_token_roles", Handler: h.listAccessTokenRoles},
		{Method: "GET", Path: tokens + "/{access_token_id}/roles/{role_id}", Rule: "identity:get_access_token_role", Handler: h.showAccessTokenRole},
	}
}

func consumerView(c *api.Call, co *identity.Consumer) obj {
	v := withExtra(obj{"id": co.ID, "description": strOrNil(co.Description),
		"links": selfLink(c, "/OS-OAUTH1/consumers/"+co.ID)}, co.Extra)
	if co.Secret != "" {
		v["secret"] = co.Secret
	}
	return v
}

// consumerAttrs reads a consumer body leniently, as Keystone does
// (get_json(force=True, silent=True)): a body that is not a JSON object
// is an empty consumer.
func consumerAttrs(c *api.Call) (*fields, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	var body map[string]any
	_ = json.Unmarshal(b, &body) // not an object: no consumer attributes
	m, _ := body["consumer"].(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return &fields{key: "consumer", m: m}, nil
}

func (h *handlers) listConsumers(c *api.Call) (*api.Reply, error) {
	list, err := h.svc.ListConsumers(c.Ctx)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "consumers", views(c, list, consumerView))), nil
}

func (h *handlers) createConsumer(c *api.Call) (*api.Reply, error) {
	f, err := consumerAttrs(c)
	if err != nil {
		return nil, err
	}
	desc, _, err := f.str("description", true, 0)
	if err != nil {
		return nil, err
	}
	co := identity.Consumer{Description: desc, Extra: map[string]any{}}
	for k, v := range f.m {
		if k != "description" && k != "id" && k != "secret" && k != "links" {
			co.Extra[k] = v
		}
	}
	out, err := h.svc.CreateConsumer(c.Ctx, co)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"consumer": consumerView(c, out)}), nil
}

func (h *handlers) showConsumer(c *api.Call) (*api.Reply, error) {
	co, err := h.svc.GetConsumer(c.Ctx, c.Param("consumer_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"consumer": consumerView(c, co)}), nil
}

func (h *handlers) updateConsumer(c *api.Call) (*api.Reply, error) {
	f, err := consumerAttrs(c)
	if err != nil {
		return nil, err
	}
	if len(f.m) == 0 {
		return nil, errs.Invalid("Invalid input for field '/': {} does not have enough properties")
	}
	if _, ok := f.m["secret"]; ok {
		return nil, errs.Invalid("Invalid input for field '/': %s should not be valid under {'required': ['secret']}", jsonText(f.m))
	}
	var p identity.ConsumerPatch
	if p.Description, p.SetDescription, err = f.str("description", true, 0); err != nil {
		return nil, err
	}
	if id, ok := f.m["id"]; ok && id != c.Param("consumer_id") {
		return nil, errs.Invalid("Cannot change ID")
	}
	p.Extra = map[string]any{}
	for k, v := range f.m {
		if k != "description" && k != "id" && k != "links" {
			p.Extra[k] = v
		}
	}
	out, err := h.svc.UpdateConsumer(c.Ctx, c.Param("consumer_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"consumer": consumerView(c, out)}), nil
}

func (h *handlers) deleteConsumer(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteConsumer(c.Ctx, c.Param("consumer_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// oauthRequest is the call as its OAuth1 client signed it: Keystone
// takes the scheme of its public endpoint, the rest from the request.
func oauthRequest(c *api.Call) identity.OAuthRequest {
	scheme, _, _ := strings.Cut(c.BaseURL, "://")
	return identity.OAuthRequest{Method: c.Req.Method, URL: scheme + "://" + c.Req.Host + c.Req.URL.EscapedPath(),
		Authorization: c.Req.Header.Get("Authorization"), Query: c.Req.URL.RawQuery}
}

// credentialReply is a new request or access token, form-encoded as
// OAuth1 clients read it.
func credentialReply(cr *identity.OAuthCredential) *api.Reply {
	body := "oauth_token=" + cr.Key + "&oauth_token_secret=" + cr.Secret + "&oauth_expires_at=" + keystoneTime(cr.ExpiresAt)
	return &api.Reply{Status: http.StatusCreated, Raw: []byte(body), ContentType: "application/x-www-form-urlencoded"}
}

func (h *handlers) createRequestToken(c *api.Call) (*api.Reply, error) {
	cr, err := h.svc.CreateRequestToken(c.Ctx, oauthRequest(c), c.Req.Header.Get("Requested-Project-Id"))
	if err != nil {
		return nil, err
	}
	return credentialReply(cr), nil
}

func (h *handlers) createAccessToken(c *api.Call) (*api.Reply, error) {
	cr, err := h.svc.CreateAccessToken(c.Ctx, oauthRequest(c))
	if err != nil {
		return nil, err
	}
	return credentialReply(cr), nil
}

// authorizeRoles reads the body of an authorization: Keystone's
// request_token_authorize schema over its "roles" (none when absent).
func authorizeRoles(c *api.Call) ([]identity.TrustRoleRef, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	var body map[string]any
	_ = json.Unmarshal(b, &body) // not an object: no roles, as Keystone's get_json(silent=True)
	raw, ok := body["roles"]
	if !ok {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errs.Invalid("Invalid input for field '/': %s is not of type 'array'", api.PyRepr(raw))
	}
	var out []identity.TrustRoleRef
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, errs.Invalid("Invalid input for field '%d': %s is not of type 'object'", i, api.PyRepr(item))
		}
		if len(m) != 1 {
			return nil, errs.Invalid("Invalid input for field '%d': %s does not have enough properties", i, api.PyRepr(item))
		}
		var ref identity.TrustRoleRef
		for k, v := range m {
			s, isStr := v.(string)
			switch {
			case k != "id" && k != "name":
				return nil, errs.Invalid("Invalid input for field '%d': Additional properties are not allowed ('%s' was unexpected)", i, k)
			case !isStr:
				return nil, errs.Invalid("Invalid input for field '%d/%s': %s is not of type 'string'", i, k, api.PyRepr(v))
			case s == "":
				return nil, errs.Invalid("Invalid input for field '%d/%s': '' is too short", i, k)
			case k == "id" && !roleIDPattern.MatchString(s):
				return nil, errs.Invalid("Invalid input for field '%d/id': %s does not match '^[a-zA-Z0-9-]+$'", i, api.PyRepr(v))
			case k == "name" && strings.TrimSpace(s) == "":
				return nil, errs.Invalid("Invalid input for field '%d/name': %s does not match '[\\\\S]+'", i, api.PyRepr(v))
			case k == "id":
				ref.ID = s
			default:
				ref.Name = s
			}
		}
		out = append(out, ref)
	}
	return out, nil
}

// roleIDPattern is Keystone's id_string (its 64 character limit aside).
var roleIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

// delegationRefused is Keystone's 403 for managing OAuth1 tokens with a
// token that is itself delegated (a trust's, an access token's or an
// application credential's). Keystone raises a Forbidden that says why
// ("Cannot authorize a request token with a token issued via
// delegation."), which, as every SecurityError outside insecure_debug,
// shows only its generic message.
func delegationRefused(c *api.Call) error {
	if c.Principal.Delegated || c.Principal.AppCred != nil {
		return errs.Forbidden("You are not authorized to perform the requested action.")
	}
	return nil
}

func (h *handlers) authorizeRequestToken(c *api.Call) (*api.Reply, error) {
	roles, err := authorizeRoles(c)
	if err != nil {
		return nil, err
	}
	if err := delegationRefused(c); err != nil {
		return nil, err
	}
	v, err := h.svc.AuthorizeRequestToken(c.Ctx, c.Param("request_token_id"), c.Principal.UserID, roles)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"token": obj{"oauth_verifier": v}}), nil
}

func accessTokenView(c *api.Call, at *identity.AccessToken) obj {
	self := v3(c) + "/users/" + at.AuthorizingUserID + "/OS-OAUTH1/access_tokens/" + at.ID
	return obj{"id": at.ID, "consumer_id": at.ConsumerID, "authorizing_user_id": at.AuthorizingUserID,
		"project_id": at.ProjectID, "expires_at": keystoneTime(at.ExpiresAt),
		"links": obj{"self": self, "roles": self + "/roles"}}
}

// userAccessToken is the path's access token, which must be the path's
// user's: Keystone answers its bare NotFound (an unformatted message).
func (h *handlers) userAccessToken(c *api.Call) (*identity.AccessToken, error) {
	at, err := h.svc.GetAccessToken(c.Ctx, c.Param("access_token_id"))
	if err != nil {
		return nil, err
	}
	if at.AuthorizingUserID != c.Param("user_id") {
		return nil, errs.NotFound("Could not find: %%(target)s.")
	}
	return at, nil
}

func (h *handlers) listAccessTokens(c *api.Call) (*api.Reply, error) {
	if err := delegationRefused(c); err != nil {
		return nil, err
	}
	list, err := h.svc.ListAccessTokens(c.Ctx, c.Param("user_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "access_tokens", views(c, list, accessTokenView))), nil
}

func (h *handlers) showAccessToken(c *api.Call) (*api.Reply, error) {
	if err := delegationRefused(c); err != nil {
		return nil, err
	}
	at, err := h.userAccessToken(c)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"access_token": accessTokenView(c, at)}), nil
}

func (h *handlers) deleteAccessToken(c *api.Call) (*api.Reply, error) {
	if err := delegationRefused(c); err != nil {
		return nil, err
	}
	if err := h.svc.DeleteAccessToken(c.Ctx, c.Param("user_id"), c.Param("access_token_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// accessTokenRoleView is a role as Keystone's _format_role_entity shows
// it: without its description.
func accessTokenRoleView(c *api.Call, r *identity.Role) obj {
	v := roleView(c, r)
	delete(v, "description")
	return v
}

func (h *handlers) listAccessTokenRoles(c *api.Call) (*api.Reply, error) {
	at, err := h.userAccessToken(c)
	if err != nil {
		return nil, err
	}
	roles := make([]obj, 0, len(at.RoleIDs))
	for _, id := range at.RoleIDs {
		r, err := h.svc.GetRole(c.Ctx, id)
		if err != nil {
			return nil, err
		}
		roles = append(roles, accessTokenRoleView(c, r))
	}
	return api.JSON(http.StatusOK, collection(c, "roles", roles)), nil
}

func (h *handlers) showAccessTokenRole(c *api.Call) (*api.Reply, error) {
	at, err := h.svc.GetAccessToken(c.Ctx, c.Param("access_token_id"))
	if err != nil {
		return nil, err
	}
	if at.AuthorizingUserID != c.Param("user_id") {
		return nil, errs.Unauthorized("User IDs do not match")
	}
	id := c.Param("role_id")
	if !slices.Contains(at.RoleIDs, id) {
		return nil, errs.NotFound("Could not find role: %s.", id)
	}
	r, err := h.svc.GetRole(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"role": accessTokenRoleView(c, r)}), nil
}
