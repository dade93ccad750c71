package identity

import (
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestHierarchy walks a domain d with a -> b -> {c, e} and a top-level x:
// parents up to the domain (seen as a project acting as a domain), the
// subtree level by level, and assignments with include_subtree.
func TestHierarchy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d, err := f.svc.CreateDomain(f.ctx, Domain{Name: "d", Description: "dd", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{"d": d.ID}
		for _, p := range []struct{ name, parent string }{{"a", "d"}, {"x", "d"}, {"b", "a"}, {"c", "b"}, {"e", "b"}} {
			got, err := f.svc.CreateProject(f.ctx, Project{Name: p.name, ParentID: ids[p.parent], Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			ids[p.name] = got.ID
		}
		names := func(ps []Project) []string {
			var out []string
			for _, p := range ps {
				out = append(out, p.Name)
			}
			return out
		}
		tests := []struct {
			id              string
			parents         []string
			subtreeByLevels [][]string // each level sorted
		}{
			{"c", []string{"b", "a", "d"}, nil},
			{"b", []string{"a", "d"}, [][]string{{"c", "e"}}},
			{"a", []string{"d"}, [][]string{{"b"}, {"c", "e"}}},
			{"d", nil, [][]string{{"a", "x"}, {"b"}, {"c", "e"}}},
		}
		for _, tc := range tests {
			t.Run(tc.id, func(t *testing.T) {
				parents, err := f.svc.ProjectParents(f.ctx, ids[tc.id])
				if err != nil {
					t.Fatal(err)
				}
				if got := names(parents); !slices.Equal(got, tc.parents) {
					t.Errorf("parents %q, want %q", got, tc.parents)
				}
				if len(parents) > 0 && !parents[len(parents)-1].IsDomain {
					t.Errorf("last parent %+v is not the domain", parents[len(parents)-1])
				}
				subtree, err := f.svc.ProjectSubtree(f.ctx, ids[tc.id])
				if err != nil {
					t.Fatal(err)
				}
				got, i := names(subtree), 0
				for _, level := range tc.subtreeByLevels {
					if i+len(level) > len(got) || !slices.Equal(slices.Sorted(slices.Values(got[i:i+len(level)])), level) {
						t.Fatalf("subtree %q, want levels %q", got, tc.subtreeByLevels)
					}
					i += len(level)
				}
				if i != len(got) {
					t.Errorf("subtree %q, want levels %q", got, tc.subtreeByLevels)
				}
			})
		}

		// A domain is reachable as a project acting as a domain.
		dp, err := f.svc.GetProjectOrDomain(f.ctx, d.ID)
		if err != nil || !dp.IsDomain || dp.Name != "d" || dp.Description != "dd" || dp.DomainID != "" || dp.ParentID != "" {
			t.Errorf("domain as project %+v %v", dp, err)
		}
		if _, err := f.svc.GetProjectOrDomain(f.ctx, "nope"); !errs.Is(err, errs.KindNotFound) || err.Error() != "Could not find project: nope." {
			t.Errorf("missing: %v", err)
		}
		if _, err := f.svc.GetProject(f.ctx, d.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("GetProject of a domain: %v, want not found", err)
		}

		// Assignments with the subtree: on b and below, not a or x.
		u := f.user(t, "u", "pw")
		for _, p := range []string{"a", "b", "c", "x"} {
			f.grant(t, ids[p], u.ID, "member")
		}
		at := map[string]string{}
		for k, v := range ids {
			at[v] = k
		}
		for _, tc := range []struct {
			project string
			subtree bool
			want    []string
		}{
			{"b", false, []string{"b"}},
			{"b", true, []string{"b", "c"}},
			{"a", true, []string{"a", "b", "c"}},
			{"c", true, []string{"c"}},
			{"d", true, []string{"a", "b", "c", "x"}},
		} {
			as, err := f.svc.ListAssignments(f.ctx, AssignmentFilter{UserID: u.ID, ProjectID: ids[tc.project], IncludeSubtree: tc.subtree})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range as {
				got = append(got, at[a.ProjectID])
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("assignments on %s (subtree %v): %q, want %q", tc.project, tc.subtree, got, tc.want)
			}
		}
	})
}

// TestRoleExtra keeps a role's undefined attributes on create and update.
func TestRoleExtra(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		r, err := f.svc.CreateRole(f.ctx, Role{Name: "extra", Extra: map[string]any{"email": "a@example.com", "n": 1.0}})
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name  string
			patch RolePatch
			want  map[string]any
		}{
			{"created", RolePatch{}, map[string]any{"email": "a@example.com", "n": 1.0}},
			{"set one", RolePatch{Extra: map[string]any{"email": "b@example.com"}}, map[string]any{"email": "b@example.com", "n": 1.0}},
			{"other fields keep them", RolePatch{Description: ptr("d")}, map[string]any{"email": "b@example.com", "n": 1.0}},
			{"null kept", RolePatch{Extra: map[string]any{"n": nil}}, map[string]any{"email": "b@example.com", "n": nil}},
		}
		for _, s := range steps {
			if _, err := f.svc.UpdateRole(f.ctx, r.ID, s.patch); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			got, err := f.svc.GetRole(f.ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Extra) != len(s.want) {
				t.Errorf("%s: extra %v, want %v", s.name, got.Extra, s.want)
			}
			for k, v := range s.want {
				if gv, ok := got.Extra[k]; !ok || gv != v {
					t.Errorf("%s: extra %v, want %v", s.name, got.Extra, s.want)
				}
			}
		}
		listed, err := f.svc.ListRoles(f.ctx, "extra", "")
		if err != nil || len(listed) != 1 || listed[0].Extra["email"] != "b@example.com" {
			t.Errorf("listed %+v %v", listed, err)
		}
	})
}

