package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFollowAuthURL: a restart on another address repoints the kumo
// cloud of clouds.yaml and leaves the rest of the file as it was.
func TestFollowAuthURL(t *testing.T) {
	t.Parallel()
	const old, moved = "http://127.0.0.1:8774/identity/v3", "http://127.0.0.1:9999/identity/v3"
	written := func(t *testing.T, path string) {
		if err := WriteClouds(path, Credentials{AuthURL: old, Username: "admin", Password: "pw", ProjectName: "admin", Region: "RegionOne"}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		setup       func(t *testing.T, path string)
		url         string
		wantChanged bool
		wantURL     string // "" when the file does not exist
		wantKept    string // text the file keeps
	}{
		{"same address", written, old, false, old, "password: pw"},
		{"new address", written, moved, true, moved, "password: pw"},
		{"other clouds and comments kept", func(t *testing.T, path string) {
			body := "# mine\nclouds:\n  other:\n    auth:\n      auth_url: http://elsewhere/v3\n  kumo:\n    auth:\n      auth_url: " + old + "\n      password: pw\n"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}, moved, true, moved, "http://elsewhere/v3"},
		{"no kumo cloud", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("clouds:\n  other:\n    auth:\n      auth_url: "+old+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, moved, false, "", "other:"},
		{"no file", func(*testing.T, string) {}, moved, false, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clouds.yaml")
			tc.setup(t, path)
			changed, err := FollowAuthURL(path, tc.url)
			if err != nil || changed != tc.wantChanged {
				t.Fatalf("FollowAuthURL = %v, %v; want %v", changed, err, tc.wantChanged)
			}
			b, err := os.ReadFile(path)
			if tc.wantKept == "" {
				if err == nil {
					t.Errorf("a file appeared: %s", b)
				}
				return
			}
			if err != nil || !strings.Contains(string(b), tc.wantKept) {
				t.Errorf("file %q lost %q (%v)", b, tc.wantKept, err)
			}
			if tc.wantURL == "" {
				return
			}
			c, err := ReadClouds(path)
			if err != nil || c.AuthURL != tc.wantURL || c.Password != "pw" {
				t.Errorf("clouds.yaml after: %+v %v, want auth_url %s", c, err, tc.wantURL)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v %v", st.Mode(), err)
			}
		})
	}
}
