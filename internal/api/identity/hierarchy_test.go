package identity

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// names lists the "name" of each object of a collection.
func names(t *testing.T, r *responseAlias, key string) []string {
	t.Helper()
	var out []string
	for _, x := range r.JSON(t)[key].([]any) {
		out = append(out, field(t, x, "name").(string))
	}
	slices.Sort(out)
	return out
}

// TestInexactFiltersAPI lists with Keystone's inexact filters
// (gophercloud's TestProjectsList, TestUsersList, TestRolesFilterList).
func TestInexactFiltersAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, n := range []string{"Alpha_1", "alpha%2"} {
			e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": n}}).Expect(t, http.StatusCreated)
			e.admin.Do("POST", "/identity/v3/users", obj{"user": obj{"name": n}}).Expect(t, http.StatusCreated)
			e.admin.Do("POST", "/identity/v3/roles", obj{"role": obj{"name": n}}).Expect(t, http.StatusCreated)
			e.admin.Do("POST", "/identity/v3/domains", obj{"domain": obj{"name": n}}).Expect(t, http.StatusCreated)
		}
		tests := []struct {
			query string
			want  []string
		}{
			{"name__contains=foo", nil},
			{"name__contains=Alpha", []string{"Alpha_1"}},
			{"name__icontains=ALPHA", []string{"Alpha_1", "alpha%2"}},
			{"name__startswith=alpha", []string{"alpha%2"}},
			{"name__istartswith=alpha", []string{"Alpha_1", "alpha%2"}},
			{"name__endswith=_1", []string{"Alpha_1"}},
			{"name__iendswith=A%2", []string{"alpha%2"}},
			{"name__icontains=%", []string{"alpha%2"}},
			{"name__icontains=_", []string{"Alpha_1"}},
			{"name__icontains=a&name__contains=1", []string{"Alpha_1"}},
		}
		for _, tc := range tests {
			q := "?" + url.PathEscape(tc.query)
			for _, list := range []struct{ path, key string }{
				{"/identity/v3/projects", "projects"}, {"/identity/v3/users", "users"},
				{"/identity/v3/roles", "roles"}, {"/identity/v3/domains", "domains"},
				{"/identity/v3/projects?is_domain=true&", "projects"},
			} {
				path := list.path + q
				if list.path[len(list.path)-1] == '&' {
					path = list.path + q[1:]
				}
				r := e.admin.Do("GET", path, nil).Expect(t, http.StatusOK)
				// The bootstrap's admin project, user and role aside.
				got := slices.DeleteFunc(names(t, r, list.key), func(n string) bool { return n == "admin" })
				if !slices.Equal(got, tc.want) {
					t.Errorf("GET %s: %q, want %q", path, got, tc.want)
				}
			}
		}
		for _, path := range []string{"/identity/v3/projects", "/identity/v3/users", "/identity/v3/roles"} {
			r := e.admin.Do("GET", path+"?name__contains=dmi", nil).Expect(t, http.StatusOK)
			if got := names(t, r, path[len("/identity/v3/"):]); !slices.Equal(got, []string{"admin"}) {
				t.Errorf("GET %s?name__contains=dmi: %q, want [admin]", path, got)
			}
		}
		// A user's projects take them too.
		r := e.admin.Do("GET", "/identity/v3/users/"+e.alice.ID+"/projects?name__istartswith=P", nil).Expect(t, http.StatusOK)
		if got := names(t, r, "projects"); !slices.Equal(got, []string{"p1"}) {
			t.Errorf("alice's projects starting with P: %q", got)
		}
		r = e.admin.Do("GET", "/identity/v3/users/"+e.alice.ID+"/projects?name__startswith=P", nil).Expect(t, http.StatusOK)
		if got := names(t, r, "projects"); got != nil {
			t.Errorf("alice's projects starting with P, case kept: %q", got)
		}
	})
}

