package identity

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
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
		{"system scope without a system role", passwordAuth("alice", "pw", obj{"system": obj{"all": true}}), 401, unauthorizedMsg},
		{"system scope not an object", passwordAuth("admin", "secret", obj{"system": "all"}), 400, "Invalid input for field 'auth/scope/system': 'all' is not of type 'object'"},
		{"system all not a boolean", passwordAuth("admin", "secret", obj{"system": obj{"all": "yes"}}), 400, "Invalid input for field 'auth/scope/system/all': 'yes' is not of type 'boolean'"},
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

// TestSystemScopedTokens: the bootstrap admin holds admin on the system
// and gets system tokens; each rule takes the token scopes Keystone's
// scope_types give it.
func TestSystemScopedTokens(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	r := e.c.Do("POST", "/identity/v3/auth/tokens", passwordAuth("admin", "secret", obj{"system": obj{"all": true}})).Expect(t, http.StatusCreated)
	tok := r.JSON(t)["token"].(map[string]any)
	if tok["system"] == nil || field(t, tok, "system", "all") != true || tok["project"] != nil || tok["domain"] != nil {
		t.Errorf("system token body: %s", r.Body)
	}
	var roles []string
	for _, ro := range tok["roles"].([]any) {
		roles = append(roles, field(t, ro, "name").(string))
	}
	slices.Sort(roles)
	if !slices.Equal(roles, []string{"admin", "manager", "member", "reader"}) {
		t.Errorf("system token roles %v", roles)
	}
	if cat, _ := tok["catalog"].([]any); len(cat) == 0 {
		t.Errorf("system token without a catalog: %s", r.Body)
	}
	sysToken := r.Header.Get("X-Subject-Token")
	sys := e.c.As(sysToken, "")
	r = e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", sysToken).Expect(t, http.StatusOK)
	if field(t, r.JSON(t), "token", "system", "all") != true {
		t.Errorf("validated system token: %s", r.Body)
	}

	// GET /v3/auth/system offers the system to whoever holds a role on it.
	for _, tc := range []struct {
		who  *apitest.Client
		want int
	}{{e.admin, 1}, {e.c.As(e.aliceToken, ""), 0}} {
		r = tc.who.Do("GET", "/identity/v3/auth/system", nil).Expect(t, http.StatusOK)
		if got := r.JSON(t)["system"].([]any); len(got) != tc.want || (tc.want == 1 && field(t, got[0], "all") != true) {
			t.Errorf("auth/system: %s, want %d", r.Body, tc.want)
		}
	}

	// A domain token, for the rules that refuse one.
	admin := roleID(t, e, "admin")
	e.admin.Do("PUT", "/identity/v3/domains/default/users/"+e.adminID+"/roles/"+admin, nil).Expect(t, http.StatusNoContent)
	dom := e.c.As(e.login("admin", "secret", obj{"domain": obj{"id": "default"}}), "")
	appCreds := "/identity/v3/users/" + e.adminID + "/application_credentials"
	// A reader on the system passes "role:reader and system_scope:all".
	e.admin.Do("PUT", "/identity/v3/system/users/"+e.alice.ID+"/roles/"+roleID(t, e, "reader"), nil).Expect(t, http.StatusNoContent)
	sysReader := e.c.As(e.login("alice", "pw", obj{"system": obj{"all": true}}), "")
	for _, tc := range []struct {
		name   string
		who    *apitest.Client
		method string
		path   string
		body   any
		status int
	}{
		{"system, domain, project rule: system", sys, "GET", "/identity/v3/users", nil, 200},
		{"system, domain, project rule: domain", dom, "GET", "/identity/v3/users", nil, 200},
		{"system, project rule: system", sys, "GET", "/identity/v3/services", nil, 200},
		{"system, project rule: project", e.admin, "GET", "/identity/v3/services", nil, 200},
		{"system, project rule: domain", dom, "GET", "/identity/v3/services", nil, 403},
		{"project rule: system", sys, "POST", appCreds, obj{"application_credential": obj{"name": "x"}}, 403},
		{"project rule: domain", dom, "POST", appCreds, obj{"application_credential": obj{"name": "x"}}, 403},
		{"system reader: system", sysReader, "GET", "/identity/v3/endpoints", nil, 200},
		{"system reader: project", e.c.As(e.aliceToken, ""), "GET", "/identity/v3/endpoints", nil, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.who.Do(tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, r.Status, tc.status, r.Body)
			}
		})
	}
}
