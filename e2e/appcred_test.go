package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAppCredClouds writes a clouds.yaml whose cloud "ac" logs in with
// an application credential (auth_type v3applicationcredential).
func writeAppCredClouds(t *testing.T, authURL, id, secret string) string {
	t.Helper()
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) } // JSON strings are YAML
	body := fmt.Sprintf(`clouds:
  ac:
    auth_type: v3applicationcredential
    auth:
      auth_url: %s
      application_credential_id: %s
      application_credential_secret: %s
    region_name: RegionOne
    identity_api_version: 3
    interface: public
`, q(authURL), q(id), q(secret))
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// TestApplicationCredentialsCLI: an application credential made with
// `openstack application credential create` logs the CLI in to every
// API; one with access rules reaches only what they allow; a restricted
// one cannot make another; a deleted one no longer logs in.
func TestApplicationCredentialsCLI(t *testing.T) {
	t.Parallel()
	s, cli := startAdmin(t)
	authURL := s.URL + "/identity/v3"

	var full obj
	cli.JSON(t, &full, "application", "credential", "create", "e2e-full", "--description", "everything")
	ac := NewCLI(writeAppCredClouds(t, authURL, full.str(t, "id"), full.str(t, "secret")), "ac")
	var tok obj
	ac.JSON(t, &tok, "token", "issue")
	if tok.str(t, "project_id") == "" {
		t.Errorf("token issue printed %v", tok)
	}
	for _, args := range [][]string{{"image", "list"}, {"flavor", "list"}, {"server", "list"}, {"network", "list"}, {"volume", "list"}} {
		var rows []obj
		ac.JSON(t, &rows, args...)
	}
	if msg := ac.Fail(t, "application", "credential", "create", "another"); !strings.Contains(msg, "403") {
		t.Errorf("a restricted credential made another: %s", msg)
	}

	var limited obj
	cli.JSON(t, &limited, "application", "credential", "create", "e2e-images",
		"--access-rules", `[{"service": "image", "method": "GET", "path": "/v2/images"}]`)
	images := NewCLI(writeAppCredClouds(t, authURL, limited.str(t, "id"), limited.str(t, "secret")), "ac")
	var rows []obj
	images.JSON(t, &rows, "image", "list")
	if len(rows) == 0 {
		t.Error("image list with the access rule printed no image")
	}
	if msg := images.Fail(t, "flavor", "list"); !strings.Contains(msg, "401") {
		t.Errorf("flavor list outside the access rules: %s", msg)
	}

	var rules []obj
	cli.JSON(t, &rules, "access", "rule", "list")
	if findBy(rules, "Service", "image") == nil {
		t.Errorf("access rule list: %v", rules)
	}
	cli.Run(t, "application", "credential", "delete", "e2e-full")
	if msg := ac.Fail(t, "token", "issue"); !strings.Contains(msg, "404") && !strings.Contains(msg, "401") {
		t.Errorf("a deleted credential logged in: %s", msg)
	}
}
