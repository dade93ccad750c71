package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/identity"
)

// userOnP1 creates a user with role on p1 and returns a client with its token.
func userOnP1(t *testing.T, e *env, name, role string) (*identity.User, *apitest.Client) {
	t.Helper()
	ctx := context.Background()
	pw := "pw"
	u, err := e.svc.CreateUser(ctx, identity.User{Name: name, Enabled: true}, &pw)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := e.svc.ListRoles(ctx, role, "")
	if err != nil || len(roles) != 1 {
		t.Fatalf("role %s: %v %v", role, roles, err)
	}
	if err := e.svc.Grant(ctx, identity.Target{Project: e.p1.ID}, u.ID, roles[0].ID); err != nil {
		t.Fatal(err)
	}
	return u, e.c.As(e.login(name, "pw", obj{"project": obj{"id": e.p1.ID}}), "")
}

func hashedID(access string) string {
	sum := sha256.Sum256([]byte(access))
	return hex.EncodeToString(sum[:])
}

// TestEC2CredentialsAPI: the owner and admins list, show (secret
// included) and, with the member role, create and delete; others get
// Keystone's 403, and a missing credential is a 404 before any 403.
func TestEC2CredentialsAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.c.As(e.aliceToken, "")
	bob, asBob := userOnP1(t, e, "bob", "member")
	carol, asCarol := userOnP1(t, e, "carol", "reader")
	base := "/identity/v3/users/" + e.alice.ID + "/credentials/OS-EC2"

	r := alice.Do("POST", base, obj{"tenant_id": e.p1.ID}).Expect(t, http.StatusCreated)
	cred := r.JSON(t)["credential"].(map[string]any)
	access, _ := cred["access"].(string)
	secret, _ := cred["secret"].(string)
	want := map[string]any{
		"user_id": e.alice.ID, "tenant_id": e.p1.ID, "access": access, "secret": secret, "trust_id": nil,
		"links": map[string]any{"self": "http://example.com/identity/v3/users/" + e.alice.ID + "/credentials/OS-EC2/" + access},
	}
	if len(access) != 32 || len(secret) != 32 || len(cred) != len(want) {
		t.Fatalf("created %s", r.Body)
	}
	for k, v := range want {
		if k != "links" && cred[k] != v {
			t.Errorf("created %s = %v, want %v", k, cred[k], v)
		}
	}
	if self := field(t, cred, "links", "self"); self != want["links"].(map[string]any)["self"] {
		t.Errorf("self link %v", self)
	}
	missing := hashedID("nope")

	tests := []struct {
		name, method, path string
		as                 *apitest.Client
		body               any
		status             int
		message            string
		secret             bool // the body shows the credential with its secret
	}{
		{"owner lists", "GET", base, alice, nil, http.StatusOK, "", true},
		{"owner shows", "GET", base + "/" + access, alice, nil, http.StatusOK, "", true},
		{"owner HEADs", "HEAD", base + "/" + access, alice, nil, http.StatusOK, "", false},
		{"admin lists", "GET", base, e.admin, nil, http.StatusOK, "", true},
		{"admin shows", "GET", base + "/" + access, e.admin, nil, http.StatusOK, "", true},
		{"another member may not list", "GET", base, asBob, nil, http.StatusForbidden, forbiddenMsg("identity:ec2_list_credentials"), false},
		{"nor show", "GET", base + "/" + access, asBob, nil, http.StatusForbidden, forbiddenMsg("identity:ec2_get_credential"), false},
		{"nor through his own user", "GET", "/identity/v3/users/" + bob.ID + "/credentials/OS-EC2/" + access, asBob, nil,
			http.StatusForbidden, forbiddenMsg("identity:ec2_get_credential"), false},
		{"nor delete", "DELETE", base + "/" + access, asBob, nil, http.StatusForbidden, forbiddenMsg("identity:ec2_delete_credential"), false},
		{"nor create for the owner", "POST", base, asBob, obj{"tenant_id": e.p1.ID}, http.StatusForbidden, forbiddenMsg("identity:ec2_create_credential"), false},
		{"a missing credential is 404 before any 403", "GET", base + "/nope", asBob, nil, http.StatusNotFound, "Could not find credential: " + missing + ".", false},
		{"missing on delete too", "DELETE", base + "/nope", alice, nil, http.StatusNotFound, "Could not find credential: " + missing + ".", false},
		{"a reader lists its own", "GET", "/identity/v3/users/" + carol.ID + "/credentials/OS-EC2", asCarol, nil, http.StatusOK, "", false},
		{"but may not create", "POST", "/identity/v3/users/" + carol.ID + "/credentials/OS-EC2", asCarol, obj{"tenant_id": e.p1.ID},
			http.StatusForbidden, forbiddenMsg("identity:ec2_create_credential"), false},
		{"no tenant_id", "POST", base, alice, obj{}, http.StatusNotFound, "Could not find project: None.", false},
		{"no body", "POST", base, alice, nil, http.StatusNotFound, "Could not find project: None.", false},
		{"unknown project", "POST", base, alice, obj{"tenant_id": "nope"}, http.StatusNotFound, "Could not find project: nope.", false},
		{"malformed body", "POST", base, alice, "{", http.StatusBadRequest, malformedJSON, false},
		{"admin, for a missing user", "POST", "/identity/v3/users/nope/credentials/OS-EC2", e.admin, obj{"tenant_id": e.p1.ID},
			http.StatusNotFound, "Could not find user: nope.", false},
		{"admin lists a missing user's", "GET", "/identity/v3/users/nope/credentials/OS-EC2", e.admin, nil,
			http.StatusNotFound, "Could not find user: nope.", false},
		{"owner shows through a missing user", "GET", "/identity/v3/users/nope/credentials/OS-EC2/" + access, alice, nil,
			http.StatusNotFound, "Could not find user: nope.", false},
		{"no token", "GET", base, e.c, nil, http.StatusUnauthorized, "The request you have made requires authentication.", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.as.Do(tc.method, tc.path, tc.body)
			if tc.message != "" {
				wantError(t, r, tc.status, tc.message)
				return
			}
			r.Expect(t, tc.status)
			if !tc.secret {
				return
			}
			body := r.JSON(t)
			got, ok := body["credential"].(map[string]any)
			if list, isList := body["credentials"].([]any); isList && len(list) == 1 {
				got, ok = list[0].(map[string]any)
			}
			if !ok || got["access"] != access || got["secret"] != secret || got["tenant_id"] != e.p1.ID {
				t.Errorf("%s %s: %s, want the credential with its secret", tc.method, tc.path, r.Body)
			}
		})
	}

	alice.Do("DELETE", base+"/"+access, nil).Expect(t, http.StatusNoContent)
	wantError(t, alice.Do("GET", base+"/"+access, nil), http.StatusNotFound, "Could not find credential: "+hashedID(access)+".")
	r = alice.Do("GET", base, nil).Expect(t, http.StatusOK)
	if list := r.JSON(t)["credentials"].([]any); len(list) != 0 {
		t.Errorf("after delete: %s", r.Body)
	}
	if self := field(t, r.JSON(t), "links", "self"); self != "http://example.com"+base {
		t.Errorf("collection self link %v", self)
	}
}
