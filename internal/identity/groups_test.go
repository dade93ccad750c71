package identity

import (
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestGroupsAndMembership(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		g, err := f.svc.CreateGroup(f.ctx, Group{Name: "devs", Description: "d"})
		if err != nil || g.DomainID != DefaultDomainID {
			t.Fatalf("create group: %+v %v", g, err)
		}
		_, err = f.svc.CreateGroup(f.ctx, Group{Name: "devs"})
		wantKind(t, err, errs.KindConflict)
		if _, err := f.svc.CreateGroup(f.ctx, Group{Name: "x", DomainID: "nope"}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("group in a missing domain: %v", err)
		}
		alice := f.user(t, "alice", "pw")
		tests := []struct {
			name    string
			run     func() error
			kind    errs.Kind // 0: success
			message string
		}{
			{"check before adding", func() error { return f.svc.CheckUserInGroup(f.ctx, g.ID, alice.ID) }, errs.KindNotFound,
				"User '" + alice.ID + "' not found in group '" + g.ID + "'"},
			{"remove before adding", func() error { return f.svc.RemoveUserFromGroup(f.ctx, g.ID, alice.ID) }, errs.KindNotFound, ""},
			{"add to a missing group", func() error { return f.svc.AddUserToGroup(f.ctx, "nope", alice.ID) }, errs.KindNotFound, "Could not find group: nope."},
			{"add a missing user", func() error { return f.svc.AddUserToGroup(f.ctx, g.ID, "nope") }, errs.KindNotFound, "Could not find user: nope."},
			{"add", func() error { return f.svc.AddUserToGroup(f.ctx, g.ID, alice.ID) }, 0, ""},
			{"add twice", func() error { return f.svc.AddUserToGroup(f.ctx, g.ID, alice.ID) }, 0, ""},
			{"check", func() error { return f.svc.CheckUserInGroup(f.ctx, g.ID, alice.ID) }, 0, ""},
		}
		for _, tc := range tests {
			err := tc.run()
			if tc.kind == 0 {
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				continue
			}
			wantKind(t, err, tc.kind)
			if tc.message != "" && err.Error() != tc.message {
				t.Errorf("%s: %q, want %q", tc.name, err.Error(), tc.message)
			}
		}
		members, err := f.svc.GroupUsers(f.ctx, g.ID, UserFilter{})
		if err != nil || len(members) != 1 || members[0].ID != alice.ID {
			t.Fatalf("members %v %v", members, err)
		}
		mine, err := f.svc.UserGroups(f.ctx, alice.ID, GroupFilter{Inexact: []Inexact{{Attr: "name", Comparator: "startswith", Value: "DE"}}})
		if err != nil || len(mine) != 1 {
			t.Fatalf("alice's groups (name__istartswith=DE) %v %v", mine, err)
		}
		name := "ops"
		if g, err = f.svc.UpdateGroup(f.ctx, g.ID, GroupPatch{Name: &name, Extra: map[string]any{"k": "v"}}); err != nil || g.Name != "ops" || g.Extra["k"] != "v" {
			t.Fatalf("update %+v %v", g, err)
		}
		// Deleting the user ends the membership.
		if err := f.svc.DeleteUser(f.ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		if members, _ := f.svc.GroupUsers(f.ctx, g.ID, UserFilter{}); len(members) != 0 {
			t.Errorf("members after the user's deletion: %v", members)
		}
	})
}

