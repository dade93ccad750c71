package e2e

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestServerCreateOptionsCLI creates two servers at once with
// properties, a tag and a description (microversion 2.52) and checks the
// long list, tag filters and show.
func TestServerCreateOptionsCLI(t *testing.T) {
	t.Parallel()
	s, cli := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	v := func(args ...string) []string { return append([]string{"--os-compute-api-version", "2.52"}, args...) }

	cli.Run(t, v("server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none",
		"--property", "role=web", "--tag", "blue", "--description", "first of two", "--min", "2", "--max", "2", "multi")...)
	list := gcListAll(t, c.Compute, servers.ListOpts{})
	if got := fmt.Sprint(serverNames(list)); got != "[multi-1 multi-2]" {
		t.Fatalf("servers after create --min 2 --max 2 multi: %s, want multi-1 and multi-2", got)
	}
	for _, srv := range list {
		gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	}

	t.Run("list --long", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, v("server", "list", "--long")...)
		if len(rows) != 2 {
			t.Fatalf("server list --long = %v, want two rows", rows)
		}
		for _, r := range rows {
			if r["Status"] != "ACTIVE" || r["Availability Zone"] != "nova" || r["Host"] == "" || r["Host"] == nil {
				t.Errorf("server list --long row %v, want ACTIVE in zone nova with a host", r)
			}
			if p := fmt.Sprint(r["Power State"]); p != "Running" && p != "1" {
				t.Errorf("server list --long: Power State %v, want Running", r["Power State"])
			}
			if r["Task State"] != nil && r["Task State"] != "None" {
				t.Errorf("server list --long: Task State %v, want none", r["Task State"])
			}
			if props, _ := r["Properties"].(map[string]any); props == nil || props["role"] != "web" {
				t.Errorf("server list --long: Properties %v, want role=web", r["Properties"])
			}
		}
	})

	t.Run("tag filters", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, v("server", "list", "--tags", "blue")...)
		if len(rows) != 2 {
			t.Errorf("server list --tags blue = %v, want both servers", rows)
		}
		cli.JSON(t, &rows, v("server", "list", "--not-tags", "blue")...)
		if len(rows) != 0 {
			t.Errorf("server list --not-tags blue = %v, want none", rows)
		}
		cli.JSON(t, &rows, v("server", "list", "--tags", "green")...)
		if len(rows) != 0 {
			t.Errorf("server list --tags green = %v, want none", rows)
		}
	})

	t.Run("show and set description", func(t *testing.T) {
		var srv obj
		cli.JSON(t, &srv, v("server", "show", "multi-2")...)
		if srv["description"] != "first of two" || srv.property(t, "role") != "web" || fmt.Sprint(srv["tags"]) != "[blue]" {
			t.Errorf("server show multi-2: description %v properties %v tags %v, want the create's", srv["description"], srv["properties"], srv["tags"])
		}
		if srv["OS-EXT-SRV-ATTR:launch_index"] != float64(1) {
			t.Errorf("server show multi-2: launch_index %v, want 1", srv["OS-EXT-SRV-ATTR:launch_index"])
		}
		cli.Run(t, v("server", "set", "--description", "changed", "multi-2")...)
		cli.JSON(t, &srv, v("server", "show", "multi-2")...)
		if srv["description"] != "changed" {
			t.Errorf("description after server set: %v", srv["description"])
		}
	})
}
