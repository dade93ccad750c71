// Package auth defines who is calling: the Principal a validated token
// stands for, and the Authenticator that turns a token into one.
package auth

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
)

// Principal is the identity and scope behind a request's token.
type Principal struct {
	UserID      string
	UserName    string
	UserDomain  string
	ProjectID   string // "" for unscoped or domain-scoped tokens
	ProjectName string
	// ProjectDomainID is the domain of the scoped project.
	ProjectDomainID string
	DomainID        string // domain scope, if any
	// System is set for a system-scoped token.
	System    bool
	Roles     []string
	ExpiresAt time.Time
	// AppCred is set when the token was issued from an application
	// credential.
	AppCred *AppCredential
	// Delegated reports a token issued through a trust or an OAuth1
	// access token (Keystone's is_delegated_auth).
	Delegated bool
}

// IsAdmin reports whether the principal holds the admin role.
func (p *Principal) IsAdmin() bool { return p != nil && slices.Contains(p.Roles, "admin") }

// HasRole reports whether the principal holds role.
func (p *Principal) HasRole(role string) bool { return p != nil && slices.Contains(p.Roles, role) }

// Authenticator validates a token.
type Authenticator interface {
	// Authenticate returns the principal for token or an Unauthorized error.
	Authenticate(ctx context.Context, token string) (*Principal, error)
}

// NoAuth trusts tokens of the form "user:project", like Nova's noauth2:
// the user "admin" gets the admin role, "reader" only the reader role,
// "manager" the manager role (Nova's project manager) on top of member,
// anyone else member and reader. For tests and development only.
type NoAuth struct{}

// Authenticate implements Authenticator.
func (NoAuth) Authenticate(_ context.Context, token string) (*Principal, error) {
	user, project, ok := strings.Cut(token, ":")
	if !ok || user == "" || project == "" {
		return nil, errs.Unauthorized("The request you have made requires authentication.")
	}
	roles := []string{"member", "reader"}
	switch user {
	case "admin":
		roles = append(roles, "admin")
	case "manager":
		roles = append(roles, "manager")
	case "reader":
		roles = []string{"reader"}
	}
	return &Principal{
		UserID: user, UserName: user, UserDomain: "default",
		ProjectID: project, ProjectName: project, ProjectDomainID: "default", Roles: roles,
		ExpiresAt: time.Now().Add(time.Hour),
	}, nil
}

type principalKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored in ctx, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
