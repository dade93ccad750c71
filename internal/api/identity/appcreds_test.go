package identity

import (
	"net/http"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// appCredAuth is an application_credential auth request by id.
func appCredAuth(id, secret string) obj {
	return obj{"auth": obj{"identity": obj{"methods": []string{"application_credential"},
		"application_credential": obj{"id": id, "secret": secret}}}}
}

// TestApplicationCredentialsAPI walks Keystone's application credential
// and access rule calls: bodies as the api-ref samples show them, the
// secret shown once, tokens from the credential, and the refusals.
func TestApplicationCredentialsAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		alice := e.c.As(e.aliceToken, "")
		base := "/identity/v3/users/" + e.alice.ID + "/application_credentials"
		expires := time.Now().UTC().Add(time.Hour).Truncate(time.Microsecond)

		r := alice.Do("POST", base, obj{"application_credential": obj{
			"name": "monitoring", "secret": "rEaqvJka48mpv", "description": "Application credential for monitoring.",
			"expires_at": expires.Format("2006-01-02T15:04:05.999999"), "roles": []obj{{"name": "member"}},
			"access_rules": []obj{{"path": "/v3/users/" + e.alice.ID + "/access_rules", "method": "GET", "service": "identity"}},
			"unrestricted": false,
		}}).Expect(t, http.StatusCreated)
		apisamples.Assert(t, "keystone/v3/samples/admin/application-credential-create-response.json", r.Body,
			apisamples.Options{Extra: []string{"application_credential.roles[].description", "application_credential.roles[].options"}})
		created := r.JSON(t)["application_credential"].(map[string]any)
		id := created["id"].(string)
		if created["secret"] != "rEaqvJka48mpv" || created["expires_at"] != expires.Format("2006-01-02T15:04:05.000000") ||
			created["project_id"] != e.p1.ID || field(t, created, "links", "self") != "http://example.com"+base+"/"+id {
			t.Errorf("created %s", r.Body)
		}

		r = alice.Do("GET", base+"/"+id, nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, "keystone/v3/samples/admin/application-credential-get-response.json", r.Body,
			apisamples.Options{Extra: []string{"application_credential.roles[].description", "application_credential.roles[].options"}})
		if _, shown := r.JSON(t)["application_credential"].(map[string]any)["secret"]; shown {
			t.Errorf("secret shown after create: %s", r.Body)
		}
		alice.Do("POST", base, obj{"application_credential": obj{"name": "backups"}}).Expect(t, http.StatusCreated)
		r = alice.Do("GET", base, nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, "keystone/v3/samples/admin/application-credential-list-response.json", r.Body,
			apisamples.Options{Optional: []string{"application_credentials[].access_rules"},
				Extra: []string{"application_credentials[].roles[].description", "application_credentials[].roles[].options"}})
		if n := len(r.JSON(t)["application_credentials"].([]any)); n != 2 {
			t.Errorf("%d credentials, want 2", n)
		}
		r = alice.Do("GET", base+"?name=backups", nil).Expect(t, http.StatusOK)
		if list := r.JSON(t)["application_credentials"].([]any); len(list) != 1 || field(t, list[0], "name") != "backups" {
			t.Errorf("name filter: %s", r.Body)
		}
		rules := alice.Do("GET", "/identity/v3/users/"+e.alice.ID+"/access_rules", nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, "keystone/v3/samples/admin/access-rules-list-response.json", rules.Body, apisamples.Options{})
		ruleID := field(t, rules.JSON(t)["access_rules"].([]any)[0], "id").(string)
		r = alice.Do("GET", "/identity/v3/users/"+e.alice.ID+"/access_rules/"+ruleID, nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, "keystone/v3/samples/admin/access-rule-get-response.json", r.Body, apisamples.Options{})

		// A token from the credential: its project, its roles, its rules.
		r = e.c.Do("POST", "/identity/v3/auth/tokens", appCredAuth(id, "rEaqvJka48mpv")).Expect(t, http.StatusCreated)
		apisamples.Assert(t, "keystone/v3/samples/admin/auth-application-credential-response.json", r.Body,
			apisamples.Options{Extra: []string{"token.application_credential.access_rules", "token.catalog[].endpoints[].url"}})
		tok := r.JSON(t)["token"].(map[string]any)
		if field(t, tok, "application_credential", "restricted") != true || field(t, tok, "project", "id") != e.p1.ID ||
			len(tok["roles"].([]any)) != 1 || field(t, tok["roles"].([]any)[0], "name") != "member" {
			t.Errorf("token %s", r.Body)
		}
		acToken := r.Header.Get("X-Subject-Token")
		restricted := e.c.As(acToken, "")

		// Validation needs a caller that enforces access rules.
		wantError(t, e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", acToken), http.StatusNotFound, "Failed to validate token")
		e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", acToken, "OpenStack-Identity-Access-Rules", "1.0").Expect(t, http.StatusOK)

		// The access rule is the one call the token may make.
		restricted.Do("GET", "/identity/v3/users/"+e.alice.ID+"/access_rules", nil).Expect(t, http.StatusOK)
		restricted.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", acToken, "OpenStack-Identity-Access-Rules", "1.0").Expect(t, http.StatusOK)
		wantError(t, restricted.Do("GET", base, nil), http.StatusUnauthorized, "The request you have made requires authentication.")

		// An unrestricted credential without rules reaches everything but,
		// when restricted, may not make more credentials.
		r = alice.Do("POST", base, obj{"application_credential": obj{"name": "plain"}}).Expect(t, http.StatusCreated)
		plain := r.JSON(t)["application_credential"].(map[string]any)
		r = e.c.Do("POST", "/identity/v3/auth/tokens", appCredAuth(plain["id"].(string), plain["secret"].(string))).Expect(t, http.StatusCreated)
		plainClient := e.c.As(r.Header.Get("X-Subject-Token"), "")
		plainClient.Do("GET", base, nil).Expect(t, http.StatusOK)

		bob, asBob := userOnP1(t, e, "bob", "member")
		unscoped := e.c.As(e.login("alice", "pw", nil), "")
		cases := []struct {
			name    string
			as      *apitest.Client
			method  string
			path    string
			body    any
			status  int
			message string
		}{
			{"a restricted credential's token creates", plainClient, "POST", base, obj{"application_credential": obj{"name": "x"}}, http.StatusForbidden,
				"You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials."},
			{"a restricted credential's token deletes", plainClient, "DELETE", base + "/" + id, nil, http.StatusForbidden, ""},
			{"for another user", asBob, "POST", base, obj{"application_credential": obj{"name": "x"}}, http.StatusForbidden,
				"You are not authorized to perform the requested action: identity:create_application_credential."},
			{"an unscoped token creates", unscoped, "POST", base, obj{"application_credential": obj{"name": "x"}}, http.StatusForbidden, ""},
			{"name taken", alice, "POST", base, obj{"application_credential": obj{"name": "backups"}}, http.StatusConflict,
				"Conflict occurred attempting to store application_credential - Duplicate entry."},
			{"no name", alice, "POST", base, obj{"application_credential": obj{}}, http.StatusBadRequest,
				"Invalid input for field 'application_credential': 'name' is a required property"},
			{"unknown attribute", alice, "POST", base, obj{"application_credential": obj{"name": "x", "color": "red"}}, http.StatusBadRequest,
				"Invalid input for field 'application_credential': Additional properties are not allowed ('color' was unexpected)"},
			{"expired", alice, "POST", base, obj{"application_credential": obj{"name": "x", "expires_at": "2001-01-01T00:00:00"}}, http.StatusBadRequest,
				"The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
			{"not a time", alice, "POST", base, obj{"application_credential": obj{"name": "x", "expires_at": "soon"}}, http.StatusBadRequest,
				"Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
			{"a role not held", alice, "POST", base, obj{"application_credential": obj{"name": "x", "roles": []obj{{"name": "admin"}}}}, http.StatusBadRequest,
				"Invalid application credential: Cannot create an application credential with unassigned role"},
			{"a role with id and name", alice, "POST", base, obj{"application_credential": obj{"name": "x", "roles": []obj{{"name": "member", "id": "x"}}}}, http.StatusBadRequest, ""},
			{"a bad method", alice, "POST", base, obj{"application_credential": obj{"name": "x", "access_rules": []obj{{"service": "compute", "path": "/v2.1", "method": "GOT"}}}},
				http.StatusBadRequest, "Invalid input for field 'application_credential/access_rules/0/method': 'GOT' is not one of ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT']"},
			// The owner decides, not the path's user.
			{"another's credential under one's own path", asBob, "GET", "/identity/v3/users/" + bob.ID + "/application_credentials/" + id, nil, http.StatusForbidden, ""},
			{"another's credentials", asBob, "GET", base, nil, http.StatusForbidden, ""},
			{"a missing credential", alice, "GET", base + "/nope", nil, http.StatusNotFound, "Could not find Application Credential: nope."},
			{"admin reads", e.admin, "GET", base + "/" + id, nil, http.StatusOK, ""},
			{"admin lists", e.admin, "GET", base, nil, http.StatusOK, ""},
			{"admin lists access rules", e.admin, "GET", "/identity/v3/users/" + e.alice.ID + "/access_rules", nil, http.StatusForbidden, ""},
			{"a rule in use", alice, "DELETE", "/identity/v3/users/" + e.alice.ID + "/access_rules/" + ruleID, nil, http.StatusForbidden, "May not delete access rule in use"},
			{"a missing rule", alice, "GET", "/identity/v3/users/" + e.alice.ID + "/access_rules/nope", nil, http.StatusNotFound, "Could not find Access Rule: nope."},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.as.Do(tc.method, tc.path, tc.body)
				if tc.status >= 400 {
					wantError(t, r, tc.status, tc.message)
					return
				}
				r.Expect(t, tc.status)
			})
		}

		// Authentication failures.
		authCases := []struct {
			name    string
			body    obj
			status  int
			message string
		}{
			{"wrong secret", appCredAuth(id, "nope"), http.StatusUnauthorized, ""},
			{"unknown id", appCredAuth("nope", "x"), http.StatusNotFound, "Could not find Application Credential: nope."},
			{"a scope", obj{"auth": obj{"identity": appCredAuth(id, "rEaqvJka48mpv")["auth"].(obj)["identity"],
				"scope": obj{"project": obj{"id": e.p1.ID}}}}, http.StatusUnauthorized, ""},
			{"by name without a user", obj{"auth": obj{"identity": obj{"methods": []string{"application_credential"},
				"application_credential": obj{"name": "monitoring", "secret": "rEaqvJka48mpv"}}}}, http.StatusBadRequest, ""},
		}
		for _, tc := range authCases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.c.Do("POST", "/identity/v3/auth/tokens", tc.body), tc.status, tc.message)
			})
		}
		e.c.Do("POST", "/identity/v3/auth/tokens", obj{"auth": obj{"identity": obj{"methods": []string{"application_credential"},
			"application_credential": obj{"name": "monitoring", "secret": "rEaqvJka48mpv",
				"user": obj{"name": "alice", "domain": obj{"id": "default"}}}}}}).Expect(t, http.StatusCreated)

		// Deleted: its tokens stop working.
		alice.Do("DELETE", base+"/"+id, nil).Expect(t, http.StatusNoContent)
		wantError(t, restricted.Do("GET", "/identity/v3/users/"+e.alice.ID+"/access_rules", nil), http.StatusUnauthorized, "")
		alice.Do("DELETE", "/identity/v3/users/"+e.alice.ID+"/access_rules/"+ruleID, nil).Expect(t, http.StatusNoContent)
	})
}
