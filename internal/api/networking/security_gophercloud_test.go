package networking_test

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// adminNetworkClient is gophercloud's network client of the admin,
// found through the catalog.
func adminNetworkClient(t *testing.T, c *cloud) *gophercloud.ServiceClient {
	t.Helper()
	creds, err := app.ReadClouds(c.App.Config.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	provider, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: c.URL() + "/identity/v3", Username: "admin", Password: creds.Password,
		TenantName: "admin", DomainID: "default"})
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	client, err := openstack.NewNetworkV2(provider, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatalf("network endpoint: %v", err)
	}
	return client
}

// TestGophercloudSecurityGroups drives groups and rules with gophercloud's
// security packages, as Terraform's openstack_networking_secgroup_v2 and
// _secgroup_rule_v2 do.
func TestGophercloudSecurityGroups(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		client := adminNetworkClient(t, c)
		ctx := context.Background()

		g, err := groups.Create(ctx, client, groups.CreateOpts{Name: "gc-web", Description: "web"}).Extract()
		if err != nil {
			t.Fatalf("create group: %v", err)
		}
		if g.Name != "gc-web" || !g.Stateful || len(g.Rules) != 2 || g.RevisionNumber != 1 || g.CreatedAt.IsZero() {
			t.Errorf("group %+v", g)
		}
		r, err := rules.Create(ctx, client, rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType4,
			SecGroupID: g.ID, Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteIPPrefix: "0.0.0.0/0"}).Extract()
		if err != nil {
			t.Fatalf("create rule: %v", err)
		}
		if r.Protocol != "tcp" || r.PortRangeMin != 22 || r.RemoteIPPrefix != "0.0.0.0/0" || r.SecGroupID != g.ID {
			t.Errorf("rule %+v", r)
		}
		icmp, err := rules.Create(ctx, client, rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType6,
			SecGroupID: g.ID, Protocol: "icmpv6", RemoteGroupID: g.ID}).Extract()
		if err != nil {
			t.Fatalf("create ICMPv6 rule: %v", err)
		}
		if icmp.Protocol != "ipv6-icmp" || icmp.RemoteGroupID != g.ID {
			t.Errorf("ICMPv6 rule %+v", icmp)
		}
		if _, err := rules.Create(ctx, client, rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType4,
			SecGroupID: g.ID, Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22}).Extract(); !gophercloud.ResponseCodeIs(err, 409) {
			t.Errorf("duplicate rule: %v", err)
		}
		if _, err := attributestags.ReplaceAll(ctx, client, "security-groups", g.ID, attributestags.ReplaceAllOpts{Tags: []string{"gc"}}).Extract(); err != nil {
			t.Fatalf("tag group: %v", err)
		}

		pages, err := groups.List(client, groups.ListOpts{Name: "gc-web", Tags: "gc"}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := groups.ExtractGroups(pages)
		if err != nil || len(got) != 1 || got[0].ID != g.ID || len(got[0].Rules) != 4 || got[0].RevisionNumber != 4 {
			t.Errorf("groups named gc-web: %+v, %v", got, err)
		}
		count := 0
		err = rules.List(client, rules.ListOpts{SecGroupID: g.ID, Limit: 1}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			rs, err := rules.ExtractRules(p)
			count += len(rs)
			return true, err
		})
		if err != nil || count != 4 {
			t.Errorf("paged rules: %d, %v", count, err)
		}

		name, desc := "gc-www", "renamed"
		if g, err = groups.Update(ctx, client, g.ID, groups.UpdateOpts{Name: name, Description: &desc}).Extract(); err != nil ||
			g.Name != name || g.Description != desc {
			t.Errorf("update: %+v %v", g, err)
		}
		if got, err := rules.Get(ctx, client, r.ID).Extract(); err != nil || got.ID != r.ID {
			t.Errorf("get rule: %+v %v", got, err)
		}
		if err := rules.Delete(ctx, client, r.ID).ExtractErr(); err != nil {
			t.Errorf("delete rule: %v", err)
		}
		if err := groups.Delete(ctx, client, g.ID).ExtractErr(); err != nil {
			t.Errorf("delete group: %v", err)
		}
		if _, err := groups.Get(ctx, client, g.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("deleted group: %v", err)
		}
		if _, err := rules.Get(ctx, client, icmp.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("rule of the deleted group: %v", err)
		}
	})
}
