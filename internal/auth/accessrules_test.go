package auth

import "testing"

// TestPathMatches follows keystonemiddleware's _path_matches: * and
// {name} are one segment, ** any number of them.
func TestPathMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path, pattern string
		want          bool
	}{
		{"/v2.1/servers", "/v2.1/servers", true},
		{"/v2.1/servers/", "/v2.1/servers", false},
		{"/v2.1/servers/abc/ips", "/v2.1/servers/*/ips", true},
		{"/v2.1/servers/abc/def/ips", "/v2.1/servers/*/ips", false},
		{"/v2.1/servers/abc/ips", "/v2.1/servers/{server_id}/ips", true},
		{"/v2.1/servers/abc/os-interface/x", "/v2.1/servers/**", true},
		{"/v2.1/servers", "/v2.1/servers/**", false},
		{"/v2.1/flavors", "/v2.1/servers/**", false},
		{"/v2x1/servers", "/v2.1/servers", false},
		{"/v2/images", "/v2/images*", false}, // * is one or more characters
		{"/v2/images2", "/v2/images*", true},
		{"/v2/images/x", "/v2/*", false},
		{"/v2/images", "/v2/*", true},
		{"/v2/images/x", "/v2/*/", false},
	}
	for _, tc := range cases {
		if got := PathMatches(tc.path, tc.pattern); got != tc.want {
			t.Errorf("PathMatches(%q, %q) = %v, want %v", tc.path, tc.pattern, got, tc.want)
		}
	}
}

func TestPrincipalAllows(t *testing.T) {
	t.Parallel()
	rules := &AppCredential{AccessRules: []AccessRule{
		{Service: "compute", Path: "/v2.1/servers/*", Method: "GET"},
		{Service: "image", Path: "/v2/images", Method: "GET"},
	}}
	cases := []struct {
		name    string
		p       *Principal
		types   []string
		method  string
		paths   []string
		allowed bool
	}{
		{"no application credential", &Principal{}, []string{"compute"}, "DELETE", []string{"/v2.1/servers/x"}, true},
		{"a credential without rules", &Principal{AppCred: &AppCredential{}}, []string{"compute"}, "DELETE", []string{"/v2.1/servers/x"}, true},
		{"matching rule", &Principal{AppCred: rules}, []string{"compute"}, "GET", []string{"/v2.1/servers/x"}, true},
		{"another method", &Principal{AppCred: rules}, []string{"compute"}, "DELETE", []string{"/v2.1/servers/x"}, false},
		{"another service", &Principal{AppCred: rules}, []string{"network"}, "GET", []string{"/v2.1/servers/x"}, false},
		{"one of the paths", &Principal{AppCred: rules}, []string{"image"}, "GET", []string{"/image/v2/images", "/v2/images"}, true},
		{"no service type", &Principal{AppCred: rules}, nil, "GET", []string{"/v2/images"}, false},
	}
	for _, tc := range cases {
		if got := tc.p.Allows(tc.types, tc.method, tc.paths...); got != tc.allowed {
			t.Errorf("%s: Allows = %v, want %v", tc.name, got, tc.allowed)
		}
	}
}
