package identity

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/policy"
)

// timeFormat is Keystone's token timestamp: ISO 8601, microseconds, Z.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func keystoneTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// authBody is a POST /v3/auth/tokens request.
type authBody struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *struct {
					ID       string    `json:"id"`
					Name     string    `json:"name"`
					Password string    `json:"password"`
					Domain   *nameOrID `json:"domain"`
				} `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			ApplicationCredential *appCredAuthBody `json:"application_credential"`
			OAuth1                json.RawMessage  `json:"oauth1"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type nameOrID struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type scopeBody struct {
	Project *struct {
		ID     string    `json:"id"`
		Name   string    `json:"name"`
		Domain *nameOrID `json:"domain"`
	} `json:"project"`
	Domain *nameOrID       `json:"domain"`
	System json.RawMessage `json:"system"`
	Trust  json.RawMessage `json:"OS-TRUST:trust"`
}

// authRequest turns the request body into the domain's AuthRequest.
func authRequest(b *authBody) (identity.AuthRequest, error) {
	var req identity.AuthRequest
	if b.Auth == nil {
		return req, required("auth")
	}
	if b.Auth.Identity == nil {
		return req, errs.Invalid("Invalid input for field 'auth': 'identity' is a required property")
	}
	id := b.Auth.Identity
	if id.Methods == nil {
		return req, errs.Invalid("Invalid input for field 'auth/identity': 'methods' is a required property")
	}
	req.Methods = id.Methods
	if id.Password != nil {
		if id.Password.User == nil {
			return req, errs.Invalid("Invalid input for field 'auth/identity/password': 'user' is a required property")
		}
		u := id.Password.User
		req.Password = &identity.PasswordAuth{UserID: u.ID, UserName: u.Name, Password: u.Password}
		if u.Domain != nil {
			req.Password.DomainID, req.Password.DomainName = u.Domain.ID, u.Domain.Name
		}
	}
	if id.Token != nil {
		req.Token = id.Token.ID
	}
	if id.ApplicationCredential != nil {
		req.AppCred = id.ApplicationCredential.request()
	}
	raw := b.Auth.Scope
	if len(raw) == 0 || string(raw) == "null" {
		return req, nil
	}
	req.ScopeGiven = true
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "unscoped" {
			return req, errs.Invalid("Invalid input for field 'auth/scope': '%s' is not one of ['unscoped']", s)
		}
		req.Scope.Unscoped = true
		return req, nil
	}
	var sb scopeBody
	if err := json.Unmarshal(raw, &sb); err != nil {
		return req, errs.Invalid("Invalid input for field 'auth/scope': scope is not of type 'object', 'string'")
	}
	switch {
	case sb.Project != nil:
		if sb.Project.ID == "" && sb.Project.Name == "" {
			return req, errs.Invalid("Invalid input for field 'auth/scope/project': 'id' or 'name' is a required property")
		}
		req.Scope.ProjectID, req.Scope.ProjectName = sb.Project.ID, sb.Project.Name
		if sb.Project.Domain != nil {
			req.Scope.ProjectDomainID, req.Scope.ProjectDomainName = sb.Project.Domain.ID, sb.Project.Domain.Name
		}
	case sb.Domain != nil:
		if sb.Domain.ID == "" && sb.Domain.Name == "" {
			return req, errs.Invalid("Invalid input for field 'auth/scope/domain': 'id' or 'name' is a required property")
		}
		req.Scope.DomainID, req.Scope.DomainName = sb.Domain.ID, sb.Domain.Name
	case sb.Trust != nil:
		var tr struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sb.Trust, &tr); err != nil {
			return req, errs.Invalid("Invalid input for field 'auth/scope/OS-TRUST:trust': %s is not of type 'object'", string(sb.Trust))
		}
		if tr.ID == "" {
			return req, errs.Invalid("Expecting to find trust_id in trust. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
		}
		req.Scope.TrustID = tr.ID
	case sb.System != nil:
		// Keystone takes any system object as the whole system.
		var sys any
		_ = json.Unmarshal(sb.System, &sys)
		m, ok := sys.(map[string]any)
		if !ok {
			return req, errs.Invalid("Invalid input for field 'auth/scope/system': %s is not of type 'object'", api.PyRepr(sys))
		}
		if all, given := m["all"]; given {
			if _, ok := all.(bool); !ok {
				return req, errs.Invalid("Invalid input for field 'auth/scope/system/all': %s is not of type 'boolean'", api.PyRepr(all))
			}
		}
		req.Scope.System = true
	}
	return req, nil
}

