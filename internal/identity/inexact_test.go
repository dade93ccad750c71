package identity

import (
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestParseInexact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		ok   bool
		want Inexact
	}{
		{"name__contains", true, Inexact{Attr: "name", Comparator: "contains", CaseSensitive: true}},
		{"name__icontains", true, Inexact{Attr: "name", Comparator: "contains"}},
		{"name__startswith", true, Inexact{Attr: "name", Comparator: "startswith", CaseSensitive: true}},
		{"name__istartswith", true, Inexact{Attr: "name", Comparator: "startswith"}},
		{"name__endswith", true, Inexact{Attr: "name", Comparator: "endswith", CaseSensitive: true}},
		{"domain_id__iendswith", true, Inexact{Attr: "domain_id", Comparator: "endswith"}},
		{"name__bogus", true, Inexact{Attr: "name", Comparator: "bogus", CaseSensitive: true}},
		{"name", false, Inexact{}},
		{"email__contains", false, Inexact{}}, // not a filter of the list
		{"xname__contains", false, Inexact{}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got, ok := ParseInexact(tc.key, "v", "name", "domain_id")
			if tc.ok {
				tc.want.Value = "v"
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("ParseInexact(%q) = %+v %v, want %+v %v", tc.key, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestInexactFilters lists projects, users, roles and domains with
// Keystone's inexact filters: the plain forms match case, the "i" forms
// do not, % and _ are literal, and unknown comparators are ignored.
func TestInexactFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		names := []string{"The Ministry", "the ministry of silly walks OF", "Ministry of", "a_b%c", "axbyc"}
		d, err := f.svc.CreateDomain(f.ctx, Domain{Name: "zone", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if _, err := f.svc.CreateProject(f.ctx, Project{Name: n, DomainID: d.ID, Enabled: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.CreateUser(f.ctx, User{Name: n, DomainID: d.ID, Enabled: true}, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.CreateRole(f.ctx, Role{Name: n}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.CreateDomain(f.ctx, Domain{Name: n, Enabled: true}); err != nil {
				t.Fatal(err)
			}
		}
		in := func(key, value string) []Inexact {
			got, ok := ParseInexact(key, value, "name", "domain_id", "parent_id")
			if !ok {
				t.Fatalf("%s is no inexact filter", key)
			}
			return []Inexact{got}
		}
		tests := []struct {
			key, value string
			want       []string
		}{
			{"name__contains", "Ministry", []string{"Ministry of", "The Ministry"}},
			{"name__icontains", "miNIstry", []string{"Ministry of", "The Ministry", "the ministry of silly walks OF"}},
			{"name__startswith", "The", []string{"The Ministry"}},
			{"name__istartswith", "the", []string{"The Ministry", "the ministry of silly walks OF"}},
			{"name__endswith", "of", []string{"Ministry of"}},
			{"name__iendswith", "OF", []string{"Ministry of", "the ministry of silly walks OF"}},
			{"name__contains", "_b%", []string{"a_b%c"}},
			{"name__icontains", "%", []string{"a_b%c"}},
			{"name__istartswith", "a_", []string{"a_b%c"}},
			{"name__contains", "nothing", nil},
			{"name__bogus", "nothing", names},
		}
		for _, tc := range tests {
			t.Run(tc.key+"="+tc.value, func(t *testing.T) {
				want := slices.Sorted(slices.Values(tc.want))
				ps, err := f.svc.ListProjects(f.ctx, ProjectFilter{DomainID: d.ID, Inexact: in(tc.key, tc.value)})
				if err != nil {
					t.Fatal(err)
				}
				check(t, "projects", projectNames(ps), want)
				us, err := f.svc.ListUsers(f.ctx, UserFilter{DomainID: d.ID, Inexact: in(tc.key, tc.value)})
				if err != nil {
					t.Fatal(err)
				}
				check(t, "users", userNames(us), want)
				rs, err := f.svc.ListRoles(f.ctx, "", "", in(tc.key, tc.value)...)
				if err != nil {
					t.Fatal(err)
				}
				check(t, "roles", without(roleNames(rs), "admin", "manager", "member", "reader", "service"), want)
				ds, err := f.svc.ListDomains(f.ctx, DomainFilter{Inexact: in(tc.key, tc.value)})
				if err != nil {
					t.Fatal(err)
				}
				check(t, "domains", without(domainNames(ds), "Default", "zone"), want)
			})
		}
		// Other attributes: a project's parent_id is its domain at the
		// top; a global role has no domain_id to match.
		ps, err := f.svc.ListProjects(f.ctx, ProjectFilter{Inexact: in("parent_id__startswith", d.ID)})
		if err != nil || len(ps) != len(names) {
			t.Errorf("parent_id__startswith: %d projects %v, want %d", len(ps), err, len(names))
		}
		us, err := f.svc.ListUsers(f.ctx, UserFilter{Inexact: in("domain_id__iendswith", d.ID[20:])})
		if err != nil || len(us) != len(names) {
			t.Errorf("domain_id__iendswith: %d users %v, want %d", len(us), err, len(names))
		}
		rs, err := f.svc.ListRoles(f.ctx, "", "", in("domain_id__contains", "")...)
		if err != nil || len(rs) != 0 {
			t.Errorf("global roles by domain_id__contains: %v %v, want none", roleNames(rs), err)
		}
		// Inexact filters narrow the other filters.
		ps, err = f.svc.ListProjects(f.ctx, ProjectFilter{DomainID: DefaultDomainID, Inexact: in("name__contains", "Ministry")})
		if err != nil || len(ps) != 0 {
			t.Errorf("Default domain projects containing Ministry: %v %v", projectNames(ps), err)
		}
	})
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s %q, want %q", what, got, want)
	}
}

func without(names []string, drop ...string) []string {
	return slices.DeleteFunc(names, func(n string) bool { return slices.Contains(drop, n) })
}

func projectNames(ps []Project) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func userNames(us []User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

func roleNames(rs []Role) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func domainNames(ds []Domain) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}
