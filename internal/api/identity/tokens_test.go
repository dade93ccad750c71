package identity

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
)

const unauthorizedMsg = "The request you have made requires authentication."

func TestVersionDocuments(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	for _, path := range []string{"/identity", "/identity/"} {
		r := e.c.Do("GET", path, nil).Expect(t, http.StatusMultipleChoices)
		apisamples.Assert(t, "keystone/v3/samples/admin/identity-versions-response.json", r.Body, apisamples.Options{})
	}
	for _, path := range []string{"/identity/v3", "/identity/v3/"} {
		r := e.c.Do("GET", path, nil).Expect(t, http.StatusOK)
		apisamples.Assert(t, "keystone/v3/samples/admin/identity-version-response.json", r.Body, apisamples.Options{})
		v := r.JSON(t)
		if field(t, v, "version", "id") != "v3.14" || field(t, v, "version", "status") != "stable" {
			t.Errorf("version %v", v)
		}
		links := field(t, v, "version", "links").([]any)
		if href := field(t, links[0], "href"); href != "http://example.com/identity/v3/" {
			t.Errorf("self link %v", href)
		}
	}
}

var keystoneTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func TestIssueTokenBodies(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	tests := []struct {
		name   string
		body   obj
		sample string
		check  func(t *testing.T, tok map[string]any)
	}{
		{"project scoped by name", passwordAuth("admin", "secret", obj{"project": obj{"name": "admin", "domain": obj{"name": "Default"}}}),
			"keystone/v3/samples/auth/responses/project-scoped-password.json", func(t *testing.T, tok map[string]any) {
				if field(t, tok, "project", "name") != "admin" || field(t, tok, "roles").([]any)[0].(map[string]any)["name"] != "admin" {
					t.Errorf("token %v", tok)
				}
			}},
		{"unscoped", passwordAuth("admin", "secret", nil), "keystone/v3/samples/auth/responses/unscoped-password.json", nil},
		{"explicitly unscoped", passwordAuth("admin", "secret", "unscoped"), "keystone/v3/samples/admin/auth-password-unscoped-response.json", nil},
		{"domain scoped", passwordAuth("admin", "secret", obj{"domain": obj{"id": "default"}}), "", nil},
	}
	// The admin needs a role on the domain for a domain-scoped token.
	e.admin.Do("PUT", "/identity/v3/domains/default/users/"+e.adminID+"/roles/"+roleID(t, e, "admin"), nil).Expect(t, http.StatusNoContent)
	tests[3].sample = "keystone/v3/samples/auth/responses/domain-scoped-password.json"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.c.Do("POST", "/identity/v3/auth/tokens", tc.body).Expect(t, http.StatusCreated)
			if len(r.Header.Get("X-Subject-Token")) < 43 {
				t.Errorf("X-Subject-Token %q", r.Header.Get("X-Subject-Token"))
			}
			apisamples.Assert(t, tc.sample, r.Body, apisamples.Options{})
			tok := r.JSON(t)["token"].(map[string]any)
			for _, k := range []string{"issued_at", "expires_at"} {
				if s, _ := tok[k].(string); !keystoneTimeRE.MatchString(s) {
					t.Errorf("%s %q is not Keystone's format", k, s)
				}
			}
			if field(t, tok, "user", "domain", "name") != "Default" {
				t.Errorf("user %v", tok["user"])
			}
			if tc.check != nil {
				tc.check(t, tok)
			}
		})
	}
}

func TestIssueTokenCatalog(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.c.Do("POST", "/identity/v3/auth/tokens", passwordAuth("alice", "pw", obj{"project": obj{"id": e.p1.ID}})).Expect(t, http.StatusCreated)
	apisamples.Assert(t, "keystone/v3/samples/admin/auth-password-project-scoped-response.json", r.Body, apisamples.Options{})
	catalog := field(t, r.JSON(t), "token", "catalog").([]any)
	urls := map[string]string{}
	for _, s := range catalog {
		for _, ep := range field(t, s, "endpoints").([]any) {
			if field(t, ep, "interface") == "public" {
				urls[field(t, s, "type").(string)] = field(t, ep, "url").(string)
			}
			if field(t, ep, "region_id") != "RegionOne" {
				t.Errorf("endpoint %v", ep)
			}
		}
	}
	want := map[string]string{
		"identity": "http://example.com/identity/v3", "compute": "http://example.com/v2.1", "image": "http://example.com/image",
	}
	for typ, url := range want {
		if urls[typ] != url {
			t.Errorf("%s public URL %q, want %q", typ, urls[typ], url)
		}
	}
	r = e.c.Do("POST", "/identity/v3/auth/tokens?nocatalog", passwordAuth("alice", "pw", obj{"project": obj{"id": e.p1.ID}})).Expect(t, http.StatusCreated)
	if _, ok := r.JSON(t)["token"].(map[string]any)["catalog"]; ok {
		t.Error("catalog present with ?nocatalog")
	}
}

