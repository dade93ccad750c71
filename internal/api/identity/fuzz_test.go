package identity_test

// Fuzz targets of the identity API's request decoding and validation,
// through kumo's whole handler (internal/apifuzz): every answer must be
// below 500 and, when a 4xx, Keystone's {"error": {...}} body.
// KUMO_FUZZ_ENGINE=postgres runs them on PostgreSQL. The seeds are
// testdata/fuzz/<target>/ and the reference API samples.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/kumocloud/kumo/internal/apifuzz"
)

// FuzzAuthTokens: POST /v3/auth/tokens bodies (password and token
// methods, every scope), without a token. Seeds name the fuzz member
// ($USER, $PASSWORD, $PROJECT) and its token ($TOKEN).
func FuzzAuthTokens(f *testing.F) {
	c := apifuzz.Open(f)
	for _, s := range apifuzz.Samples(f, "keystone/v3/samples/admin/auth-*-request*.json") {
		f.Add(s.Body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := c.Send(t, apifuzz.Request{Method: "POST", Target: "/identity/v3/auth/tokens", Body: c.FillBytes(t, body)})
		if r != nil && r.Status == http.StatusCreated && r.Header.Get("X-Subject-Token") == "" {
			t.Fatalf("token issued without X-Subject-Token: %s", r.Body)
		}
	})
}

// identityCreates are the creation calls FuzzIdentityCreate sends.
var identityCreates = []struct{ target, key string }{
	{"/identity/v3/users", "user"},
	{"/identity/v3/projects", "project"},
}

// FuzzIdentityCreate: POST /v3/users and POST /v3/projects bodies as the
// admin; what an input creates is deleted after it.
func FuzzIdentityCreate(f *testing.F) {
	c := apifuzz.Open(f)
	for i, call := range identityCreates {
		for _, s := range apifuzz.Samples(f, "keystone/v3/samples/admin/"+call.key+"-create-*request.json") {
			f.Add(uint8(i), s.Body)
		}
	}
	f.Fuzz(func(t *testing.T, call uint8, body []byte) {
		ic := identityCreates[int(call)%len(identityCreates)]
		r := c.Send(t, apifuzz.Request{Method: "POST", Target: ic.target, Token: c.Admin, Body: c.FillBytes(t, body)})
		if r == nil || r.Status >= 300 {
			return
		}
		var created map[string]struct {
			ID       string `json:"id"`
			IsDomain bool   `json:"is_domain"`
		}
		if err := json.Unmarshal(r.Body, &created); err != nil || created[ic.key].ID == "" {
			t.Fatalf("%s answered %d without an id: %s", ic.target, r.Status, r.Body)
		}
		obj := created[ic.key]
		target := ic.target + "/" + url.PathEscape(obj.ID)
		if obj.IsDomain {
			// A project that is a domain: disabled first, as Keystone wants.
			target = "/identity/v3/domains/" + url.PathEscape(obj.ID)
			c.Expect(t, apifuzz.Request{Method: "PATCH", Target: target, Token: c.Admin,
				Body: []byte(`{"domain":{"enabled":false}}`)}, http.StatusOK)
		}
		c.Expect(t, apifuzz.Request{Method: "DELETE", Target: target, Token: c.Admin}, http.StatusNoContent)
	})
}
