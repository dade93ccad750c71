package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// sgOSC runs the CLI at 2.1. kumo's catalog has a network service, so
// the CLI's security group commands talk to the networking API (Neutron's
// views and errors); the server commands stay Nova's.
func sgOSC(args ...string) []string {
	return append([]string{"--os-compute-api-version", "2.1"}, args...)
}

// TestSecurityGroupsCLI drives security groups, their rules and a
// server's groups with the openstack CLI on both engines.
func TestSecurityGroupsCLI(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engineArgs []string) {
		_, cli := startAdmin(t, engineArgs...)
		var groups []obj
		cli.JSON(t, &groups, sgOSC("security", "group", "list")...)
		if len(groups) != 1 || groups[0].str(t, "Name") != "default" || groups[0].str(t, "Description") != "Default security group" {
			t.Fatalf("groups of a new project: %v", groups)
		}
		var web obj
		cli.JSON(t, &web, sgOSC("security", "group", "create", "web", "--description", "web servers")...)
		if web.str(t, "name") != "web" || web.str(t, "description") != "web servers" {
			t.Fatalf("created %v", web)
		}
		var ssh, fromDefault obj
		cli.JSON(t, &ssh, sgOSC("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22:22",
			"--remote-ip", "10.0.0.0/24", "web")...)
		if ssh.str(t, "protocol") != "tcp" || ssh.num(t, "port_range_min") != 22 || ssh.num(t, "port_range_max") != 22 ||
			ssh.str(t, "remote_ip_prefix") != "10.0.0.0/24" || ssh.str(t, "direction") != "ingress" ||
			ssh.str(t, "security_group_id") != web.str(t, "id") {
			t.Fatalf("ssh rule %v", ssh)
		}
		cli.JSON(t, &fromDefault, sgOSC("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80:81",
			"--remote-group", "default", "web")...)
		if fromDefault.str(t, "remote_group_id") != groups[0].str(t, "ID") || fromDefault.num(t, "port_range_min") != 80 ||
			fromDefault.num(t, "port_range_max") != 81 {
			t.Fatalf("group rule %v", fromDefault)
		}
		// The same rule again is Neutron's 409.
		if out := cli.Fail(t, sgOSC("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22:22",
			"--remote-ip", "10.0.0.0/24", "web")...); !strings.Contains(out, "Security group rule already exists. Rule id is "+ssh.str(t, "id")) {
			t.Fatalf("duplicate rule: %s", out)
		}
		// Neutron shows a new group's two egress rules too.
		var rules []obj
		cli.JSON(t, &rules, sgOSC("security", "group", "rule", "list", "web")...)
		if len(rules) != 4 || findBy(rules, "ID", ssh.str(t, "id")) == nil || findBy(rules, "ID", fromDefault.str(t, "id")) == nil {
			t.Fatalf("rules %v", rules)
		}
		var shown obj
		cli.JSON(t, &shown, sgOSC("security", "group", "show", "web")...)
		if shown.str(t, "id") != web.str(t, "id") || len(shown["rules"].([]any)) != 4 {
			t.Fatalf("shown %v", shown)
		}

		var srv obj
		cli.JSON(t, &srv, sgOSC("server", "create", "--image", "kumo-tiny", "--flavor", "1", "--security-group", "web", "--wait", "vm")...)
		cli.Run(t, sgOSC("server", "add", "security", "group", "vm", "default")...)
		cli.JSON(t, &srv, sgOSC("server", "show", "vm")...)
		if got := groupNames(srv["security_groups"]); got != "default,web" {
			t.Fatalf("server groups %s", got)
		}
		if out := cli.Fail(t, sgOSC("security", "group", "delete", "web")...); !strings.Contains(out, "Security Group "+web.str(t, "id")+" in use.") {
			t.Fatalf("delete of a group in use: %s", out)
		}
		cli.Run(t, sgOSC("server", "remove", "security", "group", "vm", "web")...)
		if out := cli.Fail(t, sgOSC("server", "remove", "security", "group", "vm", "web")...); !strings.Contains(out, "not associated") {
			t.Fatalf("second remove: %s", out)
		}
		cli.JSON(t, &srv, sgOSC("server", "show", "vm")...)
		if got := groupNames(srv["security_groups"]); got != "default" {
			t.Fatalf("server groups after remove %s", got)
		}

		cli.Run(t, sgOSC("security", "group", "rule", "delete", ssh.str(t, "id"))...)
		cli.JSON(t, &rules, sgOSC("security", "group", "rule", "list", "web")...)
		if len(rules) != 3 || findBy(rules, "ID", ssh.str(t, "id")) != nil {
			t.Fatalf("rules after delete %v", rules)
		}
		cli.Run(t, sgOSC("security", "group", "delete", "web")...)
		cli.JSON(t, &groups, sgOSC("security", "group", "list")...)
		if len(groups) != 1 || groups[0].str(t, "Name") != "default" {
			t.Fatalf("groups after delete %v", groups)
		}
	})
}

