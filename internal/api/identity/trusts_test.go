package identity

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestTrustsAPI: alice (member on p1) delegates member to bob; the
// trustor and trustee read the trust, others get Keystone's 403, and bob
// gets a trust-scoped token with the trust's block and roles.
func TestTrustsAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		alice := e.c.As(e.aliceToken, "")
		bob, asBob := userOnP1(t, e, "bob", "reader")
		_, asCarol := userOnP1(t, e, "carol", "member")
		member := roleID(t, e, "member")
		expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		body := func(edit func(obj)) obj {
			tr := obj{"trustor_user_id": e.alice.ID, "trustee_user_id": bob.ID, "project_id": e.p1.ID,
				"impersonation": false, "roles": []obj{{"name": "member"}}, "expires_at": expires.Format("2006-01-02T15:04:05Z")}
			if edit != nil {
				edit(tr)
			}
			return obj{"trust": tr}
		}
		refused := []struct {
			name    string
			c       func() *responseAlias
			status  int
			message string
		}{
			{"not the trustor", func() *responseAlias { return asCarol.Do("POST", "/identity/v3/OS-TRUST/trusts", body(nil)) },
				http.StatusForbidden, "You are not authorized to perform the requested action: identity:create_trust."},
			{"no impersonation", func() *responseAlias {
				return alice.Do("POST", "/identity/v3/OS-TRUST/trusts", body(func(o obj) { delete(o, "impersonation") }))
			}, http.StatusBadRequest, "Invalid input for field 'trust': 'impersonation' is a required property"},
			{"bad expiry", func() *responseAlias {
				return alice.Do("POST", "/identity/v3/OS-TRUST/trusts", body(func(o obj) { o["expires_at"] = "bad.123Z" }))
			}, http.StatusBadRequest, ""},
			{"past expiry", func() *responseAlias {
				return alice.Do("POST", "/identity/v3/OS-TRUST/trusts", body(func(o obj) { o["expires_at"] = "2001-01-01T00:00:00Z" }))
			}, http.StatusBadRequest, ""},
			{"zero uses", func() *responseAlias {
				return alice.Do("POST", "/identity/v3/OS-TRUST/trusts", body(func(o obj) { o["remaining_uses"] = 0 }))
			}, http.StatusBadRequest, "Invalid input for field 'trust/remaining_uses': 0 is less than the minimum of 1"},
			{"no roles", func() *responseAlias {
				return alice.Do("POST", "/identity/v3/OS-TRUST/trusts", body(func(o obj) { delete(o, "roles") }))
			}, http.StatusForbidden, "You are not authorized to perform the requested action: At least one role should be specified."},
			{"role alice lacks", func() *responseAlias {
				return alice.Do("POST", "/identity/v3/OS-TRUST/trusts", body(func(o obj) { o["roles"] = []obj{{"name": "admin"}} }))
			}, http.StatusNotFound, ""},
		}
		for _, c := range refused {
			wantError(t, c.c(), c.status, c.message)
		}

		r := alice.Do("POST", "/identity/v3/OS-TRUST/trusts", body(nil)).Expect(t, http.StatusCreated)
		tr := r.JSON(t)["trust"].(map[string]any)
		id, _ := tr["id"].(string)
		if tr["trustor_user_id"] != e.alice.ID || tr["trustee_user_id"] != bob.ID || tr["project_id"] != e.p1.ID ||
			tr["impersonation"] != false || tr["remaining_uses"] != nil || tr["expires_at"] != expires.Format("2006-01-02T15:04:05.000000Z") ||
			tr["redelegation_count"] != 0.0 || !strings.HasSuffix(field(t, tr, "links", "self").(string), "/v3/OS-TRUST/trusts/"+id) {
			t.Errorf("created %s", r.Body)
		}
		roles, _ := tr["roles"].([]any)
		if len(roles) != 1 || field(t, roles[0], "id") != member || field(t, roles[0], "name") != "member" {
			t.Errorf("trust roles %v", roles)
		}

		// Who may read what.
		reads := []struct {
			who    string
			path   string
			status int
		}{
			{"alice", "/" + id, http.StatusOK},
			{"bob", "/" + id, http.StatusOK},
			{"carol", "/" + id, http.StatusForbidden},
			{"admin", "/" + id, http.StatusOK},
			{"bob", "/" + id + "/roles", http.StatusOK},
			{"bob", "/" + id + "/roles/" + member, http.StatusOK},
			{"bob", "/" + id + "/roles/" + roleID(t, e, "reader"), http.StatusNotFound},
			{"carol", "/" + id + "/roles", http.StatusForbidden},
			{"alice", "/missing", http.StatusNotFound},
			{"alice", "?trustor_user_id=" + e.alice.ID, http.StatusOK},
			{"bob", "?trustee_user_id=" + bob.ID, http.StatusOK},
			{"carol", "?trustor_user_id=" + e.alice.ID, http.StatusForbidden},
			{"alice", "", http.StatusForbidden},
			{"admin", "", http.StatusOK},
		}
		clients := map[string]*apitest.Client{"alice": alice, "bob": asBob, "carol": asCarol, "admin": e.admin}
		for _, rd := range reads {
			r := clients[rd.who].Do("GET", "/identity/v3/OS-TRUST/trusts"+rd.path, nil)
			if r.Status != rd.status {
				t.Errorf("GET %s as %s: %d, want %d: %s", rd.path, rd.who, r.Status, rd.status, r.Body)
				continue
			}
			if rd.status == http.StatusOK && strings.HasPrefix(rd.path, "?") {
				trusts := r.JSON(t)["trusts"].([]any)
				if len(trusts) != 1 || field(t, trusts[0], "id") != id || field(t, trusts[0], "roles") != nil {
					t.Errorf("GET %s as %s: %s", rd.path, rd.who, r.Body)
				}
			}
		}
		asBob.Do("HEAD", "/identity/v3/OS-TRUST/trusts/"+id+"/roles/"+member, nil).Expect(t, http.StatusOK)

		// Bob's trust token: the trust block, the trust's roles, bob as
		// its user (no impersonation); it cannot be re-scoped.
		r = e.c.Do("POST", "/identity/v3/auth/tokens", passwordAuth("bob", "pw", obj{"OS-TRUST:trust": obj{"id": id}})).
			Expect(t, http.StatusCreated)
		tok := r.JSON(t)["token"]
		if field(t, tok, "user", "id") != bob.ID || field(t, tok, "project", "id") != e.p1.ID ||
			field(t, tok, "OS-TRUST:trust", "id") != id || field(t, tok, "OS-TRUST:trust", "impersonation") != false ||
			field(t, tok, "OS-TRUST:trust", "trustor_user", "id") != e.alice.ID ||
			field(t, tok, "OS-TRUST:trust", "trustee_user", "id") != bob.ID {
			t.Errorf("trust token %s", r.Body)
		}
		if rs := field(t, tok, "roles").([]any); len(rs) != 1 || field(t, rs[0], "name") != "member" {
			t.Errorf("trust token roles %v", rs)
		}
		trustTok := r.Header.Get("X-Subject-Token")
		wantError(t, alice.Do("POST", "/identity/v3/auth/tokens", passwordAuth("alice", "pw", obj{"OS-TRUST:trust": obj{"id": id}})),
			http.StatusForbidden, "User is not a trustee.")
		wantError(t, e.c.Do("POST", "/identity/v3/auth/tokens", passwordAuth("bob", "pw", obj{"OS-TRUST:trust": obj{}})),
			http.StatusBadRequest, "")

		// Only the trustor (or an admin) deletes; the token goes with it.
		wantError(t, asBob.Do("DELETE", "/identity/v3/OS-TRUST/trusts/"+id, nil), http.StatusForbidden, "")
		alice.Do("DELETE", "/identity/v3/OS-TRUST/trusts/"+id, nil).Expect(t, http.StatusNoContent)
		alice.Do("GET", "/identity/v3/OS-TRUST/trusts/"+id, nil).Expect(t, http.StatusNotFound)
		r = e.admin.Do("GET", "/identity/v3/auth/tokens", nil, "X-Subject-Token", trustTok)
		wantError(t, r, http.StatusNotFound, "")
	})
}

