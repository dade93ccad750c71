package identity

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestCatalogWritesAPI walks service, endpoint and region writes and
// Keystone's errors for them, and checks that what admins add shows in
// tokens' catalogs.
func TestCatalogWritesAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.admin
		r := a.Do("POST", "/identity/v3/services", obj{"service": obj{"type": "object-store", "name": "swift", "description": "d", "x": 1}}).Expect(t, http.StatusCreated)
		svc := r.JSON(t)["service"].(map[string]any)
		sid := svc["id"].(string)
		if svc["enabled"] != true || svc["name"] != "swift" || svc["x"] != float64(1) {
			t.Errorf("created service %v", svc)
		}
		r = a.Do("POST", "/identity/v3/regions", obj{"region": obj{"id": "RegionTwo", "parent_region_id": "RegionOne"}}).Expect(t, http.StatusCreated)
		if p := field(t, r.JSON(t), "region", "parent_region_id"); p != "RegionOne" {
			t.Errorf("parent %v", p)
		}
		r = a.Do("POST", "/identity/v3/endpoints", obj{"endpoint": obj{"service_id": sid, "interface": "public",
			"url": "http://swift.example/v1/AUTH_$(project_id)s", "region_id": "RegionTwo"}}).Expect(t, http.StatusCreated)
		eid := field(t, r.JSON(t), "endpoint", "id").(string)

		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			msg                string
		}{
			{"service without type", "POST", "/identity/v3/services", obj{"service": obj{"name": "n"}}, 400, "'type' is a required property"},
			{"service enabled not bool", "POST", "/identity/v3/services", obj{"service": obj{"type": "t", "enabled": "yes"}}, 400,
				"Invalid input for field 'enabled': 'yes' is not of type 'boolean'"},
			{"patch service id", "PATCH", "/identity/v3/services/" + sid, obj{"service": obj{"id": "other"}}, 400, "Cannot change ID"},
			{"patch missing service", "PATCH", "/identity/v3/services/nope", obj{"service": obj{"name": "n"}}, 404, "Could not find service: nope."},
			{"endpoint bad interface", "POST", "/identity/v3/endpoints", obj{"endpoint": obj{"service_id": sid, "interface": "outer", "url": "http://x"}}, 400,
				"Invalid input for field 'interface': 'outer' is not one of ['admin', 'internal', 'public']"},
			{"endpoint bad url", "POST", "/identity/v3/endpoints", obj{"endpoint": obj{"service_id": sid, "interface": "public", "url": "nourl"}}, 400, ""},
			{"endpoint unknown substitution", "POST", "/identity/v3/endpoints", obj{"endpoint": obj{"service_id": sid, "interface": "public", "url": "http://x/$(nope)s"}}, 400,
				"Cannot create an endpoint with an invalid URL: http://x/$(nope)s."},
			{"endpoint missing service", "POST", "/identity/v3/endpoints", obj{"endpoint": obj{"service_id": "nope", "interface": "public", "url": "http://x"}}, 400,
				"Expecting to find endpoint service_id in service table. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
			{"endpoint missing region", "POST", "/identity/v3/endpoints", obj{"endpoint": obj{"service_id": sid, "interface": "public", "url": "http://x", "region_id": "nope"}}, 400,
				"Expecting to find endpoint region_id in region table. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
			{"region duplicate", "PUT", "/identity/v3/regions/RegionTwo", obj{"region": obj{}}, 409, "Conflict occurred attempting to store region - Duplicate ID, RegionTwo."},
			{"region conflicting ids", "PUT", "/identity/v3/regions/R3", obj{"region": obj{"id": "R4"}}, 400, `Conflicting region IDs specified: "R3" != "R4"`},
			{"region cycle", "PATCH", "/identity/v3/regions/RegionOne", obj{"region": obj{"parent_region_id": "RegionTwo"}}, 400,
				"The specified parent region RegionTwo would create a circular region hierarchy."},
			{"region with endpoints", "DELETE", "/identity/v3/regions/RegionTwo", nil, 403,
				"Unable to delete region RegionTwo because it or its child regions have associated endpoints."},
			{"region missing parent", "POST", "/identity/v3/regions", obj{"region": obj{"parent_region_id": "nope"}}, 404, "Could not find region: nope."},
			{"member writes", "", "/identity/v3/services", obj{"service": obj{"type": "t"}}, 403,
				"You are not authorized to perform the requested action: identity:create_service."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, method := a, tc.method
				if method == "" {
					c, method = e.c.As(e.aliceToken, ""), "POST"
				}
				resp := c.Do(method, tc.path, tc.body)
				if tc.msg == "" {
					resp.Expect(t, tc.status)
					return
				}
				wantError(t, resp, tc.status, tc.msg)
			})
		}

		// The new service shows in alice's token, its URL naming p1.
		r = e.c.As(e.aliceToken, "").Do("GET", "/identity/v3/auth/catalog", nil).Expect(t, http.StatusOK)
		found := false
		for _, s := range r.JSON(t)["catalog"].([]any) {
			if field(t, s, "id") == sid {
				ep := field(t, s, "endpoints").([]any)[0]
				found = field(t, ep, "url") == "http://swift.example/v1/AUTH_"+e.p1.ID && field(t, ep, "region_id") == "RegionTwo"
			}
		}
		if !found {
			t.Errorf("new service not in alice's catalog: %s", r.Body)
		}
		// kumo's own endpoints can be edited: an absolute URL replaces
		// the one under kumo's public URL.
		computeID := field(t, field(t, a.Do("GET", "/identity/v3/services?type=compute", nil).Expect(t, http.StatusOK).JSON(t), "services").([]any)[0], "id").(string)
		r = a.Do("GET", "/identity/v3/endpoints?service_id="+computeID+"&interface=public", nil).Expect(t, http.StatusOK)
		ownEP := field(t, field(t, r.JSON(t), "endpoints").([]any)[0], "id").(string)
		r = a.Do("PATCH", "/identity/v3/endpoints/"+ownEP, obj{"endpoint": obj{"url": "https://nova.example/v2.1", "enabled": false}}).Expect(t, http.StatusOK)
		if u := field(t, r.JSON(t), "endpoint", "url"); u != "https://nova.example/v2.1" {
			t.Errorf("patched url %v", u)
		}
		// Disabled endpoints leave the catalog.
		r = e.c.As(e.aliceToken, "").Do("GET", "/identity/v3/auth/catalog", nil).Expect(t, http.StatusOK)
		if strings.Contains(string(r.Body), ownEP) {
			t.Errorf("disabled endpoint %s still in the catalog", ownEP)
		}
		// Deleting a service deletes its endpoints; then the region goes.
		a.Do("DELETE", "/identity/v3/services/"+sid, nil).Expect(t, http.StatusNoContent)
		wantError(t, a.Do("GET", "/identity/v3/endpoints/"+eid, nil), 404, "Could not find endpoint: "+eid+".")
		a.Do("DELETE", "/identity/v3/regions/RegionTwo", nil).Expect(t, http.StatusNoContent)
	})
}

