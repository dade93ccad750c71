package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestServerGroupsTagsAggregatesUsageCLI drives the APIs Tempest found
// missing with the openstack CLI: server groups (and the group hint),
// server tags, host aggregates (and hypervisor show, which reads them)
// and usage.
func TestServerGroupsTagsAggregatesUsageCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t)

	var group obj
	cli.JSON(t, &group, "--os-compute-api-version", "2.64", "server", "group", "create", "--policy", "anti-affinity", "web")
	gid := group.str(t, "id")
	if group["policy"] != "anti-affinity" {
		t.Errorf("server group create printed policy %v", group["policy"])
	}

	var srv obj
	cli.JSON(t, &srv, "--os-compute-api-version", "2.71", "server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none",
		"--hint", "group="+gid, "--tag", "blue", "--wait", "member")
	sid := srv.str(t, "id")

	t.Run("server group members", func(t *testing.T) {
		var shown obj
		cli.JSON(t, &shown, "server", "group", "show", gid)
		if fmt.Sprint(shown["members"]) != "["+sid+"]" && !strings.Contains(fmt.Sprint(shown["members"]), sid) {
			t.Errorf("server group members %v, want %s", shown["members"], sid)
		}
		var list []obj
		cli.JSON(t, &list, "server", "group", "list")
		if findBy(list, "ID", gid) == nil {
			t.Errorf("server group list lacks %s: %v", gid, list)
		}
		stderr := cli.Fail(t, "--os-compute-api-version", "2.71", "server", "create", "--flavor", "m1.tiny", "--image", "kumo-tiny", "--nic", "none",
			"--hint", "group=00000000-0000-0000-0000-000000000000", "bad")
		if !strings.Contains(stderr, "could not be found") {
			t.Errorf("create with an unknown group: %s", stderr)
		}
	})

	t.Run("server tags", func(t *testing.T) {
		cli.Run(t, "--os-compute-api-version", "2.26", "server", "set", "--tag", "green", sid)
		var shown obj
		cli.JSON(t, &shown, "--os-compute-api-version", "2.26", "server", "show", sid)
		if got := fmt.Sprint(shown["tags"]); got != "[blue green]" {
			t.Errorf("tags %s, want [blue green]", got)
		}
		cli.Run(t, "--os-compute-api-version", "2.26", "server", "unset", "--tag", "blue", sid)
		cli.JSON(t, &shown, "--os-compute-api-version", "2.26", "server", "show", sid)
		if got := fmt.Sprint(shown["tags"]); got != "[green]" {
			t.Errorf("tags after unset %s, want [green]", got)
		}
	})

	t.Run("aggregates", func(t *testing.T) {
		var hvs []obj
		cli.JSON(t, &hvs, "hypervisor", "list")
		if len(hvs) == 0 {
			t.Fatal("no hypervisors")
		}
		host := hvs[0].str(t, "Hypervisor Hostname")
		var agg obj
		cli.JSON(t, &agg, "aggregate", "create", "--zone", "london", "--property", "ssd=true", "fast")
		cli.Run(t, "aggregate", "add", "host", "fast", host)
		var shown obj
		cli.JSON(t, &shown, "aggregate", "show", "fast")
		if fmt.Sprint(shown["hosts"]) != "["+host+"]" || shown["availability_zone"] != "london" {
			t.Errorf("aggregate show: hosts %v zone %v", shown["hosts"], shown["availability_zone"])
		}
		var zones []obj
		cli.JSON(t, &zones, "availability", "zone", "list", "--compute")
		if findBy(zones, "Zone Name", "london") == nil {
			t.Errorf("zone london missing from %v", zones)
		}
		var hv obj
		cli.JSON(t, &hv, "hypervisor", "show", host)
		if !strings.Contains(fmt.Sprint(hv["aggregates"]), "fast") {
			t.Errorf("hypervisor show aggregates %v, want fast", hv["aggregates"])
		}
		if stderr := cli.Fail(t, "aggregate", "delete", "fast"); !strings.Contains(stderr, "not empty") {
			t.Errorf("delete a non-empty aggregate: %s", stderr)
		}
		cli.Run(t, "aggregate", "remove", "host", "fast", host)
		cli.Run(t, "aggregate", "delete", "fast")
		var aggs []obj
		cli.JSON(t, &aggs, "aggregate", "list")
		if len(aggs) != 0 {
			t.Errorf("aggregates after delete: %v", aggs)
		}
	})

	t.Run("usage", func(t *testing.T) {
		var projects []obj
		cli.JSON(t, &projects, "project", "list")
		admin := findBy(projects, "Name", "admin")
		if admin == nil {
			t.Fatal("no admin project")
		}
		var usage obj
		cli.JSON(t, &usage, "usage", "show", "--project", admin.str(t, "ID"))
		if servers, ok := usage["Servers"].([]any); !ok || len(servers) < 1 {
			t.Errorf("usage show: servers %v, want the member server", usage["Servers"])
		}
		var all []obj
		cli.JSON(t, &all, "usage", "list")
		if len(all) == 0 {
			t.Error("usage list is empty")
		}
	})

	cli.Run(t, "server", "delete", "--wait", sid)
	cli.Run(t, "server", "group", "delete", gid)
}
