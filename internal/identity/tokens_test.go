package identity

import (
	"slices"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestPasswordAuthentication(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, "alice", "right")
		p := f.project(t, "p1")
		f.grant(t, p.ID, u.ID, "member")
		disabled := f.user(t, "bob", "right")
		f.grant(t, p.ID, disabled.ID, "member")
		if _, err := f.svc.UpdateUser(f.ctx, disabled.ID, UserPatch{Enabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			pa   PasswordAuth
			ok   bool
		}{
			{"by name and domain id", PasswordAuth{UserName: "alice", DomainID: "default", Password: "right"}, true},
			{"by name and domain name", PasswordAuth{UserName: "alice", DomainName: "Default", Password: "right"}, true},
			{"by id", PasswordAuth{UserID: u.ID, Password: "right"}, true},
			{"wrong password", PasswordAuth{UserID: u.ID, Password: "wrong"}, false},
			{"unknown user", PasswordAuth{UserName: "nobody", DomainID: "default", Password: "right"}, false},
			{"wrong domain", PasswordAuth{UserName: "alice", DomainName: "Other", Password: "right"}, false},
			{"disabled user", PasswordAuth{UserName: "bob", DomainID: "default", Password: "right"}, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				pa := tc.pa
				tok, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"}, Password: &pa})
				if !tc.ok {
					wantKind(t, err, errs.KindUnauthorized)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tok.UserID != u.ID || tok.UserDomainName != "Default" || tok.Scoped() {
					t.Errorf("token %+v, want unscoped token of alice", tok)
				}
				if len(tok.ID) < 43 || !slices.Equal(tok.Methods, []string{"password"}) || len(tok.AuditIDs) != 1 {
					t.Errorf("token id %q methods %v audit %v", tok.ID, tok.Methods, tok.AuditIDs)
				}
				if got := tok.ExpiresAt.Sub(tok.IssuedAt); got != time.Hour {
					t.Errorf("lifetime %v, want 1h", got)
				}
			})
		}
	})
}

func TestTokenScopes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, "alice", "pw")
		p := f.project(t, "p1")
		norole := f.project(t, "p2")
		off := f.project(t, "off")
		f.grant(t, p.ID, u.ID, "member")
		f.grant(t, off.ID, u.ID, "member")
		if _, err := f.svc.UpdateProject(f.ctx, off.ID, ProjectPatch{Enabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Grant(f.ctx, Target{Domain: DefaultDomainID}, u.ID, f.roleID(t, "reader")); err != nil {
			t.Fatal(err)
		}
		pw := &PasswordAuth{UserID: u.ID, Password: "pw"}
		tests := []struct {
			name        string
			scope       ScopeRequest
			wantProject string
			wantDomain  string
			wantRole    string
			ok          bool
		}{
			{"project id", ScopeRequest{ProjectID: p.ID}, p.ID, "", "member", true},
			{"project name and domain id", ScopeRequest{ProjectName: "p1", ProjectDomainID: "default"}, p.ID, "", "member", true},
			{"project name and domain name", ScopeRequest{ProjectName: "p1", ProjectDomainName: "Default"}, p.ID, "", "member", true},
			{"domain id", ScopeRequest{DomainID: "default"}, "", "default", "reader", true},
			{"domain name", ScopeRequest{DomainName: "Default"}, "", "default", "reader", true},
			{"unscoped", ScopeRequest{}, "", "", "", true},
			{"no role on project", ScopeRequest{ProjectID: norole.ID}, "", "", "", false},
			{"disabled project", ScopeRequest{ProjectID: off.ID}, "", "", "", false},
			{"unknown project", ScopeRequest{ProjectID: "nope"}, "", "", "", false},
			{"unknown domain", ScopeRequest{DomainName: "nope"}, "", "", "", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tok, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"}, Password: pw, Scope: tc.scope})
				if !tc.ok {
					wantKind(t, err, errs.KindUnauthorized)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tok.ProjectID != tc.wantProject || tok.DomainID != tc.wantDomain {
					t.Errorf("scope project %q domain %q, want %q %q", tok.ProjectID, tok.DomainID, tc.wantProject, tc.wantDomain)
				}
				if got, want := roleNames(tok.Roles), expandNames([]string{tc.wantRole}); tc.wantRole != "" && !slices.Equal(got, want) {
					t.Errorf("roles %v, want %v", got, want)
				}
				pr, err := f.svc.Authenticate(f.ctx, tok.ID)
				if err != nil {
					t.Fatal(err)
				}
				if pr.ProjectID != tc.wantProject || pr.DomainID != tc.wantDomain || pr.UserID != u.ID {
					t.Errorf("principal %+v", pr)
				}
			})
		}
	})
}