// TestEndpointFilterAPI associates an endpoint and an endpoint group with
// a project and checks what its tokens' catalogs show.
func TestEndpointFilterAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.admin
		imageID := field(t, field(t, a.Do("GET", "/identity/v3/services?type=image", nil).Expect(t, http.StatusOK).JSON(t), "services").([]any)[0], "id").(string)
		ep := field(t, field(t, a.Do("GET", "/identity/v3/endpoints?service_id="+imageID+"&interface=public", nil).Expect(t, http.StatusOK).JSON(t), "endpoints").([]any)[0], "id").(string)
		pe := "/identity/v3/OS-EP-FILTER/projects/" + e.p1.ID + "/endpoints/"
		wantError(t, a.Do("HEAD", pe+ep, nil), 404, "")
		a.Do("PUT", pe+ep, nil).Expect(t, http.StatusNoContent)
		a.Do("HEAD", pe+ep, nil).Expect(t, http.StatusNoContent)
		wantError(t, a.Do("PUT", pe+"nope", nil), 404, "Could not find endpoint: nope.")
		catalog := func() []any {
			return e.c.As(e.aliceToken, "").Do("GET", "/identity/v3/auth/catalog", nil).Expect(t, http.StatusOK).JSON(t)["catalog"].([]any)
		}
		if c := catalog(); len(c) != 1 || field(t, c[0], "type") != "image" || len(field(t, c[0], "endpoints").([]any)) != 1 {
			t.Errorf("filtered catalog %v", c)
		}
		r := a.Do("GET", "/identity/v3/OS-EP-FILTER/endpoints/"+ep+"/projects", nil).Expect(t, http.StatusOK)
		if ps := r.JSON(t)["projects"].([]any); len(ps) != 1 || field(t, ps[0], "id") != e.p1.ID {
			t.Errorf("projects of endpoint %v", ps)
		}
		// An endpoint group adds every internal endpoint.
		r = a.Do("POST", "/identity/v3/OS-EP-FILTER/endpoint_groups", obj{"endpoint_group": obj{"name": "internal", "filters": obj{"interface": "internal"}}}).Expect(t, http.StatusCreated)
		gid := field(t, r.JSON(t), "endpoint_group", "id").(string)
		wantError(t, a.Do("POST", "/identity/v3/OS-EP-FILTER/endpoint_groups", obj{"endpoint_group": obj{"name": "bad", "filters": obj{"url": "x"}}}), 400,
			"Expecting to find service_id or region_id or interface in endpoint_group. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
		r = a.Do("GET", "/identity/v3/OS-EP-FILTER/endpoint_groups/"+gid+"/endpoints", nil).Expect(t, http.StatusOK)
		if n := len(r.JSON(t)["endpoints"].([]any)); n != 6 {
			t.Errorf("%d internal endpoints, want 6", n)
		}
		a.Do("PUT", "/identity/v3/OS-EP-FILTER/endpoint_groups/"+gid+"/projects/"+e.p1.ID, nil).Expect(t, http.StatusNoContent)
		if c := catalog(); len(c) != 6 {
			t.Errorf("catalog with the group: %d services, want 6", len(c))
		}
		a.Do("DELETE", "/identity/v3/OS-EP-FILTER/endpoint_groups/"+gid, nil).Expect(t, http.StatusNoContent)
		a.Do("DELETE", pe+ep, nil).Expect(t, http.StatusNoContent)
		if c := catalog(); len(c) != 6 {
			t.Errorf("unfiltered catalog: %d services", len(c))
		}
	})
}