// TestProjectsActingAsDomains reaches domains through /v3/projects, as
// Keystone does (gophercloud's TestProjectsDomain).
func TestProjectsActingAsDomains(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		r := e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "dp", "is_domain": true, "description": "as project"}}).Expect(t, http.StatusCreated)
		id := field(t, r.JSON(t), "project", "id").(string)
		r = e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "inside", "domain_id": id}}).Expect(t, http.StatusCreated)
		inside := field(t, r.JSON(t), "project", "id").(string)

		for _, d := range []struct{ id, name string }{{id, "dp"}, {"default", "Default"}} {
			r = e.admin.Do("GET", "/identity/v3/projects/"+d.id, nil).Expect(t, http.StatusOK)
			p := r.JSON(t)["project"]
			want := obj{"id": d.id, "name": d.name, "is_domain": true, "domain_id": nil, "parent_id": nil, "enabled": true}
			for k, v := range want {
				if got := field(t, p, k); got != v {
					t.Errorf("GET /v3/projects/%s %s = %v, want %v", d.id, k, got, v)
				}
			}
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"is_domain=true&name=dp", []string{"dp"}},
			{"is_domain=1&name__endswith=p", []string{"dp"}},
			{"is_domain=true", []string{"Default", "dp"}},
			{"is_domain=true&domain_id=default", nil},
			{"is_domain=true&parent_id=default", nil},
			{"is_domain=false&name=dp", nil},
		} {
			r = e.admin.Do("GET", "/identity/v3/projects?"+tc.query, nil).Expect(t, http.StatusOK)
			if got := names(t, r, "projects"); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
			}
		}
		for _, body := range []obj{
			{"name": "x", "is_domain": true, "domain_id": "default"},
			{"name": "x", "is_domain": true, "parent_id": id},
		} {
			wantError(t, e.admin.Do("POST", "/identity/v3/projects", obj{"project": body}), 400, "only root projects are allowed to act as domains.")
		}

		steps := []struct {
			method string
			body   any
			status int
			msg    string
		}{
			{"PATCH", obj{"project": obj{"is_domain": false}}, 400, "Update of `is_domain` is not allowed."},
			{"PATCH", obj{"project": obj{"domain_id": "default"}}, 400, "Cannot change Domain ID"},
			{"PATCH", obj{"project": obj{"parent_id": "default"}}, 403, "Update of `parent_id` is not allowed."},
			{"DELETE", nil, 403, "Cannot delete a domain that is enabled, please disable it first."},
			{"PATCH", obj{"project": obj{"description": "changed", "is_domain": true}}, 200, ""},
			{"PATCH", obj{"project": obj{"enabled": false}}, 200, ""},
			{"DELETE", nil, 204, ""},
			{"GET", nil, 404, "Could not find project: " + id + "."},
		}
		for _, s := range steps {
			r := e.admin.Do(s.method, "/identity/v3/projects/"+id, s.body)
			if s.msg != "" {
				wantError(t, r, s.status, s.msg)
				continue
			}
			r.Expect(t, s.status)
			if s.method == "PATCH" && field(t, r.JSON(t), "project", "is_domain") != true {
				t.Errorf("PATCH answer %s", r.Body)
			}
		}
		r = e.admin.Do("GET", "/identity/v3/domains/"+id, nil)
		wantError(t, r, 404, "Could not find domain: "+id+".")
		wantError(t, e.admin.Do("GET", "/identity/v3/projects/"+inside, nil), 404, "Could not find project: "+inside+".")
	})
}

