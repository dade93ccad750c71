package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
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
	acFile := writeAppCredClouds(t, authURL, full.str(t, "id"), full.str(t, "secret"))
	ac := NewCLI(acFile, "ac")
	var tok obj
	ac.JSON(t, &tok, "token", "issue")
	if tok.str(t, "project_id") == "" {
		t.Errorf("token issue printed %v", tok)
	}
	for _, args := range [][]string{{"image", "list"}, {"flavor", "list"}, {"server", "list"}, {"network", "list"}, {"volume", "list"}} {
		var rows []obj
		ac.JSON(t, &rows, args...)
	}
	// gophercloud and openstacksdk log in from the same clouds.yaml.
	gc := NewClients(t, acFile, "ac")
	if gc.Provider.TokenID == "" {
		t.Error("gophercloud has no token from the application credential")
	}
	if _, err := servers.List(gc.Compute, nil).AllPages(context.Background()); err != nil {
		t.Errorf("gophercloud server list with the application credential: %v", err)
	}
	pages, err := images.List(gc.Image, nil).AllPages(context.Background())
	if imgs, _ := images.ExtractImages(pages); err != nil || len(imgs) == 0 {
		t.Errorf("gophercloud image list with the application credential: %d images, %v", len(imgs), err)
	}
	var sdk struct {
		Project string `json:"project"`
		Images  int    `json:"images"`
		Servers int    `json:"servers"`
	}
	openstackSDK(t, acFile, "ac", &sdk, `
conn = openstack.connect(cloud=cloud)
result = {"project": conn.current_project_id,
          "images": len(list(conn.image.images())),
          "servers": len(list(conn.compute.servers()))}`)
	if sdk.Project != tok.str(t, "project_id") || sdk.Images == 0 {
		t.Errorf("openstacksdk with the application credential: %+v, want project %s and images", sdk, tok.str(t, "project_id"))
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

// openstackSDK runs a Python snippet with openstacksdk (Debian's, which
// the openstack CLI uses) logged in as cloud from cloudsFile: the snippet
// has openstack imported and cloud set, and leaves what it found in
// result, which is decoded into v.
func openstackSDK(t *testing.T, cloudsFile, cloud string, v any, snippet string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	program := "import json, sys\nimport openstack\ncloud = sys.argv[1]\n" + strings.TrimSpace(snippet) + "\nprint(json.dumps(result))\n"
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", program, cloud)
	cmd.Env = append(cleanEnv(), "OS_CLIENT_CONFIG_FILE="+cloudsFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openstacksdk: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("openstacksdk printed %q: %v", out, err)
	}
}