func TestTokenMethodRescope(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	unscoped := e.login("alice", "pw", "unscoped")
	r := e.c.Do("POST", "/identity/v3/auth/tokens", obj{"auth": obj{
		"identity": obj{"methods": []string{"token"}, "token": obj{"id": unscoped}},
		"scope":    obj{"project": obj{"name": "p1", "domain": obj{"id": "default"}}},
	}}).Expect(t, http.StatusCreated)
	apisamples.Assert(t, "keystone/v3/samples/auth/responses/project-scoped-token.json", r.Body, apisamples.Options{})
	first := e.c.As(unscoped, "").Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", unscoped).Expect(t, http.StatusOK)
	if a, b := field(t, first.JSON(t), "token", "expires_at"), field(t, r.JSON(t), "token", "expires_at"); a != b {
		t.Errorf("re-scoped token expires %v, original %v", b, a)
	}
}

func TestIssueTokenErrors(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	tests := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"wrong password", passwordAuth("alice", "nope", nil), 401, unauthorizedMsg},
		{"unknown user", passwordAuth("nobody", "pw", nil), 401, unauthorizedMsg},
		{"project without role", passwordAuth("alice", "pw", obj{"project": obj{"id": e.adminPrj}}), 401, unauthorizedMsg},
		{"unknown project", passwordAuth("alice", "pw", obj{"project": obj{"id": "nope"}}), 401, unauthorizedMsg},
		{"system scope", passwordAuth("alice", "pw", obj{"system": obj{"all": true}}), 401, unauthorizedMsg},
		{"not JSON", "{", 400, malformedJSON},
		{"empty body", "", 400, malformedJSON},
		{"no auth", obj{}, 400, "'auth' is a required property"},
		{"no identity", obj{"auth": obj{}}, 400, "Invalid input for field 'auth': 'identity' is a required property"},
		{"methods not a list", obj{"auth": obj{"identity": obj{"methods": "password"}}}, 400, ""},
		{"bad scope string", passwordAuth("alice", "pw", "everything"), 400, ""},
		{"unsupported method", obj{"auth": obj{"identity": obj{"methods": []string{"totp"}}}}, 401, ""},
		{"invalid token method", obj{"auth": obj{"identity": obj{"methods": []string{"token"}, "token": obj{"id": "bogus"}}}}, 404, "Could not find token: bogus."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.c.Do("POST", "/identity/v3/auth/tokens", tc.body)
			wantError(t, r, tc.status, tc.msg)
			if tc.status == 401 && r.Header.Get("WWW-Authenticate") != `Keystone uri="http://example.com/identity/v3"` {
				t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// Disabling the project makes the next scoped login a 401.
	e.admin.Do("PATCH", "/identity/v3/projects/"+e.p1.ID, obj{"project": obj{"enabled": false}}).Expect(t, http.StatusOK)
	wantError(t, e.c.Do("POST", "/identity/v3/auth/tokens", passwordAuth("alice", "pw", obj{"project": obj{"id": e.p1.ID}})), 401, unauthorizedMsg)
}

func TestValidateAndRevokeToken(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.c.As(e.aliceToken, "")
	r := e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.aliceToken).Expect(t, http.StatusOK)
	apisamples.Assert(t, "keystone/v3/samples/auth/responses/project-scoped-password.json", r.Body, apisamples.Options{})
	if r.Header.Get("X-Subject-Token") != e.aliceToken {
		t.Error("validate does not echo X-Subject-Token")
	}
	// Users may validate their own tokens, not others'.
	alice.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.aliceToken).Expect(t, http.StatusOK)
	wantError(t, alice.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.adminToken), 403,
		"You are not authorized to perform the requested action: identity:validate_token.")
	if r := e.admin.Do("HEAD", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.aliceToken).Expect(t, http.StatusOK); len(r.Body) != 0 {
		t.Errorf("HEAD body %q", r.Body)
	}
	wantError(t, e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", "bogus"), 404, "Could not find token: bogus.")
	e.admin.Do("HEAD", "/identity/v3/auth/tokens", nil, "X-Subject-Token", "bogus").Expect(t, http.StatusNotFound)
	wantError(t, e.c.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.aliceToken), 401, unauthorizedMsg)
	wantError(t, e.c.As("bogus", "").Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.aliceToken), 401, unauthorizedMsg)

	e.admin.Do("DELETE", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.aliceToken).Expect(t, http.StatusNoContent)
	wantError(t, e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.aliceToken), 404, "Could not find token: "+e.aliceToken+".")
	wantError(t, e.admin.Do("DELETE", "/identity/v3/auth/tokens", nil, "X-Subject-Token", e.aliceToken), 404, "Could not find token: "+e.aliceToken+".")
	wantError(t, alice.Do("GET", "/identity/v3/auth/projects", nil), 401, unauthorizedMsg)
}
