package identity

import (
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestUniqueNames(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d, err := f.svc.CreateDomain(f.ctx, Domain{Name: "other", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			create func() error
			ok     bool
		}{
			{"project twice in a domain", func() error {
				_, err := f.svc.CreateProject(f.ctx, Project{Name: "admin", DomainID: DefaultDomainID})
				return err
			}, false},
			{"same project name in another domain", func() error {
				_, err := f.svc.CreateProject(f.ctx, Project{Name: "admin", DomainID: d.ID})
				return err
			}, true},
			{"user twice in a domain", func() error {
				_, err := f.svc.CreateUser(f.ctx, User{Name: "admin"}, nil)
				return err
			}, false},
			{"same user name in another domain", func() error {
				_, err := f.svc.CreateUser(f.ctx, User{Name: "admin", DomainID: d.ID}, nil)
				return err
			}, true},
			{"role twice", func() error {
				_, err := f.svc.CreateRole(f.ctx, Role{Name: "member"})
				return err
			}, false},
			{"domain twice", func() error {
				_, err := f.svc.CreateDomain(f.ctx, Domain{Name: "Default"})
				return err
			}, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.create()
				if tc.ok {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantKind(t, err, errs.KindConflict)
			})
		}
		p := f.project(t, "renamed")
		_, err = f.svc.UpdateProject(f.ctx, p.ID, ProjectPatch{Name: ptr("admin")})
		wantKind(t, err, errs.KindConflict)
	})
}

func TestDeleteProjectCascades(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, "frank", "pw")
		p := f.project(t, "doomed")
		f.grant(t, p.ID, u.ID, "member")
		tok := f.passwordToken(t, "frank", "pw", p.ID)
		child, err := f.svc.CreateProject(f.ctx, Project{Name: "child", ParentID: p.ID, Enabled: true})
		if err != nil || child.DomainID != DefaultDomainID || child.ParentID != p.ID {
			t.Fatalf("child %+v %v", child, err)
		}
		wantKind(t, f.svc.DeleteProject(f.ctx, p.ID), errs.KindForbidden)
		if err := f.svc.DeleteProject(f.ctx, child.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteProject(f.ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		as, err := f.svc.ListAssignments(f.ctx, AssignmentFilter{UserID: u.ID})
		if err != nil || len(as) != 0 {
			t.Errorf("assignments after delete: %v %v", as, err)
		}
		_, err = f.svc.Authenticate(f.ctx, tok.ID)
		wantKind(t, err, errs.KindUnauthorized)
		_, err = f.svc.GetProject(f.ctx, p.ID)
		wantKind(t, err, errs.KindNotFound)
		wantKind(t, f.svc.DeleteProject(f.ctx, p.ID), errs.KindNotFound)
	})
}

