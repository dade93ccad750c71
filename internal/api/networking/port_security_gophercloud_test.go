package networking_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// portWithSecurity is a port with the port security extension, as
// Terraform's openstack_networking_port_v2 reads it.
type portWithSecurity struct {
	ports.Port
	portsecurity.PortSecurityExt
}

// TestGophercloudPortSecurity drives ports' groups, address pairs and
// port security with gophercloud's ports and portsecurity packages, as
// Terraform's openstack_networking_port_v2 does (no_security_groups,
// port_security_enabled false), and a group a port holds stays until the
// port leaves it.
func TestGophercloudPortSecurity(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		client := adminNetworkClient(t, c)
		ctx := context.Background()
		net, err := networks.Create(ctx, client, networks.CreateOpts{Name: "gc-net"}).Extract()
		if err != nil {
			t.Fatalf("create network: %v", err)
		}
		if _, err := subnets.Create(ctx, client, subnets.CreateOpts{NetworkID: net.ID, IPVersion: gophercloud.IPv4, CIDR: "10.20.0.0/24"}).Extract(); err != nil {
			t.Fatalf("create subnet: %v", err)
		}
		g, err := groups.Create(ctx, client, groups.CreateOpts{Name: "gc-web"}).Extract()
		if err != nil {
			t.Fatalf("create group: %v", err)
		}

		var p portWithSecurity
		err = ports.Create(ctx, client, ports.CreateOpts{NetworkID: net.ID, SecurityGroups: &[]string{g.ID},
			AllowedAddressPairs: []ports.AddressPair{{IPAddress: "10.20.0.100"}}}).ExtractInto(&p)
		if err != nil {
			t.Fatalf("create port: %v", err)
		}
		if !slices.Equal(p.SecurityGroups, []string{g.ID}) || !p.PortSecurityEnabled || len(p.AllowedAddressPairs) != 1 ||
			p.AllowedAddressPairs[0] != (ports.AddressPair{IPAddress: "10.20.0.100", MACAddress: p.MACAddress}) {
			t.Errorf("port %+v", p)
		}
		if err := groups.Delete(ctx, client, g.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
			t.Errorf("delete of a group a port holds: %v, want a 409", err)
		}

		// Terraform's no_security_groups with port_security_enabled false.
		off := false
		var bare portWithSecurity
		err = ports.Update(ctx, client, p.ID, portsecurity.PortUpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{
			SecurityGroups: &[]string{}, AllowedAddressPairs: &[]ports.AddressPair{}}, PortSecurityEnabled: &off}).ExtractInto(&bare)
		if err != nil {
			t.Fatalf("update port: %v", err)
		}
		if len(bare.SecurityGroups) != 0 || bare.PortSecurityEnabled || len(bare.AllowedAddressPairs) != 0 {
			t.Errorf("port without port security %+v", bare)
		}
		if err := groups.Delete(ctx, client, g.ID).ExtractErr(); err != nil {
			t.Errorf("delete of a group no port holds: %v", err)
		}

		var unsecured portWithSecurity
		err = ports.Create(ctx, client, portsecurity.PortCreateOptsExt{CreateOptsBuilder: ports.CreateOpts{NetworkID: net.ID},
			PortSecurityEnabled: &off}).ExtractInto(&unsecured)
		if err != nil {
			t.Fatalf("create port without port security: %v", err)
		}
		if unsecured.PortSecurityEnabled || len(unsecured.SecurityGroups) != 0 {
			t.Errorf("port created without port security %+v", unsecured)
		}
	})
}