// TestCredentialsAPI: /v3/credentials and OS-EC2 are two views of one
// store; s3tokens authenticates with such a credential.
func TestCredentialsAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		alice := e.c.As(e.aliceToken, "")
		blob := `{"access": "181920", "secret": "secretKey"}`
		r := alice.Do("POST", "/identity/v3/credentials", obj{"credential": obj{"type": "ec2", "user_id": e.alice.ID, "project_id": e.p1.ID, "blob": blob}}).Expect(t, http.StatusCreated)
		sum := sha256.Sum256([]byte("181920"))
		if id := field(t, r.JSON(t), "credential", "id"); id != hex.EncodeToString(sum[:]) {
			t.Errorf("ec2 credential id %v", id)
		}
		for _, tc := range []struct {
			name   string
			who    string
			method string
			path   string
			body   any
			status int
			msg    string
		}{
			{"ec2 without project", "alice", "POST", "/identity/v3/credentials", obj{"credential": obj{"type": "ec2", "user_id": e.alice.ID, "blob": blob}}, 400, "'project_id' is a required property"},
			{"ec2 blob not JSON", "alice", "POST", "/identity/v3/credentials", obj{"credential": obj{"type": "ec2", "user_id": e.alice.ID, "project_id": e.p1.ID, "blob": "x"}}, 400, "Invalid blob in credential"},
			{"for another user", "alice", "POST", "/identity/v3/credentials", obj{"credential": obj{"type": "totp", "user_id": e.adminID, "blob": "x"}}, 403,
				"You are not authorized to perform the requested action: identity:create_credential."},
			{"missing, as a user", "alice", "GET", "/identity/v3/credentials/nope", nil, 403,
				"You are not authorized to perform the requested action: identity:get_credential."},
			{"missing, as admin", "admin", "GET", "/identity/v3/credentials/nope", nil, 404, "Could not find credential: nope."},
			{"change trust", "alice", "PATCH", "/identity/v3/credentials/" + hex.EncodeToString(sum[:]),
				obj{"credential": obj{"blob": `{"access": "181920", "secret": "s", "trust_id": "t"}`}}, 400, "trust_id can not be updated for credential"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := alice
				if tc.who == "admin" {
					c = e.admin
				}
				wantError(t, c.Do(tc.method, tc.path, tc.body), tc.status, tc.msg)
			})
		}
		// OS-EC2 lists it.
		r = alice.Do("GET", "/identity/v3/users/"+e.alice.ID+"/credentials/OS-EC2", nil).Expect(t, http.StatusOK)
		if cs := r.JSON(t)["credentials"].([]any); len(cs) != 1 || field(t, cs[0], "access") != "181920" || field(t, cs[0], "secret") != "secretKey" {
			t.Errorf("OS-EC2 list %v", cs)
		}
		// An admin's list shows it; alice's list shows only hers.
		e.admin.Do("POST", "/identity/v3/credentials", obj{"credential": obj{"type": "totp", "user_id": e.adminID, "blob": "b"}}).Expect(t, http.StatusCreated)
		if n := len(alice.Do("GET", "/identity/v3/credentials", nil).Expect(t, http.StatusOK).JSON(t)["credentials"].([]any)); n != 1 {
			t.Errorf("alice sees %d credentials, want 1", n)
		}
		if n := len(e.admin.Do("GET", "/identity/v3/credentials", nil).Expect(t, http.StatusOK).JSON(t)["credentials"].([]any)); n != 2 {
			t.Errorf("admin sees %d credentials, want 2", n)
		}
		// s3tokens: admin (or a service) checks a v1 signature.
		toSign := "GET\n\n\nTue, 11 Jan 2022 00:00:00 GMT\n/bucket"
		m := hmac.New(sha1.New, []byte("secretKey"))
		m.Write([]byte(toSign))
		body := obj{"credentials": obj{"access": "181920", "token": base64.URLEncoding.EncodeToString([]byte(toSign)),
			"signature": base64.StdEncoding.EncodeToString(m.Sum(nil))}}
		r = e.admin.Do("POST", "/identity/v3/s3tokens", body).Expect(t, http.StatusOK)
		if u := field(t, r.JSON(t), "token", "user", "id"); u != e.alice.ID {
			t.Errorf("s3 token user %v", u)
		}
		wantError(t, alice.Do("POST", "/identity/v3/s3tokens", body), 403, "You are not authorized to perform the requested action: identity:s3tokens_validate.")
	})
}