func TestDefaultProjectScope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.project(t, "home")
		pw := "pw"
		u, err := f.svc.CreateUser(f.ctx, User{Name: "carol", Enabled: true, DefaultProjectID: p.ID}, &pw)
		if err != nil {
			t.Fatal(err)
		}
		req := AuthRequest{Methods: []string{"password"}, Password: &PasswordAuth{UserID: u.ID, Password: pw}}
		// Without a role on the default project the token is unscoped.
		tok, err := f.svc.IssueToken(f.ctx, req)
		if err != nil || tok.Scoped() {
			t.Fatalf("token %+v err %v, want unscoped", tok, err)
		}
		f.grant(t, p.ID, u.ID, "member")
		tok, err = f.svc.IssueToken(f.ctx, req)
		if err != nil || tok.ProjectID != p.ID {
			t.Fatalf("token %+v err %v, want scoped to default project", tok, err)
		}
		req.Scope.Unscoped = true
		tok, err = f.svc.IssueToken(f.ctx, req)
		if err != nil || tok.Scoped() {
			t.Fatalf("explicitly unscoped token %+v err %v", tok, err)
		}
	})
}

func TestTokenMethodKeepsExpiry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		unscoped, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"},
			Password: &PasswordAuth{UserName: "admin", DomainName: "Default", Password: "secret"}})
		if err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(10 * time.Minute)
		scoped, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"token"}, Token: unscoped.ID,
			Scope: ScopeRequest{ProjectName: "admin", ProjectDomainID: "default"}})
		if err != nil {
			t.Fatal(err)
		}
		if !scoped.ExpiresAt.Equal(unscoped.ExpiresAt) {
			t.Errorf("re-scoped expires %v, want %v", scoped.ExpiresAt, unscoped.ExpiresAt)
		}
		if !slices.Equal(scoped.Methods, []string{"token", "password"}) {
			t.Errorf("methods %v, want [token password]", scoped.Methods)
		}
		if len(scoped.AuditIDs) != 2 || scoped.AuditIDs[1] != unscoped.AuditIDs[0] {
			t.Errorf("audit ids %v, want [new %s]", scoped.AuditIDs, unscoped.AuditIDs[0])
		}
		if scoped.ProjectID != f.adminProject || scoped.ID == unscoped.ID {
			t.Errorf("scoped token %+v", scoped)
		}
		_, err = f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"token"}, Token: "bogus"})
		wantKind(t, err, errs.KindNotFound)
	})
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.svc.opts.TokenTTL = time.Second
		tok := f.passwordToken(t, "admin", "secret", f.adminProject)
		if _, err := f.svc.Authenticate(f.ctx, tok.ID); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
		f.now = f.now.Add(time.Second)
		_, err := f.svc.Authenticate(f.ctx, tok.ID)
		wantKind(t, err, errs.KindUnauthorized)
		_, err = f.svc.ValidateToken(f.ctx, tok.ID)
		wantKind(t, err, errs.KindNotFound)
		n, err := f.svc.PurgeExpired(f.ctx)
		if err != nil || n != 1 {
			t.Errorf("purged %d, %v; want 1", n, err)
		}
	})
}

