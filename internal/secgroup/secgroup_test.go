package secgroup_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

var (
	member = &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
	other  = &auth.Principal{UserID: "u2", ProjectID: "p2", Roles: []string{"member"}}
	admin  = &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
)

// newService is the security group service on db as the app wires it:
// its creates checked against the networking quotas it counts.
func newService(db *store.DB) *secgroup.Service {
	return secgroup.New(db, netquota.New(db, netquota.Counters{
		netquota.SecurityGroup: secgroup.CountGroups, netquota.SecurityGroupRule: secgroup.CountRules}))
}

func expectErr(t *testing.T, err error, kind errs.Kind, msg string) {
	t.Helper()
	if errs.KindOf(err) != kind || errs.Message(err) != msg {
		t.Fatalf("error = %v (kind %v), want %v %q", err, errs.KindOf(err), kind, msg)
	}
}

func TestDefaultGroupMadeOnceWithNeutronRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		first, err := s.List(ctx, member, false)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.List(ctx, member, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 1 || len(again) != 1 || first[0].ID != again[0].ID {
			t.Fatalf("default group listed %+v then %+v", first, again)
		}
		g := first[0]
		if g.Name != "default" || !g.Default || g.ProjectID != "p1" || g.Description != "Default security group" {
			t.Fatalf("default group = %+v", g)
		}
		if len(g.Rules) != 4 {
			t.Fatalf("default rules = %+v, want 2 egress and 2 ingress", g.Rules)
		}
		ingress := g.IngressRules()
		if len(ingress) != 2 {
			t.Fatalf("ingress rules = %+v", ingress)
		}
		for _, r := range ingress {
			if r.RemoteGroupID == nil || *r.RemoteGroupID != g.ID || r.RemoteGroup == nil || r.RemoteGroup.Name != "default" ||
				r.Protocol != nil || r.RemoteCIDR != nil {
				t.Fatalf("ingress rule = %+v, want from the group itself", r)
			}
			if from, to := r.NovaPorts(); from != nil || to != nil {
				t.Fatalf("ports of an any-protocol rule = %v %v, want nulls", from, to)
			}
		}
		// Another project has its own; an admin sees both with all projects.
		if gs, err := s.List(ctx, other, false); err != nil || len(gs) != 1 || gs[0].ID == g.ID {
			t.Fatalf("other project's groups = %+v, %v", gs, err)
		}
		all, err := s.List(ctx, admin, true)
		if err != nil || len(all) != 3 {
			t.Fatalf("admin all projects = %d groups, %v", len(all), err)
		}
		mine, err := s.List(ctx, member, true) // all_tenants is an admin's only
		if err != nil || len(mine) != 1 {
			t.Fatalf("member all projects = %+v, %v", mine, err)
		}
	})
}

func TestGroupLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		g, err := s.Create(ctx, member, "web", "web servers")
		if err != nil {
			t.Fatal(err)
		}
		if g.Name != "web" || g.Description != "web servers" || g.ProjectID != "p1" || len(g.IngressRules()) != 0 || len(g.Rules) != 2 {
			t.Fatalf("created %+v", g)
		}
		_, err = s.Create(ctx, member, "Default", "x")
		expectErr(t, err, errs.KindForbidden, "Default security group already exists.")

		got, err := s.Get(ctx, member, g.ID)
		if err != nil || got.ID != g.ID {
			t.Fatalf("get = %+v, %v", got, err)
		}
		_, err = s.Get(ctx, other, g.ID)
		expectErr(t, err, errs.KindNotFound, "Security group "+g.ID+" does not exist")
		if _, err := s.Get(ctx, admin, g.ID); err != nil {
			t.Fatalf("admin get: %v", err)
		}
		_, err = s.Get(ctx, member, "not-a-uuid")
		expectErr(t, err, errs.KindInvalid, "Security group id should be uuid")

		up, err := s.Update(ctx, member, g.ID, "www", "renamed")
		if err != nil || up.Name != "www" || up.Description != "renamed" {
			t.Fatalf("update = %+v, %v", up, err)
		}
		_, err = s.Update(ctx, member, g.ID, "default", "x")
		expectErr(t, err, errs.KindInvalid, "Default security group already exists.")
		_, err = s.Update(ctx, other, g.ID, "x", "x")
		expectErr(t, err, errs.KindNotFound, "Security group "+g.ID+" does not exist")
		groups, _ := s.List(ctx, member, false)
		def := groups[0]
		if !def.Default {
			t.Fatalf("first listed group %+v is not default", def)
		}
		_, err = s.Update(ctx, member, def.ID, "other", "x")
		expectErr(t, err, errs.KindInvalid, "Updating default security group not allowed.")

		err = s.Delete(ctx, member, def.ID)
		expectErr(t, err, errs.KindInvalid, "Insufficient rights for removing default security group.")
		expectErr(t, s.Delete(ctx, other, g.ID), errs.KindNotFound, "Security group "+g.ID+" does not exist")
		if err := s.Delete(ctx, member, g.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.Get(ctx, member, g.ID)
		expectErr(t, err, errs.KindNotFound, "Security group "+g.ID+" does not exist")
		// An admin may delete a default group; the next need makes another.
		if err := s.Delete(ctx, admin, def.ID); err != nil {
			t.Fatal(err)
		}
		groups, err = s.List(ctx, member, false)
		if err != nil || len(groups) != 1 || groups[0].ID == def.ID || !groups[0].Default {
			t.Fatalf("after the default's delete: %+v, %v", groups, err)
		}
	})
}

func num(s string) any { return json.Number(s) }

func TestRuleValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		g, err := s.Create(ctx, member, "web", "")
		if err != nil {
			t.Fatal(err)
		}
		src, err := s.Create(ctx, member, "src", "")
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := s.Create(ctx, other, "theirs", "")
		if err != nil {
			t.Fatal(err)
		}
		missing := "00000000-0000-4000-8000-000000000000"
		tests := []struct {
			name string
			req  secgroup.RuleRequest
			kind errs.Kind
			msg  string
		}{
			{"unknown parent", secgroup.RuleRequest{ParentGroupID: missing}, errs.KindNotFound, "Security group " + missing + " does not exist"},
			{"foreign parent", secgroup.RuleRequest{ParentGroupID: foreign.ID}, errs.KindNotFound, "Security group " + foreign.ID + " does not exist"},
			{"foreign source", secgroup.RuleRequest{ParentGroupID: g.ID, GroupID: &foreign.ID}, errs.KindNotFound, "Security group " + foreign.ID + " does not exist"},
			{"no protocol", secgroup.RuleRequest{ParentGroupID: g.ID}, errs.KindInvalid, "Not enough parameters to build a valid rule."},
			{"no ports", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "tcp"}, errs.KindInvalid, "Not enough parameters to build a valid rule."},
			{"bad protocol", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "gre", FromPort: num("1"), ToPort: num("2")}, errs.KindInvalid, "Invalid IP protocol gre."},
			{"text ports", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "tcp", FromPort: "a", ToPort: num("2")}, errs.KindInvalid, "Invalid input received: To and From ports must be integers"},
			{"text icmp", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "icmp", FromPort: "a", ToPort: num("2")}, errs.KindInvalid, "Invalid input received: Type and Code must be integers for ICMP protocol type"},
			{"reversed", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "tcp", FromPort: num("80"), ToPort: num("22")}, errs.KindInvalid, "Invalid port range 80:22. Former value cannot be greater than the later"},
			{"port 0", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "udp", FromPort: num("0"), ToPort: num("22")}, errs.KindInvalid, "Invalid port range 0:22. Valid UDP ports should be between 1-65535"},
			{"port too big", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "TCP", FromPort: num("1"), ToPort: num("65536")}, errs.KindInvalid, "Invalid port range 1:65536. Valid TCP ports should be between 1-65535"},
			{"icmp type", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "icmp", FromPort: num("256"), ToPort: num("0")}, errs.KindInvalid, "Invalid port range 256:0. For ICMP, the type:code must be valid"},
			{"icmp code only", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "icmp", FromPort: num("-1"), ToPort: num("3")}, errs.KindInvalid, "ICMP code (port-range-max) 3 is provided but ICMP type (port-range-min) is missing."},
			{"bad cidr", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "tcp", FromPort: num("22"), ToPort: num("22"), CIDR: "10.0.0.0"}, errs.KindInvalid, "10.0.0.0 is not a valid IP network."},
			{"bad prefix", secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "tcp", FromPort: num("22"), ToPort: num("22"), CIDR: "10.0.0.0/0"}, errs.KindInvalid, "Bad prefix for network in cidr 10.0.0.0/0"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.CreateRule(ctx, member, tt.req)
				expectErr(t, err, tt.kind, tt.msg)
			})
		}

		ssh, err := s.CreateRule(ctx, member, secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "TCP", FromPort: num("22"), ToPort: "22", CIDR: "10.0.0.5/24"})
		if err != nil {
			t.Fatal(err)
		}
		if *ssh.Protocol != "tcp" || *ssh.PortMin != 22 || *ssh.PortMax != 22 || *ssh.RemoteCIDR != "10.0.0.5/24" || ssh.Direction != "ingress" || ssh.Ethertype != "IPv4" {
			t.Fatalf("ssh rule = %+v", ssh)
		}
		_, err = s.CreateRule(ctx, member, secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "tcp", FromPort: num("22"), ToPort: num("22"), CIDR: "10.0.0.5/24"})
		expectErr(t, err, errs.KindInvalid, "This rule already exists in group "+g.ID)

		ping, err := s.CreateRule(ctx, member, secgroup.RuleRequest{ParentGroupID: g.ID, IPProtocol: "icmp", FromPort: num("-1"), ToPort: num("-1"), CIDR: "2001:db8::/64"})
		if err != nil {
			t.Fatal(err)
		}
		if from, to := ping.NovaPorts(); *from != -1 || *to != -1 || ping.Ethertype != "IPv6" || ping.PortMin != nil {
			t.Fatalf("ping rule = %+v", ping)
		}
		// A source group opens all ports of the protocol.
		fromSrc, err := s.CreateRule(ctx, member, secgroup.RuleRequest{ParentGroupID: g.ID, GroupID: &src.ID, IPProtocol: "tcp"})
		if err != nil {
			t.Fatal(err)
		}
		if fromSrc.RemoteGroup == nil || fromSrc.RemoteGroup.Name != "src" || *fromSrc.PortMin != 1 || *fromSrc.PortMax != 65535 || fromSrc.RemoteCIDR != nil {
			t.Fatalf("group rule = %+v", fromSrc)
		}
		// Nova's own check misses a repeated group rule; Neutron's 409 is a 403.
		_, err = s.CreateRule(ctx, member, secgroup.RuleRequest{ParentGroupID: g.ID, GroupID: &src.ID, IPProtocol: "tcp"})
		expectErr(t, err, errs.KindForbidden, "Security group rule already exists. Rule id is "+fromSrc.ID+".")

		got, _ := s.Get(ctx, member, g.ID)
		if len(got.IngressRules()) != 3 {
			t.Fatalf("ingress rules = %+v", got.IngressRules())
		}
		expectErr(t, s.DeleteRule(ctx, other, ssh.ID), errs.KindNotFound, "Security group rule "+ssh.ID+" does not exist")
		expectErr(t, s.DeleteRule(ctx, member, "x"), errs.KindInvalid, "Security group id should be uuid")
		if err := s.DeleteRule(ctx, member, ssh.ID); err != nil {
			t.Fatal(err)
		}
		expectErr(t, s.DeleteRule(ctx, member, ssh.ID), errs.KindNotFound, "Security group rule "+ssh.ID+" does not exist")
		// Deleting the source group takes the rules naming it (Neutron's cascade).
		if err := s.Delete(ctx, member, src.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Get(ctx, member, g.ID)
		if len(got.IngressRules()) != 1 || *got.IngressRules()[0].Protocol != "icmp" {
			t.Fatalf("rules after deletes = %+v", got.IngressRules())
		}
	})
}