// TestPoliciesAPI stores and returns policy documents as given.
func TestPoliciesAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		r := e.admin.Do("POST", "/identity/v3/policies", obj{"policy": obj{"type": "application/json", "blob": `{"r": "@"}`, "extra": "kept"}}).Expect(t, http.StatusCreated)
		p := r.JSON(t)["policy"].(map[string]any)
		if p["blob"] != `{"r": "@"}` || p["extra"] != "kept" {
			t.Errorf("created policy %v", p)
		}
		id := p["id"].(string)
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			msg                string
		}{
			{"no blob", "POST", "/identity/v3/policies", obj{"policy": obj{"type": "t"}}, 400, "'blob' is a required property"},
			{"no type", "POST", "/identity/v3/policies", obj{"policy": obj{"blob": "b"}}, 400, "'type' is a required property"},
			{"empty patch", "PATCH", "/identity/v3/policies/" + id, obj{"policy": obj{}}, 400, "Invalid input for field 'policy': {} does not have enough properties"},
			{"missing", "GET", "/identity/v3/policies/nope", nil, 404, "Could not find policy: nope."},
		} {
			t.Run(tc.name, func(t *testing.T) { wantError(t, e.admin.Do(tc.method, tc.path, tc.body), tc.status, tc.msg) })
		}
		r = e.admin.Do("GET", "/identity/v3/policies?type__startswith=application", nil).Expect(t, http.StatusOK)
		if n := len(r.JSON(t)["policies"].([]any)); n != 1 {
			t.Errorf("%d policies by type prefix", n)
		}
		wantError(t, e.c.As(e.aliceToken, "").Do("GET", "/identity/v3/policies", nil), 403,
			"You are not authorized to perform the requested action: identity:list_policies.")
		e.admin.Do("DELETE", "/identity/v3/policies/"+id, nil).Expect(t, http.StatusNoContent)
	})
}
