package policy

import (
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/auth"
)

func TestDefaultSetsParse(t *testing.T) {
	t.Parallel()
	for _, s := range []*Set{Compute(), Image(), Identity(), Network()} {
		if len(s.Rules()) < 20 {
			t.Errorf("%s: only %d rules", s.Name(), len(s.Rules()))
		}
		if !s.Has("context_is_admin") && !s.Has("admin_required") {
			t.Errorf("%s: no admin rule", s.Name())
		}
	}
}

func TestCheckLanguage(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{Name: "context_is_admin", Check: "role:admin"},
		{Name: "member_api", Check: "role:member and project_id:%(project_id)s"},
		{Name: "member_or_admin", Check: "rule:member_api or rule:context_is_admin"},
		{Name: "anyone", Check: "@"},
		{Name: "nobody", Check: "!"},
		{Name: "empty", Check: ""},
		{Name: "owner", Check: "user_id:%(user_id)s"},
		{Name: "public_or_owner", Check: "'public':%(visibility)s or project_id:%(owner)s"},
		{Name: "precedence", Check: "role:reader or role:foo and role:bar"},
		{Name: "grouped", Check: "(role:reader or role:foo) and role:bar"},
		{Name: "not", Check: "not role:admin and not None:%(target.domain)s"},
		{Name: "domain_scope_manager", Check: "role:manager and not domain_id:None"},
		{Name: "is_admin", Check: "is_admin:True"},
		{Name: "nested", Check: "((rule:context_is_admin)) or (role:reader and (project_id:%(project_id)s))"},
		{Name: "token_domain", Check: "token.project.domain.id:%(target.domain.id)s"},
		{Name: "shared", Check: "field:networks:shared=True"},
		{Name: "external", Check: "field:networks:router:external=True"},
		{Name: "network_device", Check: "field:port:device_owner=~^network:"},
	}
	s := NewSet("test", rules)
	reader := &auth.Principal{UserID: "u1", ProjectID: "p1", ProjectDomainID: "d1", Roles: []string{"reader"}}
	member := &auth.Principal{UserID: "u2", ProjectID: "p1", Roles: []string{"Member"}}
	admin := &auth.Principal{UserID: "u3", ProjectID: "p0", Roles: []string{"admin"}}
	unscoped := &auth.Principal{UserID: "u4"}
	manager := &auth.Principal{UserID: "u5", DomainID: "d1", Roles: []string{"manager"}}
	foobar := &auth.Principal{UserID: "u6", ProjectID: "p1", Roles: []string{"foo", "bar"}}
	own := Target{"project_id": "p1", "user_id": "u1", "owner": "p1", "visibility": "private", "target.domain": "d1", "target.domain.id": "d1"}
	other := Target{"project_id": "p2", "user_id": "u9", "owner": "p2", "visibility": "public", "target.domain": "None", "target.domain.id": "d2"}
	cases := []struct {
		rule   string
		p      *auth.Principal
		target Target
		want   bool
	}{
		{"member_or_admin", member, own, true},
		{"member_or_admin", member, other, false},
		{"member_or_admin", reader, own, false},
		{"member_or_admin", admin, other, true}, // admin implies member, and is admin
		{"member_api", admin, Target{"project_id": "p0"}, true},
		{"member_or_admin", unscoped, Target{"project_id": "None"}, false},
		{"member_or_admin", nil, own, false},
		{"anyone", unscoped, nil, true},
		{"nobody", admin, own, false},
		{"empty", reader, nil, true},
		{"owner", reader, own, true},
		{"owner", reader, other, false},
		{"owner", reader, Target{}, false}, // a missing key fails the check
		{"public_or_owner", member, other, true},
		{"public_or_owner", member, Target{"visibility": "private", "owner": "p2"}, false},
		{"precedence", reader, nil, true},
		{"precedence", foobar, nil, true},
		{"precedence", &auth.Principal{Roles: []string{"foo"}}, nil, false},
		{"grouped", reader, nil, false},
		{"grouped", &auth.Principal{Roles: []string{"reader", "bar"}}, nil, true},
		{"not", reader, own, true},
		{"not", reader, other, false},
		{"not", admin, own, false},
		{"domain_scope_manager", manager, nil, true},
		{"domain_scope_manager", &auth.Principal{ProjectID: "p1", Roles: []string{"manager"}}, nil, false},
		{"is_admin", admin, nil, true},
		{"is_admin", member, nil, false},
		{"nested", reader, own, true},
		{"nested", reader, other, false},
		{"token_domain", reader, own, true},
		{"token_domain", reader, other, false},
		{"no_such_rule", admin, own, false},
		{"shared", reader, Target{"shared": "True"}, true},
		{"shared", reader, Target{"shared": "False"}, false},
		{"shared", reader, Target{}, false},
		{"external", reader, Target{"router:external": "True"}, true},
		{"external", reader, Target{"shared": "True"}, false},
		{"network_device", reader, Target{"device_owner": "network:router_interface"}, true},
		{"network_device", reader, Target{"device_owner": "compute:nova"}, false},
	}
	for _, tc := range cases {
		if got := s.Allowed(tc.p, tc.rule, tc.target); got != tc.want {
			name := "<nil>"
			if tc.p != nil {
				name = tc.p.UserID + "/" + strings.Join(tc.p.Roles, ",")
			}
			t.Errorf("%s for %s on %v = %v, want %v", tc.rule, name, tc.target, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"role:admin or", "(role:admin", "role:admin)", "admin", "and role:admin", "not",
		"field:shared=True", "field:networks:shared"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse(%q) succeeded", bad)
		}
	}
}

