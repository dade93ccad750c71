package identity

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
)

func forbiddenMsg(rule string) string {
	return "You are not authorized to perform the requested action: " + rule + "."
}

func TestDomainsAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.admin.Do("POST", "/identity/v3/domains", obj{"domain": obj{"name": "myDomain", "description": "Domain description"}}).Expect(t, http.StatusCreated)
	apisamples.Assert(t, "keystone/v3/samples/admin/domain-create-response.json", r.Body, apisamples.Options{Extra: []string{"domain.tags"}})
	id := field(t, r.JSON(t), "domain", "id").(string)
	if len(id) != 32 || field(t, r.JSON(t), "domain", "enabled") != true {
		t.Errorf("domain %s", r.Body)
	}
	wantError(t, e.admin.Do("POST", "/identity/v3/domains", obj{"domain": obj{"name": "myDomain"}}), 409,
		"Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: myDomain.")
	wantError(t, e.admin.Do("POST", "/identity/v3/domains", obj{"domain": obj{}}), 400, "'name' is a required property")
	wantError(t, e.admin.Do("POST", "/identity/v3/domains", obj{"domain": obj{"name": "x", "enabled": "yes"}}), 400, "")

	r = e.admin.Do("GET", "/identity/v3/domains", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/domains-list-response.json", r.Body, apisamples.Options{Extra: []string{"domains[].tags", "domains[].options"}})
	if n := len(r.JSON(t)["domains"].([]any)); n != 2 {
		t.Errorf("%d domains, want 2", n)
	}
	r = e.admin.Do("GET", "/identity/v3/domains?name=myDomain&enabled=true", nil).Expect(t, http.StatusOK)
	if n := len(r.JSON(t)["domains"].([]any)); n != 1 {
		t.Errorf("%d domains named myDomain, want 1", n)
	}
	r = e.admin.Do("GET", "/identity/v3/domains/default", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/domain-show-response.json", r.Body, apisamples.Options{Extra: []string{"domain.tags"}})
	wantError(t, e.admin.Do("GET", "/identity/v3/domains/nope", nil), 404, "Could not find domain: nope.")

	r = e.admin.Do("PATCH", "/identity/v3/domains/"+id, obj{"domain": obj{"description": "changed"}}).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/domain-update-response.json", r.Body, apisamples.Options{Extra: []string{"domain.tags"}})
	if field(t, r.JSON(t), "domain", "description") != "changed" {
		t.Errorf("update: %s", r.Body)
	}
	wantError(t, e.admin.Do("DELETE", "/identity/v3/domains/"+id, nil), 403, "Cannot delete a domain that is enabled, please disable it first.")
	e.admin.Do("PATCH", "/identity/v3/domains/"+id, obj{"domain": obj{"enabled": false}}).Expect(t, http.StatusOK)
	e.admin.Do("DELETE", "/identity/v3/domains/"+id, nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("DELETE", "/identity/v3/domains/"+id, nil), 404, "Could not find domain: "+id+".")

	alice := e.c.As(e.aliceToken, "")
	wantError(t, alice.Do("GET", "/identity/v3/domains", nil), 403, forbiddenMsg("identity:list_domains"))
	wantError(t, alice.Do("POST", "/identity/v3/domains", obj{"domain": obj{"name": "x"}}), 403, forbiddenMsg("identity:create_domain"))
	// Reading a domain: TestGetDomainOfOwnProject.
}

func TestProjectsAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{
		"name": "myNewProject", "description": "My new project", "domain_id": "default", "enabled": true, "is_domain": false, "options": obj{},
	}}).Expect(t, http.StatusCreated)
	apisamples.Assert(t, "keystone/v3/samples/admin/project-create-response.json", r.Body, apisamples.Options{})
	id := field(t, r.JSON(t), "project", "id").(string)
	if field(t, r.JSON(t), "project", "parent_id") != "default" {
		t.Errorf("parent_id of a top-level project: %s", r.Body)
	}
	// Keystone's resource manager names the new project's id.
	r = e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "myNewProject"}})
	wantError(t, r, 409, "")
	if msg := field(t, r.JSON(t), "error", "message").(string); !strings.HasPrefix(msg, "Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is myNewProject, project id ") {
		t.Errorf("conflict message %q", msg)
	}
	wantError(t, e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"description": "x"}}), 400, "'name' is a required property")
	wantError(t, e.admin.Do("POST", "/identity/v3/projects", "not json"), 400, malformedJSON)

	wantError(t, e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "x", "domain_id": "nope"}}), 404, "Could not find domain: nope.")
	wantError(t, e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "x", "parent_id": "nope"}}), 404, "Could not find project: nope.")
	r = e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "top", "parent_id": "default"}}).Expect(t, http.StatusCreated)
	if field(t, r.JSON(t), "project", "domain_id") != "default" {
		t.Errorf("project under the domain: %s", r.Body)
	}
	e.admin.Do("DELETE", "/identity/v3/projects/"+field(t, r.JSON(t), "project", "id").(string), nil).Expect(t, http.StatusNoContent)
	r = e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "child", "parent_id": id}}).Expect(t, http.StatusCreated)
	childID := field(t, r.JSON(t), "project", "id").(string)

	r = e.admin.Do("GET", "/identity/v3/projects/"+id, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/project-show-response.json", r.Body, apisamples.Options{Extra: []string{"project.tags"}})
	wantError(t, e.admin.Do("GET", "/identity/v3/projects/nope", nil), 404, "Could not find project: nope.")

	r = e.admin.Do("GET", "/identity/v3/projects", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/projects-list-response.json", r.Body, apisamples.Options{Extra: []string{"projects[].options"}})
	filters := []struct {
		query string
		want  int
	}{
		{"", 5}, {"?name=p1", 1}, {"?domain_id=default", 5}, {"?domain_id=other", 0},
		{"?parent_id=" + id, 1}, {"?parent_id=default", 4}, {"?enabled=false", 0}, {"?enabled=true", 5},
	}
	for _, f := range filters {
		r := e.admin.Do("GET", "/identity/v3/projects"+f.query, nil).Expect(t, http.StatusOK)
		if n := len(r.JSON(t)["projects"].([]any)); n != f.want {
			t.Errorf("GET /v3/projects%s: %d projects, want %d", f.query, n, f.want)
		}
	}

	r = e.admin.Do("PATCH", "/identity/v3/projects/"+id, obj{"project": obj{"description": "My updated project", "name": "myUpdatedProject"}}).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/project-update-response.json", r.Body, apisamples.Options{})
	if field(t, r.JSON(t), "project", "name") != "myUpdatedProject" {
		t.Errorf("update: %s", r.Body)
	}
	wantError(t, e.admin.Do("PATCH", "/identity/v3/projects/"+id, obj{"project": obj{"name": "p1"}}), 409,
		"Conflict occurred attempting to store project - Duplicate entry found with name p1 at domain ID default.")
	wantError(t, e.admin.Do("PATCH", "/identity/v3/projects/"+id, obj{"project": obj{"domain_id": "other"}}), 400, "Cannot change Domain ID")
	wantError(t, e.admin.Do("PATCH", "/identity/v3/projects/nope", obj{"project": obj{"name": "x"}}), 404, "Could not find project: nope.")

	wantError(t, e.admin.Do("DELETE", "/identity/v3/projects/"+id, nil), 403, "")
	e.admin.Do("DELETE", "/identity/v3/projects/"+childID, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("DELETE", "/identity/v3/projects/"+id, nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("DELETE", "/identity/v3/projects/"+id, nil), 404, "Could not find project: "+id+".")

	alice := e.c.As(e.aliceToken, "")
	alice.Do("GET", "/identity/v3/projects/"+e.p1.ID, nil).Expect(t, http.StatusOK)
	wantError(t, alice.Do("GET", "/identity/v3/projects/"+e.adminPrj, nil), 403, forbiddenMsg("identity:get_project"))
	wantError(t, alice.Do("GET", "/identity/v3/projects", nil), 403, forbiddenMsg("identity:list_projects"))
	wantError(t, alice.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "x"}}), 403, forbiddenMsg("identity:create_project"))
	wantError(t, alice.Do("PATCH", "/identity/v3/projects/"+e.p1.ID, obj{"project": obj{"name": "x"}}), 403, forbiddenMsg("identity:update_project"))
	wantError(t, alice.Do("DELETE", "/identity/v3/projects/"+e.p1.ID, nil), 403, forbiddenMsg("identity:delete_project"))
}

func TestUsersAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.admin.Do("POST", "/identity/v3/users", obj{"user": obj{
		"name": "James Doe", "password": "secretsecret", "default_project_id": e.p1.ID, "domain_id": "default",
		"description": "James Doe user", "email": "jdoe@example.com", "enabled": true,
		"options": obj{"ignore_password_expiry": true},
	}}).Expect(t, http.StatusCreated)
	apisamples.Assert(t, "keystone/v3/samples/admin/user-create-response.json", r.Body, apisamples.Options{Optional: []string{"user.federated"}})
	if body := string(r.Body); containsAny(body, "secretsecret", "password_hash") {
		t.Errorf("user body leaks the password: %s", body)
	}
	id := field(t, r.JSON(t), "user", "id").(string)
	wantError(t, e.admin.Do("POST", "/identity/v3/users", obj{"user": obj{"name": "James Doe"}}), 409,
		"Conflict occurred attempting to store user - Duplicate entry found with name James Doe at domain ID default.")
	wantError(t, e.admin.Do("POST", "/identity/v3/users", obj{"user": obj{"password": "x"}}), 400, "'name' is a required property")
	wantError(t, e.admin.Do("POST", "/identity/v3/users", obj{"user": obj{"name": "x", "domain_id": "nope"}}), 404, "Could not find domain: nope.")

	r = e.admin.Do("GET", "/identity/v3/users/"+id, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/user-show-response.json", r.Body, apisamples.Options{
		Optional: []string{"user.federated"}, Extra: []string{"user.options", "user.email", "user.description"}})
	if field(t, r.JSON(t), "user", "options", "ignore_password_expiry") != true {
		t.Errorf("options not kept: %s", r.Body)
	}
	wantError(t, e.admin.Do("GET", "/identity/v3/users/nope", nil), 404, "Could not find user: nope.")

	r = e.admin.Do("GET", "/identity/v3/users", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/users-list-response.json", r.Body, apisamples.Options{
		Extra: []string{"users[].options", "users[].email", "users[].description", "users[].default_project_id"}})
	for _, f := range []struct {
		query string
		want  int
	}{{"", 3}, {"?name=alice", 1}, {"?domain_id=default", 3}, {"?enabled=false", 0}} {
		r := e.admin.Do("GET", "/identity/v3/users"+f.query, nil).Expect(t, http.StatusOK)
		if n := len(r.JSON(t)["users"].([]any)); n != f.want {
			t.Errorf("GET /v3/users%s: %d users, want %d", f.query, n, f.want)
		}
	}

	r = e.admin.Do("PATCH", "/identity/v3/users/"+id, obj{"user": obj{"default_project_id": e.adminPrj, "enabled": true,
		"options": obj{"ignore_lockout_failure_attempts": true, "ignore_password_expiry": nil}}}).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/user-update-response.json", r.Body, apisamples.Options{
		Optional: []string{"user.federated"}, Extra: []string{"user.email", "user.description"}})
	if opts := field(t, r.JSON(t), "user", "options").(map[string]any); len(opts) != 1 {
		t.Errorf("options after update %v, want only ignore_lockout_failure_attempts", opts)
	}
	wantError(t, e.admin.Do("PATCH", "/identity/v3/users/"+id, obj{"user": obj{"options": obj{"bogus": true}}}), 400, "")

	// An admin password reset revokes the user's tokens.
	alice := e.c.As(e.aliceToken, "")
	e.admin.Do("PATCH", "/identity/v3/users/"+e.alice.ID, obj{"user": obj{"password": "pw2"}}).Expect(t, http.StatusOK)
	wantError(t, alice.Do("GET", "/identity/v3/users/"+e.alice.ID, nil), 401, unauthorizedMsg)
	e.aliceToken = e.login("alice", "pw2", obj{"project": obj{"id": e.p1.ID}})
	alice = e.c.As(e.aliceToken, "")

	// Users see themselves and their projects, nobody else.
	alice.Do("GET", "/identity/v3/users/"+e.alice.ID, nil).Expect(t, http.StatusOK)
	r = alice.Do("GET", "/identity/v3/users/"+e.alice.ID+"/projects", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/user-projects-list-response.json", r.Body,
		apisamples.Options{Extra: []string{"projects[].is_domain", "projects[].tags", "projects[].options"}})
	r = alice.Do("GET", "/identity/v3/users/"+e.alice.ID+"/groups", nil).Expect(t, http.StatusOK)
	if g := r.JSON(t)["groups"].([]any); len(g) != 0 {
		t.Errorf("groups %v", g)
	}
	e.admin.Do("GET", "/identity/v3/groups", nil).Expect(t, http.StatusOK)
	wantError(t, alice.Do("GET", "/identity/v3/users/"+id, nil), 403, forbiddenMsg("identity:get_user"))
	wantError(t, alice.Do("GET", "/identity/v3/users/"+id+"/projects", nil), 403, forbiddenMsg("identity:list_user_projects"))
	wantError(t, alice.Do("GET", "/identity/v3/users", nil), 403, forbiddenMsg("identity:list_users"))
	wantError(t, alice.Do("PATCH", "/identity/v3/users/"+e.alice.ID, obj{"user": obj{"enabled": true}}), 403, forbiddenMsg("identity:update_user"))

	// Self-service password change needs the original password, no token.
	change := func(orig, pw string) *responseAlias {
		return e.c.Do("POST", "/identity/v3/users/"+e.alice.ID+"/password", obj{"user": obj{"original_password": orig, "password": pw}})
	}
	wantError(t, change("wrong", "pw3"), 401, unauthorizedMsg)
	wantError(t, e.c.Do("POST", "/identity/v3/users/"+e.alice.ID+"/password", obj{"user": obj{"password": "x"}}), 400, "")
	change("pw2", "pw3").Expect(t, http.StatusNoContent)
	wantError(t, alice.Do("GET", "/identity/v3/users/"+e.alice.ID, nil), 401, unauthorizedMsg)
	e.login("alice", "pw3", nil)

	e.admin.Do("DELETE", "/identity/v3/users/"+id, nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("DELETE", "/identity/v3/users/"+id, nil), 404, "Could not find user: "+id+".")
}

func TestRolesAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.admin.Do("POST", "/identity/v3/roles", obj{"role": obj{"name": "developer", "description": "My new role"}}).Expect(t, http.StatusCreated)
	apisamples.Assert(t, "keystone/v3/samples/admin/role-create-response.json", r.Body, apisamples.Options{Extra: []string{"role.domain_id"}})
	id := field(t, r.JSON(t), "role", "id").(string)
	wantError(t, e.admin.Do("POST", "/identity/v3/roles", obj{"role": obj{"name": "developer"}}), 409,
		"Conflict occurred attempting to store role - Duplicate entry found with name developer.")
	wantError(t, e.admin.Do("POST", "/identity/v3/roles", obj{"role": obj{}}), 400, "'name' is a required property")
	r = e.admin.Do("GET", "/identity/v3/roles/"+id, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/role-show-response.json", r.Body, apisamples.Options{})
	r = e.admin.Do("GET", "/identity/v3/roles", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/roles-list-response.json", r.Body, apisamples.Options{Extra: []string{"roles[].domain_id", "roles[].options", "roles[].description"}})
	// Keystone's bootstrap roles (admin, manager, member, reader, service) and developer.
	if n := len(r.JSON(t)["roles"].([]any)); n != 6 {
		t.Errorf("%d roles, want 6", n)
	}
	r = e.admin.Do("PATCH", "/identity/v3/roles/"+id, obj{"role": obj{"name": "Developer", "description": "My new role"}}).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/role-update-response.json", r.Body, apisamples.Options{})
	e.admin.Do("DELETE", "/identity/v3/roles/"+id, nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("GET", "/identity/v3/roles/"+id, nil), 404, "Could not find role: "+id+".")
	wantError(t, e.c.As(e.aliceToken, "").Do("POST", "/identity/v3/roles", obj{"role": obj{"name": "x"}}), 403, forbiddenMsg("identity:create_role"))
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	wantError(t, e.admin.Do("GET", "/identity/v3/nothing", nil), 404, "The resource could not be found.")
	wantError(t, e.admin.Do("PUT", "/identity/v3/projects", nil), 405, "")
}

func TestExtraAttributes(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	// Tempest's dynamic credentials send project_id; Terraform sends extras.
	r := e.admin.Do("POST", "/identity/v3/users", obj{"user": obj{"name": "tempest", "password": "pw", "project_id": e.p1.ID, "name_of_pet": "rex"}}).Expect(t, http.StatusCreated)
	u := r.JSON(t)["user"]
	if field(t, u, "project_id") != e.p1.ID || field(t, u, "name_of_pet") != "rex" {
		t.Errorf("extra user attributes not returned: %s", r.Body)
	}
	id := field(t, u, "id").(string)
	r = e.admin.Do("PATCH", "/identity/v3/users/"+id, obj{"user": obj{"name_of_pet": "max"}}).Expect(t, http.StatusOK)
	if field(t, r.JSON(t), "user", "name_of_pet") != "max" || field(t, r.JSON(t), "user", "project_id") != e.p1.ID {
		t.Errorf("extra after update: %s", r.Body)
	}
	r = e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "px", "cost_center": "42", "enabled": true}}).Expect(t, http.StatusCreated)
	pid := field(t, r.JSON(t), "project", "id").(string)
	r = e.admin.Do("GET", "/identity/v3/projects/"+pid, nil).Expect(t, http.StatusOK)
	if field(t, r.JSON(t), "project", "cost_center") != "42" || field(t, r.JSON(t), "project", "enabled") != true {
		t.Errorf("extra project attribute: %s", r.Body)
	}
	// An extra attribute never hides a defined one.
	r = e.admin.Do("PATCH", "/identity/v3/projects/"+pid, obj{"project": obj{"is_domain": false, "cost_center": "43"}}).Expect(t, http.StatusOK)
	if field(t, r.JSON(t), "project", "cost_center") != "43" || field(t, r.JSON(t), "project", "is_domain") != false {
		t.Errorf("project after update: %s", r.Body)
	}
}