// newCloud is a test cloud whose agent runs when stepped, and the
// security group service on its database.
func newCloud(t *testing.T, database string) (*computetest.Cloud, *secgroup.Service) {
	t.Helper()
	c := computetest.New(t, database, computetest.Options{Stopped: true})
	return c, newService(c.DB)
}

// step steps c's agent and checks it ran the task kinds want.
func step(t *testing.T, c *computetest.Cloud, want ...string) {
	t.Helper()
	if got := c.Step(); !slices.Equal(got, want) {
		t.Fatalf("the agent ran %v, want %v", got, want)
	}
}

// names are the names of a server's groups as its views show them to
// member, sorted and comma-joined.
func names(t *testing.T, s *secgroup.Service, serverID string) string {
	t.Helper()
	got, err := s.ServerGroupNames(context.Background(), member, []string{serverID})
	if err != nil {
		t.Fatal(err)
	}
	list := slices.Clone(got[serverID])
	slices.Sort(list)
	return strings.Join(list, ",")
}

func TestServerMembership(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c, s := newCloud(t, database)
		web, err := s.Create(ctx, member, "web", "")
		if err != nil {
			t.Fatal(err)
		}
		// Unknown names are the create's 400.
		_, err = c.Compute.Create(ctx, member, compute.CreateRequest{Name: "x", ImageRef: c.ImageID, FlavorRef: "1",
			SecurityGroups: []string{"nope"}, Networks: compute.NetworkRequest{Mode: "auto"}})
		expectErr(t, err, errs.KindInvalid, "Unable to find security_group with name or id 'nope'")

		srv := c.CreateServer(t, member, "vm", func(r *compute.CreateRequest) {
			r.SecurityGroups = []string{"web", web.ID, "default"}
			r.Networks = compute.NetworkRequest{Mode: "auto"}
		}).Servers[0]
		if got := names(t, s, srv.ID); got != "default,web" {
			t.Fatalf("server groups = %v", got)
		}
		groups, err := s.ServerGroups(ctx, member, srv.ID)
		if err != nil || len(groups) != 2 {
			t.Fatalf("ServerGroups = %+v, %v", groups, err)
		}
		expectErr(t, s.Delete(ctx, member, web.ID), errs.KindInvalid, "Security Group "+web.ID+" in use.")

		// Renames show on the server.
		if _, err := s.Update(ctx, member, web.ID, "www", ""); err != nil {
			t.Fatal(err)
		}
		if got := names(t, s, srv.ID); got != "default,www" {
			t.Fatalf("server groups after rename = %v", got)
		}

		expectErr(t, s.AddToServer(ctx, member, srv.ID, "nope"), errs.KindNotFound, "Security group nope is not found for project p1")
		if err := s.AddToServer(ctx, member, srv.ID, "www"); err != nil { // already there: no change
			t.Fatal(err)
		}
		if err := s.RemoveFromServer(ctx, member, srv.ID, "www"); err != nil {
			t.Fatal(err)
		}
		expectErr(t, s.RemoveFromServer(ctx, member, srv.ID, "www"), errs.KindNotFound,
			"Security group www not associated with the instance "+srv.ID)
		if got := names(t, s, srv.ID); got != "default" {
			t.Fatalf("server groups after remove = %v", got)
		}
		if err := s.Delete(ctx, member, web.ID); err != nil {
			t.Fatalf("delete unused group: %v", err)
		}

		// A server without ports has no groups and takes none.
		bare := c.CreateServer(t, member, "bare", func(r *compute.CreateRequest) {
			r.Networks = compute.NetworkRequest{Mode: "none"}
		}).Servers[0]
		if gs, _ := s.ServerGroups(ctx, member, bare.ID); len(gs) != 0 {
			t.Fatalf("port-less server groups = %+v", gs)
		}
		expectErr(t, s.AddToServer(ctx, member, bare.ID, "default"), errs.KindNotFound,
			"instance_id "+bare.ID+" could not be found as device id on any ports")

		// A deleted server leaves its groups.
		step(t, c, compute.TaskBuild, compute.TaskBuild)
		if err := c.Compute.Delete(ctx, member, srv.ID, "req-del"); err != nil {
			t.Fatal(err)
		}
		step(t, c, compute.TaskDelete)
		if got, err := c.Compute.GetAny(ctx, srv.ID); err != nil || !got.Deleted {
			t.Fatalf("server after its delete task: %+v, %v; want deleted", got, err)
		}
		if gs, _ := s.ServerGroups(ctx, member, srv.ID); len(gs) != 0 {
			t.Fatalf("deleted server groups = %+v", gs)
		}
		if err := s.Delete(ctx, admin, groups[0].ID); err != nil {
			t.Fatalf("default group of a deleted server: %v", err)
		}
	})
}