// TestEffectiveRoles checks what a user's tokens carry, and what
// effective role assignments list, for each way of holding a role.
func TestEffectiveRoles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		parent := f.project(t, "parent")
		child, err := f.svc.CreateProject(f.ctx, Project{Name: "child", ParentID: parent.ID, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.CreateDomain(f.ctx, Domain{Name: "other", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		domRole, err := f.svc.CreateRole(f.ctx, Role{Name: "dom-role", DomainID: other.ID})
		if err != nil {
			t.Fatal(err)
		}
		g, err := f.svc.CreateGroup(f.ctx, Group{Name: "g"})
		if err != nil {
			t.Fatal(err)
		}
		role := func(name string) string { return f.roleID(t, name) }
		tests := []struct {
			name  string
			grant func(u *User) error
			// roles wanted on parent, child and the Default domain
			onParent, onChild, onDomain []string
		}{
			{"group grant on a project", func(u *User) error {
				if err := f.svc.AddUserToGroup(f.ctx, g.ID, u.ID); err != nil {
					return err
				}
				return f.svc.GrantActor(f.ctx, Target{Project: parent.ID}, GroupActor(g.ID), role("reader"))
			}, []string{"reader"}, nil, nil},
			{"inherited from the domain", func(u *User) error {
				return f.svc.Grant(f.ctx, Target{Domain: DefaultDomainID, Inherited: true}, u.ID, role("member"))
			}, []string{"member"}, []string{"member"}, nil},
			{"inherited from a project reaches the subtree only", func(u *User) error {
				return f.svc.Grant(f.ctx, Target{Project: parent.ID, Inherited: true}, u.ID, role("member"))
			}, nil, []string{"member"}, nil},
			{"group's inherited grant", func(u *User) error {
				if err := f.svc.AddUserToGroup(f.ctx, g.ID, u.ID); err != nil {
					return err
				}
				return f.svc.GrantActor(f.ctx, Target{Project: parent.ID, Inherited: true}, GroupActor(g.ID), role("member"))
			}, []string{"reader"} /* the group's own grant, above */, []string{"member"}, nil},
			{"implied roles are added", func(u *User) error {
				return f.svc.Grant(f.ctx, Target{Domain: DefaultDomainID}, u.ID, role("admin"))
			}, nil, nil, []string{"admin", "member", "reader"}},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if i == 0 {
					// Bootstrap's rules: admin implies member, member reader.
					for _, r := range [][2]string{{"admin", "member"}, {"member", "reader"}} {
						if _, err := f.svc.CreateImpliedRole(f.ctx, role(r[0]), role(r[1])); err != nil && !errs.Is(err, errs.KindConflict) {
							t.Fatal(err)
						}
					}
				}
				u := f.user(t, "u"+string(rune('a'+i)), "pw")
				if err := f.svc.RemoveUserFromGroup(f.ctx, g.ID, u.ID); err == nil {
					t.Fatal("a new user is in the group")
				}
				if err := tc.grant(u); err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					typ, id string
					want    []string
				}{{"project", parent.ID, tc.onParent}, {"project", child.ID, tc.onChild}, {"domain", DefaultDomainID, tc.onDomain}} {
					got, err := effectiveRolesOn(f.ctx, db, u.ID, c.typ, c.id)
					if err != nil {
						t.Fatal(err)
					}
					var names []string
					for _, r := range got {
						names = append(names, r.Name)
					}
					want := expandNames(c.want)
					if !slices.Equal(names, want) {
						t.Errorf("roles on %s %s: %v, want %v", c.typ, c.id, names, want)
					}
				}
				if err := f.svc.RemoveUserFromGroup(f.ctx, g.ID, u.ID); err != nil && !errs.Is(err, errs.KindNotFound) {
					t.Fatal(err)
				}
			})
		}

		// A domain-specific role is left out of tokens, the global roles
		// it implies are not.
		u := f.user(t, "dom", "pw")
		if _, err := f.svc.CreateImpliedRole(f.ctx, domRole.ID, role("reader")); err != nil {
			t.Fatal(err)
		}
		inOther, err := f.svc.CreateProject(f.ctx, Project{Name: "in-other", DomainID: other.ID, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Grant(f.ctx, Target{Project: inOther.ID}, u.ID, domRole.ID); err != nil {
			t.Fatal(err)
		}
		got, err := effectiveRolesOn(f.ctx, db, u.ID, "project", inOther.ID)
		if err != nil || len(got) != 1 || got[0].Name != "reader" {
			t.Errorf("roles from a domain-specific role: %v %v", got, err)
		}
		// Only on the projects of its own domain (DomainSpecificRoleMismatch).
		elsewhere, err := f.svc.CreateDomain(f.ctx, Domain{Name: "elsewhere", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		far, err := f.svc.CreateProject(f.ctx, Project{Name: "far", DomainID: elsewhere.ID, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		err = f.svc.Grant(f.ctx, Target{Project: far.ID}, u.ID, domRole.ID)
		wantKind(t, err, errs.KindForbidden)
		if want := "Project " + far.ID + " must be in the same domain as the role " + domRole.ID + " being assigned."; err == nil || err.Error() != want {
			t.Errorf("grant of a domain-specific role elsewhere: %v, want %q", err, want)
		}

		// Effective assignments: through the group with the group named,
		// inherited ones flagged with where they come from.
		ua := f.user(t, "eff", "pw")
		if err := f.svc.AddUserToGroup(f.ctx, g.ID, ua.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.GrantActor(f.ctx, Target{Domain: DefaultDomainID, Inherited: true}, GroupActor(g.ID), role("reader")); err != nil {
			t.Fatal(err)
		}
		as, err := f.svc.ListAssignments(f.ctx, AssignmentFilter{UserID: ua.ID, ProjectID: child.ID, Effective: true})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, a := range as {
			if a.ViaGroup == g.ID && a.ViaDomain == DefaultDomainID && a.Inherited && a.RoleID == role("reader") && a.ProjectID == child.ID {
				found = true
			}
		}
		if !found {
			t.Errorf("effective assignments of eff on child %+v: no inherited group reader", as)
		}
		stored, err := f.svc.ListAssignments(f.ctx, AssignmentFilter{GroupID: g.ID, Inherited: ptr(true)})
		if err != nil || len(stored) != 2 {
			t.Errorf("the group's inherited assignments: %+v %v", stored, err)
		}

		// Deleting the group takes its grants: members lose the roles.
		if err := f.svc.DeleteGroup(f.ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := effectiveRolesOn(f.ctx, db, ua.ID, "project", child.ID); len(got) != 0 {
			t.Errorf("roles after the group's deletion: %v", got)
		}
		if as, _ := f.svc.ListAssignments(f.ctx, AssignmentFilter{GroupID: g.ID}); len(as) != 0 {
			t.Errorf("the deleted group's assignments: %v", as)
		}
	})
}

// expandNames applies the implied rules the test sets (admin > member >
// reader) and sorts by name, as tokens list roles.
func expandNames(names []string) []string {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
		switch n {
		case "admin":
			set["manager"], set["member"], set["reader"] = true, true, true
		case "manager":
			set["member"], set["reader"] = true, true
		case "member":
			set["reader"] = true
		}
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func TestImpliedRoles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, _ := f.svc.CreateRole(f.ctx, Role{Name: "a"})
		b, _ := f.svc.CreateRole(f.ctx, Role{Name: "b"})
		d, err := f.svc.CreateDomain(f.ctx, Domain{Name: "d", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		ds, _ := f.svc.CreateRole(f.ctx, Role{Name: "ds", DomainID: d.ID})
		admin := f.roleID(t, "admin")
		tests := []struct {
			name           string
			prior, implied string
			kind           errs.Kind
			message        string
		}{
			{"a implies b", a.ID, b.ID, 0, ""},
			{"twice", a.ID, b.ID, errs.KindConflict, "Conflict occurred attempting to store implied_role - Duplicate entry."},
			{"a cycle is allowed", b.ID, a.ID, 0, ""},
			{"admin cannot be implied", a.ID, admin, errs.KindForbidden, admin + " cannot be an implied roles."},
			{"global cannot imply domain-specific", a.ID, ds.ID, errs.KindForbidden, "Global role cannot imply a domain-specific role"},
			{"domain-specific may imply global", ds.ID, a.ID, 0, ""},
			{"missing prior", "nope", a.ID, errs.KindNotFound, "Could not find role: nope."},
		}
		for _, tc := range tests {
			_, err := f.svc.CreateImpliedRole(f.ctx, tc.prior, tc.implied)
			if tc.kind == 0 {
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				continue
			}
			wantKind(t, err, tc.kind)
			if err.Error() != tc.message {
				t.Errorf("%s: %q, want %q", tc.name, err.Error(), tc.message)
			}
		}
		// The cycle a > b > a ends in the expansion.
		u := f.user(t, "u", "pw")
		p := f.project(t, "p")
		if err := f.svc.Grant(f.ctx, Target{Project: p.ID}, u.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		got, err := effectiveRolesOn(f.ctx, db, u.ID, "project", p.ID)
		if err != nil || len(got) != 2 {
			t.Errorf("roles with a cycle: %v %v", got, err)
		}
		all, err := f.svc.RoleInferences(f.ctx, "")
		// Keystone's bootstrap implications are there too: admin ⇒ manager ⇒ member ⇒ reader.
		if err != nil || len(all) != 3+3 {
			t.Errorf("inferences %+v %v", all, err)
		}
		if err := f.svc.DeleteImpliedRole(f.ctx, b.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		err = f.svc.DeleteImpliedRole(f.ctx, b.ID, a.ID)
		wantKind(t, err, errs.KindNotFound)
		if err.Error() != b.ID+" does not imply "+a.ID+"." {
			t.Errorf("delete twice: %v", err)
		}
		// Deleting a role takes its rules.
		if err := f.svc.DeleteRole(f.ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if ri, err := f.svc.ListImpliedRoles(f.ctx, a.ID); err != nil || len(ri.Implies) != 0 {
			t.Errorf("a's rules after b's deletion: %+v %v", ri, err)
		}
	})
}
