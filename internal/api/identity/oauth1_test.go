package identity

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/oauth1"

	"github.com/kumocloud/kumo/internal/apitest"
)

// The test client's requests go to http://example.com.
const oauthBase = "http://example.com/identity/v3"

// headerPairs turns gophercloud's headers into apitest's arguments.
func headerPairs(t *testing.T, h map[string]string, err error) []string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for k, v := range h {
		out = append(out, k, v)
	}
	return out
}

// formCredential reads a form-encoded request or access token answer.
func formCredential(t *testing.T, r *apitest.Response) url.Values {
	t.Helper()
	r.Expect(t, http.StatusCreated)
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Fatalf("Content-Type %q", ct)
	}
	v, err := url.ParseQuery(string(r.Body))
	if err != nil || len(v.Get("oauth_token")) != 32 || len(v.Get("oauth_token_secret")) != 32 {
		t.Fatalf("answer %s: %v", r.Body, err)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z", v.Get("oauth_expires_at")); err != nil {
		t.Fatalf("oauth_expires_at: %v", err)
	}
	return v
}

// TestOAuth1API runs the OS-OAUTH1 flow as gophercloud signs it: the
// admin's consumer gets a request token on the admin project, the admin
// authorizes it with its admin role, the consumer gets an access token
// and a token with it; the access token calls answer in Keystone's
// shapes and refuse as Keystone does.
func TestOAuth1API(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.c.As(e.aliceToken, "")
	admin := roleID(t, e, "admin")
	cons := e.admin.Do("POST", "/identity/v3/OS-OAUTH1/consumers", obj{"consumer": obj{}}).Expect(t, http.StatusCreated).JSON(t)
	consumerID, consumerSecret := field(t, cons, "consumer", "id").(string), field(t, cons, "consumer", "secret").(string)

	h, err := oauth1.RequestTokenOpts{OAuthConsumerKey: consumerID, OAuthConsumerSecret: consumerSecret,
		OAuthSignatureMethod: oauth1.HMACSHA1, RequestedProjectID: e.adminPrj}.ToOAuth1RequestTokenHeaders("POST", oauthBase+"/OS-OAUTH1/request_token")
	rt := formCredential(t, e.c.Do("POST", "/identity/v3/OS-OAUTH1/request_token", nil, headerPairs(t, h, err)...))
	wantError(t, e.c.Do("POST", "/identity/v3/OS-OAUTH1/request_token", nil), http.StatusBadRequest,
		"No Authorization headers found, cannot proceed with OAuth related calls. If running under HTTPd or Apache, ensure WSGIPassAuthorization is set to On.")
	e.c.Do("GET", "/identity/v3/OS-OAUTH1/request_token", nil).Expect(t, http.StatusMethodNotAllowed)

	authorize := "/identity/v3/OS-OAUTH1/authorize/" + rt.Get("oauth_token")
	badBodies := []struct {
		name string
		body any
		msg  string
	}{
		{"roles not a list", obj{"roles": "admin"}, "Invalid input for field '/': 'admin' is not of type 'array'"},
		{"a role with two keys", obj{"roles": []obj{{"id": admin, "name": "admin"}}}, "does not have enough properties"},
		{"a role with another key", obj{"roles": []obj{{"nick": "admin"}}}, "Additional properties are not allowed ('nick' was unexpected)"},
		{"an id of another shape", obj{"roles": []obj{{"id": "a b"}}}, "Invalid input for field '0/id': 'a b' does not match"},
	}
	for _, tc := range badBodies {
		r := e.admin.Do("PUT", authorize, tc.body)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), tc.msg) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.name, r.Status, r.Body, tc.msg)
		}
	}
	wantError(t, alice.Do("PUT", authorize, obj{"roles": []obj{{"id": admin}}}), http.StatusForbidden,
		"You are not authorized to perform the requested action: identity:authorize_request_token.")
	wantError(t, e.admin.Do("PUT", "/identity/v3/OS-OAUTH1/authorize/"+strings.Repeat("0", 32), obj{"roles": []obj{{"id": admin}}}),
		http.StatusNotFound, "Request token not found")
	auth := e.admin.Do("PUT", authorize, obj{"roles": []obj{{"name": "admin"}}}).Expect(t, http.StatusOK).JSON(t)
	verifier, _ := field(t, auth, "token", "oauth_verifier").(string)

	h, err = oauth1.CreateAccessTokenOpts{OAuthConsumerKey: consumerID, OAuthConsumerSecret: consumerSecret,
		OAuthToken: rt.Get("oauth_token"), OAuthTokenSecret: rt.Get("oauth_token_secret"), OAuthVerifier: verifier,
		OAuthSignatureMethod: oauth1.PLAINTEXT}.ToOAuth1CreateAccessTokenHeaders("POST", oauthBase+"/OS-OAUTH1/access_token")
	at := formCredential(t, e.c.Do("POST", "/identity/v3/OS-OAUTH1/access_token", nil, headerPairs(t, h, err)...))
	atID := at.Get("oauth_token")

	// The access token, as admins see it.
	tokens := "/identity/v3/users/" + e.adminID + "/OS-OAUTH1/access_tokens"
	list := e.admin.Do("GET", tokens, nil).Expect(t, http.StatusOK).JSON(t)
	items, _ := list["access_tokens"].([]any)
	if len(items) != 1 || field(t, items[0], "id") != atID || field(t, items[0], "consumer_id") != consumerID ||
		field(t, items[0], "project_id") != e.adminPrj || field(t, items[0], "authorizing_user_id") != e.adminID ||
		field(t, items[0], "links", "roles") != oauthBase+"/users/"+e.adminID+"/OS-OAUTH1/access_tokens/"+atID+"/roles" ||
		field(t, items[0], "access_secret") != nil || field(t, items[0], "role_ids") != nil {
		t.Fatalf("access tokens %v", list)
	}
	e.admin.Do("GET", tokens+"/"+atID, nil).Expect(t, http.StatusOK)
	roles := e.admin.Do("GET", tokens+"/"+atID+"/roles", nil).Expect(t, http.StatusOK).JSON(t)["roles"].([]any)
	if len(roles) != 1 || field(t, roles[0], "id") != admin || field(t, roles[0], "name") != "admin" {
		t.Fatalf("roles %v", roles)
	}
	if _, ok := roles[0].(map[string]any)["description"]; ok {
		t.Errorf("role shows its description: %v", roles[0])
	}
	e.admin.Do("GET", tokens+"/"+atID+"/roles/"+admin, nil).Expect(t, http.StatusOK)

	// Authenticating with it: a token of the admin on the admin project
	// with the roles given, through the access token.
	ao := oauth1.AuthOptions{OAuthConsumerKey: consumerID, OAuthConsumerSecret: consumerSecret,
		OAuthToken: atID, OAuthTokenSecret: at.Get("oauth_token_secret"), OAuthSignatureMethod: oauth1.HMACSHA1}
	body, err := ao.ToTokenV3CreateMap(nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err = ao.ToTokenV3HeadersMap(map[string]any{"method": "POST", "url": oauthBase + "/auth/tokens"})
	r := e.c.Do("POST", "/identity/v3/auth/tokens", body, headerPairs(t, h, err)...).Expect(t, http.StatusCreated)
	oauthToken := r.Header.Get("X-Subject-Token")
	tok := r.JSON(t)
	if field(t, tok, "token", "OS-OAUTH1", "access_token_id") != atID || field(t, tok, "token", "OS-OAUTH1", "consumer_id") != consumerID ||
		field(t, tok, "token", "project", "id") != e.adminPrj || field(t, tok, "token", "user", "id") != e.adminID ||
		field(t, tok, "token", "methods").([]any)[0] != "oauth1" || len(field(t, tok, "token", "roles").([]any)) != 4 {
		t.Fatalf("token %v", tok)
	}
	asOAuth := e.c.As(oauthToken, "")

	badSig := ao
	badSig.OAuthConsumerSecret = "x"
	h, err = badSig.ToTokenV3HeadersMap(map[string]any{"method": "POST", "url": oauthBase + "/auth/tokens"})
	refused := []struct {
		name    string
		do      func() *apitest.Response
		status  int
		message string
	}{
		{"a bad signature", func() *apitest.Response {
			return e.c.Do("POST", "/identity/v3/auth/tokens", body, headerPairs(t, h, err)...)
		}, http.StatusUnauthorized, "Could not validate the access token"},
		{"no oauth1 payload", func() *apitest.Response {
			return e.c.Do("POST", "/identity/v3/auth/tokens", obj{"auth": obj{"identity": obj{"methods": []string{"oauth1"}}}}, headerPairs(t, h, err)...)
		}, http.StatusBadRequest, "Expecting to find oauth1 in identity. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
		{"listing with an OAuth token", func() *apitest.Response { return asOAuth.Do("GET", tokens, nil) },
			http.StatusForbidden, "You are not authorized to perform the requested action."},
		{"authorizing with an OAuth token", func() *apitest.Response { return asOAuth.Do("PUT", authorize, obj{"roles": []obj{}}) },
			http.StatusForbidden, "You are not authorized to perform the requested action."},
		{"another user's path", func() *apitest.Response {
			return e.admin.Do("GET", "/identity/v3/users/"+e.alice.ID+"/OS-OAUTH1/access_tokens/"+atID, nil)
		}, http.StatusNotFound, "Could not find: %(target)s."},
		{"a role another user's path", func() *apitest.Response {
			return e.admin.Do("GET", "/identity/v3/users/"+e.alice.ID+"/OS-OAUTH1/access_tokens/"+atID+"/roles/"+admin, nil)
		}, http.StatusUnauthorized, "User IDs do not match"},
		{"a role not given", func() *apitest.Response { return e.admin.Do("GET", tokens+"/"+atID+"/roles/nosuch", nil) },
			http.StatusNotFound, "Could not find role: nosuch."},
		{"listing as a member", func() *apitest.Response { return alice.Do("GET", tokens, nil) },
			http.StatusForbidden, "You are not authorized to perform the requested action: identity:list_access_tokens."},
		{"deleting as a member", func() *apitest.Response { return alice.Do("DELETE", tokens+"/"+atID, nil) },
			http.StatusForbidden, "You are not authorized to perform the requested action: identity:delete_access_token."},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) { wantError(t, tc.do(), tc.status, tc.message) })
	}

	// Revoking the access token revokes the token.
	e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", oauthToken).Expect(t, http.StatusOK)
	e.admin.Do("DELETE", tokens+"/"+atID, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", oauthToken).Expect(t, http.StatusNotFound)
	wantError(t, e.admin.Do("GET", tokens+"/"+atID, nil), http.StatusNotFound, "Access token not found")
}
