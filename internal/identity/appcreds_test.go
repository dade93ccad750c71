package identity

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// appCredFixture is alice, member and reader on p1, with a principal of
// a password token scoped to p1.
type appCredFixture struct {
	*fixture
	alice  *User
	p1     *Project
	caller *auth.Principal
}

func newAppCredFixture(t *testing.T, db *store.DB) *appCredFixture {
	t.Helper()
	f := &appCredFixture{fixture: newFixture(t, db)}
	f.alice, f.p1 = f.user(t, "alice", "pw"), f.project(t, "p1")
	f.grant(t, f.p1.ID, f.alice.ID, "member")
	f.grant(t, f.p1.ID, f.alice.ID, "reader")
	f.caller = f.principal(t, f.passwordToken(t, "alice", "pw", f.p1.ID).ID)
	return f
}

func (f *appCredFixture) principal(t *testing.T, token string) *auth.Principal {
	t.Helper()
	p, err := f.svc.Authenticate(f.ctx, token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

func (f *appCredFixture) create(t *testing.T, req AppCredCreate) *ApplicationCredential {
	t.Helper()
	ac, err := f.svc.CreateApplicationCredential(f.ctx, f.caller, req)
	if err != nil {
		t.Fatalf("create application credential %s: %v", req.Name, err)
	}
	return ac
}

func (f *appCredFixture) appCredToken(ac AppCredAuth) (*Token, error) {
	return f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"application_credential"}, AppCred: &ac})
}

