package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestServerProjectIsolation checks that a member of another project can
// neither see nor touch the admin project's server, and that the admin
// sees other projects' servers only when asking for all projects.
func TestServerProjectIsolation(t *testing.T) {
	t.Parallel()
	s, admin := startAdmin(t)
	ctx := context.Background()

	var adminSrv obj
	admin.JSON(t, &adminSrv, osc("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none", "admin-srv")...)
	adminID := adminSrv.str(t, "id")

	clouds, projectID := newProjectUser(t, s, admin, "p-other", "u-other")
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
		var srv obj
		admin.JSON(t, &srv, "server", "show", adminID)
		if props, _ := srv["properties"].(map[string]any); srv["name"] != "admin-srv" || props == nil || len(props) != 0 {
			t.Errorf("admin-srv after u-other's attempts: name %v properties %v", srv["name"], srv["properties"])
		}
		if srv["status"] == "DELETED" || srv["OS-EXT-STS:task_state"] == "deleting" {
			t.Errorf("u-other's delete reached admin-srv: %v", srv)
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