// TestTrustsRefuseApplicationCredentialTokens: a token from an
// application credential, even an unrestricted one, may not list, make
// or read trusts (Keystone's _check_application_credential).
func TestTrustsRefuseApplicationCredentialTokens(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.c.As(e.aliceToken, "")
	r := alice.Do("POST", "/identity/v3/users/"+e.alice.ID+"/application_credentials",
		obj{"application_credential": obj{"name": "ci", "unrestricted": true}}).Expect(t, http.StatusCreated)
	ac := r.JSON(t)["application_credential"].(map[string]any)
	r = e.c.Do("POST", "/identity/v3/auth/tokens", appCredAuth(ac["id"].(string), ac["secret"].(string))).Expect(t, http.StatusCreated)
	withAppCred := e.c.As(r.Header.Get("X-Subject-Token"), "")
	const msg = "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing trusts."
	wantError(t, withAppCred.Do("GET", "/identity/v3/OS-TRUST/trusts?trustor_user_id="+e.alice.ID, nil), 403, msg)
	wantError(t, withAppCred.Do("POST", "/identity/v3/OS-TRUST/trusts", obj{"trust": obj{
		"trustor_user_id": e.alice.ID, "trustee_user_id": e.adminID, "impersonation": false,
		"project_id": e.p1.ID, "roles": []obj{{"name": "member"}}}}), 403, msg)
	// The same user's password token may.
	alice.Do("GET", "/identity/v3/OS-TRUST/trusts?trustor_user_id="+e.alice.ID, nil).Expect(t, http.StatusOK)
}

