package identity

import (
	"context"
	"errors"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
)

// PasswordAuth names a user and a password for the password method:
// by user id, or by name with the user's domain id or name.
type PasswordAuth struct {
	UserID     string
	UserName   string
	DomainID   string
	DomainName string
	Password   string
}

// ScopeRequest is what a token is asked to be scoped to. All empty means
// the user's default project, if any, unless Unscoped is set.
type ScopeRequest struct {
	ProjectID         string
	ProjectName       string
	ProjectDomainID   string
	ProjectDomainName string
	DomainID          string
	DomainName        string
	Unscoped          bool
	// TrustID asks for the scope of a trust (OS-TRUST:trust).
	TrustID string
	// System asks for the system scope (system: {all: true}).
	System bool
}

// AuthRequest is a POST /v3/auth/tokens body.
type AuthRequest struct {
	Methods  []string
	Password *PasswordAuth
	Token    string // the token method's token id
	AppCred  *AppCredAuth
	// OAuth1 is the signed request of the oauth1 method.
	OAuth1 *OAuthRequest
	Scope  ScopeRequest
	// ScopeGiven reports a scope in the request, which an application
	// credential may not ask for.
	ScopeGiven bool
}

// IssueToken authenticates req and returns a new token. Every failure to
// identify the user or reach the scope is the same 401.
func (s *Service) IssueToken(ctx context.Context, req AuthRequest) (*Token, error) {
	if len(req.Methods) == 0 {
		return nil, errs.Invalid("Invalid input for field 'identity/methods': [] is too short")
	}
	for _, m := range req.Methods {
		if m != "password" && m != "token" && m != "application_credential" && m != "oauth1" {
			return nil, errs.Unauthorized("Attempted to authenticate with an unsupported method.")
		}
	}
	if slices.Contains(req.Methods, "application_credential") {
		return s.issueAppCredToken(ctx, req)
	}
	if slices.Contains(req.Methods, "oauth1") {
		return s.issueOAuth1Token(ctx, req)
	}
	now := truncMicro(s.opts.now())
	t := &Token{IssuedAt: now}
	var user *User
	var chainID string
	switch {
	case slices.Contains(req.Methods, "password"):
		if req.Password == nil {
			return nil, errs.Invalid("Invalid input for field 'identity': 'password' is a required property")
		}
		u, err := s.checkPasswordAuth(ctx, *req.Password)
		if err != nil {
			return nil, err
		}
		user = u
		t.Methods = []string{"password"}
		t.ExpiresAt = now.Add(s.opts.TokenTTL)
	default:
		if req.Token == "" {
			return nil, errs.Invalid("Invalid input for field 'identity': 'token' is a required property")
		}
		orig, err := s.loadToken(ctx, s.db, tokenHash(req.Token))
		if errors.Is(err, errTokenInvalid) {
			return nil, notFound("token", req.Token)
		}
		if err != nil {
			return nil, err
		}
		if orig.OAuth1 != nil {
			return nil, errs.Forbidden("You are not authorized to perform the requested action: Using OAuth-scoped token to create another token. Create a new OAuth-scoped token instead.")
		}
		if orig.Trust != nil {
			// Keystone's token plugin refuses to re-scope a trust token.
			return nil, errs.Forbidden("You are not authorized to perform the requested action: rescope a trust token.")
		}
		u, err := getUser(ctx, s.db, orig.UserID)
		if err != nil {
			return nil, err
		}
		user = u
		t.Methods = mergeMethods("token", orig.Methods)
		// A re-scoped token lives no longer than the one it came from.
		t.ExpiresAt = orig.ExpiresAt
		chainID = orig.AuditIDs[len(orig.AuditIDs)-1]
		if orig.AppCred != nil {
			return s.renewAppCredToken(ctx, req, t, user, orig, chainID)
		}
	}
	t.UserID, t.UserName, t.UserDomainID = user.ID, user.Name, user.DomainID
	if req.Scope.TrustID != "" {
		ud, err := getDomain(ctx, s.db, user.DomainID)
		if err != nil {
			return nil, err
		}
		t.UserDomainName = ud.Name
		tr, err := s.scopeToTrust(ctx, t, user, req.Scope.TrustID)
		if err != nil {
			return nil, err
		}
		if err := s.consumeTrustUse(ctx, tr); err != nil {
			return nil, err
		}
	} else if err := s.scopeToken(ctx, t, user, req.Scope); err != nil {
		return nil, err
	}
	auditID := newAuditID()
	t.AuditIDs = []string{auditID}
	if chainID != "" {
		t.AuditIDs = append(t.AuditIDs, chainID)
	}
	if err := s.storeToken(ctx, t, auditID, chainID); err != nil {
		return nil, err
	}
	return t, nil
}

