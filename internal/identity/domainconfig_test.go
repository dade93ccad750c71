package identity

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// cfgObj builds a ConfigObject from key, value pairs.
func cfgObj(kv ...any) ConfigObject {
	var o ConfigObject
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, ConfigMember{Key: kv[i].(string), Value: kv[i+1]})
	}
	return o
}

// TestDomainConfig covers the domain configuration store on both engines:
// replace semantics, the sealed sensitive option (stored, never shown),
// Keystone's quirks (an update leaving only sensitive options is stored
// and answered 404; an option set to a false value cannot be deleted),
// and the configuration going with its domain.
func TestDomainConfig(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d, err := f.svc.CreateDomain(f.ctx, Domain{Name: "d", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		cfg := cfgObj("ldap", cfgObj("password", "hunter2", "user_enabled_mask", 0))
		out, replaced, err := f.svc.CreateDomainConfig(f.ctx, d.ID, cfg)
		if err != nil || replaced || len(out) != 1 || len(out["ldap"]) != 1 {
			t.Fatalf("create: %v replaced=%v %v", out, replaced, err)
		}
		var stored string
		if err := db.QueryRowContext(f.ctx, `SELECT value FROM domain_config WHERE option_name = 'password'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, "hunter2") {
			t.Errorf("password stored in the clear: %s", stored)
		}
		if _, replaced, err := f.svc.CreateDomainConfig(f.ctx, d.ID, cfg); err != nil || !replaced {
			t.Fatalf("replace: replaced=%v %v", replaced, err)
		}

		steps := []struct {
			name string
			run  func() error
			want errs.Kind // KindInternal: success
		}{
			{"password not shown", func() error { _, err := f.svc.GetDomainConfig(f.ctx, d.ID, "ldap", "password"); return err }, errs.KindNotFound},
			{"false option shown", func() error { _, err := f.svc.GetDomainConfig(f.ctx, d.ID, "ldap", "user_enabled_mask"); return err }, errs.KindInternal},
			{"false option cannot be deleted", func() error { return f.svc.DeleteDomainConfig(f.ctx, d.ID, "ldap", "user_enabled_mask") }, errs.KindNotFound},
			{"password deleted", func() error { return f.svc.DeleteDomainConfig(f.ctx, d.ID, "ldap", "password") }, errs.KindInternal},
			{"mask deleted with its group", func() error { return f.svc.DeleteDomainConfig(f.ctx, d.ID, "ldap", "") }, errs.KindInternal},
			{"sensitive-only update is kept but answered 404", func() error {
				_, err := f.svc.UpdateDomainConfig(f.ctx, d.ID, "", "", cfgObj("ldap", cfgObj("password", "x")))
				return err
			}, errs.KindNotFound},
			{"so the password can be deleted", func() error { return f.svc.DeleteDomainConfig(f.ctx, d.ID, "ldap", "password") }, errs.KindInternal},
			{"not an object", func() error { _, _, err := f.svc.CreateDomainConfig(f.ctx, d.ID, "ldap"); return err }, errs.KindInvalid},
			{"empty", func() error { _, _, err := f.svc.CreateDomainConfig(f.ctx, d.ID, ConfigObject{}); return err }, errs.KindForbidden},
			{"unknown domain", func() error { _, _, err := f.svc.CreateDomainConfig(f.ctx, "nope", cfg); return err }, errs.KindNotFound},
		}
		for _, s := range steps {
			err := s.run()
			if got := errs.KindOf(err); (err == nil) != (s.want == errs.KindInternal) || (err != nil && got != s.want) {
				t.Errorf("%s: %v (kind %v), want kind %v", s.name, err, got, s.want)
			}
		}

		// The configuration goes with its domain.
		if _, _, err := f.svc.CreateDomainConfig(f.ctx, d.ID, cfgObj("identity", cfgObj("driver", "ldap"))); err != nil {
			t.Fatal(err)
		}
		off := false
		if _, err := f.svc.UpdateDomain(f.ctx, d.ID, DomainPatch{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteDomain(f.ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM domain_config`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d config rows left after the domain's deletion (%v)", n, err)
		}
	})
}

func TestDefaultDomainConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		group, option string
		want          string // JSON of the answer, or the error's message
	}{
		{"identity", "", `{"identity":{"driver":"sql","list_limit":null}}`},
		{"identity", "driver", `{"identity":{"driver":"sql"}}`},
		{"ldap", "user_attribute_ignore", `{"ldap":{"user_attribute_ignore":["default_project_id"]}}`},
		{"ldap", "pool_retry_delay", `{"ldap":{"pool_retry_delay":0.1}}`},
		{"ldap", "password", "Invalid domain specific configuration: Reading the default for option password in group ldap is not supported."},
		{"ldap", "nope", "Invalid domain specific configuration: Option nope in group ldap is not supported for domain specific configurations."},
		{"resource", "", "Invalid domain specific configuration: Group resource is not supported for domain specific configurations."},
	}
	for _, tc := range tests {
		t.Run(tc.group+"/"+tc.option, func(t *testing.T) {
			out, err := DefaultDomainConfig(tc.group, tc.option)
			got := errs.Message(err)
			if err == nil {
				b, _ := json.Marshal(out)
				got = string(b)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestConfigTruth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want bool
	}{
		{nil, false}, {false, false}, {true, true}, {"", false}, {"x", true},
		{json.Number("0"), false}, {json.Number("0.0"), false}, {json.Number("2"), true},
		{[]any{}, false}, {[]any{nil}, true}, {ConfigObject{}, false}, {cfgObj("a", 1), true},
	}
	for _, tc := range tests {
		if got := truthy(tc.v); got != tc.want {
			t.Errorf("truthy(%#v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestConfigObjectJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(cfgObj("z", 1, "a", cfgObj("y", []any{cfgObj("b", nil)})))
	if err != nil || string(b) != `{"z":1,"a":{"y":[{"b":null}]}}` {
		t.Errorf("%s %v", b, err)
	}
}
