package networking_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// Admins bind ports to hosts as Nova does (binding:host_id, profile,
// VNIC type); a port bound to one of kumo's hosts is on a bridge, one
// bound elsewhere or with a VNIC type a bridge cannot plug failed to
// bind, and members may neither set the host nor see the binding.
func TestPortBindings(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4, "cidr": "10.9.0.0/24"})
		port := func(body map[string]any) map[string]any {
			body["network_id"] = netID
			return map[string]any{"port": body}
		}

		created := []struct {
			name                string
			body                map[string]any
			host, vifType, vnic string
			profile             map[string]any
		}{
			{"unbound", map[string]any{}, "", "unbound", "normal", map[string]any{}},
			{"on kumo's host", map[string]any{"binding:host_id": "apptest-host"}, "apptest-host", "bridge", "normal", map[string]any{}},
			{"on an unknown host", map[string]any{"binding:host_id": "elsewhere"}, "elsewhere", "binding_failed", "normal", map[string]any{}},
			{"a VNIC type bridges cannot plug", map[string]any{"binding:host_id": "apptest-host", "binding:vnic_type": "direct"},
				"apptest-host", "binding_failed", "direct", map[string]any{}},
			{"null host", map[string]any{"binding:host_id": nil, "binding:vnic_type": "normal"}, "", "unbound", "normal", map[string]any{}},
		}
		for _, tc := range created {
			t.Run(tc.name, func(t *testing.T) {
				p := obj(t, c.Admin.Do("POST", "/networking/v2.0/ports", port(tc.body)).Expect(t, http.StatusCreated), "port")
				if p["binding:host_id"] != tc.host || p["binding:vif_type"] != tc.vifType || p["binding:vnic_type"] != tc.vnic {
					t.Errorf("port %v; want host %q, VIF type %s, VNIC type %s", p, tc.host, tc.vifType, tc.vnic)
				}
				if profile, ok := p["binding:profile"].(map[string]any); !ok || len(profile) != len(tc.profile) {
					t.Errorf("binding:profile %v, want %v", p["binding:profile"], tc.profile)
				}
			})
		}

		p := obj(t, c.member.Do("POST", "/networking/v2.0/ports", port(map[string]any{"binding:vnic_type": "macvtap"})).Expect(t, http.StatusCreated), "port")
		id := p["id"].(string)
		if _, ok := p["binding:host_id"]; ok || p["binding:vnic_type"] != "macvtap" {
			t.Errorf("member's port %v: the VNIC type and no binding details", p)
		}
		up := obj(t, c.Admin.Do("PUT", "/networking/v2.0/ports/"+id, map[string]any{"port": map[string]any{
			"binding:host_id": "apptest-host", "binding:vnic_type": "normal"}}).Expect(t, http.StatusOK), "port")
		if up["binding:host_id"] != "apptest-host" || up["binding:vif_type"] != "bridge" || up["revision_number"] != float64(2) {
			t.Errorf("bound port %v", up)
		}
		for _, path := range []string{"/networking/v2.0/ports?binding:host_id=apptest-host", "/networking/v2.0/ports?binding:host_id=apptest-host&network_id=" + netID} {
			bound := list(t, c.Admin.Do("GET", path, nil).Expect(t, http.StatusOK), "ports")
			if len(bound) != 3 {
				t.Errorf("%s: %d ports, want the three bound to apptest-host", path, len(bound))
			}
		}
		if shown := obj(t, c.member.Do("GET", "/networking/v2.0/ports/"+id, nil).Expect(t, http.StatusOK), "port"); shown["binding:vif_type"] != nil {
			t.Errorf("member sees the binding: %v", shown)
		}

		cases := []struct {
			name     string
			admin    bool
			method   string
			path     string
			body     any
			status   int
			typ, msg string
		}{
			{"member sets the host", false, "POST", "/networking/v2.0/ports", port(map[string]any{"binding:host_id": "apptest-host"}),
				403, "PolicyNotAuthorized", "(rule:create_port:binding:host_id) is disallowed by policy"},
			{"member moves the port", false, "PUT", "/networking/v2.0/ports/" + id, map[string]any{"port": map[string]any{"binding:host_id": "x"}},
				403, "PolicyNotAuthorized", "(rule:update_port:binding:host_id) is disallowed by policy"},
			{"the profile is the service's", true, "POST", "/networking/v2.0/ports", port(map[string]any{"binding:profile": map[string]any{"a": "b"}}),
				403, "PolicyNotAuthorized", "(rule:create_port:binding:profile) is disallowed by policy"},
			{"a profile is a dictionary", true, "PUT", "/networking/v2.0/ports/" + id, map[string]any{"port": map[string]any{"binding:profile": "x"}},
				400, "HTTPBadRequest", "Invalid input for binding:profile. Reason: 'x' is not a dictionary."},
			{"unknown VNIC type", true, "POST", "/networking/v2.0/ports", port(map[string]any{"binding:vnic_type": "fancy"}),
				400, "HTTPBadRequest", "Invalid input for binding:vnic_type. Reason: 'fancy' is not in ['normal', 'direct', 'macvtap', " +
					"'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa', 'accelerator-direct', " +
					"'accelerator-direct-physical', 'remote-managed']."},
			{"the host is a string", true, "PUT", "/networking/v2.0/ports/" + id, map[string]any{"port": map[string]any{"binding:host_id": 5}},
				400, "HTTPBadRequest", "Invalid input for binding:host_id. Reason: '5' is not a valid string."},
			{"the VIF type is read-only", true, "PUT", "/networking/v2.0/ports/" + id, map[string]any{"port": map[string]any{"binding:vif_type": "ovs"}},
				400, "HTTPBadRequest", "Cannot update read-only attribute binding:vif_type"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				client := c.member
				if tc.admin {
					client = c.Admin
				}
				wantError(t, client.Do(tc.method, tc.path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}

		// A server's port is bound where the server runs: kumo moves it
		// with the server, an admin does not.
		c.CreateServer(c.member, "s1", map[string]any{"networks": []any{map[string]any{"uuid": netID}}})
		c.Step()
		ports := list(t, c.Admin.Do("GET", "/networking/v2.0/ports?device_owner=compute:nova", nil).Expect(t, http.StatusOK), "ports")
		if len(ports) != 1 || ports[0]["binding:host_id"] != "apptest-host" || ports[0]["binding:vif_type"] != "bridge" {
			t.Fatalf("server's ports %v", ports)
		}
		vm := ports[0]["id"].(string)
		wantError(t, c.Admin.Do("PUT", "/networking/v2.0/ports/"+vm, map[string]any{"port": map[string]any{"binding:host_id": "other-host"}}),
			409, "PortInUse", "")
		c.Admin.Do("PUT", "/networking/v2.0/ports/"+vm, map[string]any{"port": map[string]any{"binding:host_id": "apptest-host"}}).Expect(t, http.StatusOK)
	})
}