// groupNames lists the names of a server's groups, sorted: Nova lists
// them port by port, in the order Neutron gives each port's groups.
func groupNames(v any) string {
	var names []string
	list, _ := v.([]any)
	for _, g := range list {
		if m, ok := g.(map[string]any); ok {
			names = append(names, m["name"].(string))
		}
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// TestSecurityGroupsGophercloud uses gophercloud's compute secgroups
// package: groups, rules, a server's groups, add and remove.
func TestSecurityGroupsGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()
	c.Compute.Microversion = "2.35"

	g, err := secgroups.Create(ctx, c.Compute, secgroups.CreateOpts{Name: "db", Description: "databases"}).Extract()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	desc := "postgres"
	if g, err = secgroups.Update(ctx, c.Compute, g.ID, secgroups.UpdateOpts{Name: "pg", Description: &desc}).Extract(); err != nil || g.Name != "pg" || g.Description != "postgres" {
		t.Fatalf("update: %+v, %v", g, err)
	}
	rule, err := secgroups.CreateRule(ctx, c.Compute, secgroups.CreateRuleOpts{ParentGroupID: g.ID, FromPort: 5432, ToPort: 5432,
		IPProtocol: "TCP", CIDR: "192.0.2.0/24"}).Extract()
	if err != nil || rule.IPProtocol != "tcp" || rule.FromPort != 5432 || rule.IPRange.CIDR != "192.0.2.0/24" {
		t.Fatalf("rule: %+v, %v", rule, err)
	}
	_, err = secgroups.CreateRule(ctx, c.Compute, secgroups.CreateRuleOpts{ParentGroupID: g.ID, FromPort: 5433, ToPort: 5432,
		IPProtocol: "tcp", CIDR: "192.0.2.0/24"}).Extract()
	if errorStatus(err) != 400 {
		t.Fatalf("reversed ports: %v", err)
	}
	pages, err := secgroups.List(c.Compute).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := secgroups.ExtractSecurityGroups(pages)
	if err != nil || len(all) != 2 || all[0].Name != "default" || all[1].Name != "pg" || len(all[1].Rules) != 1 {
		t.Fatalf("list: %+v, %v", all, err)
	}

	_, err = servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "db-0", ImageRef: imageIDByName(t, c, "kumo-tiny"),
		FlavorRef: "1", SecurityGroups: []string{"nope"}}, nil).Extract()
	if errorStatus(err) != 400 || !strings.Contains(err.Error(), "Unable to find security_group with name or id 'nope'") {
		t.Fatalf("create with an unknown group: %v", err)
	}
	srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{Name: "db-1", ImageRef: imageIDByName(t, c, "kumo-tiny"),
		FlavorRef: "1", SecurityGroups: []string{"pg"}}, nil).Extract()
	if err != nil {
		t.Fatalf("create server: %v", err)
	}
	gcWaitStatus(t, c.Compute, srv.ID, "ACTIVE")
	if err := secgroups.AddServer(ctx, c.Compute, srv.ID, "default").ExtractErr(); err != nil {
		t.Fatalf("add: %v", err)
	}
	if err := secgroups.AddServer(ctx, c.Compute, srv.ID, "missing").ExtractErr(); errorStatus(err) != 404 {
		t.Fatalf("add a missing group: %v", err)
	}
	pages, err = secgroups.ListByServer(c.Compute, srv.ID).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := secgroups.ExtractSecurityGroups(pages)
	if err != nil || len(mine) != 2 || mine[0].Name != "default" || mine[1].Name != "pg" || mine[1].Rules[0].ID != rule.ID {
		t.Fatalf("server's groups: %+v, %v", mine, err)
	}
	if err := secgroups.Delete(ctx, c.Compute, g.ID).ExtractErr(); errorStatus(err) != 400 {
		t.Fatalf("delete in use: %v", err)
	}
	if err := secgroups.RemoveServer(ctx, c.Compute, srv.ID, "pg").ExtractErr(); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if err := secgroups.RemoveServer(ctx, c.Compute, srv.ID, "pg").ExtractErr(); errorStatus(err) != 404 {
		t.Fatalf("remove again: %v", err)
	}
	if err := secgroups.DeleteRule(ctx, c.Compute, rule.ID).ExtractErr(); err != nil {
		t.Fatalf("delete rule: %v", err)
	}
	if err := secgroups.Delete(ctx, c.Compute, g.ID).ExtractErr(); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := secgroups.Get(ctx, c.Compute, g.ID).Extract(); errorStatus(err) != 404 {
		t.Fatalf("get deleted: %v", err)
	}
	// The proxies are gone from 2.36; the server actions stay.
	c.Compute.Microversion = "2.36"
	if _, err := secgroups.List(c.Compute).AllPages(ctx); errorStatus(err) != 404 {
		t.Fatalf("list at 2.36: %v", err)
	}
	c.Compute.Microversion = "2.100"
	if err := secgroups.RemoveServer(ctx, c.Compute, srv.ID, "default").ExtractErr(); err != nil {
		t.Fatalf("remove at 2.100: %v", err)
	}
	got := gcGet(t, c, srv.ID)
	if len(got.SecurityGroups) != 0 {
		t.Fatalf("server groups after removing all: %v", got.SecurityGroups)
	}
}