func TestNewSetRejectsDanglingRule(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("a rule referring to a missing rule was accepted")
		}
	}()
	NewSet("test", []Rule{{Name: "a", Check: "rule:b"}})
}

// The upstream defaults decide as the services do for the usual personas.
func TestUpstreamDefaults(t *testing.T) {
	t.Parallel()
	compute, image, identity, network := Compute(), Image(), Identity(), Network()
	reader := &auth.Principal{UserID: "r", ProjectID: "A", Roles: []string{"reader"}}
	member := &auth.Principal{UserID: "m", ProjectID: "A", Roles: []string{"member"}}
	admin := &auth.Principal{UserID: "a", ProjectID: "admin", Roles: []string{"admin"}}
	unscoped := &auth.Principal{UserID: "m"}
	own := Target{"project_id": "A", "user_id": "m", "owner": "A", "visibility": "private"}
	cases := []struct {
		set    *Set
		rule   string
		p      *auth.Principal
		target Target
		want   bool
	}{
		{compute, "os_compute_api:servers:create", reader, own, false},
		{compute, "os_compute_api:servers:create", member, own, true},
		{compute, "os_compute_api:servers:index", reader, own, true},
		{compute, "os_compute_api:servers:index:get_all_tenants", member, own, false},
		{compute, "os_compute_api:servers:index:get_all_tenants", admin, own, true},
		{compute, "os_compute_api:os-keypairs:create", reader, Target{"user_id": "r"}, true},
		{compute, "os_compute_api:os-keypairs:create", reader, Target{"user_id": "m"}, false},
		{compute, "os_compute_api:os-hypervisors:list", member, own, false},
		{compute, "os_compute_api:os-flavor-manage:create", admin, own, true},
		{image, "add_image", reader, own, false},
		{image, "add_image", member, own, true},
		{image, "add_image", unscoped, Target{"project_id": "None", "owner": "None"}, false},
		{image, "add_member", reader, own, false},
		{image, "get_image", reader, Target{"project_id": "B", "visibility": "public"}, true},
		{image, "get_image", reader, Target{"project_id": "B", "visibility": "private"}, false},
		{image, "publicize_image", member, own, false},
		{identity, "identity:create_user", member, Target{}, false},
		{identity, "identity:create_user", admin, Target{}, true},
		{identity, "identity:get_user", member, Target{"target.user.id": "m", "target.user.domain_id": "default"}, true},
		{identity, "identity:get_user", member, Target{"target.user.id": "x", "target.user.domain_id": "default"}, false},
		{identity, "identity:list_roles", member, Target{}, false},
		{network, "create_network", reader, own, false},
		{network, "create_network", member, own, true},
		{network, "create_network:shared", member, own, false},
		{network, "get_network", reader, Target{"project_id": "B", "shared": "False", "router:external": "False"}, false},
		{network, "get_network", reader, Target{"project_id": "B", "shared": "True", "router:external": "False"}, true},
		{network, "get_network", reader, Target{"project_id": "B", "shared": "False", "router:external": "True"}, true},
		{network, "update_network", member, Target{"project_id": "B"}, false},
		{network, "create_subnet", member, Target{"project_id": "A", "network:project_id": "A"}, true},
		{network, "create_subnet", member, Target{"project_id": "A", "network:project_id": "B"}, false},
		{network, "get_subnet", reader, Target{"project_id": "B", "network:project_id": "B", "shared": "False", "router:external": "True"}, true},
	}
	for _, tc := range cases {
		if got := tc.set.Allowed(tc.p, tc.rule, tc.target); got != tc.want {
			t.Errorf("%s %s for %s = %v, want %v", tc.set.Name(), tc.rule, tc.p.Roles, got, tc.want)
		}
	}
}