// TestProjectParentsSubtree shows a project with its parents and subtree
// (openstack project show --parents --children).
func TestProjectParentsSubtree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		create := func(name, parent string) string {
			r := e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": name, "parent_id": parent}}).Expect(t, http.StatusCreated)
			return field(t, r.JSON(t), "project", "id").(string)
		}
		a := create("a", "default")
		b := create("b", a)
		c := create("c", b)
		// alice holds roles on p1, a and c, not b.
		for _, p := range []string{a, c} {
			e.admin.Do("PUT", "/identity/v3/projects/"+p+"/users/"+e.alice.ID+"/roles/"+roleID(t, e, "reader"), nil).Expect(t, http.StatusNoContent)
		}
		// The domain's subtree: a's and the other top-level projects.
		r := e.admin.Do("GET", "/identity/v3/projects?parent_id=default", nil).Expect(t, http.StatusOK)
		domainSubtree := obj{}
		for _, p := range r.JSON(t)["projects"].([]any) {
			domainSubtree[field(t, p, "id").(string)] = nil
		}
		domainSubtree[a] = obj{b: obj{c: nil}}
		asAlice := map[string]string{
			a: e.login("alice", "pw", obj{"project": obj{"id": a}}),
			c: e.login("alice", "pw", obj{"project": obj{"id": c}}),
		}

		ids := func(r *responseAlias, key string) []string {
			var out []string
			for _, x := range field(t, r.JSON(t), "project", key).([]any) {
				out = append(out, field(t, x, "project", "id").(string))
			}
			return out
		}
		tests := []struct {
			caller      string
			project     string
			query       string
			parents     any // ids for _as_list, a nested object for _as_ids
			subtree     any
			wantParents bool
			wantSubtree bool
		}{
			{"admin", c, "parents_as_ids", obj{b: obj{a: obj{"default": nil}}}, nil, true, false},
			{"admin", a, "subtree_as_ids&parents_as_ids", obj{"default": nil}, obj{b: obj{c: nil}}, true, true},
			{"admin", c, "subtree_as_ids", nil, nil, false, true},
			{"admin", "default", "parents_as_ids&subtree_as_ids", nil, domainSubtree, true, true},
			{"admin", b, "parents_as_list&subtree_as_list", []string(nil), []string(nil), true, true}, // admin has roles on neither a nor c
			{"alice", c, "parents_as_list", []string{a}, nil, true, false},
			{"alice", a, "subtree_as_list&parents_as_list", []string(nil), []string{c}, true, true},
			{"admin", a, "parents_as_list=0&subtree_as_ids=0", nil, nil, false, false},
		}
		for _, tc := range tests {
			t.Run(tc.caller+" "+tc.query, func(t *testing.T) {
				cl := e.admin
				if tc.caller == "alice" {
					// alice reads the project her token is scoped to.
					cl = e.c.As(asAlice[tc.project], "")
				}
				r := cl.Do("GET", "/identity/v3/projects/"+tc.project+"?"+tc.query, nil).Expect(t, http.StatusOK)
				p := r.JSON(t)["project"].(map[string]any)
				_, hasParents := p["parents"]
				_, hasSubtree := p["subtree"]
				if hasParents != tc.wantParents || hasSubtree != tc.wantSubtree {
					t.Fatalf("parents %v subtree %v in %s", hasParents, hasSubtree, r.Body)
				}
				check := func(key string, want any) {
					if want == nil && !(key == "parents" && tc.wantParents || key == "subtree" && tc.wantSubtree) {
						return
					}
					if list, ok := want.([]string); ok {
						got := ids(r, key)
						slices.Sort(got)
						slices.Sort(list)
						if !slices.Equal(got, list) {
							t.Errorf("%s %q, want %q", key, got, list)
						}
						return
					}
					if w, ok := want.(obj); ok {
						want = map[string]any(w)
					}
					if !reflect.DeepEqual(normalize(p[key]), normalize(want)) {
						t.Errorf("%s %v, want %v", key, p[key], want)
					}
				}
				check("parents", tc.parents)
				check("subtree", tc.subtree)
			})
		}
		for _, q := range []struct{ query, msg string }{
			{"parents_as_list&parents_as_ids", "Cannot use parents_as_list and parents_as_ids query params at the same time."},
			{"subtree_as_list&subtree_as_ids=1", "Cannot use subtree_as_list and subtree_as_ids query params at the same time."},
		} {
			wantError(t, e.admin.Do("GET", "/identity/v3/projects/"+a+"?"+q.query, nil), 400, q.msg)
		}
		// The list items are whole projects, each under "project".
		r = e.c.As(asAlice[a], "").Do("GET", "/identity/v3/projects/"+a+"?subtree_as_list", nil).Expect(t, http.StatusOK)
		item := field(t, r.JSON(t), "project", "subtree").([]any)[0]
		for k, want := range map[string]any{"id": c, "name": "c", "parent_id": b, "domain_id": "default", "is_domain": false} {
			if got := field(t, item, "project", k); got != want {
				t.Errorf("subtree item %s = %v, want %v", k, got, want)
			}
		}
		if field(t, item, "project", "links", "self") != "http://example.com/identity/v3/projects/"+c {
			t.Errorf("subtree item links: %v", item)
		}
		if _, ok := item.(map[string]any)["project"].(map[string]any)["limits"]; ok {
			t.Errorf("limits without include_limits: %v", item)
		}

		// include_limits adds each listed project's limits, without links.
		image := identity.ServiceID("image")
		e.admin.Do("POST", "/identity/v3/registered_limits", obj{"registered_limits": []obj{
			{"service_id": image, "resource_name": "volume", "default_limit": 10}}}).Expect(t, http.StatusCreated)
		e.admin.Do("POST", "/identity/v3/limits", obj{"limits": []obj{
			{"service_id": image, "project_id": c, "resource_name": "volume", "resource_limit": 3}}}).Expect(t, http.StatusCreated)
		r = e.c.As(asAlice[c], "").Do("GET", "/identity/v3/projects/"+c+"?parents_as_list&include_limits", nil).Expect(t, http.StatusOK)
		if got := field(t, field(t, r.JSON(t), "project", "parents").([]any)[0], "project", "limits").([]any); len(got) != 0 {
			t.Errorf("a's limits %v, want none", got)
		}
		r = e.c.As(asAlice[a], "").Do("GET", "/identity/v3/projects/"+a+"?subtree_as_list&include_limits", nil).Expect(t, http.StatusOK)
		limits := field(t, field(t, r.JSON(t), "project", "subtree").([]any)[0], "project", "limits").([]any)
		if len(limits) != 1 {
			t.Fatalf("c's limits %v, want one", limits)
		}
		want := obj{"project_id": c, "domain_id": nil, "service_id": image, "region_id": nil, "resource_name": "volume", "resource_limit": 3.0, "links": nil}
		for k, v := range want {
			if got := field(t, limits[0], k); got != v {
				t.Errorf("c's limit %s = %v, want %v", k, got, v)
			}
		}
	})
}

