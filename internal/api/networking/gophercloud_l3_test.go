package networking_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// networkClient is gophercloud's networking client of the cloud's admin,
// its endpoint found in the catalog.
func networkClient(t *testing.T, c *cloud) *gophercloud.ServiceClient {
	t.Helper()
	creds, err := app.ReadClouds(c.App.Config.CloudsFile())
	if err != nil {
		t.Fatal(err)
	}
	pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: c.URL() + "/identity/v3", Username: "admin", Password: creds.Password,
		TenantName: "admin", DomainID: "default"})
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	client, err := openstack.NewNetworkV2(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatalf("network endpoint: %v", err)
	}
	return client
}

func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) || e.Actual != status {
		t.Errorf("%s: %v, want status %d", what, err, status)
	}
}

// TestGophercloudL3 drives routers and floating IPs with gophercloud's
// layer3 packages: a router with a gateway and an interface, a floating
// IP bound through it, the router in use, and everything taken apart.
func TestGophercloudL3(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		client := networkClient(t, c)
		ctx := context.Background()

		for _, alias := range []string{"router", "extraroute", "ext-gw-mode", "fip-port-details"} {
			if _, err := extensions.Get(ctx, client, alias).Extract(); err != nil {
				t.Errorf("extension %s: %v", alias, err)
			}
		}
		pages, err := networks.List(client, networks.ListOpts{Name: "public"}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		public, err := networks.ExtractNetworks(pages)
		if err != nil || len(public) != 1 {
			t.Fatalf("public network %v %v", public, err)
		}
		net, err := networks.Create(ctx, client, networks.CreateOpts{Name: "gc-l3"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		sn, err := subnets.Create(ctx, client, subnets.CreateOpts{NetworkID: net.ID, IPVersion: 4, CIDR: "10.20.0.0/24"}).Extract()
		if err != nil {
			t.Fatal(err)
		}

		r, err := routers.Create(ctx, client, routers.CreateOpts{Name: "gc-router",
			GatewayInfo: &routers.GatewayInfo{NetworkID: public[0].ID}}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		gw := r.GatewayInfo
		if r.Status != "ACTIVE" || gw.NetworkID != public[0].ID || gw.EnableSNAT == nil || !*gw.EnableSNAT ||
			len(gw.ExternalFixedIPs) != 1 || gw.ExternalFixedIPs[0].SubnetID != public[0].Subnets[0] {
			t.Errorf("created router %+v", r)
		}
		iface, err := routers.AddInterface(ctx, client, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		rport, err := ports.Get(ctx, client, iface.PortID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if iface.SubnetID != sn.ID || rport.DeviceOwner != "network:router_interface" || rport.DeviceID != r.ID ||
			len(rport.FixedIPs) != 1 || rport.FixedIPs[0].IPAddress != sn.GatewayIP {
			t.Errorf("interface %+v, port %+v", iface, rport)
		}
		_, err = routers.AddInterface(ctx, client, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract()
		wantStatus(t, "second interface on the subnet", err, http.StatusBadRequest)

		routes := []routers.Route{{DestinationCIDR: "192.0.2.0/24", NextHop: "10.20.0.9"}}
		r, err = routers.Update(ctx, client, r.ID, routers.UpdateOpts{Routes: &routes}).Extract()
		if err != nil || len(r.Routes) != 1 || r.Routes[0] != routes[0] {
			t.Errorf("routes %+v %v", r, err)
		}
		bad := []routers.Route{{DestinationCIDR: "192.0.2.0/24", NextHop: "10.99.0.9"}}
		_, err = routers.Update(ctx, client, r.ID, routers.UpdateOpts{Routes: &bad}).Extract()
		wantStatus(t, "route not connected", err, http.StatusBadRequest)

		p, err := ports.Create(ctx, client, ports.CreateOpts{NetworkID: net.ID}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		fip, err := floatingips.Create(ctx, client, floatingips.CreateOpts{FloatingNetworkID: public[0].ID, PortID: p.ID}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if fip.Status != "ACTIVE" || fip.RouterID != r.ID || fip.PortID != p.ID || fip.FixedIP != p.FixedIPs[0].IPAddress {
			t.Errorf("floating IP %+v", fip)
		}
		listed, err := floatingips.List(client, floatingips.ListOpts{RouterID: r.ID}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if all, err := floatingips.ExtractFloatingIPs(listed); err != nil || len(all) != 1 || all[0].ID != fip.ID {
			t.Errorf("floating IPs by router %+v %v", all, err)
		}

		wantStatus(t, "delete a router with interfaces", routers.Delete(ctx, client, r.ID).ExtractErr(), http.StatusConflict)
		_, err = routers.RemoveInterface(ctx, client, r.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract()
		wantStatus(t, "remove the interface a floating IP uses", err, http.StatusConflict)
		_, err = routers.Update(ctx, client, r.ID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{}}).Extract()
		wantStatus(t, "remove the gateway a floating IP uses", err, http.StatusConflict)

		unbind := ""
		fip, err = floatingips.Update(ctx, client, fip.ID, floatingips.UpdateOpts{PortID: &unbind}).Extract()
		if err != nil || fip.PortID != "" || fip.Status != "DOWN" || fip.RouterID != "" {
			t.Errorf("unbound %+v %v", fip, err)
		}
		_, err = routers.RemoveInterface(ctx, client, r.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract()
		wantStatus(t, "remove the interface a route uses", err, http.StatusConflict)
		none := []routers.Route{}
		if _, err := routers.Update(ctx, client, r.ID, routers.UpdateOpts{Routes: &none}).Extract(); err != nil {
			t.Fatal(err)
		}
		if _, err := routers.RemoveInterface(ctx, client, r.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract(); err != nil {
			t.Fatal(err)
		}
		_, err = ports.Get(ctx, client, iface.PortID).Extract()
		wantStatus(t, "interface port after its removal", err, http.StatusNotFound)
		_, err = routers.RemoveInterface(ctx, client, r.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract()
		wantStatus(t, "remove it again", err, http.StatusNotFound)
		if err := floatingips.Delete(ctx, client, fip.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if err := routers.Delete(ctx, client, r.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		_, err = routers.Get(ctx, client, r.ID).Extract()
		wantStatus(t, "router after its delete", err, http.StatusNotFound)
	})
}