// TestGophercloudPortBindings binds a port with gophercloud's portsbinding
// extension, as Ironic and Terraform's openstack_networking_port_v2 do.
func TestGophercloudPortBindings(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		client := adminNetworkClient(t, c)
		ctx := context.Background()
		net, err := networks.Create(ctx, client, networks.CreateOpts{Name: "n"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := subnets.Create(ctx, client, subnets.CreateOpts{NetworkID: net.ID, IPVersion: gophercloud.IPv4, CIDR: "10.9.0.0/24"}).Extract(); err != nil {
			t.Fatal(err)
		}
		var p struct {
			ports.Port
			portsbinding.PortsBindingExt
		}
		err = ports.Create(ctx, client, portsbinding.CreateOptsExt{CreateOptsBuilder: ports.CreateOpts{NetworkID: net.ID},
			HostID: "apptest-host", VNICType: "normal"}).ExtractInto(&p)
		if err != nil {
			t.Fatal(err)
		}
		if p.HostID != "apptest-host" || p.VIFType != "bridge" || p.VNICType != "normal" || p.Profile == nil || p.VIFDetails == nil {
			t.Errorf("created port %+v", p.PortsBindingExt)
		}
		err = ports.Update(ctx, client, p.ID, portsbinding.UpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{},
			HostID: new(string)}).ExtractInto(&p)
		if err != nil {
			t.Fatal(err)
		}
		if p.HostID != "" || p.VIFType != "unbound" {
			t.Errorf("unbound port %+v", p.PortsBindingExt)
		}
	})
}