// normalize turns nested obj values into map[string]any for DeepEqual.
func normalize(v any) any {
	switch m := v.(type) {
	case obj:
		out := map[string]any{}
		for k, x := range m {
			out[k] = normalize(x)
		}
		return out
	}
	return v
}

// TestRoleAssignmentsSubtree lists role assignments with include_subtree
// (gophercloud's TestRoleListAssignmentIncludeNamesAndSubtree).
func TestRoleAssignmentsSubtree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		r := e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "child", "parent_id": e.p1.ID}}).Expect(t, http.StatusCreated)
		child := field(t, r.JSON(t), "project", "id").(string)
		e.admin.Do("PUT", "/identity/v3/projects/"+child+"/users/"+e.alice.ID+"/roles/"+roleID(t, e, "reader"), nil).Expect(t, http.StatusNoContent)
		base := "/identity/v3/role_assignments?user.id=" + e.alice.ID
		tests := []struct {
			query string
			want  []string // scope project names
		}{
			{"&scope.project.id=" + e.p1.ID, []string{"p1"}},
			{"&scope.project.id=" + e.p1.ID + "&include_subtree", []string{"child", "p1"}},
			{"&scope.project.id=" + e.p1.ID + "&include_subtree=true&include_names", []string{"child", "p1"}},
			{"&scope.project.id=" + e.p1.ID + "&include_subtree=0", []string{"p1"}},
			{"&scope.project.id=" + child + "&include_subtree", []string{"child"}},
			{"&scope.project.id=default&include_subtree", []string{"child", "p1"}},
		}
		for _, tc := range tests {
			r := e.admin.Do("GET", base+tc.query+"&include_names", nil).Expect(t, http.StatusOK)
			var got []string
			for _, a := range r.JSON(t)["role_assignments"].([]any) {
				got = append(got, field(t, a, "scope", "project", "name").(string))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("GET %s: %q, want %q", tc.query, got, tc.want)
			}
		}
		for _, tc := range []struct {
			query  string
			status int
			msg    string
		}{
			{"?include_subtree=true", 400, "scope.project.id must be specified if include_subtree is also specified"},
			{"?include_subtree&scope.project.id=nope", 404, "Could not find project: nope."},
			{"?scope.project.id=" + e.p1.ID + "&scope.domain.id=default", 400, "Specify a domain or project, not both"},
			{"?user.id=u&group.id=g", 400, "Specify a user or group, not both"},
			{"?group.id=g&effective", 400, "Combining effective and group filter will always result in an empty list."},
		} {
			wantError(t, e.admin.Do("GET", "/identity/v3/role_assignments"+tc.query, nil), tc.status, tc.msg)
		}
	})
}
