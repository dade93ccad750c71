package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/kumocloud/kumo/internal/mv"
)

func TestTokenCatalogVersionsCLI(t *testing.T) {
	t.Parallel()
	s, cli := startAdmin(t)

	t.Run("token issue", func(t *testing.T) {
		var tok obj
		cli.JSON(t, &tok, "token", "issue")
		if tok.str(t, "id") == "" || tok.str(t, "project_id") == "" || tok.str(t, "user_id") == "" {
			t.Errorf("token issue printed %v", tok)
		}
		exp, err := time.Parse(time.RFC3339, strings.Replace(tok.str(t, "expires"), "+0000", "Z", 1))
		if err != nil {
			t.Fatalf("token expiry %q: %v", tok["expires"], err)
		}
		if until := time.Until(exp); until < 50*time.Minute || until > 70*time.Minute {
			t.Errorf("token expires in %v, want about the default 1h", until)
		}
	})

	t.Run("catalog list", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "catalog", "list")
		for _, typ := range []string{"compute", "image", "identity"} {
			r := findBy(rows, "Type", typ)
			if r == nil {
				t.Errorf("catalog has no %s service: %v", typ, rows)
				continue
			}
			endpoints, _ := json.Marshal(r["Endpoints"])
			if !strings.Contains(string(endpoints), s.URL) {
				t.Errorf("%s endpoints %s do not point at %s", typ, endpoints, s.URL)
			}
		}
	})

	t.Run("versions show", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "versions", "show")
		max := mv.Supported().Max.String()
		var compute obj
		for _, r := range rows {
			if r["Service Type"] == "compute" && r["Version"] == "2.1" {
				compute = r
			}
		}
		if compute == nil {
			t.Fatalf("versions show lists no compute 2.1: %v", rows)
		}
		if compute.str(t, "Status") != "CURRENT" || compute.str(t, "Max Microversion") != max || compute.str(t, "Min Microversion") != "2.1" {
			t.Errorf("compute version row %v, want CURRENT 2.1..%s", compute, max)
		}
		// Identity v3 and image v2 each have one CURRENT version.
		for typ, major := range map[string]string{"identity": "3.", "image": "2."} {
			found := false
			for _, r := range rows {
				v, _ := r["Version"].(string)
				found = found || (r["Service Type"] == typ && r["Status"] == "CURRENT" && strings.HasPrefix(v, major))
			}
			if !found {
				t.Errorf("versions show lists no CURRENT %s %sx version: %v", typ, major, rows)
			}
		}
	})
}

func TestIdentityGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	if c.Provider.TokenID == "" {
		t.Fatal("gophercloud holds no token after authenticating")
	}
	pages, err := projects.List(c.Identity, projects.ListOpts{}).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list projects: %v", err)
	}
	list, err := projects.ExtractProjects(pages)
	if err != nil {
		t.Fatalf("extract projects: %v", err)
	}
	found := false
	for _, p := range list {
		found = found || (p.Name == "admin" && p.Enabled)
	}
	if !found {
		t.Errorf("project list %+v lacks the enabled admin project", list)
	}
}

