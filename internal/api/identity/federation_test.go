package identity

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestFederationAPI walks identity providers, protocols, mappings and
// service providers through their CRUD as an admin, with Keystone's
// shapes, statuses and messages; a member is refused every call.
func TestFederationAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		alice := e.c.As(e.aliceToken, "")
		const base = "/identity/v3/OS-FEDERATION"
		rules := []obj{{"local": []obj{{"user": obj{"name": "{0}"}}, {"group": obj{"id": "0cd5e9"}}},
			"remote": []obj{{"type": "UserName"}, {"type": "orgPersonType", "not_any_of": []string{"Contractor", "Guest"}}}}}

		steps := []struct {
			name   string
			method string
			path   string
			body   any
			status int
			check  func(t *testing.T, body map[string]any)
		}{
			{"idp defaults", "PUT", "/identity_providers/corp", obj{"identity_provider": obj{"remote_ids": []string{"https://idp/a"}}},
				http.StatusCreated, func(t *testing.T, b map[string]any) {
					idp := b["identity_provider"].(map[string]any)
					if idp["enabled"] != false || idp["description"] != nil || idp["authorization_ttl"] != nil ||
						len(idp["domain_id"].(string)) != 32 || !strings.HasSuffix(field(t, idp, "links", "protocols").(string), "/identity_providers/corp/protocols") {
						t.Errorf("idp %v", idp)
					}
				}},
			{"idp again", "PUT", "/identity_providers/corp", obj{}, http.StatusConflict, nil},
			{"remote id taken", "PUT", "/identity_providers/other", obj{"identity_provider": obj{"remote_ids": []string{"https://idp/a"}}},
				http.StatusConflict, func(t *testing.T, b map[string]any) {
					if field(t, b, "error", "message") != "Conflict occurred attempting to store identity_provider - Duplicate remote ID: https://idp/a." {
						t.Errorf("conflict %v", b)
					}
				}},
			{"idp unknown field", "PUT", "/identity_providers/x", obj{"identity_provider": obj{"name": "x"}}, http.StatusBadRequest, nil},
			{"idp missing domain", "PUT", "/identity_providers/x", obj{"identity_provider": obj{"domain_id": "nowhere"}}, http.StatusNotFound, nil},
			{"idp update", "PATCH", "/identity_providers/corp", obj{"identity_provider": obj{"enabled": true, "description": "d"}},
				http.StatusOK, func(t *testing.T, b map[string]any) {
					if field(t, b, "identity_provider", "enabled") != true || field(t, b, "identity_provider", "description") != "d" {
						t.Errorf("updated %v", b)
					}
				}},
			{"idp update empty", "PATCH", "/identity_providers/corp", obj{"identity_provider": obj{}}, http.StatusBadRequest, nil},
			{"idp list", "GET", "/identity_providers?enabled=true", nil, http.StatusOK, func(t *testing.T, b map[string]any) {
				if l := b["identity_providers"].([]any); len(l) != 1 || field(t, l[0], "id") != "corp" {
					t.Errorf("list %v", b)
				}
			}},
			{"protocol without mapping", "PUT", "/identity_providers/corp/protocols/saml2", obj{"protocol": obj{"mapping_id": "m"}},
				http.StatusNotFound, func(t *testing.T, b map[string]any) {
					if field(t, b, "error", "message") != "Could not find mapping: m." {
						t.Errorf("error %v", b)
					}
				}},
			{"mapping invalid", "PUT", "/mappings/m", obj{"mapping": obj{"rules": []obj{{"local": []obj{}}}}}, http.StatusBadRequest, nil},
			{"mapping", "PUT", "/mappings/m", obj{"mapping": obj{"rules": rules}}, http.StatusCreated, func(t *testing.T, b map[string]any) {
				m := b["mapping"].(map[string]any)
				if m["id"] != "m" || m["schema_version"] != "1.0" || len(m["rules"].([]any)) != 1 ||
					field(t, m["rules"].([]any)[0], "remote").([]any)[1].(map[string]any)["not_any_of"] == nil {
					t.Errorf("mapping %v", m)
				}
			}},
			{"mapping again", "PUT", "/mappings/m", obj{"mapping": obj{"rules": rules}}, http.StatusConflict, nil},
			{"protocol", "PUT", "/identity_providers/corp/protocols/saml2", obj{"protocol": obj{"mapping_id": "m"}},
				http.StatusCreated, func(t *testing.T, b map[string]any) {
					p := b["protocol"].(map[string]any)
					if p["id"] != "saml2" || p["mapping_id"] != "m" || len(p) != 3 ||
						!strings.HasSuffix(field(t, p, "links", "identity_provider").(string), "/OS-FEDERATION/identity_providers/corp") {
						t.Errorf("protocol %v", p)
					}
				}},
			{"protocol list", "GET", "/identity_providers/corp/protocols", nil, http.StatusOK, func(t *testing.T, b map[string]any) {
				l := b["protocols"].([]any)
				if len(l) != 1 || field(t, l[0], "idp_id") != "corp" || field(t, l[0], "remote_id_attribute") != nil {
					t.Errorf("protocols %v", b)
				}
			}},
			{"protocol update needs mapping_id", "PATCH", "/identity_providers/corp/protocols/saml2", obj{"protocol": obj{"remote_id_attribute": "x"}},
				http.StatusBadRequest, nil},
			{"protocol missing", "GET", "/identity_providers/corp/protocols/oidc", nil, http.StatusNotFound, func(t *testing.T, b map[string]any) {
				if field(t, b, "error", "message") != "Could not find federated protocol oidc for Identity Provider: corp." {
					t.Errorf("error %v", b)
				}
			}},
			{"mapping update", "PATCH", "/mappings/m", obj{"mapping": obj{"rules": rules, "schema_version": "2.0"}}, http.StatusOK,
				func(t *testing.T, b map[string]any) {
					if field(t, b, "mapping", "schema_version") != "2.0" {
						t.Errorf("mapping %v", b)
					}
				}},
			{"mappings", "GET", "/mappings", nil, http.StatusOK, func(t *testing.T, b map[string]any) {
				if l := b["mappings"].([]any); len(l) != 1 {
					t.Errorf("mappings %v", b)
				}
			}},
			{"sp needs urls", "PUT", "/service_providers/sp", obj{"service_provider": obj{"auth_url": "https://a/v3"}}, http.StatusBadRequest, nil},
			{"sp bad url", "PUT", "/service_providers/sp", obj{"service_provider": obj{"auth_url": "nope", "sp_url": "https://a/sp"}}, http.StatusBadRequest, nil},
			{"sp", "PUT", "/service_providers/sp", obj{"service_provider": obj{"auth_url": "https://a/v3", "sp_url": "https://a/sp"}},
				http.StatusCreated, func(t *testing.T, b map[string]any) {
					sp := b["service_provider"].(map[string]any)
					if sp["enabled"] != false || sp["relay_state_prefix"] != "ss:mem:" || sp["description"] != nil {
						t.Errorf("sp %v", sp)
					}
				}},
			{"sp update", "PATCH", "/service_providers/sp", obj{"service_provider": obj{"enabled": true}}, http.StatusOK, nil},
			{"sp list", "GET", "/service_providers", nil, http.StatusOK, func(t *testing.T, b map[string]any) {
				if l := b["service_providers"].([]any); len(l) != 1 || field(t, l[0], "enabled") != true {
					t.Errorf("sps %v", b)
				}
			}},
			{"sp delete", "DELETE", "/service_providers/sp", nil, http.StatusNoContent, nil},
			{"sp gone", "GET", "/service_providers/sp", nil, http.StatusNotFound, nil},
			{"protocol delete", "DELETE", "/identity_providers/corp/protocols/saml2", nil, http.StatusNoContent, nil},
			{"mapping delete", "DELETE", "/mappings/m", nil, http.StatusNoContent, nil},
			{"mapping gone", "GET", "/mappings/m", nil, http.StatusNotFound, nil},
			{"idp delete", "DELETE", "/identity_providers/corp", nil, http.StatusNoContent, nil},
			{"idp gone", "GET", "/identity_providers/corp", nil, http.StatusNotFound, func(t *testing.T, b map[string]any) {
				if field(t, b, "error", "message") != "Could not find Identity Provider: corp." {
					t.Errorf("error %v", b)
				}
			}},
		}
		for _, s := range steps {
			// A member is refused before anything else.
			if r := alice.Do(s.method, base+s.path, s.body); r.Status != http.StatusForbidden {
				t.Errorf("%s as a member: %d: %s", s.name, r.Status, r.Body)
			}
			r := e.admin.Do(s.method, base+s.path, s.body)
			if r.Status != s.status {
				t.Errorf("%s: %d, want %d: %s", s.name, r.Status, s.status, r.Body)
				continue
			}
			if s.check != nil {
				s.check(t, r.JSON(t))
			}
		}
	})
}