// issueToken answers POST /v3/auth/tokens.
func (h *handlers) issueToken(c *api.Call) (_ *api.Reply, err error) {
	var b authBody
	if err := decode(c, &b); err != nil {
		return nil, err
	}
	req, err := authRequest(&b)
	if err != nil {
		return nil, err
	}
	if b.Auth.Identity.OAuth1 != nil {
		// The oauth1 method's credentials are the request's signature.
		r := oauthRequest(c)
		req.OAuth1 = &r
	}
	if req.Password != nil {
		source, refused := h.startLogin(c)
		if refused != nil {
			return refused, nil
		}
		defer func() { h.endLogin(source, err) }()
	}
	t, err := h.svc.IssueToken(c.Ctx, req)
	if err != nil {
		return nil, err
	}
	v, err := h.tokenView(c, t)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"token": v}).
		WithHeader("X-Subject-Token", t.ID).WithHeader("Vary", "X-Auth-Token"), nil
}

// subject validates the X-Subject-Token.
func (h *handlers) subject(c *api.Call) (*identity.Token, string, error) {
	id := c.Req.Header.Get("X-Subject-Token")
	if id == "" {
		return nil, "", errs.NotFound("No token in the request")
	}
	t, err := h.svc.ValidateToken(c.Ctx, id)
	if err != nil {
		return nil, "", err
	}
	if err := checkAccessRulesSupport(c, t); err != nil {
		return nil, "", err
	}
	return t, id, nil
}

// subjectTarget is the token the call is about: its user is the subject of
// Keystone's token_subject rule.
func (h *handlers) subjectTarget(c *api.Call) (policy.Target, error) {
	t, _, err := h.subject(c)
	if err != nil {
		return nil, err
	}
	return policy.Target{"target.token.user_id": t.UserID}, nil
}

// validateToken answers GET /v3/auth/tokens.
func (h *handlers) validateToken(c *api.Call) (*api.Reply, error) {
	t, id, err := h.subject(c)
	if err != nil {
		return nil, err
	}
	v, err := h.tokenView(c, t)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"token": v}).
		WithHeader("X-Subject-Token", id).WithHeader("Vary", "X-Auth-Token"), nil
}

// checkToken answers HEAD /v3/auth/tokens.
func (h *handlers) checkToken(c *api.Call) (*api.Reply, error) {
	_, id, err := h.subject(c)
	if err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusOK).WithHeader("X-Subject-Token", id), nil
}