func TestDeleteDomainOnlyWhenDisabled(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d, err := f.svc.CreateDomain(f.ctx, Domain{Name: "tmp", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateProject(f.ctx, Project{Name: "p", DomainID: d.ID, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateUser(f.ctx, User{Name: "u", DomainID: d.ID, Enabled: true}, nil); err != nil {
			t.Fatal(err)
		}
		wantKind(t, f.svc.DeleteDomain(f.ctx, d.ID), errs.KindForbidden)
		if _, err := f.svc.UpdateDomain(f.ctx, d.ID, DomainPatch{Enabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteDomain(f.ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		ps, _ := f.svc.ListProjects(f.ctx, ProjectFilter{DomainID: d.ID})
		us, _ := f.svc.ListUsers(f.ctx, UserFilter{DomainID: d.ID})
		if len(ps) != 0 || len(us) != 0 {
			t.Errorf("left behind: projects %v users %v", ps, us)
		}
	})
}

func TestAssignments(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, "gina", "pw")
		p := f.project(t, "p1")
		member := f.roleID(t, "member")
		target := Target{Project: p.ID}
		wantKind(t, f.svc.CheckGrant(f.ctx, target, u.ID, member), errs.KindNotFound)
		for range 2 { // granting twice is fine
			if err := f.svc.Grant(f.ctx, target, u.ID, member); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.CheckGrant(f.ctx, target, u.ID, member); err != nil {
			t.Fatal(err)
		}
		roles, err := f.svc.GrantedRoles(f.ctx, target, u.ID)
		if err != nil || len(roles) != 1 || roles[0].Name != "member" {
			t.Errorf("granted roles %v %v", roles, err)
		}
		as, err := f.svc.ListAssignments(f.ctx, AssignmentFilter{UserID: u.ID, Names: true})
		if err != nil || len(as) != 1 {
			t.Fatalf("assignments %v %v", as, err)
		}
		a := as[0]
		if a.ProjectID != p.ID || a.RoleName != "member" || a.UserName != "gina" || a.ScopeName != "p1" || a.ScopeDomainName != "Default" {
			t.Errorf("assignment %+v", a)
		}
		projects, err := f.svc.UserProjects(f.ctx, u.ID, ProjectFilter{})
		if err != nil || len(projects) != 1 || projects[0].ID != p.ID {
			t.Errorf("user projects %v %v", projects, err)
		}
		wantKind(t, f.svc.Grant(f.ctx, Target{Project: "nope"}, u.ID, member), errs.KindNotFound)
		wantKind(t, f.svc.Grant(f.ctx, target, "nope", member), errs.KindNotFound)
		wantKind(t, f.svc.Grant(f.ctx, target, u.ID, "nope"), errs.KindNotFound)
		// Deleting the role removes its assignments.
		r, err := f.svc.CreateRole(f.ctx, Role{Name: "temp"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Grant(f.ctx, target, u.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteRole(f.ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		as, _ = f.svc.ListAssignments(f.ctx, AssignmentFilter{RoleID: r.ID})
		if len(as) != 0 {
			t.Errorf("assignments of deleted role: %v", as)
		}
		if err := f.svc.RevokeGrant(f.ctx, target, u.ID, member); err != nil {
			t.Fatal(err)
		}
		wantKind(t, f.svc.RevokeGrant(f.ctx, target, u.ID, member), errs.KindNotFound)
	})
}

func TestDisabledDomainBlocksItsUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d, err := f.svc.CreateDomain(f.ctx, Domain{Name: "corp", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		pw := "pw"
		u, err := f.svc.CreateUser(f.ctx, User{Name: "henry", DomainID: d.ID, Enabled: true}, &pw)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Grant(f.ctx, Target{Domain: d.ID}, u.ID, f.roleID(t, "member")); err != nil {
			t.Fatal(err)
		}
		req := AuthRequest{Methods: []string{"password"},
			Password: &PasswordAuth{UserName: "henry", DomainName: "corp", Password: pw},
			Scope:    ScopeRequest{DomainName: "corp"}}
		tok, err := f.svc.IssueToken(f.ctx, req)
		if err != nil || tok.DomainID != d.ID {
			t.Fatalf("domain token %+v %v", tok, err)
		}
		if _, err := f.svc.UpdateDomain(f.ctx, d.ID, DomainPatch{Enabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(f.ctx, tok.ID)
		wantKind(t, err, errs.KindUnauthorized)
		_, err = f.svc.IssueToken(f.ctx, req)
		wantKind(t, err, errs.KindUnauthorized)
		req.Scope = ScopeRequest{}
		_, err = f.svc.IssueToken(f.ctx, req)
		wantKind(t, err, errs.KindUnauthorized)
	})
}

// TestNameLengths checks Keystone's schema limits on names: 64 characters
// for domains and projects (the resource schema), 255 for users, groups
// and roles (parameter_types.name), counted in characters, not bytes.
func TestNameLengths(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		upd := f.project(t, "to-rename")
		updDomain, err := f.svc.CreateDomain(f.ctx, Domain{Name: "to-rename", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		kinds := []struct {
			name string
			max  int
			set  func(name string) error
		}{
			{"create domain", 64, func(n string) error {
				_, err := f.svc.CreateDomain(f.ctx, Domain{Name: n, Enabled: true})
				return err
			}},
			{"update domain", 64, func(n string) error {
				_, err := f.svc.UpdateDomain(f.ctx, updDomain.ID, DomainPatch{Name: &n})
				return err
			}},
			{"create project", 64, func(n string) error {
				_, err := f.svc.CreateProject(f.ctx, Project{Name: n, DomainID: DefaultDomainID})
				return err
			}},
			{"update project", 64, func(n string) error {
				_, err := f.svc.UpdateProject(f.ctx, upd.ID, ProjectPatch{Name: &n})
				return err
			}},
			{"create user", 255, func(n string) error {
				_, err := f.svc.CreateUser(f.ctx, User{Name: n, DomainID: DefaultDomainID, Enabled: true}, nil)
				return err
			}},
			{"create group", 255, func(n string) error {
				_, err := f.svc.CreateGroup(f.ctx, Group{Name: n})
				return err
			}},
			{"create role", 255, func(n string) error {
				_, err := f.svc.CreateRole(f.ctx, Role{Name: n})
				return err
			}},
		}
		// gen gives the name after its kind's first letter; without gen
		// the name is literal.
		lengths := []struct {
			name    string
			gen     func(max int) string
			literal string
			ok      bool
		}{
			{"at the limit", func(max int) string { return strings.Repeat("a", max-1) }, "", true},
			{"multibyte at the limit", func(max int) string { return strings.Repeat("é", max-1) }, "", true},
			{"one over", func(max int) string { return strings.Repeat("b", max) }, "", false},
			{"empty", nil, "", false},
			// Keystone's pattern [\S]+: one character that is not a space.
			{"only whitespace", nil, " \t\u00a0 ", false},
		}
		for i, k := range kinds {
			for _, l := range lengths {
				t.Run(k.name+"/"+l.name, func(t *testing.T) {
					// A first character of its own per kind: the updates
					// must not take the names the creates took.
					name := l.literal
					if l.gen != nil {
						name = string(rune('A'+i)) + l.gen(k.max)
					}
					err := k.set(name)
					if l.ok {
						if err != nil {
							t.Fatal(err)
						}
						return
					}
					wantKind(t, err, errs.KindInvalid)
				})
			}
		}
	})
}