// TestConsumersAPI: the secret is in the create answer only; a consumer's
// secret cannot be changed.
func TestConsumersAPI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	const base = "/identity/v3/OS-OAUTH1/consumers"
	alice := e.c.As(e.aliceToken, "")
	alice.Do("POST", base, obj{"consumer": obj{}}).Expect(t, http.StatusForbidden)
	r := e.admin.Do("POST", base, obj{"consumer": obj{"description": "My test consumer"}}).Expect(t, http.StatusCreated)
	c := r.JSON(t)["consumer"].(map[string]any)
	id, _ := c["id"].(string)
	if s, _ := c["secret"].(string); len(s) != 32 || c["description"] != "My test consumer" ||
		!strings.HasSuffix(field(t, c, "links", "self").(string), "/v3/OS-OAUTH1/consumers/"+id) {
		t.Fatalf("created %s", r.Body)
	}
	for _, path := range []string{base + "/" + id} {
		got := e.admin.Do("GET", path, nil).Expect(t, http.StatusOK).JSON(t)["consumer"].(map[string]any)
		if _, has := got["secret"]; has {
			t.Errorf("secret shown again: %v", got)
		}
	}
	list := e.admin.Do("GET", base, nil).Expect(t, http.StatusOK).JSON(t)["consumers"].([]any)
	if len(list) != 1 || field(t, list[0], "secret") != nil {
		t.Errorf("list %v", list)
	}
	cases := []struct {
		name   string
		body   any
		status int
	}{
		{"empty", obj{"consumer": obj{}}, http.StatusBadRequest},
		{"secret", obj{"consumer": obj{"secret": "x"}}, http.StatusBadRequest},
		{"other id", obj{"consumer": obj{"id": "other"}}, http.StatusBadRequest},
		{"description", obj{"consumer": obj{"description": ""}}, http.StatusOK},
	}
	for _, c := range cases {
		if r := e.admin.Do("PATCH", base+"/"+id, c.body); r.Status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.Status, c.status, r.Body)
		}
	}
	if d := field(t, e.admin.Do("GET", base+"/"+id, nil).JSON(t), "consumer", "description"); d != "" {
		t.Errorf("description after update %v", d)
	}
	e.admin.Do("DELETE", base+"/"+id, nil).Expect(t, http.StatusNoContent)
	e.admin.Do("DELETE", base+"/"+id, nil).Expect(t, http.StatusNotFound)
}