// revokeToken answers DELETE /v3/auth/tokens.
func (h *handlers) revokeToken(c *api.Call) (*api.Reply, error) {
	_, id, err := h.subject(c)
	if err != nil {
		return nil, err
	}
	if err := h.svc.RevokeToken(c.Ctx, id); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// tokenView is Keystone's token body; scoped tokens carry roles and,
// unless ?nocatalog is given, the service catalog.
func (h *handlers) tokenView(c *api.Call, t *identity.Token) (obj, error) {
	v := obj{
		"methods":    t.Methods,
		"audit_ids":  t.AuditIDs,
		"issued_at":  keystoneTime(t.IssuedAt),
		"expires_at": keystoneTime(t.ExpiresAt),
		"user": obj{
			"id": t.UserID, "name": t.UserName, "password_expires_at": nil,
			"domain": obj{"id": t.UserDomainID, "name": t.UserDomainName},
		},
	}
	if !t.Scoped() {
		return v, nil
	}
	roles := make([]obj, 0, len(t.Roles))
	for _, r := range t.Roles {
		roles = append(roles, obj{"id": r.ID, "name": r.Name})
	}
	v["roles"] = roles
	if t.AppCred != nil {
		v["application_credential"] = tokenAppCredView(t.AppCred)
	}
	if t.OAuth1 != nil {
		v["OS-OAUTH1"] = obj{"access_token_id": t.OAuth1.AccessTokenID, "consumer_id": t.OAuth1.ConsumerID}
	}
	if t.Trust != nil {
		v["OS-TRUST:trust"] = obj{"id": t.Trust.ID, "impersonation": t.Trust.Impersonation,
			"trustor_user": obj{"id": t.Trust.TrustorUserID}, "trustee_user": obj{"id": t.Trust.TrusteeUserID}}
	}
	switch {
	case t.System:
		v["system"] = obj{"all": true}
	case t.ProjectID != "":
		v["project"] = obj{"id": t.ProjectID, "name": t.ProjectName,
			"domain": obj{"id": t.ProjectDomainID, "name": t.ProjectDomainName}}
		v["is_domain"] = false
	default:
		v["domain"] = obj{"id": t.DomainID, "name": t.DomainName}
	}
	if !c.Query().Has("nocatalog") {
		cat, err := h.catalogView(c, t.ProjectID)
		if err != nil {
			return nil, err
		}
		v["catalog"] = cat
	}
	return v, nil
}

// origin is where kumo is served, as the client sees it.
func origin(c *api.Call) string { return strings.TrimSuffix(c.BaseURL, Mount) }

// catalogView is the catalog in a token or in GET /v3/auth/catalog, for
// a token of project (endpoint URLs name it): kumo's own endpoints
// resolved against where kumo is served.
func (h *handlers) catalogView(c *api.Call, project string) ([]obj, error) {
	svcs, err := h.svc.Catalog(c.Ctx, project)
	if err != nil {
		return nil, err
	}
	out := make([]obj, 0, len(svcs))
	for _, s := range svcs {
		eps := make([]obj, 0, len(s.Endpoints))
		for _, e := range s.Endpoints {
			url, ok := identity.ScopedURL(identity.ResolveURL(origin(c), e.URL), project)
			if !ok {
				continue
			}
			eps = append(eps, obj{"id": e.ID, "interface": e.Interface, "region": nullable(e.RegionID),
				"region_id": nullable(e.RegionID), "url": url})
		}
		out = append(out, obj{"id": s.ID, "type": s.Type, "name": s.Name(), "endpoints": eps})
	}
	return out, nil
}

// authCatalog answers GET /v3/auth/catalog.
func (h *handlers) authCatalog(c *api.Call) (*api.Reply, error) {
	if c.Principal.ProjectID == "" && c.Principal.DomainID == "" {
		return nil, errs.Forbidden("A project-scoped token is required to produce a service catalog.")
	}
	cat, err := h.catalogView(c, c.ProjectID())
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "catalog", cat)), nil
}

// authProjects answers GET /v3/auth/projects: the enabled projects the
// caller holds a role on.
func (h *handlers) authProjects(c *api.Call) (*api.Reply, error) {
	enabled := true
	ps, err := h.svc.UserProjects(c.Ctx, c.Principal.UserID, identity.ProjectFilter{Enabled: &enabled})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "projects", views(c, ps, projectView))), nil
}

// authDomains answers GET /v3/auth/domains: the enabled domains the
// caller holds a role on.
func (h *handlers) authDomains(c *api.Call) (*api.Reply, error) {
	as, err := h.svc.ListAssignments(c.Ctx, identity.AssignmentFilter{UserID: c.Principal.UserID, Effective: true})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []obj
	for _, a := range as {
		if a.DomainID == "" || seen[a.DomainID] {
			continue
		}
		seen[a.DomainID] = true
		d, err := h.svc.GetDomain(c.Ctx, a.DomainID)
		if err != nil {
			return nil, err
		}
		if d.Enabled {
			out = append(out, domainView(c, d))
		}
	}
	return api.JSON(http.StatusOK, collection(c, "domains", out)), nil
}

// authSystem answers GET /v3/auth/system: the system, when the caller
// holds a role on it (directly or through a group).
func (h *handlers) authSystem(c *api.Call) (*api.Reply, error) {
	scopes := []obj{}
	has, err := h.svc.HasSystemRole(c.Ctx, c.Principal.UserID)
	if err != nil {
		return nil, err
	}
	if has {
		scopes = append(scopes, obj{"all": true})
	}
	return api.JSON(http.StatusOK, obj{"system": scopes, "links": obj{"self": v3(c) + "/auth/system"}}), nil
}