// TestDelegatedTokensLimits: a trust token may not manage application
// credentials (Keystone's _block_delegated_token_app_creds) and reaches
// only the EC2 credentials of its own project (_check_delegation_for_ec2).
func TestDelegatedTokensLimits(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.c.As(e.aliceToken, "")
	bob, _ := userOnP1(t, e, "bob", "reader")
	r := alice.Do("POST", "/identity/v3/OS-TRUST/trusts", obj{"trust": obj{"trustor_user_id": e.alice.ID, "trustee_user_id": bob.ID,
		"project_id": e.p1.ID, "impersonation": true, "roles": []obj{{"name": "member"}}}}).Expect(t, http.StatusCreated)
	trustID := field(t, r.JSON(t), "trust", "id").(string)
	trustToken := e.c.As(e.login("bob", "pw", obj{"OS-TRUST:trust": obj{"id": trustID}}), "")

	// alice's EC2 credentials: one on p1, one on another project she
	// holds a role on.
	other, err := e.svc.CreateProject(t.Context(), identity.Project{Name: "other", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Grant(t.Context(), identity.Target{Project: other.ID}, e.alice.ID, roleID(t, e, "member")); err != nil {
		t.Fatal(err)
	}
	ec2 := "/identity/v3/users/" + e.alice.ID + "/credentials/OS-EC2"
	onP1 := field(t, alice.Do("POST", ec2, obj{"tenant_id": e.p1.ID}).Expect(t, http.StatusCreated).JSON(t), "credential", "access").(string)
	onOther := field(t, alice.Do("POST", ec2, obj{"tenant_id": other.ID}).Expect(t, http.StatusCreated).JSON(t), "credential", "access").(string)

	const outOfScope = "You are not authorized to perform the requested action: EC2 credential project does not match the project scope of the delegated token."
	const generic = "You are not authorized to perform the requested action."
	list := trustToken.Do("GET", ec2, nil).Expect(t, http.StatusOK).JSON(t)["credentials"].([]any)
	if len(list) != 1 || field(t, list[0], "access") != onP1 {
		t.Errorf("EC2 credentials a trust token lists: %v, want only p1's", list)
	}
	trustToken.Do("GET", ec2+"/"+onP1, nil).Expect(t, http.StatusOK)
	wantError(t, trustToken.Do("GET", ec2+"/"+onOther, nil), 403, outOfScope)
	wantError(t, trustToken.Do("DELETE", ec2+"/"+onOther, nil), 403, outOfScope)
	wantError(t, trustToken.Do("POST", ec2, obj{"tenant_id": other.ID}), 403, outOfScope)
	trustToken.Do("POST", ec2, obj{"tenant_id": e.p1.ID}).Expect(t, http.StatusCreated)

	appCreds := "/identity/v3/users/" + e.alice.ID + "/application_credentials"
	wantError(t, trustToken.Do("GET", appCreds, nil), 403, generic)
	wantError(t, trustToken.Do("POST", appCreds, obj{"application_credential": obj{"name": "backdoor"}}), 403, generic)
	wantError(t, trustToken.Do("GET", "/identity/v3/users/"+e.alice.ID+"/access_rules", nil), 403, generic)
	alice.Do("GET", appCreds, nil).Expect(t, http.StatusOK)
}
