package identity

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/kumocloud/kumo/internal/apisamples"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestDomainConfigAPI walks Keystone's domain configuration API on both
// engines, one call after another: defaults, create and replace (201,
// then 200), reads of groups and options with the sensitive option never
// shown, the update rules of groups and options, deletes, the security
// compliance group, and Keystone's messages for each refusal.
func TestDomainConfigAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		d, err := e.svc.CreateDomain(context.Background(), identity.Domain{Name: "ldapish", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		alice := e.c.As(e.aliceToken, "")
		base := "/identity/v3/domains/" + d.ID + "/config"
		const invalid = "Invalid domain specific configuration: "
		notFound := func(what string) string {
			return "Could not find " + what + " in domain configuration for domain " + d.ID + "."
		}
		created := `{"config": {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://myldap.com:389/", "user_tree_dn": "ou=Users,dc=my_new_root,dc=org"}}}`
		withPassword := obj{"config": obj{"identity": obj{"driver": "ldap"}, "ldap": obj{
			"url": "ldap://myldap.com:389/", "user_tree_dn": "ou=Users,dc=my_new_root,dc=org", "password": "s3cret"}}}

		steps := []struct {
			name   string
			as     *apitest.Client // nil: admin
			method string
			path   string
			body   any
			status int
			// want is the whole answer (JSON) or, for errors, the message.
			want string
		}{
			{"no config yet", nil, "GET", base, nil, 404, notFound("any options")},
			{"no group yet", nil, "GET", base + "/ldap", nil, 404, notFound("group ldap")},
			{"unknown domain", nil, "PUT", "/identity/v3/domains/nope/config", json.RawMessage(created), 404, "Could not find domain: nope."},
			{"unknown domain read", nil, "GET", "/identity/v3/domains/nope/config", nil, 404,
				"Could not find any options in domain configuration for domain nope."},
			{"member may not", alice, "PUT", base, json.RawMessage(created), 403, forbiddenMsg("identity:create_domain_config")},
			{"create", nil, "PUT", base, json.RawMessage(created), 201, created},
			{"replace with a password", nil, "PUT", base, withPassword, 200, created},
			{"show", nil, "GET", base, nil, 200, created},
			{"show group", nil, "GET", base + "/ldap", nil, 200,
				`{"config": {"ldap": {"url": "ldap://myldap.com:389/", "user_tree_dn": "ou=Users,dc=my_new_root,dc=org"}}}`},
			{"show option", nil, "GET", base + "/ldap/url", nil, 200, `{"config": {"url": "ldap://myldap.com:389/"}}`},
			{"password never shown", nil, "GET", base + "/ldap/password", nil, 404, notFound("option password in group ldap")},
			{"option not set", nil, "GET", base + "/ldap/user", nil, 404, notFound("option user in group ldap")},
			{"unsupported group", nil, "GET", base + "/resource", nil, 403, invalid + "Group resource is not supported for domain specific configurations."},
			{"unsupported option", nil, "GET", base + "/ldap/nope", nil, 403, invalid + "Option nope in group ldap is not supported for domain specific configurations."},
			{"member may not read", alice, "GET", base, nil, 403, forbiddenMsg("identity:get_domain_config")},

			{"update option", nil, "PATCH", base + "/ldap/url", obj{"config": obj{"url": "ldap://other/"}}, 200,
				`{"config": {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://other/", "user_tree_dn": "ou=Users,dc=my_new_root,dc=org"}}}`},
			{"update another option", nil, "PATCH", base + "/ldap/url", obj{"config": obj{"user": "x"}}, 403,
				invalid + "Trying to update option url in group ldap, but config provided contains option user instead."},
			{"update two options", nil, "PATCH", base + "/ldap/url", json.RawMessage(`{"config": {"url": "a", "user": "b"}}`), 403,
				invalid + "Trying to update option url in group ldap, so that, and only that, option must be specified  in the config."},
			{"update option not set", nil, "PATCH", base + "/identity/list_limit", obj{"config": obj{"list_limit": 5}}, 404,
				notFound("option list_limit in group identity")},
			{"update another group", nil, "PATCH", base + "/identity", obj{"config": obj{"ldap": obj{"url": "x"}}}, 403,
				invalid + "request to update group identity, but config provided contains group ldap instead."},
			{"update two groups", nil, "PATCH", base + "/identity", obj{"config": obj{"identity": obj{"driver": "x"}, "ldap": obj{"url": "x"}}}, 403,
				invalid + "Trying to update group identity, so that, and only that, group must be specified in the config."},
			{"update adds options", nil, "PATCH", base, obj{"config": obj{"identity": obj{"list_limit": 5}, "ldap": obj{"use_tls": true}}}, 200,
				`{"config": {"identity": {"driver": "ldap", "list_limit": 5}, "ldap": {"url": "ldap://other/", "use_tls": true, "user_tree_dn": "ou=Users,dc=my_new_root,dc=org"}}}`},
			{"update group", nil, "PATCH", base + "/identity", obj{"config": obj{"identity": obj{"driver": "sql", "list_limit": 7}}}, 200,
				`{"config": {"identity": {"driver": "sql", "list_limit": 7}, "ldap": {"url": "ldap://other/", "use_tls": true, "user_tree_dn": "ou=Users,dc=my_new_root,dc=org"}}}`},
			{"no options", nil, "PATCH", base, obj{"config": obj{}}, 403, invalid + "No options specified."},
			{"no body", nil, "PATCH", base, nil, 403, invalid + "No options specified."},
			{"group not an object", nil, "PATCH", base, obj{"config": obj{"ldap": "x"}}, 403,
				invalid + "The value of group ldap specified in the config should be a dictionary of options."},
			{"first bad group named", nil, "PATCH", base, json.RawMessage(`{"config": {"zeta": {"a": 1}, "alpha": {"b": 2}}}`), 403,
				invalid + "Group zeta is not supported for domain specific configurations."},
			{"option not an object", nil, "PATCH", base + "/ldap/url", obj{"config": "x"}, 403,
				invalid + "The value of group ldap specified in the config should be a dictionary of options."},
			{"unsupported option update", nil, "PATCH", base, obj{"config": obj{"ldap": obj{"bogus": 1}}}, 403,
				invalid + "Option bogus in group ldap is not supported for domain specific configurations."},
			{"config not an object", nil, "PATCH", base, obj{"config": []int{1}}, 400,
				"Expecting to find config in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."},
			{"body not an object", nil, "PATCH", base, "[1]", 400, malformedJSON},
			{"security compliance not writable", nil, "PATCH", base + "/security_compliance", obj{"config": obj{"security_compliance": obj{"password_regex": "x"}}}, 403,
				invalid + "Group security_compliance is not supported for domain specific configurations."},

			{"delete password", nil, "DELETE", base + "/ldap/password", nil, 204, ""},
			{"delete password again", nil, "DELETE", base + "/ldap/password", nil, 404, notFound("option password in group ldap")},
			{"delete option", nil, "DELETE", base + "/identity/driver", nil, 204, ""},
			{"option gone", nil, "GET", base + "/identity/driver", nil, 404, notFound("option driver in group identity")},
			{"delete group", nil, "DELETE", base + "/identity", nil, 204, ""},
			{"group gone", nil, "GET", base + "/identity", nil, 404, notFound("group identity")},
			{"delete group again", nil, "DELETE", base + "/identity", nil, 404, notFound("group identity")},
			{"delete unsupported group", nil, "DELETE", base + "/resource", nil, 403, invalid + "Group resource is not supported for domain specific configurations."},
			{"delete unknown domain", nil, "DELETE", "/identity/v3/domains/nope/config", nil, 404, "Could not find domain: nope."},
			{"delete", nil, "DELETE", base, nil, 204, ""},
			{"deleted", nil, "GET", base, nil, 404, notFound("any options")},
			{"delete nothing", nil, "DELETE", base, nil, 204, ""},

			{"defaults", nil, "GET", "/identity/v3/domains/config/identity/default", nil, 200, `{"config": {"identity": {"driver": "sql", "list_limit": null}}}`},
			{"default option", nil, "GET", "/identity/v3/domains/config/ldap/pool_retry_delay/default", nil, 200, `{"config": {"pool_retry_delay": 0.1}}`},
			{"no default of the password", nil, "GET", "/identity/v3/domains/config/ldap/password/default", nil, 403,
				invalid + "Reading the default for option password in group ldap is not supported."},
			{"no default of other groups", nil, "GET", "/identity/v3/domains/config/resource/default", nil, 403,
				invalid + "Group resource is not supported for domain specific configurations."},
			{"member may not read defaults", alice, "GET", "/identity/v3/domains/config/default", nil, 403, forbiddenMsg("identity:get_domain_config_default")},

			{"security compliance", alice, "GET", "/identity/v3/domains/default/config/security_compliance", nil, 200,
				`{"config": {"security_compliance": {"password_regex": null, "password_regex_description": null}}}`},
			{"security compliance option", alice, "GET", "/identity/v3/domains/default/config/security_compliance/password_regex_description", nil, 200,
				`{"config": {"password_regex_description": null}}`},
			{"lockout not readable", alice, "GET", "/identity/v3/domains/default/config/security_compliance/lockout_duration", nil, 403,
				invalid + "Reading security compliance values other than password_regex and password_regex_description is not allowed.."},
			{"other domains' not readable", nil, "GET", base + "/security_compliance", nil, 403,
				invalid + "Reading security compliance information for any domain other than the default domain is not allowed or supported.."},
		}
		for _, s := range steps {
			c := e.admin
			if s.as != nil {
				c = s.as
			}
			r := c.Do(s.method, s.path, s.body)
			if s.status >= 400 {
				t.Run(s.name, func(t *testing.T) { wantError(t, r, s.status, s.want) })
				continue
			}
			if r.Status != s.status {
				t.Fatalf("%s: %s %s: status %d, want %d: %s", s.name, s.method, s.path, r.Status, s.status, r.Body)
			}
			if s.want != "" && !sameJSON(t, r.Body, []byte(s.want)) {
				t.Errorf("%s: %s %s:\n got %s\nwant %s", s.name, s.method, s.path, r.Body, s.want)
			}
		}

		r := e.admin.Do("PUT", base, apisamples.Load(t, "keystone/v3/samples/admin/domain-config-create-request.json")).Expect(t, 201)
		apisamples.Assert(t, "keystone/v3/samples/admin/domain-config-create-response.json", r.Body, apisamples.Options{})
		r = e.admin.Do("PATCH", base, apisamples.Load(t, "keystone/v3/samples/admin/domain-config-update-request.json")).Expect(t, 200)
		apisamples.Assert(t, "keystone/v3/samples/admin/domain-config-update-response.json", r.Body, apisamples.Options{})
		e.admin.Do("HEAD", base+"/ldap/url", nil).Expect(t, 200)

		// Every whitelisted option has a default, and only those.
		r = e.admin.Do("GET", "/identity/v3/domains/config/default", nil).Expect(t, 200)
		ldap := field(t, r.JSON(t), "config", "ldap").(map[string]any)
		if len(ldap) != 49 || ldap["url"] != "ldap://localhost" || ldap["password"] != nil {
			t.Errorf("ldap defaults (%d): %v", len(ldap), ldap)
		}
		for opt := range ldap {
			e.admin.Do("GET", "/identity/v3/domains/config/ldap/"+opt+"/default", nil).Expect(t, 200)
		}
	})
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}
