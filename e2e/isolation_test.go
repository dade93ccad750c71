package e2e

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestServerProjectIsolation checks that a member of another project can
// neither see nor touch the admin project's server, and that the admin
// sees other projects' servers only when asking for all projects.
func TestServerProjectIsolation(t *testing.T) {
	t.Parallel()
	s, admin, ac := startAdminClients(t)
	ctx := context.Background()

	// Set-up and checks with gophercloud; the CLI's subjects are the lists
	// and shows across projects.
	adminSrv, err := servers.Create(ctx, ac.Compute, servers.CreateOpts{Name: "admin-srv", ImageRef: imageIDByName(t, ac, "kumo-tiny"), FlavorRef: "1", Networks: "none"}, nil).Extract()
	if err != nil {
		t.Fatalf("create admin-srv: %v", err)
	}
	adminID := adminSrv.ID

	clouds, projectID := newProjectUser(t, s, "p-other", "u-other")
	other := NewCLI(clouds, "kumo")
	oc := NewClients(t, clouds, "kumo")
	oc.Compute.Microversion = computeVersion

	otherSrv, err := servers.Create(ctx, oc.Compute, servers.CreateOpts{
		Name: "other-srv", ImageRef: imageIDByName(t, oc, "kumo-tiny"), FlavorRef: "1", Networks: "auto",
	}, nil).Extract()
	if err != nil {
		t.Fatalf("create a server as u-other: %v", err)
	}
	gcWaitStatus(t, oc.Compute, otherSrv.ID, "ACTIVE")

	t.Run("the other project lists only its own server", func(t *testing.T) {
		var rows []obj
		other.JSON(t, &rows, "server", "list")
		if len(rows) != 1 || rows[0].str(t, "ID") != otherSrv.ID {
			t.Errorf("u-other's server list = %v, want only other-srv", rows)
		}
		if names := serverNames(gcListAll(t, oc.Compute, servers.ListOpts{})); !slices.Equal(names, []string{"other-srv"}) {
			t.Errorf("u-other's gophercloud list = %v, want only other-srv", names)
		}
		if names := serverNames(gcListAll(t, oc.Compute, servers.ListOpts{Name: "admin-srv"})); len(names) != 0 {
			t.Errorf("u-other's list name=admin-srv = %v, want none", names)
		}
	})

	t.Run("the admin project's server is 404 to the other project", func(t *testing.T) {
		if stderr := other.Fail(t, "server", "show", adminID); !strings.Contains(stderr, "No server with a name or ID of '"+adminID+"' exists") {
			t.Errorf("u-other's server show of admin-srv failed with:\n%s", stderr)
		}
		calls := map[string]error{
			"get":             servers.Get(ctx, oc.Compute, adminID).Err,
			"update":          servers.Update(ctx, oc.Compute, adminID, servers.UpdateOpts{Name: "stolen"}).Err,
			"metadata":        servers.Metadata(ctx, oc.Compute, adminID).Err,
			"update metadata": servers.UpdateMetadata(ctx, oc.Compute, adminID, servers.MetadataOpts{"a": "b"}).Err,
			"delete":          servers.Delete(ctx, oc.Compute, adminID).ExtractErr(),
		}
		for name, err := range calls {
			if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Errorf("u-other %s of admin-srv: err = %v (status %d), want 404", name, err, errorStatus(err))
			}
		}
		srv, err := servers.Get(ctx, ac.Compute, adminID).Extract()
		if err != nil {
			t.Fatalf("admin's get of admin-srv: %v", err)
		}
		if srv.Name != "admin-srv" || len(srv.Metadata) != 0 {
			t.Errorf("admin-srv after u-other's attempts: name %v properties %v", srv.Name, srv.Metadata)
		}
		if srv.Status == "DELETED" || srv.TaskState == "deleting" {
			t.Errorf("u-other's delete reached admin-srv: %+v", srv)
		}
	})

	t.Run("a member sees no admin-only server fields", func(t *testing.T) {
		res := servers.Get(ctx, oc.Compute, otherSrv.ID)
		if res.Err != nil {
			t.Fatalf("get other-srv as u-other: %v", res.Err)
		}
		raw, _ := res.Body.(map[string]any)
		server, _ := raw["server"].(map[string]any)
		if server == nil {
			t.Fatalf("get other-srv as u-other answered %v, want a server object", res.Body)
		}
		for _, key := range []string{"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname", "OS-EXT-SRV-ATTR:instance_name"} {
			if v, ok := server[key]; ok {
				t.Errorf("u-other's GET of its server shows the admin-only %s = %v", key, v)
			}
		}
		if server["tenant_id"] != projectID {
			t.Errorf("other-srv tenant_id = %v, want %s", server["tenant_id"], projectID)
		}
	})

	t.Run("the other project cannot use the admin's key pair or private image", func(t *testing.T) {
		pub, _ := sshKeygen(t, "admin-key")
		key, err := os.ReadFile(pub)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := keypairs.Create(ctx, ac.Compute, keypairs.CreateOpts{Name: "admin-key", PublicKey: string(key)}).Extract(); err != nil {
			t.Fatalf("create admin-key: %v", err)
		}
		_, err = servers.Create(ctx, oc.Compute, keypairs.CreateOptsExt{
			CreateOptsBuilder: servers.CreateOpts{Name: "with-admin-key", ImageRef: imageIDByName(t, oc, "kumo-tiny"), FlavorRef: "1", Networks: "none"},
			KeyName:           "admin-key",
		}, nil).Extract()
		if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "Invalid key_name provided.") {
			t.Errorf("create with the admin's key pair as u-other: err = %v, want Nova's 400 \"Invalid key_name provided.\"", err)
		}

		privateVisibility := images.ImageVisibilityPrivate
		private := gcUploadImage(t, ac, images.CreateOpts{Name: "admin-only", Visibility: &privateVisibility}, imageData)
		_, err = servers.Create(ctx, oc.Compute, servers.CreateOpts{Name: "with-admin-image", ImageRef: private, FlavorRef: "1", Networks: "none"}, nil).Extract()
		want := "Can not find requested image" // Nova hides which image and why
		if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || !strings.Contains(err.Error(), want) {
			t.Errorf("create from the admin's private image as u-other: err = %v, want Nova's 400 %q", err, want)
		}
		if names := serverNames(gcListAll(t, oc.Compute, servers.ListOpts{})); !slices.Equal(names, []string{"other-srv"}) {
			t.Errorf("u-other's servers after the refused creates: %v, want only other-srv", names)
		}
	})

	t.Run("the admin sees other projects only with --all-projects", func(t *testing.T) {
		var rows []obj
		admin.JSON(t, &rows, "server", "list")
		if findBy(rows, "ID", otherSrv.ID) != nil || findBy(rows, "ID", adminID) == nil {
			t.Errorf("admin's server list = %v, want admin-srv and not other-srv", rows)
		}
		admin.JSON(t, &rows, "server", "list", "--all-projects")
		if findBy(rows, "ID", otherSrv.ID) == nil || findBy(rows, "ID", adminID) == nil {
			t.Errorf("admin's server list --all-projects = %v, want both servers", rows)
		}
		admin.JSON(t, &rows, "server", "list", "--all-projects", "--project", "p-other")
		if len(rows) != 1 || rows[0].str(t, "ID") != otherSrv.ID {
			t.Errorf("admin's server list --all-projects --project p-other = %v, want only other-srv", rows)
		}
		var srv obj
		admin.JSON(t, &srv, "server", "show", otherSrv.ID)
		if srv["project_id"] != projectID || srv["name"] != "other-srv" {
			t.Errorf("admin's server show of other-srv: project %v name %v, want %s other-srv", srv["project_id"], srv["name"], projectID)
		}
	})
}