// TestReadsTarget: a rule reads the target through a %(key)s
// substitution or a field: check, its own or in a rule it refers to;
// roles, constants and substitution-free matches do not.
func TestReadsTarget(t *testing.T) {
	t.Parallel()
	s := NewSet("test", []Rule{
		{Name: "admin", Check: "role:admin"},
		{Name: "owner", Check: "project_id:%(project_id)s"},
		{Name: "admin_or_owner", Check: "rule:admin or rule:owner"},
		{Name: "not_owner", Check: "not rule:owner"},
		{Name: "network_owner", Check: "field:port:device_owner=~^network:"},
		{Name: "literal", Check: "'true':True"},
		{Name: "reader", Check: "role:reader and rule:admin"},
		{Name: "anyone", Check: "@"},
		{Name: "loop_a", Check: "rule:loop_b or role:x"},
		{Name: "loop_b", Check: "rule:loop_a"},
	})
	tests := []struct {
		rule string
		want bool
	}{
		{"admin", false}, {"owner", true}, {"admin_or_owner", true}, {"not_owner", true},
		{"network_owner", true}, {"literal", false}, {"reader", false}, {"anyone", false},
		{"loop_a", false}, {"missing", false},
	}
	for _, tc := range tests {
		if got := s.ReadsTarget(tc.rule); got != tc.want {
			t.Errorf("ReadsTarget(%q) = %v, want %v", tc.rule, got, tc.want)
		}
	}
}

// TestScopeTypes: a rule refuses tokens of scopes its service's
// scope_types leave out, whatever its check says, as oslo.policy does with
// enforce_scope on (its default).
func TestScopeTypes(t *testing.T) {
	t.Parallel()
	projectAdmin := &auth.Principal{UserID: "u", ProjectID: "p", Roles: []string{"admin"}}
	systemAdmin := &auth.Principal{UserID: "u", System: true, Roles: []string{"admin"}}
	systemReader := &auth.Principal{UserID: "u", System: true, Roles: []string{"reader"}}
	domainAdmin := &auth.Principal{UserID: "u", DomainID: "d", Roles: []string{"admin"}}
	compute, identity, image, volume, network := Compute(), Identity(), Image(), Volume(), Network()
	target := Target{"project_id": "p", "user_id": "u", "target.user.id": "u", "target.credential.user_id": "u"}
	cases := []struct {
		set  *Set
		rule string
		p    *auth.Principal
		want bool
	}{
		{compute, "os_compute_api:servers:index", projectAdmin, true},
		{compute, "os_compute_api:servers:index", systemAdmin, false},
		{compute, "os_compute_api:os-services:list", systemAdmin, false},
		{compute, "os_compute_api:os-services:list", domainAdmin, false},
		// kumo's rules for calls Nova checks no policy on take any token.
		{compute, "kumo:compute:flavors:read", systemAdmin, true},
		{image, "get_images", systemAdmin, false},
		{image, "kumo:image:get_schemas", systemAdmin, true},
		{volume, "volume:get_all", systemAdmin, false},
		{network, "get_network", systemAdmin, false},
		// Keystone: system, domain and project; system and project; project.
		{identity, "identity:list_users", systemAdmin, true},
		{identity, "identity:list_users", domainAdmin, true},
		{identity, "identity:list_services", systemAdmin, true},
		{identity, "identity:list_services", domainAdmin, false},
		{identity, "identity:list_services", projectAdmin, true},
		{identity, "identity:create_application_credential", systemAdmin, false},
		{identity, "identity:create_application_credential", projectAdmin, true},
		// system_scope:all is the system token's.
		{identity, "identity:list_endpoints", systemReader, true},
		{identity, "identity:list_endpoints", &auth.Principal{UserID: "u", ProjectID: "p", Roles: []string{"reader"}}, false},
	}
	for _, tc := range cases {
		if !tc.set.Has(tc.rule) {
			t.Errorf("%s has no rule %s", tc.set.Name(), tc.rule)
		}
		if got := tc.set.Allowed(tc.p, tc.rule, target); got != tc.want {
			t.Errorf("%s %s for %s token: %v, want %v", tc.set.Name(), tc.rule, TokenScope(tc.p), got, tc.want)
		}
	}
}
