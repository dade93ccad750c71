package identity

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestIdentityProviders(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		desc := "corp"
		idp, err := f.svc.CreateIdentityProvider(f.ctx, IdentityProvider{ID: "corp", Enabled: true, Description: &desc,
			RemoteIDs: []string{"https://b", "https://a"}})
		if err != nil {
			t.Fatal(err)
		}
		// Keystone makes a domain for a provider without one.
		d, err := f.svc.GetDomain(f.ctx, idp.DomainID)
		if err != nil || d.Name != idp.DomainID || d.Description != "Auto generated federated domain for Identity Provider: corp" || !d.Enabled {
			t.Errorf("auto domain %+v, %v", d, err)
		}
		if strings.Join(idp.RemoteIDs, ",") != "https://a,https://b" {
			t.Errorf("remote ids %v, want sorted", idp.RemoteIDs)
		}
		conflicts := []struct {
			name string
			idp  IdentityProvider
			msg  string
		}{
			{"same id", IdentityProvider{ID: "corp"}, "Duplicate entry: corp"},
			{"remote id taken", IdentityProvider{ID: "other", RemoteIDs: []string{"https://a"}}, "Duplicate remote ID: https://a"},
		}
		for _, c := range conflicts {
			_, err := f.svc.CreateIdentityProvider(f.ctx, c.idp)
			if !errs.Is(err, errs.KindConflict) || !strings.Contains(errs.Message(err), c.msg) {
				t.Errorf("%s: %v, want 409 with %q", c.name, err, c.msg)
			}
		}
		// The failed creates left no provider (nor domain) behind.
		if _, err := f.svc.GetIdentityProvider(f.ctx, "other"); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("other after a conflict: %v", err)
		}
		_, err = f.svc.CreateIdentityProvider(f.ctx, IdentityProvider{ID: "x", DomainID: "nowhere"})
		wantKind(t, err, errs.KindNotFound)

		up, err := f.svc.UpdateIdentityProvider(f.ctx, "corp", IdentityProviderPatch{Enabled: ptr(false), SetDescription: true,
			SetRemoteIDs: true, RemoteIDs: []string{"https://c"}})
		if err != nil || up.Enabled || up.Description != nil || len(up.RemoteIDs) != 1 || up.DomainID != idp.DomainID {
			t.Errorf("updated %+v, %v", up, err)
		}
		// The freed remote id may be used again.
		if _, err := f.svc.CreateIdentityProvider(f.ctx, IdentityProvider{ID: "b", DomainID: DefaultDomainID, RemoteIDs: []string{"https://a"}}); err != nil {
			t.Errorf("reuse a freed remote id: %v", err)
		}
		enabled := false
		list, err := f.svc.ListIdentityProviders(f.ctx, "", &enabled)
		if err != nil || len(list) != 2 {
			t.Errorf("disabled providers %+v, %v", list, err)
		}

		// Protocols need a mapping and a provider.
		_, err = f.svc.CreateProtocol(f.ctx, FederationProtocol{ID: "saml2", IdPID: "corp", MappingID: "m"})
		wantKind(t, err, errs.KindNotFound)
		if _, err := f.svc.CreateMapping(f.ctx, Mapping{ID: "m", Rules: []any{}, SchemaVersion: "1.0"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateProtocol(f.ctx, FederationProtocol{ID: "saml2", IdPID: "nope", MappingID: "m"})
		wantKind(t, err, errs.KindNotFound)
		if _, err := f.svc.CreateProtocol(f.ctx, FederationProtocol{ID: "saml2", IdPID: "corp", MappingID: "m"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateProtocol(f.ctx, FederationProtocol{ID: "saml2", IdPID: "corp", MappingID: "m"})
		wantKind(t, err, errs.KindConflict)
		_, err = f.svc.UpdateProtocol(f.ctx, "corp", "saml2", "missing", nil)
		wantKind(t, err, errs.KindNotFound)
		// Deleting the provider takes its protocols.
		if err := f.svc.DeleteIdentityProvider(f.ctx, "corp"); err != nil {
			t.Fatal(err)
		}
		ps, err := f.svc.ListProtocols(f.ctx, "corp")
		if err != nil || len(ps) != 0 {
			t.Errorf("protocols after the provider went: %+v, %v", ps, err)
		}
		wantKind(t, f.svc.DeleteIdentityProvider(f.ctx, "corp"), errs.KindNotFound)
	})
}

func TestServiceProviders(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sp, err := f.svc.CreateServiceProvider(f.ctx, ServiceProvider{ID: "sp", AuthURL: "https://a/v3", SPURL: "https://a/sp"})
		if err != nil || sp.RelayStatePrefix != DefaultRelayStatePrefix || sp.Enabled {
			t.Fatalf("created %+v, %v", sp, err)
		}
		_, err = f.svc.CreateServiceProvider(f.ctx, ServiceProvider{ID: "sp", AuthURL: "x", SPURL: "y"})
		wantKind(t, err, errs.KindConflict)
		up, err := f.svc.UpdateServiceProvider(f.ctx, "sp", ServiceProviderPatch{Enabled: ptr(true), SPURL: ptr("https://b/sp")})
		if err != nil || !up.Enabled || up.SPURL != "https://b/sp" || up.AuthURL != "https://a/v3" {
			t.Errorf("updated %+v, %v", up, err)
		}
		if err := f.svc.DeleteServiceProvider(f.ctx, "sp"); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetServiceProvider(f.ctx, "sp")
		wantKind(t, err, errs.KindNotFound)
	})
}

func TestValidateMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		want string // "" valid; else a line of the message
	}{
		{"gophercloud's example", `{"rules": [{"local": [{"user": {"name": "{0}"}}, {"group": {"id": "0cd5e9"}}],
			"remote": [{"type": "UserName"}, {"type": "orgPersonType", "not_any_of": ["Contractor", "Guest"]}]}]}`, ""},
		{"group by name", `{"rules": [{"local": [{"group": {"name": "g", "domain": {"id": "default"}}}], "remote": [{"type": "a", "any_one_of": ["x"], "regex": true}]}]}`, ""},
		{"projects 2.0 with domain", `{"schema_version": "2.0", "rules": [{"local": [{"projects": [{"name": "p", "domain": {"name": "d"}, "roles": [{"name": "member"}]}]}], "remote": [{"type": "a"}]}]}`, ""},
		{"projects 1.0 with domain", `{"rules": [{"local": [{"projects": [{"name": "p", "domain": {"name": "d"}, "roles": [{"name": "member"}]}]}], "remote": [{"type": "a"}]}]}`, "Additional properties are not allowed ('domain' was unexpected)"},
		{"no rules", `{}`, "'rules' is a required property"},
		{"empty rules", `{"rules": []}`, "[] is too short"},
		{"no remote", `{"rules": [{"local": []}]}`, "'remote' is a required property"},
		{"empty remote", `{"rules": [{"local": [], "remote": []}]}`, "[] is too short"},
		{"two matchers", `{"rules": [{"local": [], "remote": [{"type": "a", "any_one_of": [], "not_any_of": []}]}]}`, "is not valid under any of the given schemas"},
		{"bad user type", `{"rules": [{"local": [{"user": {"type": "robot"}}], "remote": [{"type": "a"}]}]}`, "'robot' is not one of ['ephemeral', 'local']"},
		{"group without domain", `{"rules": [{"local": [{"group": {"name": "g"}}], "remote": [{"type": "a"}]}]}`, "is not valid under any of the given schemas"},
		{"unknown local", `{"rules": [{"local": [{"role": "x"}], "remote": [{"type": "a"}]}]}`, "Additional properties are not allowed ('role' was unexpected)"},
		{"unknown version", `{"schema_version": "9.9", "rules": []}`, "not one of"},
		{"regex not a boolean", `{"rules": [{"local": [], "remote": [{"type": "a", "whitelist": [], "regex": "yes"}]}]}`, "is not valid under any of the given schemas"},
	}
	for _, c := range cases {
		var m map[string]any
		if err := json.Unmarshal([]byte(c.body), &m); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err := ValidateMapping(m)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", c.name, err)
		case c.want != "" && (!errs.Is(err, errs.KindInvalid) || !strings.Contains(errs.Message(err), c.want)):
			t.Errorf("%s: %v, want 400 with %q", c.name, err, c.want)
		}
	}
}

func TestConsumers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, err := f.svc.CreateConsumer(f.ctx, Consumer{Description: ptr("app"), Extra: map[string]any{"k": "v"}})
		if err != nil || !hex32.MatchString(c.ID) || !hex32.MatchString(c.Secret) {
			t.Fatalf("created %+v, %v", c, err)
		}
		// Sealed at rest, readable again for signature checks.
		var sealed string
		if err := db.QueryRowContext(f.ctx, `SELECT sealed_secret FROM oauth1_consumers WHERE id = ?`, c.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sealed, c.Secret) {
			t.Errorf("secret stored in clear: %s", sealed)
		}
		if s, err := f.svc.ConsumerSecret(f.ctx, c.ID); err != nil || s != c.Secret {
			t.Errorf("ConsumerSecret = %q, %v", s, err)
		}
		got, err := f.svc.GetConsumer(f.ctx, c.ID)
		if err != nil || got.Secret != "" || *got.Description != "app" || got.Extra["k"] != "v" {
			t.Errorf("GetConsumer = %+v, %v", got, err)
		}
		up, err := f.svc.UpdateConsumer(f.ctx, c.ID, ConsumerPatch{SetDescription: true, Description: ptr(""), Extra: map[string]any{"j": 1.0}})
		if err != nil || *up.Description != "" || up.Extra["k"] != "v" || up.Extra["j"] != 1.0 {
			t.Errorf("updated %+v, %v", up, err)
		}
		list, err := f.svc.ListConsumers(f.ctx)
		if err != nil || len(list) != 1 || list[0].Secret != "" {
			t.Errorf("list %+v, %v", list, err)
		}
		if err := f.svc.DeleteConsumer(f.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, f.svc.DeleteConsumer(f.ctx, c.ID), errs.KindNotFound)
	})
}