// TestProjectBranchRules follows Keystone: a project is disabled after
// its subtree, enabled after its parents, created only in an enabled
// branch and at most five levels under its domain.
func TestProjectBranchRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d, err := f.svc.CreateDomain(f.ctx, Domain{Name: "d", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{"d": d.ID}
		for _, p := range []struct{ name, parent string }{{"l1", "d"}, {"l2", "l1"}, {"l3", "l2"}, {"l4", "l3"}, {"l5", "l4"}} {
			got, err := f.svc.CreateProject(f.ctx, Project{Name: p.name, ParentID: ids[p.parent], Enabled: true})
			if err != nil {
				t.Fatalf("create %s: %v", p.name, err)
			}
			ids[p.name] = got.ID
		}
		create := func(name, parent string) error {
			_, err := f.svc.CreateProject(f.ctx, Project{Name: name, ParentID: ids[parent], Enabled: true})
			return err
		}
		enable := func(name string, on bool) func() error {
			return func() error {
				_, err := f.svc.UpdateProject(f.ctx, ids[name], ProjectPatch{Enabled: &on})
				return err
			}
		}
		steps := []struct {
			name string
			do   func() error
			kind errs.Kind // 0: no error
			msg  string
		}{
			{"sixth level", func() error { return create("l6", "l5") }, errs.KindForbidden, "Max hierarchy depth reached for " + ids["l5"] + " branch."},
			{"disable above enabled", enable("l4", false), errs.KindForbidden, "Cannot disable project " + ids["l4"] + " since its subtree contains enabled projects."},
			{"disable leaf", enable("l5", false), 0, ""},
			{"disable l4", enable("l4", false), 0, ""},
			{"create under disabled", func() error { return create("x", "l4") }, errs.KindInvalid, "cannot create a project in a branch containing a disabled project: " + ids["l4"]},
			{"create under disabled grandparent", func() error { return create("x", "l5") }, errs.KindInvalid, "cannot create a project in a branch containing a disabled project: " + ids["l4"]},
			{"enable under disabled", enable("l5", true), errs.KindForbidden, "Cannot enable project " + ids["l5"] + " since it has disabled parents"},
			{"enable l4", enable("l4", true), 0, ""},
			{"enable l5", enable("l5", true), 0, ""},
			{"disable twice is no change", enable("l1", true), 0, ""},
			{"disable domain", func() error {
				_, err := f.svc.UpdateDomain(f.ctx, d.ID, DomainPatch{Enabled: ptr(false)})
				return err
			}, 0, ""},
			{"create in disabled domain", func() error { return create("top", "d") }, errs.KindInvalid, "cannot create a project in a branch containing a disabled project: " + d.ID},
		}
		for _, s := range steps {
			err := s.do()
			if s.kind == 0 {
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				continue
			}
			if !errs.Is(err, s.kind) || err.Error() != s.msg {
				t.Errorf("%s: %v, want %q", s.name, err, s.msg)
			}
		}
	})
}
