package networking_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/provider"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestGophercloud drives the networking API with gophercloud's own
// packages over HTTP, finding the endpoint in the catalog as clients do.
func TestGophercloud(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		creds, err := app.ReadClouds(c.App.Config.CloudsFile())
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		provider_, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
			IdentityEndpoint: c.URL() + "/identity/v3", Username: "admin", Password: creds.Password,
			TenantName: "admin", DomainID: "default"})
		if err != nil {
			t.Fatalf("authenticate: %v", err)
		}
		client, err := openstack.NewNetworkV2(provider_, gophercloud.EndpointOpts{Region: "RegionOne"})
		if err != nil {
			t.Fatalf("network endpoint: %v", err)
		}
		if client.ResourceBaseURL() != c.URL()+"/networking/v2.0/" {
			t.Errorf("network endpoint %s", client.ResourceBaseURL())
		}

		pages, err := extensions.List(client).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		exts, err := extensions.ExtractExtensions(pages)
		if err != nil {
			t.Fatal(err)
		}
		var aliases []string
		for _, e := range exts {
			aliases = append(aliases, e.Alias)
		}
		for _, want := range []string{"external-net", "net-mtu", "provider", "standard-attr-tag", "project-id"} {
			if !slices.Contains(aliases, want) {
				t.Errorf("extensions %v lack %s", aliases, want)
			}
		}

		shared := true
		n, err := networks.Create(ctx, client, networks.CreateOpts{Name: "gc-net", Shared: &shared}).Extract()
		if err != nil {
			t.Fatalf("create network: %v", err)
		}
		if n.Name != "gc-net" || !n.Shared || n.Status != "ACTIVE" || n.CreatedAt.IsZero() || n.RevisionNumber != 1 {
			t.Errorf("network %+v", n)
		}
		enable := true
		s, err := subnets.Create(ctx, client, subnets.CreateOpts{NetworkID: n.ID, CIDR: "192.168.77.0/24", IPVersion: gophercloud.IPv4,
			EnableDHCP: &enable, DNSNameservers: []string{"192.168.77.53"}}).Extract()
		if err != nil {
			t.Fatalf("create subnet: %v", err)
		}
		if s.GatewayIP != "192.168.77.1" || len(s.AllocationPools) != 1 || s.AllocationPools[0].Start != "192.168.77.2" {
			t.Errorf("subnet %+v", s)
		}
		if _, err := attributestags.ReplaceAll(ctx, client, "networks", n.ID, attributestags.ReplaceAllOpts{Tags: []string{"gc"}}).Extract(); err != nil {
			t.Fatalf("tag network: %v", err)
		}

		type extended struct {
			networks.Network
			external.NetworkExternalExt
			provider.NetworkProviderExt
		}
		var got []extended
		pages, err = networks.List(client, networks.ListOpts{Tags: "gc"}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := networks.ExtractNetworksInto(pages, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != n.ID || got[0].External || got[0].NetworkType != "local" ||
			!slices.Equal(got[0].Subnets, []string{s.ID}) || !slices.Equal(got[0].Tags, []string{"gc"}) {
			t.Errorf("networks tagged gc: %+v", got)
		}
		// Paged as gophercloud pages: following the next links.
		pager := networks.List(client, networks.ListOpts{Limit: 1})
		count := 0
		err = pager.EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			ns, err := networks.ExtractNetworks(p)
			count += len(ns)
			return true, err
		})
		if err != nil || count != 3 { // gc-net, admin's private, public
			t.Errorf("paged listing: %d networks, %v", count, err)
		}

		port, err := ports.Create(ctx, client, ports.CreateOpts{NetworkID: n.ID, Name: "gc-port",
			FixedIPs: []ports.IP{{SubnetID: s.ID, IPAddress: "192.168.77.10"}}}).Extract()
		if err != nil {
			t.Fatalf("create port: %v", err)
		}
		if len(port.FixedIPs) != 1 || port.FixedIPs[0].IPAddress != "192.168.77.10" || port.FixedIPs[0].SubnetID != s.ID || port.Status != "DOWN" {
			t.Errorf("port %+v", port)
		}
		pages, err = ports.List(client, ports.ListOpts{NetworkID: n.ID}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if all, err := ports.ExtractPorts(pages); err != nil || len(all) != 1 || all[0].ID != port.ID {
			t.Errorf("ports of gc-net: %+v %v", all, err)
		}
		if err := ports.Delete(ctx, client, port.ID).ExtractErr(); err != nil {
			t.Errorf("delete port: %v", err)
		}

		name := "gc-renamed"
		if n, err = networks.Update(ctx, client, n.ID, networks.UpdateOpts{Name: &name}).Extract(); err != nil || n.Name != name {
			t.Errorf("update: %+v %v", n, err)
		}
		if err := subnets.Delete(ctx, client, s.ID).ExtractErr(); err != nil {
			t.Errorf("delete subnet: %v", err)
		}
		if err := networks.Delete(ctx, client, n.ID).ExtractErr(); err != nil {
			t.Errorf("delete network: %v", err)
		}
		if _, err := networks.Get(ctx, client, n.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("deleted network: %v", err)
		}
	})
}
