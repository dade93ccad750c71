package identity

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestGroupsAPI walks a group's life on both engines: create (sample
// shape), filters, membership, a grant to the group reaching a member's
// token and effective role assignments, then deletion.
func TestGroupsAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		r := e.admin.Do("POST", "/identity/v3/groups", obj{"group": obj{"name": "Contract developers", "description": "Contract developers", "domain_id": "default"}}).
			Expect(t, http.StatusCreated)
		apisamples.Assert(t, "keystone/v3/samples/admin/group-create-response.json", r.Body, apisamples.Options{})
		gid := field(t, r.JSON(t), "group", "id").(string)
		base := "/identity/v3/groups/" + gid
		wantError(t, e.admin.Do("POST", "/identity/v3/groups", obj{"group": obj{"name": "Contract developers"}}), 409,
			"Conflict occurred attempting to store group - Duplicate entry found with name Contract developers at domain ID default.")
		wantError(t, e.admin.Do("GET", "/identity/v3/groups/nope", nil), 404, "Could not find group: nope.")
		wantError(t, e.c.As(e.aliceToken, "").Do("POST", "/identity/v3/groups", obj{"group": obj{"name": "x"}}), 403, forbiddenMsg("identity:create_group"))

		filters := []struct {
			query string
			want  int
		}{
			{"", 1}, {"?name=Contract+developers", 1}, {"?name=nope", 0}, {"?domain_id=default", 1},
			{"?name__icontains=CONTRACT", 1}, {"?name__startswith=Contract", 1}, {"?name__endswith=x", 0},
		}
		for _, f := range filters {
			r := e.admin.Do("GET", "/identity/v3/groups"+f.query, nil).Expect(t, http.StatusOK)
			if n := len(r.JSON(t)["groups"].([]any)); n != f.want {
				t.Errorf("GET /v3/groups%s: %d groups, want %d", f.query, n, f.want)
			}
		}
		r = e.admin.Do("PATCH", base, obj{"group": obj{"description": "new"}}).Expect(t, http.StatusOK)
		if got := field(t, r.JSON(t), "group", "description"); got != "new" {
			t.Errorf("description after PATCH: %v", got)
		}

		member := base + "/users/" + e.alice.ID
		wantError(t, e.admin.Do("HEAD", member, nil), 404, "")
		e.admin.Do("PUT", member, nil).Expect(t, http.StatusNoContent)
		e.admin.Do("HEAD", member, nil).Expect(t, http.StatusNoContent)
		r = e.admin.Do("GET", base+"/users", nil).Expect(t, http.StatusOK)
		if users := r.JSON(t)["users"].([]any); len(users) != 1 || field(t, users[0], "id") != e.alice.ID {
			t.Errorf("group users %v", users)
		}
		r = e.admin.Do("GET", "/identity/v3/users/"+e.alice.ID+"/groups", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, "keystone/v3/samples/admin/user-groups-list-response.json", r.Body, apisamples.Options{})

		// A grant to the group: in the member's token at once, and in the
		// effective assignments with the membership link. (A role of its
		// own: alice's member role implies reader.)
		e.admin.Do("POST", "/identity/v3/roles", obj{"role": obj{"name": "auditor"}}).Expect(t, http.StatusCreated)
		reader := roleID(t, e, "auditor")
		grant := "/identity/v3/projects/" + e.p1.ID + "/groups/" + gid + "/roles/" + reader
		e.admin.Do("PUT", grant, nil).Expect(t, http.StatusNoContent)
		e.admin.Do("HEAD", grant, nil).Expect(t, http.StatusNoContent)
		r = e.admin.Do("GET", "/identity/v3/projects/"+e.p1.ID+"/groups/"+gid+"/roles", nil).Expect(t, http.StatusOK)
		if n := len(r.JSON(t)["roles"].([]any)); n != 1 {
			t.Errorf("%d roles granted to the group, want 1", n)
		}
		pr, err := e.svc.Authenticate(t.Context(), e.aliceToken)
		if err != nil || !pr.HasRole("auditor") {
			t.Errorf("alice's principal %+v %v, want auditor through the group", pr, err)
		}
		r = e.admin.Do("GET", "/identity/v3/role_assignments?effective&role.id="+reader, nil).Expect(t, http.StatusOK)
		// The sample's second assignment is one through a group.
		sample := apisamples.Load(t, "keystone/v3/samples/admin/role-assignments-effective-list-response.json")
		// Others hold reader through the roles implying it; one holds it
		// through the group.
		var got []any
		for _, a := range r.JSON(t)["role_assignments"].([]any) {
			if a.(map[string]any)["links"].(map[string]any)["membership"] != nil {
				got = append(got, a)
			}
		}
		if len(got) != 1 {
			t.Fatalf("effective reader assignments through a group: %s", r.Body)
		}
		if diffs := apisamples.Compare(sample.(map[string]any)["role_assignments"].([]any)[1], got[0], apisamples.Options{}); len(diffs) > 0 {
			t.Errorf("assignment through a group differs from the sample's: %v", diffs)
		}
		var viaGroup bool
		for _, a := range r.JSON(t)["role_assignments"].([]any) {
			if field(t, a, "links", "membership") == "http://example.com/identity/v3/groups/"+gid+"/users/"+e.alice.ID &&
				field(t, a, "links", "assignment") == "http://example.com"+grant {
				viaGroup = true
			}
		}
		if !viaGroup {
			t.Errorf("no effective assignment through the group: %s", r.Body)
		}
		r = e.admin.Do("GET", "/identity/v3/role_assignments?include_names&group.id="+gid, nil).Expect(t, http.StatusOK)
		as := r.JSON(t)["role_assignments"].([]any)
		if len(as) != 1 || field(t, as[0], "group", "name") != "Contract developers" || field(t, as[0], "group", "domain", "name") != "Default" {
			t.Errorf("group assignments with names: %s", r.Body)
		}
		wantError(t, e.admin.Do("GET", "/identity/v3/role_assignments?effective&group.id="+gid, nil), 400,
			"Combining effective and group filter will always result in an empty list.")

		// Deleting the group ends the membership and its grants.
		e.admin.Do("DELETE", base, nil).Expect(t, http.StatusNoContent)
		r = e.admin.Do("GET", "/identity/v3/users/"+e.alice.ID+"/groups", nil).Expect(t, http.StatusOK)
		if n := len(r.JSON(t)["groups"].([]any)); n != 0 {
			t.Errorf("alice in %d groups after the deletion", n)
		}
		pr, err = e.svc.Authenticate(t.Context(), e.aliceToken)
		if err != nil || pr.HasRole("auditor") {
			t.Errorf("alice's principal after the group's deletion %+v %v", pr, err)
		}
	})
}