// TestRoleExtraAttributes keeps a role's extra attributes on create and
// update (gophercloud's TestRolesCRUD updates an email).
func TestRoleExtraAttributes(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.admin.Do("POST", "/identity/v3/roles", obj{"role": obj{"name": "extra", "email": "a@example.com"}}).Expect(t, http.StatusCreated)
	id := field(t, r.JSON(t), "role", "id").(string)
	steps := []struct {
		method string
		body   any
		want   map[string]any
	}{
		{"GET", nil, map[string]any{"email": "a@example.com", "name": "extra"}},
		{"PATCH", obj{"role": obj{"email": "b@example.com", "team": "x"}}, map[string]any{"email": "b@example.com", "team": "x"}},
		{"PATCH", obj{"role": obj{"description": "d"}}, map[string]any{"email": "b@example.com", "team": "x", "description": "d"}},
		{"PATCH", obj{"role": obj{"name": "renamed", "options": obj{}, "domain_id": nil}}, map[string]any{"email": "b@example.com", "name": "renamed", "domain_id": nil}},
		{"GET", nil, map[string]any{"email": "b@example.com", "team": "x", "name": "renamed"}},
	}
	for _, s := range steps {
		r := e.admin.Do(s.method, "/identity/v3/roles/"+id, s.body).Expect(t, http.StatusOK)
		for k, want := range s.want {
			if got := field(t, r.JSON(t), "role", k); got != want {
				t.Errorf("%s %v: role %s = %v, want %v", s.method, s.body, k, got, want)
			}
		}
	}
	r = e.admin.Do("GET", "/identity/v3/roles?name=renamed", nil).Expect(t, http.StatusOK)
	if got := field(t, r.JSON(t)["roles"].([]any)[0], "team"); got != "x" {
		t.Errorf("listed role team %v", got)
	}
	wantError(t, e.admin.Do("PATCH", "/identity/v3/roles/"+id, obj{"role": obj{"domain_id": "default"}}), 400, "Update of `domain_id` is not allowed.")
}

func TestProjectTagsAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	base := "/identity/v3/projects/" + e.p1.ID + "/tags"
	r := e.admin.Do("PUT", base, obj{"tags": []string{"foo", "bar"}}).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/project-tags-list-response.json", r.Body, apisamples.Options{Extra: []string{"links"}})
	r = e.c.As(e.aliceToken, "").Do("GET", base, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/project-tags-list-response.json", r.Body, apisamples.Options{Extra: []string{"links"}})
	e.admin.Do("GET", base+"/foo", nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("GET", base+"/nope", nil), 404, "Could not find project tag: nope.")
	r = e.admin.Do("PUT", base+"/baz", nil).Expect(t, http.StatusCreated)
	if r.Header.Get("Location") != "http://example.com/identity/v3/projects/"+e.p1.ID+"/tags/baz" {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	e.admin.Do("DELETE", base+"/foo", nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("DELETE", base+"/foo", nil), 404, "Could not find project tag: foo.")
	wantError(t, e.admin.Do("PUT", base, obj{"tags": []string{"a,b"}}), 400, "")
	wantError(t, e.c.As(e.aliceToken, "").Do("PUT", base+"/x", nil), 403, forbiddenMsg("identity:create_project_tag"))

	filters := []struct {
		query string
		want  int
	}{
		{"?tags=bar,baz", 1}, {"?tags=bar,foo", 0}, {"?tags-any=foo,baz", 1},
		{"?not-tags=bar,baz", 2}, {"?not-tags-any=baz", 2}, {"?not-tags-any=nothing", 3},
	}
	for _, f := range filters {
		r := e.admin.Do("GET", "/identity/v3/projects"+f.query, nil).Expect(t, http.StatusOK)
		if n := len(r.JSON(t)["projects"].([]any)); n != f.want {
			t.Errorf("GET /v3/projects%s: %d projects, want %d", f.query, n, f.want)
		}
	}
	e.admin.Do("DELETE", base, nil).Expect(t, http.StatusNoContent)
	r = e.admin.Do("GET", "/identity/v3/projects/"+e.p1.ID, nil).Expect(t, http.StatusOK)
	if tags := field(t, r.JSON(t), "project", "tags").([]any); len(tags) != 0 {
		t.Errorf("tags after clearing: %v", tags)
	}
}

// A project-scoped member may read its project's domain (Keystone's
// get_domain: token.project.domain.id), not another domain.
func TestGetDomainOfOwnProject(t *testing.T) {
	t.Parallel()
	{
		e := sqliteEnv(t)
		other := e.admin.Do("POST", "/identity/v3/domains", obj{"domain": obj{"name": "other"}}).Expect(t, http.StatusCreated).JSON(t)["domain"].(map[string]any)["id"].(string)
		alice := e.c.As(e.aliceToken, "")
		r := alice.Do("GET", "/identity/v3/domains/default", nil).Expect(t, http.StatusOK)
		if got := r.JSON(t)["domain"].(map[string]any)["id"]; got != "default" {
			t.Fatalf("domain %v", got)
		}
		wantError(t, alice.Do("GET", "/identity/v3/domains/"+other, nil), 403, "You are not authorized to perform the requested action: identity:get_domain.")
	}
}

// TestNameTooLong checks the 400 of a name over Keystone's schema limit:
// 64 characters for domains and projects, 255 for users, groups and roles.
func TestNameTooLong(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	d := e.admin.Do("POST", "/identity/v3/domains", obj{"domain": obj{"name": "d"}}).Expect(t, http.StatusCreated)
	domainID := field(t, d.JSON(t), "domain", "id").(string)
	tests := []struct {
		method, path, key string
		max               int
	}{
		{"POST", "/identity/v3/domains", "domain", 64},
		{"PATCH", "/identity/v3/domains/" + domainID, "domain", 64},
		{"POST", "/identity/v3/projects", "project", 64},
		{"PATCH", "/identity/v3/projects/" + e.p1.ID, "project", 64},
		{"POST", "/identity/v3/users", "user", 255},
		{"POST", "/identity/v3/groups", "group", 255},
		{"POST", "/identity/v3/roles", "role", 255},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.key, func(t *testing.T) {
			name := strings.Repeat("a", tc.max+1)
			wantError(t, e.admin.Do(tc.method, tc.path, obj{tc.key: obj{"name": name}}), 400,
				"Invalid input for field 'name': '"+name+"' is too long")
			// Keystone's pattern [\S]+ refuses a name of spaces.
			wantError(t, e.admin.Do(tc.method, tc.path, obj{tc.key: obj{"name": "   "}}), 400,
				`Invalid input for field 'name': '   ' does not match '[\\S]+'`)
		})
	}
}