// checkPasswordAuth finds the user of a password method, checks the
// password (with lockout) and that the user and its domain are enabled.
// A user in another domain than the one named is no user at all.
func (s *Service) checkPasswordAuth(ctx context.Context, pa PasswordAuth) (*User, error) {
	if pa.UserID == "" && pa.UserName == "" {
		return nil, errs.Invalid("Invalid input for field 'identity/password/user': 'id' or 'name' is a required property")
	}
	var u *passwordUser
	var err error
	switch {
	case pa.UserID != "":
		u, err = s.verifyPassword(ctx, pa.Password, `u.id = ?`, pa.UserID)
	case pa.DomainID != "":
		u, err = s.verifyPassword(ctx, pa.Password, `u.name = ? AND u.domain_id = ?`, pa.UserName, pa.DomainID)
	case pa.DomainName != "":
		u, err = s.verifyPassword(ctx, pa.Password, `u.name = ? AND d.name = ?`, pa.UserName, pa.DomainName)
	default:
		return nil, errs.Invalid("Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if err != nil {
		return nil, err
	}
	if !u.domainEnabled {
		return nil, unauthorized()
	}
	return getUser(ctx, s.db, u.id)
}

// scopeToken resolves the requested scope, checks the user holds a role
// there, and fills the token's scope and roles.
func (s *Service) scopeToken(ctx context.Context, t *Token, user *User, sc ScopeRequest) error {
	ud, err := getDomain(ctx, s.db, user.DomainID)
	if err != nil {
		return err
	}
	t.UserDomainName = ud.Name
	switch {
	case sc.System:
		roles, err := s.rolesOn(ctx, t.UserID, "system", systemTarget)
		if err != nil {
			return err
		}
		if len(roles) == 0 {
			return unauthorized()
		}
		t.System, t.Roles = true, roles
		return nil
	case sc.ProjectID != "" || sc.ProjectName != "":
		p, err := s.resolveProject(ctx, sc)
		if err != nil {
			return err
		}
		return s.scopeToProject(ctx, t, p)
	case sc.DomainID != "" || sc.DomainName != "":
		var d *Domain
		if sc.DomainID != "" {
			d, err = getDomain(ctx, s.db, sc.DomainID)
		} else {
			d, err = getDomainByName(ctx, s.db, sc.DomainName)
		}
		if errs.Is(err, errs.KindNotFound) || (err == nil && !d.Enabled) {
			return unauthorized()
		}
		if err != nil {
			return err
		}
		roles, err := s.rolesOn(ctx, t.UserID, "domain", d.ID)
		if err != nil {
			return err
		}
		if len(roles) == 0 {
			return unauthorized()
		}
		t.DomainID, t.DomainName, t.Roles = d.ID, d.Name, roles
		return nil
	case !sc.Unscoped && user.DefaultProjectID != "":
		// Keystone scopes to a usable default project and silently
		// falls back to an unscoped token otherwise.
		p, err := getProject(ctx, s.db, user.DefaultProjectID)
		if errs.Is(err, errs.KindNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.scopeToProject(ctx, t, p); err != nil && !errs.Is(err, errs.KindUnauthorized) {
			return err
		}
		return nil
	}
	return nil
}

func (s *Service) resolveProject(ctx context.Context, sc ScopeRequest) (*Project, error) {
	var p *Project
	var err error
	switch {
	case sc.ProjectID != "":
		p, err = getProject(ctx, s.db, sc.ProjectID)
	case sc.ProjectDomainID != "":
		p, err = getProjectByName(ctx, s.db, sc.ProjectDomainID, sc.ProjectName)
	case sc.ProjectDomainName != "":
		var d *Domain
		d, err = getDomainByName(ctx, s.db, sc.ProjectDomainName)
		if err == nil {
			p, err = getProjectByName(ctx, s.db, d.ID, sc.ProjectName)
		}
	default:
		return nil, errs.Invalid("Expecting to find domain in project. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if errs.Is(err, errs.KindNotFound) {
		return nil, unauthorized()
	}
	return p, err
}

// scopeToProject scopes t to p when p and its domain are enabled and the
// user holds a role on p.
func (s *Service) scopeToProject(ctx context.Context, t *Token, p *Project) error {
	if !p.Enabled {
		return unauthorized()
	}
	d, err := getDomain(ctx, s.db, p.DomainID)
	if err != nil {
		return err
	}
	if !d.Enabled {
		return unauthorized()
	}
	roles, err := s.rolesOn(ctx, t.UserID, "project", p.ID)
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		return unauthorized()
	}
	t.ProjectID, t.ProjectName, t.ProjectDomainID, t.ProjectDomainName = p.ID, p.Name, d.ID, d.Name
	t.Roles = roles
	return nil
}

// rolesOn lists the id and name of the roles userID holds on a target,
// as a token carries them.
func (s *Service) rolesOn(ctx context.Context, userID, targetType, targetID string) ([]Role, error) {
	return effectiveRolesOn(ctx, s.db, userID, targetType, targetID)
}