func TestTokenRevocation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.project(t, "p1")
		tests := []struct {
			name   string
			revoke func(t *testing.T, u *User, tok *Token) error
		}{
			{"explicit revoke", func(t *testing.T, u *User, tok *Token) error { return f.svc.RevokeToken(f.ctx, tok.ID) }},
			{"user deleted", func(t *testing.T, u *User, tok *Token) error { return f.svc.DeleteUser(f.ctx, u.ID) }},
			{"user disabled", func(t *testing.T, u *User, tok *Token) error {
				_, err := f.svc.UpdateUser(f.ctx, u.ID, UserPatch{Enabled: ptr(false)})
				return err
			}},
			{"password changed by admin", func(t *testing.T, u *User, tok *Token) error {
				_, err := f.svc.UpdateUser(f.ctx, u.ID, UserPatch{Password: ptr("new")})
				return err
			}},
			{"password changed by user", func(t *testing.T, u *User, tok *Token) error {
				return f.svc.ChangePassword(f.ctx, u.ID, "pw", "new")
			}},
			{"role removed", func(t *testing.T, u *User, tok *Token) error {
				return f.svc.RevokeGrant(f.ctx, Target{Project: p.ID}, u.ID, f.roleID(t, "member"))
			}},
			{"project disabled", func(t *testing.T, u *User, tok *Token) error {
				_, err := f.svc.UpdateProject(f.ctx, p.ID, ProjectPatch{Enabled: ptr(false)})
				if err == nil {
					t.Cleanup(func() { _, _ = f.svc.UpdateProject(f.ctx, p.ID, ProjectPatch{Enabled: ptr(true)}) })
				}
				return err
			}},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				name := "user" + string(rune('a'+i))
				u := f.user(t, name, "pw")
				f.grant(t, p.ID, u.ID, "member")
				tok := f.passwordToken(t, name, "pw", p.ID)
				if _, err := f.svc.Authenticate(f.ctx, tok.ID); err != nil {
					t.Fatalf("before: %v", err)
				}
				if err := tc.revoke(t, u, tok); err != nil {
					t.Fatal(err)
				}
				_, err := f.svc.Authenticate(f.ctx, tok.ID)
				wantKind(t, err, errs.KindUnauthorized)
				_, err = f.svc.ValidateToken(f.ctx, tok.ID)
				wantKind(t, err, errs.KindNotFound)
			})
		}
	})
}

func TestChangePasswordNeedsOriginal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, "dave", "old")
		wantKind(t, f.svc.ChangePassword(f.ctx, u.ID, "wrong", "new"), errs.KindUnauthorized)
		if err := f.svc.ChangePassword(f.ctx, u.ID, "old", "new"); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"}, Password: &PasswordAuth{UserID: u.ID, Password: "old"}})
		wantKind(t, err, errs.KindUnauthorized)
		if _, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"password"}, Password: &PasswordAuth{UserID: u.ID, Password: "new"}}); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})
}

func TestAuthenticateRoles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, "erin", "pw")
		p1, p2 := f.project(t, "p1"), f.project(t, "p2")
		f.grant(t, p1.ID, u.ID, "member")
		f.grant(t, p1.ID, u.ID, "reader")
		f.grant(t, p2.ID, u.ID, "admin")
		tok := f.passwordToken(t, "erin", "pw", p1.ID)
		pr, err := f.svc.Authenticate(f.ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(pr.Roles)
		// Admin on another project does not leak into this scope.
		if !slices.Equal(pr.Roles, []string{"member", "reader"}) || pr.IsAdmin() {
			t.Errorf("roles %v, want [member reader]", pr.Roles)
		}
		if pr.ProjectName != "p1" || pr.UserName != "erin" || pr.UserDomain != DefaultDomainID || !pr.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Errorf("principal %+v", pr)
		}
		// A new grant shows up at once.
		f.grant(t, p1.ID, u.ID, "admin")
		pr, err = f.svc.Authenticate(f.ctx, tok.ID)
		if err != nil || !pr.IsAdmin() {
			t.Errorf("after grant: %+v %v", pr, err)
		}
		_, err = f.svc.Authenticate(f.ctx, "not-a-token")
		wantKind(t, err, errs.KindUnauthorized)
	})
}
