package compute

import "testing"

func TestCanonicalIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"192.168.0.3", "192.168.0.3"},
		{"0000:0000:0000:0000:0000:babe:220.12.22.2", "::babe:dc0c:1602"},
		{"2001:DB8::1", "2001:db8::1"},
		{"fe80:0:0:0:0:0:0:1", "fe80::1"},
		{"not-an-ip", "not-an-ip"},
	} {
		if got := CanonicalIP(tc.in); got != tc.want {
			t.Errorf("CanonicalIP(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