func sortedRoleNames(roles []Role) []string {
	var out []string
	for _, r := range roles {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

var generatedSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{86}$`)

func TestCreateApplicationCredential(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAppCredFixture(t, db)
		memberID := f.roleID(t, "member")
		expires := f.now.Add(time.Hour + 1500*time.Nanosecond)
		cases := []struct {
			name        string
			req         AppCredCreate
			roles       []string
			secret      string // "": generated
			description *string
		}{
			{"every role of the token by default", AppCredCreate{Name: "all"}, []string{"member", "reader"}, "", nil},
			{"a role by name", AppCredCreate{Name: "by-name", Roles: []RoleRef{{Name: "reader"}}}, []string{"reader"}, "", nil},
			{"a role by id, given secret and description", AppCredCreate{Name: "by-id", Roles: []RoleRef{{ID: memberID}},
				Secret: "s3cret", Description: ptr("backups")}, []string{"member"}, "s3cret", ptr("backups")},
			{"a role named twice", AppCredCreate{Name: "twice", Roles: []RoleRef{{ID: memberID}, {Name: "member"}}}, []string{"member"}, "", nil},
			{"expiring, unrestricted", AppCredCreate{Name: "exp", ExpiresAt: &expires, Unrestricted: true}, []string{"member", "reader"}, "", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ac := f.create(t, tc.req)
				if !hex32.MatchString(ac.ID) || ac.UserID != f.alice.ID || ac.ProjectID != f.p1.ID || ac.Name != tc.req.Name ||
					ac.Unrestricted != tc.req.Unrestricted {
					t.Errorf("created %+v", ac)
				}
				if got := sortedRoleNames(ac.Roles); !slices.Equal(got, tc.roles) {
					t.Errorf("roles %v, want %v", got, tc.roles)
				}
				if tc.secret != "" && ac.Secret != tc.secret || tc.secret == "" && !generatedSecret.MatchString(ac.Secret) {
					t.Errorf("secret %q", ac.Secret)
				}
				if (ac.Description == nil) != (tc.description == nil) || ac.Description != nil && *ac.Description != *tc.description {
					t.Errorf("description %v, want %v", ac.Description, tc.description)
				}
				// The secret is kept only as a hash, and never read back.
				var hash string
				if err := db.QueryRowContext(f.ctx, `SELECT secret_hash FROM application_credentials WHERE id = ?`, ac.ID).Scan(&hash); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(hash, "$2") || strings.Contains(hash, ac.Secret) {
					t.Errorf("stored %q for secret %q", hash, ac.Secret)
				}
				got, err := f.svc.GetApplicationCredential(f.ctx, ac.ID)
				if err != nil || got.Secret != "" || !slices.Equal(sortedRoleNames(got.Roles), tc.roles) {
					t.Errorf("get = %+v, %v", got, err)
				}
				if tc.req.ExpiresAt != nil && (got.ExpiresAt == nil || !got.ExpiresAt.Equal(tc.req.ExpiresAt.Truncate(time.Microsecond))) {
					t.Errorf("expires_at %v, want %v", got.ExpiresAt, tc.req.ExpiresAt)
				}
			})
		}

		f.grant(t, f.adminProject, f.alice.ID, "admin") // held elsewhere: not in the token
		past := f.now.Add(-time.Second)
		errorCases := []struct {
			name    string
			req     AppCredCreate
			kind    errs.Kind
			message string
		}{
			{"name taken", AppCredCreate{Name: "all"}, errs.KindConflict,
				"Conflict occurred attempting to store application_credential - Duplicate entry."},
			{"no name", AppCredCreate{}, errs.KindInvalid, "Invalid input for field 'name': '' is too short"},
			{"expired", AppCredCreate{Name: "old", ExpiresAt: &past}, errs.KindInvalid,
				"The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
			{"a role not in the token", AppCredCreate{Name: "esc", Roles: []RoleRef{{Name: "admin"}}}, errs.KindInvalid,
				"Invalid application credential: Cannot create an application credential with unassigned role"},
			{"an unknown role name", AppCredCreate{Name: "unk", Roles: []RoleRef{{Name: "nope"}}}, errs.KindNotFound, "Could not find role: nope."},
			{"a new access rule without a method", AppCredCreate{Name: "rule", AccessRules: []auth.AccessRule{{Service: "compute", Path: "/v2.1/servers"}}},
				errs.KindInvalid, ""},
		}
		for _, tc := range errorCases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.CreateApplicationCredential(f.ctx, f.caller, tc.req)
				wantKind(t, err, tc.kind)
				if tc.message != "" && errs.Message(err) != tc.message {
					t.Errorf("message %q, want %q", errs.Message(err), tc.message)
				}
			})
		}

		list, err := f.svc.ListApplicationCredentials(f.ctx, f.alice.ID, "")
		if err != nil || len(list) != len(cases) {
			t.Fatalf("list: %d, %v; want %d", len(list), err, len(cases))
		}
		named, err := f.svc.ListApplicationCredentials(f.ctx, f.alice.ID, "by-id")
		if err != nil || len(named) != 1 || named[0].Name != "by-id" {
			t.Errorf("list by name: %+v, %v", named, err)
		}
	})
}

func TestApplicationCredentialAuth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAppCredFixture(t, db)
		expires := f.now.Add(30 * time.Minute)
		ac := f.create(t, AppCredCreate{Name: "ci", Roles: []RoleRef{{Name: "member"}}, ExpiresAt: &expires})

		ok := []struct {
			name string
			req  AppCredAuth
		}{
			{"by id", AppCredAuth{ID: ac.ID, Secret: ac.Secret}},
			// A user given with an id is ignored (LP#2148477).
			{"by id with another user", AppCredAuth{ID: ac.ID, Secret: ac.Secret, UserGiven: true, UserID: "someone-else"}},
			{"by name and user id", AppCredAuth{Name: "ci", Secret: ac.Secret, UserGiven: true, UserID: f.alice.ID}},
			{"by name, user name and domain id", AppCredAuth{Name: "ci", Secret: ac.Secret, UserGiven: true, UserName: "alice", DomainID: DefaultDomainID}},
			{"by name, user name and domain name", AppCredAuth{Name: "ci", Secret: ac.Secret, UserGiven: true, UserName: "alice", DomainName: "Default"}},
		}
		for _, tc := range ok {
			t.Run(tc.name, func(t *testing.T) {
				tok, err := f.appCredToken(tc.req)
				if err != nil {
					t.Fatal(err)
				}
				if tok.UserID != f.alice.ID || tok.ProjectID != f.p1.ID || !slices.Equal(sortedRoleNames(tok.Roles), []string{"member"}) ||
					!slices.Equal(tok.Methods, []string{"application_credential"}) || tok.AppCred == nil || tok.AppCred.ID != ac.ID ||
					tok.AppCred.Name != "ci" || tok.AppCred.Unrestricted {
					t.Errorf("token %+v (app cred %+v)", tok, tok.AppCred)
				}
				// Never longer-lived than the credential (CVE-2022-2447).
				if !tok.ExpiresAt.Equal(expires) {
					t.Errorf("token expires %v, want %v", tok.ExpiresAt, expires)
				}
				p := f.principal(t, tok.ID)
				if !slices.Equal(p.Roles, []string{"member"}) || !p.Restricted() || p.AppCred.ID != ac.ID {
					t.Errorf("principal %+v", p)
				}
			})
		}

		errorCases := []struct {
			name    string
			req     AuthRequest
			kind    errs.Kind
			message string
		}{
			{"wrong secret", AuthRequest{AppCred: &AppCredAuth{ID: ac.ID, Secret: "nope"}}, errs.KindUnauthorized, "Invalid application credential ID or secret"},
			{"unknown id", AuthRequest{AppCred: &AppCredAuth{ID: "missing", Secret: "x"}}, errs.KindNotFound, "Could not find Application Credential: missing."},
			{"unknown name", AuthRequest{AppCred: &AppCredAuth{Name: "nope", Secret: "x", UserGiven: true, UserID: f.alice.ID}},
				errs.KindUnauthorized, "Could not find application credential: nope"},
			{"name without a user", AuthRequest{AppCred: &AppCredAuth{Name: "ci", Secret: ac.Secret}}, errs.KindInvalid, ""},
			{"a scope asked for", AuthRequest{AppCred: &AppCredAuth{ID: ac.ID, Secret: ac.Secret}, ScopeGiven: true,
				Scope: ScopeRequest{ProjectID: f.adminProject}}, errs.KindUnauthorized, ""},
			{"with another method", AuthRequest{Methods: []string{"application_credential", "password"},
				AppCred: &AppCredAuth{ID: ac.ID, Secret: ac.Secret}}, errs.KindUnauthorized, ""},
		}
		for _, tc := range errorCases {
			t.Run(tc.name, func(t *testing.T) {
				if tc.req.Methods == nil {
					tc.req.Methods = []string{"application_credential"}
				}
				_, err := f.svc.IssueToken(f.ctx, tc.req)
				wantKind(t, err, tc.kind)
				if tc.message != "" && errs.Message(err) != tc.message {
					t.Errorf("message %q, want %q", errs.Message(err), tc.message)
				}
			})
		}

		// A token from the credential's token keeps its bounds: no scope,
		// same project, roles and credential.
		tok, err := f.appCredToken(AppCredAuth{ID: ac.ID, Secret: ac.Secret})
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"token"}, Token: tok.ID})
		if err != nil || again.AppCred == nil || again.ProjectID != f.p1.ID || !slices.Equal(sortedRoleNames(again.Roles), []string{"member"}) ||
			!slices.Equal(again.Methods, []string{"token", "application_credential"}) {
			t.Errorf("token from token: %+v, %v", again, err)
		}
		_, err = f.svc.IssueToken(f.ctx, AuthRequest{Methods: []string{"token"}, Token: tok.ID, ScopeGiven: true, Scope: ScopeRequest{ProjectID: f.p1.ID}})
		wantKind(t, err, errs.KindForbidden)

		// The user loses the role: its tokens are dead, and no new one.
		if err := f.svc.RevokeGrant(f.ctx, Target{Project: f.p1.ID}, f.alice.ID, f.roleID(t, "member")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(f.ctx, tok.ID); !errs.Is(err, errs.KindUnauthorized) {
			t.Errorf("token after the role went: %v, want 401", err)
		}
		_, err = f.appCredToken(AppCredAuth{ID: ac.ID, Secret: ac.Secret})
		wantKind(t, err, errs.KindUnauthorized)

		// Expired: 401.
		f.grant(t, f.p1.ID, f.alice.ID, "member")
		if _, err := f.appCredToken(AppCredAuth{ID: ac.ID, Secret: ac.Secret}); err != nil {
			t.Fatalf("after the role is back: %v", err)
		}
		f.now = expires
		_, err = f.appCredToken(AppCredAuth{ID: ac.ID, Secret: ac.Secret})
		wantKind(t, err, errs.KindUnauthorized)
	})
}

func TestApplicationCredentialLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAppCredFixture(t, db)
		ac := f.create(t, AppCredCreate{Name: "gone"})
		tok, err := f.appCredToken(AppCredAuth{ID: ac.ID, Secret: ac.Secret})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteApplicationCredential(f.ctx, ac.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(f.ctx, tok.ID); !errs.Is(err, errs.KindUnauthorized) {
			t.Errorf("token of a deleted credential: %v, want 401", err)
		}
		_, err = f.appCredToken(AppCredAuth{ID: ac.ID, Secret: ac.Secret})
		wantKind(t, err, errs.KindNotFound)
		wantKind(t, f.svc.DeleteApplicationCredential(f.ctx, ac.ID), errs.KindNotFound)

		// A deleted role takes the credentials of its holders on their
		// projects with it, as Keystone's notification does.
		custom, err := f.svc.CreateRole(f.ctx, Role{Name: "custom"})
		if err != nil {
			t.Fatal(err)
		}
		f.grant(t, f.p1.ID, f.alice.ID, "custom")
		f.caller = f.principal(t, f.passwordToken(t, "alice", "pw", f.p1.ID).ID)
		onP1 := f.create(t, AppCredCreate{Name: "on-p1", Roles: []RoleRef{{Name: "reader"}}})
		if err := f.svc.DeleteRole(f.ctx, custom.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetApplicationCredential(f.ctx, onP1.ID)
		wantKind(t, err, errs.KindNotFound)

		// A deleted user takes its credentials and access rules.
		kept := f.create(t, AppCredCreate{Name: "kept", AccessRules: []auth.AccessRule{{Service: "compute", Path: "/v2.1/servers", Method: "GET"}}})
		if err := f.svc.DeleteUser(f.ctx, f.alice.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetApplicationCredential(f.ctx, kept.ID)
		wantKind(t, err, errs.KindNotFound)
		rules, err := f.svc.ListAccessRules(f.ctx, f.alice.ID, AccessRuleFilter{})
		if err != nil || len(rules) != 0 {
			t.Errorf("access rules of a deleted user: %v, %v", rules, err)
		}
	})
}

func TestAccessRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newAppCredFixture(t, db)
		servers := auth.AccessRule{Service: "compute", Path: "/v2.1/servers", Method: "GET"}
		images := auth.AccessRule{Service: "image", Path: "/v2/images/*", Method: "GET"}
		first := f.create(t, AppCredCreate{Name: "first", AccessRules: []auth.AccessRule{servers, images}})
		if len(first.AccessRules) != 2 || first.AccessRules[0].Path != servers.Path || first.AccessRules[1].Path != images.Path {
			t.Fatalf("rules %+v", first.AccessRules)
		}
		// An identical rule, and a rule by id, are the existing ones.
		second := f.create(t, AppCredCreate{Name: "second", AccessRules: []auth.AccessRule{servers, {ID: first.AccessRules[1].ID}}})
		if second.AccessRules[0].ID != first.AccessRules[0].ID || second.AccessRules[1] != first.AccessRules[1] {
			t.Errorf("second's rules %+v, want first's %+v", second.AccessRules, first.AccessRules)
		}
		all, err := f.svc.ListAccessRules(f.ctx, f.alice.ID, AccessRuleFilter{})
		if err != nil || len(all) != 2 {
			t.Fatalf("list: %+v, %v", all, err)
		}
		filtered, err := f.svc.ListAccessRules(f.ctx, f.alice.ID, AccessRuleFilter{Service: "image"})
		if err != nil || len(filtered) != 1 || filtered[0] != first.AccessRules[1] {
			t.Errorf("list service=image: %+v, %v", filtered, err)
		}

		// Another user's rules are not theirs to see, reuse or delete.
		bob := f.user(t, "bob", "pw")
		f.grant(t, f.p1.ID, bob.ID, "member")
		_, err = f.svc.GetAccessRule(f.ctx, bob.ID, all[0].ID)
		wantKind(t, err, errs.KindNotFound)
		wantKind(t, f.svc.DeleteAccessRule(f.ctx, bob.ID, all[0].ID), errs.KindNotFound)
		f.caller = f.principal(t, f.passwordToken(t, "bob", "pw", f.p1.ID).ID)
		bobs := f.create(t, AppCredCreate{Name: "bobs", AccessRules: []auth.AccessRule{{ID: all[0].ID, Service: "compute", Path: "/v2.1/flavors", Method: "GET"}}})
		if bobs.AccessRules[0].ID == all[0].ID || bobs.AccessRules[0].Path != "/v2.1/flavors" {
			t.Errorf("bob's rule %+v reuses alice's %+v", bobs.AccessRules[0], all[0])
		}

		// In use: 403; once its credentials are gone it may go.
		err = f.svc.DeleteAccessRule(f.ctx, f.alice.ID, all[0].ID)
		wantKind(t, err, errs.KindForbidden)
		for _, id := range []string{first.ID, second.ID} {
			if err := f.svc.DeleteApplicationCredential(f.ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.DeleteAccessRule(f.ctx, f.alice.ID, all[0].ID); err != nil {
			t.Errorf("delete unused rule: %v", err)
		}
		_, err = f.svc.GetAccessRule(f.ctx, f.alice.ID, all[0].ID)
		wantKind(t, err, errs.KindNotFound)
	})
}