func TestConcurrentFirstUseMakesOneDefault(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(db)
		const n = 8
		ids := make(chan string, n)
		errc := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				gs, err := s.List(ctx, member, false)
				if err != nil {
					errc <- err
					return
				}
				ids <- gs[0].ID
			}()
		}
		seen := map[string]bool{}
		for i := 0; i < n; i++ {
			select {
			case err := <-errc:
				t.Fatal(err)
			case id := <-ids:
				seen[id] = true
			}
		}
		if len(seen) != 1 {
			t.Fatalf("concurrent first listings made %d default groups", len(seen))
		}
	})
}

func TestAmbiguousNames(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		c, s := newCloud(t, database)
		var twins []*secgroup.Group
		for i := 0; i < 2; i++ { // Neutron allows two groups of one name
			g, err := s.Create(ctx, member, "twin", "")
			if err != nil {
				t.Fatal(err)
			}
			twins = append(twins, g)
		}
		const msg = "Multiple security_group matches found for name 'twin', use an ID to be more specific."
		_, err := c.Compute.Create(ctx, member, compute.CreateRequest{Name: "x", ImageRef: c.ImageID, FlavorRef: "1",
			SecurityGroups: []string{"twin"}, Networks: compute.NetworkRequest{Mode: "auto"}})
		expectErr(t, err, errs.KindConflict, msg)
		// An id picks one.
		srv := c.CreateServer(t, member, "vm", func(r *compute.CreateRequest) {
			r.SecurityGroups = []string{twins[1].ID}
			r.Networks = compute.NetworkRequest{Mode: "auto"}
		}).Servers[0]
		expectErr(t, s.AddToServer(ctx, member, srv.ID, "twin"), errs.KindConflict, msg)
		expectErr(t, s.RemoveFromServer(ctx, member, srv.ID, "twin"), errs.KindConflict, msg)
		if err := s.RemoveFromServer(ctx, member, srv.ID, twins[1].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.AddToServer(ctx, member, srv.ID, twins[0].ID); err != nil {
			t.Fatal(err)
		}
		groups, err := s.ServerGroups(ctx, member, srv.ID)
		if err != nil || len(groups) != 1 || groups[0].ID != twins[0].ID {
			t.Fatalf("server groups %+v, %v", groups, err)
		}
		// Another project's group id is not found by a member.
		theirs, err := s.Create(ctx, other, "theirs", "")
		if err != nil {
			t.Fatal(err)
		}
		expectErr(t, s.AddToServer(ctx, member, srv.ID, theirs.ID), errs.KindNotFound,
			"Security group "+theirs.ID+" is not found for project p1")
	})
}