// TestProjectUserRoleAndPolicy creates a project and a member user with
// the CLI, logs in as that user, and checks what a member may not do.
func TestProjectUserRoleAndPolicy(t *testing.T) {
	t.Parallel()
	s, admin := startAdmin(t)

	var project, user obj
	admin.JSON(t, &project, "project", "create", "p1")
	if project.str(t, "name") != "p1" || project.str(t, "id") == "" || project["enabled"] != true {
		t.Fatalf("project create printed %v", project)
	}
	admin.JSON(t, &user, "user", "create", "--password", "pw", "u1", "--project", "p1")
	if user.str(t, "name") != "u1" || user.str(t, "id") == "" || user.str(t, "default_project_id") != project.str(t, "id") {
		t.Fatalf("user create printed %v, want default project %s", user, project["id"])
	}
	admin.Run(t, "role", "add", "--project", "p1", "--user", "u1", "member")
	var assignments []obj
	admin.JSON(t, &assignments, "role", "assignment", "list", "--user", "u1", "--names")
	if len(assignments) != 1 {
		t.Fatalf("role assignment list = %v, want exactly one", assignments)
	}
	a := assignments[0]
	if a.str(t, "Role") != "member" || a.str(t, "User") != "u1@Default" || a.str(t, "Project") != "p1@Default" {
		t.Errorf("assignment %v, want member of p1@Default for u1@Default", a)
	}

	// A private image of the admin project, which u1 must not see (set-up,
	// with gophercloud: the CLI's subject here is u1's view).
	ac := NewClients(t, s.CloudsFile(), "kumo")
	privateVisibility := images.ImageVisibilityPrivate
	privateID := gcUploadImage(t, ac, images.CreateOpts{Name: "admin-private", Visibility: &privateVisibility}, imageData)
	if img, err := images.Get(context.Background(), ac.Image, privateID).Extract(); err != nil || img.Visibility != images.ImageVisibilityPrivate {
		t.Fatalf("private image %+v (%v)", img, err)
	}

	authURL := strings.TrimSuffix(s.URL, "/") + "/identity/v3"
	u1 := NewCLI(writeClouds(t, authURL, "u1", "pw", "p1"), "kumo")

	t.Run("u1 logs in to p1", func(t *testing.T) {
		var tok obj
		u1.JSON(t, &tok, "token", "issue")
		if tok.str(t, "user_id") != user.str(t, "id") || tok.str(t, "project_id") != project.str(t, "id") {
			t.Errorf("u1 token %v, want user %s project %s", tok, user["id"], project["id"])
		}
	})

	t.Run("u1 may list but not create flavors", func(t *testing.T) {
		var rows []obj
		u1.JSON(t, &rows, "flavor", "list")
		if findBy(rows, "Name", "m1.tiny") == nil {
			t.Errorf("u1 flavor list lacks m1.tiny: %v", rows)
		}
		stderr := u1.Fail(t, "flavor", "create", "--ram", "256", "--disk", "1", "--vcpus", "1", "f-u1")
		if !strings.Contains(stderr, "403") || !strings.Contains(stderr, "os-flavor-manage:create") {
			t.Errorf("flavor create as u1 failed without a 403:\n%s", stderr)
		}
		pages, err := flavors.ListDetail(ac.Compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(context.Background())
		if err != nil {
			t.Fatalf("list all flavors: %v", err)
		}
		all, err := flavors.ExtractFlavors(pages)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range all {
			if f.Name == "f-u1" {
				t.Errorf("u1's refused flavor exists anyway: %+v", f)
			}
		}
	})

	t.Run("u1 cannot see the admin project's private image", func(t *testing.T) {
		var rows []obj
		u1.JSON(t, &rows, "image", "list")
		if r := findBy(rows, "ID", privateID); r != nil {
			t.Errorf("u1 sees the admin project's private image: %v", r)
		}
		if findBy(rows, "Name", "kumo-tiny") == nil {
			t.Errorf("u1 does not see the public kumo-tiny image: %v", rows)
		}
		id := privateID
		if stderr := u1.Fail(t, "image", "show", id); !strings.Contains(stderr, "No Image found for "+id) {
			t.Errorf("image show of a private image as u1 failed with:\n%s", stderr)
		}
	})
}

// TestSystemScopeCLI: a user given a role on the system with `openstack
// role add --system all` logs in with system_scope (clouds.yaml), gets a
// system token, manages identity with it, and Nova refuses it, as its
// project-scoped policies do.
func TestSystemScopeCLI(t *testing.T) {
	t.Parallel()
	s, admin := startAdmin(t)
	admin.Run(t, "user", "create", "--password", "pw-sysop", "sysop")
	admin.Run(t, "role", "add", "--system", "all", "--user", "sysop", "admin")
	var assignments []obj
	admin.JSON(t, &assignments, "role", "assignment", "list", "--system", "all", "--names")
	if findBy(assignments, "User", "sysop@Default") == nil || findBy(assignments, "User", "admin@Default") == nil {
		t.Errorf("system role assignments %v, want sysop's and the bootstrap admin's", assignments)
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) } // JSON strings are YAML
	clouds := filepath.Join(t.TempDir(), "clouds.yaml")
	body := fmt.Sprintf(`clouds:
  sys:
    auth:
      auth_url: %s
      username: sysop
      password: pw-sysop
      user_domain_name: Default
      system_scope: all
    region_name: RegionOne
    identity_api_version: 3
`, q(s.URL+"/identity/v3"))
	if err := os.WriteFile(clouds, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	sys := NewCLI(clouds, "sys")
	var tok obj
	sys.JSON(t, &tok, "token", "issue")
	if tok["project_id"] != nil || tok.str(t, "user_id") == "" {
		t.Errorf("system token issue printed %v", tok)
	}
	sys.Run(t, "project", "create", "made-by-system")
	var rows []obj
	sys.JSON(t, &rows, "user", "list")
	if findBy(rows, "Name", "sysop") == nil {
		t.Errorf("user list with a system token: %v", rows)
	}
	if msg := sys.Fail(t, "server", "list"); !strings.Contains(msg, "403") {
		t.Errorf("Nova answered a system token: %s", msg)
	}
}