// TestInheritedAndImpliedRolesAPI covers OS-INHERIT grants (on a domain
// and on a project, as listed and as effective) and implied roles.
func TestInheritedAndImpliedRolesAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	reader, member := roleID(t, e, "reader"), roleID(t, e, "member")
	child := e.admin.Do("POST", "/identity/v3/projects", obj{"project": obj{"name": "child", "parent_id": e.p1.ID}}).Expect(t, http.StatusCreated)
	childID := field(t, child.JSON(t), "project", "id").(string)

	inh := "/identity/v3/OS-INHERIT/projects/" + e.p1.ID + "/users/" + e.alice.ID + "/roles/" + reader + "/inherited_to_projects"
	wantError(t, e.admin.Do("HEAD", inh, nil), 404, "Could not find role assignment with role: "+reader+", user or group: "+e.alice.ID+", project, domain, or system: "+e.p1.ID+".")
	e.admin.Do("PUT", inh, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("HEAD", inh, nil).Expect(t, http.StatusNoContent)
	// The inherited grant is not a direct one.
	wantError(t, e.admin.Do("HEAD", "/identity/v3/projects/"+e.p1.ID+"/users/"+e.alice.ID+"/roles/"+reader, nil), 404, "")

	r := e.admin.Do("GET", "/identity/v3/role_assignments?scope.OS-INHERIT:inherited_to=projects", nil).Expect(t, http.StatusOK)
	as := r.JSON(t)["role_assignments"].([]any)
	if len(as) != 1 || field(t, as[0], "scope", "OS-INHERIT:inherited_to") != "projects" ||
		field(t, as[0], "links", "assignment") != "http://example.com"+inh {
		t.Errorf("inherited assignments: %s", r.Body)
	}
	// Effective: on the child, not on p1 itself (where alice holds
	// reader through member, which implies it).
	for _, tc := range []struct {
		project string
		want    int
	}{{e.p1.ID, 0}, {childID, 1}} {
		r = e.admin.Do("GET", "/identity/v3/role_assignments?effective&user.id="+e.alice.ID+"&role.id="+reader+"&scope.project.id="+tc.project, nil).Expect(t, http.StatusOK)
		n := 0
		for _, a := range r.JSON(t)["role_assignments"].([]any) {
			if field(t, a, "links", "assignment") == "http://example.com"+inh {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("effective reader of alice on %s: %d, want %d: %s", tc.project, n, tc.want, r.Body)
		}
	}
	tok := e.login("alice", "pw", obj{"project": obj{"id": childID}})
	if pr, err := e.svc.Authenticate(t.Context(), tok); err != nil || !pr.HasRole("reader") {
		t.Errorf("alice's child token %+v %v, want the inherited reader", pr, err)
	}

	dinh := "/identity/v3/OS-INHERIT/domains/default/users/" + e.alice.ID + "/roles"
	e.admin.Do("PUT", dinh+"/"+member+"/inherited_to_projects", nil).Expect(t, http.StatusNoContent)
	r = e.admin.Do("GET", dinh+"/inherited_to_projects", nil).Expect(t, http.StatusOK)
	if rs := r.JSON(t)["roles"].([]any); len(rs) != 1 || field(t, rs[0], "id") != member {
		t.Errorf("inherited roles on the domain: %s", r.Body)
	}
	wantError(t, e.admin.Do("GET", "/identity/v3/role_assignments?effective&scope.OS-INHERIT:inherited_to=projects&scope.domain.id=default", nil), 400,
		"Combining effective, domain and inherited filters will always result in an empty list.")
	e.admin.Do("DELETE", dinh+"/"+member+"/inherited_to_projects", nil).Expect(t, http.StatusNoContent)

	// Implied roles.
	mk := func(name string) string {
		r := e.admin.Do("POST", "/identity/v3/roles", obj{"role": obj{"name": name}}).Expect(t, http.StatusCreated)
		return field(t, r.JSON(t), "role", "id").(string)
	}
	prior, implied := mk("prior"), mk("implied")
	rule := "/identity/v3/roles/" + prior + "/implies/" + implied
	r = e.admin.Do("PUT", rule, nil).Expect(t, http.StatusCreated)
	apisamples.Assert(t, "keystone/v3/samples/admin/create-role-inferences-response.json", r.Body, apisamples.Options{})
	e.admin.Do("HEAD", rule, nil).Expect(t, http.StatusNoContent)
	r = e.admin.Do("GET", rule, nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/get-role-inferences-response.json", r.Body, apisamples.Options{})
	r = e.admin.Do("GET", "/identity/v3/roles/"+prior+"/implies", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/list-implied-roles-for-role-response.json", r.Body, apisamples.Options{})
	r = e.admin.Do("GET", "/identity/v3/role_inferences", nil).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/admin/role-inferences-response.json", r.Body,
		// Keystone's role_inferences.py returns no links, though the
		// api-ref sample shows some; the roles' descriptions are optional.
		apisamples.Options{Optional: []string{"links", "role_inferences[].prior_role.description", "role_inferences[].implies[].description"}})
	wantError(t, e.admin.Do("PUT", "/identity/v3/roles/"+prior+"/implies/"+roleID(t, e, "admin"), nil), 403,
		roleID(t, e, "admin")+" cannot be an implied roles.")
	wantError(t, e.admin.Do("GET", "/identity/v3/roles/"+implied+"/implies/"+prior, nil), 404, implied+" does not imply "+prior+".")

	// The implied role reaches tokens and effective assignments, with
	// the prior role's link.
	e.admin.Do("PUT", "/identity/v3/projects/"+e.p1.ID+"/users/"+e.alice.ID+"/roles/"+prior, nil).Expect(t, http.StatusNoContent)
	if pr, err := e.svc.Authenticate(t.Context(), e.aliceToken); err != nil || !pr.HasRole("implied") || !pr.HasRole("prior") {
		t.Errorf("alice's principal %+v %v, want prior and implied", pr, err)
	}
	r = e.admin.Do("GET", "/identity/v3/role_assignments?effective&role.id="+implied, nil).Expect(t, http.StatusOK)
	as = r.JSON(t)["role_assignments"].([]any)
	if len(as) != 1 || field(t, as[0], "links", "prior_role") != "http://example.com/identity/v3/prior_role/"+implied+"/implies/"+prior {
		t.Errorf("effective implied assignment: %s", r.Body)
	}
	e.admin.Do("DELETE", rule, nil).Expect(t, http.StatusNoContent)
	if pr, err := e.svc.Authenticate(t.Context(), e.aliceToken); err != nil || pr.HasRole("implied") {
		t.Errorf("alice's principal after the rule's deletion %+v %v", pr, err)
	}

	// System grants are kept and listed.
	sys := "/identity/v3/system/users/" + e.alice.ID + "/roles/" + reader
	e.admin.Do("PUT", sys, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("HEAD", sys, nil).Expect(t, http.StatusNoContent)
	r = e.admin.Do("GET", "/identity/v3/role_assignments?scope.system=all&user.id="+e.alice.ID, nil).Expect(t, http.StatusOK)
	as = r.JSON(t)["role_assignments"].([]any)
	if len(as) != 1 || field(t, as[0], "scope", "system", "all") != true || field(t, as[0], "links", "assignment") != "http://example.com"+sys {
		t.Errorf("system assignments: %s", r.Body)
	}
	e.admin.Do("DELETE", sys, nil).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("HEAD", sys, nil), 404, "")
}
