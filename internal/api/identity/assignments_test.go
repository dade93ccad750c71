package identity

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
)

func TestProjectGrantsAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	reader := roleID(t, e, "reader")
	base := "/identity/v3/projects/" + e.p1.ID + "/users/" + e.alice.ID + "/roles"
	wantError(t, e.admin.Do("HEAD", base+"/"+reader, nil), 404, "")
	e.admin.Do("PUT", base+"/"+reader, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("PUT", base+"/"+reader, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("HEAD", base+"/"+reader, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("GET", base+"/"+reader, nil).Expect(t, http.StatusNoContent)
	r := e.admin.Do("GET", base, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/project-user-roles-list-response.json", r.Body,
		apisamples.Options{Extra: []string{"roles[].domain_id", "roles[].description", "roles[].options"}})
	if n := len(r.JSON(t)["roles"].([]any)); n != 2 {
		t.Errorf("%d roles on p1, want member and reader", n)
	}
	// The new role shows in alice's token at once.
	pr, err := e.svc.Authenticate(t.Context(), e.aliceToken)
	if err != nil || !pr.HasRole("reader") {
		t.Errorf("principal %+v %v, want reader", pr, err)
	}
	tests := []struct {
		path string
		msg  string
	}{
		{"/identity/v3/projects/nope/users/" + e.alice.ID + "/roles/" + reader, "Could not find project: nope."},
		{"/identity/v3/projects/" + e.p1.ID + "/users/nope/roles/" + reader, "Could not find user: nope."},
		{base + "/nope", "Could not find role: nope."},
		{"/identity/v3/domains/nope/users/" + e.alice.ID + "/roles/" + reader, "Could not find domain: nope."},
	}
	for _, tc := range tests {
		wantError(t, e.admin.Do("PUT", tc.path, nil), 404, tc.msg)
	}
	e.admin.Do("DELETE", base+"/"+reader, nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("DELETE", base+"/"+reader, nil), 404, "")
	wantError(t, e.c.As(e.aliceToken, "").Do("PUT", base+"/"+reader, nil), 403, forbiddenMsg("identity:create_grant"))

	// Removing alice's last role on p1 ends her p1 token.
	e.admin.Do("DELETE", base+"/"+roleID(t, e, "member"), nil).Expect(t, http.StatusNoContent)
	wantError(t, e.c.As(e.aliceToken, "").Do("GET", "/identity/v3/auth/projects", nil), 401, unauthorizedMsg)
}

func TestDomainGrantsAndAssignmentList(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	reader := roleID(t, e, "reader")
	base := "/identity/v3/domains/default/users/" + e.alice.ID + "/roles"
	e.admin.Do("PUT", base+"/"+reader, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("HEAD", base+"/"+reader, nil).Expect(t, http.StatusNoContent)
	r := e.admin.Do("GET", base, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/domain-user-roles-list-response.json", r.Body,
		apisamples.Options{Extra: []string{"roles[].domain_id", "roles[].description", "roles[].options"}})

	// Filtered to the domain assignment, the list matches the samples'
	// first entry (a user's role on a domain).
	for _, q := range []string{"", "&effective"} {
		r = e.admin.Do("GET", "/identity/v3/role_assignments?scope.domain.id=default"+q, nil).Expect(t, http.StatusOK)
		sample := "keystone/v3/samples/admin/role-assignments-list-response.json"
		if q != "" {
			sample = "keystone/v3/samples/admin/role-assignments-effective-list-response.json"
		}
		apisamples.Assert(t, sample, r.Body, apisamples.Options{})
	}
	filters := []struct {
		query string
		want  int
	}{
		// The admin's on the admin project and on the system, alice's two.
		{"", 4}, {"?user.id=" + e.alice.ID, 2}, {"?scope.project.id=" + e.p1.ID, 1}, {"?role.id=" + reader, 1},
		// And the reader alice's member role implies.
		{"?user.id=" + e.alice.ID + "&effective", 3}, {"?group.id=g", 0},
	}
	for _, f := range filters {
		r := e.admin.Do("GET", "/identity/v3/role_assignments"+f.query, nil).Expect(t, http.StatusOK)
		if n := len(r.JSON(t)["role_assignments"].([]any)); n != f.want {
			t.Errorf("GET /v3/role_assignments%s: %d, want %d", f.query, n, f.want)
		}
	}
	r = e.admin.Do("GET", "/identity/v3/role_assignments?scope.project.id="+e.p1.ID+"&include_names", nil).Expect(t, http.StatusOK)
	a := r.JSON(t)["role_assignments"].([]any)[0]
	checks := map[string][]string{
		"alice":   {"user", "name"},
		"Default": {"user", "domain", "name"},
		"member":  {"role", "name"},
		"p1":      {"scope", "project", "name"},
	}
	for want, path := range checks {
		if got := field(t, a, path...); got != want {
			t.Errorf("%v = %v, want %s", path, got, want)
		}
	}
	wantLink := "http://example.com/identity/v3/projects/" + e.p1.ID + "/users/" + e.alice.ID + "/roles/" + roleID(t, e, "member")
	if got := field(t, a, "links", "assignment"); got != wantLink {
		t.Errorf("assignment link %v, want %s", got, wantLink)
	}
	wantError(t, e.c.As(e.aliceToken, "").Do("GET", "/identity/v3/role_assignments", nil), 403, forbiddenMsg("identity:list_role_assignments"))

	// A domain-scoped token carries the domain roles.
	tok := e.login("alice", "pw", obj{"domain": obj{"name": "Default"}})
	pr, err := e.svc.Authenticate(t.Context(), tok)
	if err != nil || pr.DomainID != "default" || !pr.HasRole("reader") {
		t.Errorf("domain principal %+v %v", pr, err)
	}
}
