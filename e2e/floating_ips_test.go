package e2e

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// The catalog has a network endpoint, so the openstack CLI takes the
// Neutron path for "floating ip" commands (/v2.0/floatingips) and binds
// with "server add floating ip" by setting port_id to the server's port,
// as against a cloud with Neutron.

// floatingRange is kumo's default --floating-range.
var floatingRange = netip.MustParsePrefix("203.0.113.0/24")

// TestFloatingIPsCLI allocates, binds, unbinds and releases a floating IP
// with the openstack CLI on both engines; deleting the bound server leaves
// the floating IP allocated and unbound.
func TestFloatingIPsCLI(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engineArgs []string) {
		_, cli := startAdmin(t, engineArgs...)
		// Pools are nova-network's: the CLI refuses them with Neutron.
		if out := cli.Fail(t, "floating", "ip", "pool", "list"); !strings.Contains(out, "only available for Compute v2 network") {
			t.Fatalf("pool list: %s", out)
		}
		var fip obj
		cli.JSON(t, &fip, "floating", "ip", "create", "public")
		ip, id := fip.str(t, "floating_ip_address"), fip.str(t, "id")
		if !floatingRange.Contains(netip.MustParseAddr(ip)) || fip["port_id"] != nil || fip["fixed_ip_address"] != nil ||
			fip["status"] != "DOWN" {
			t.Fatalf("created %v", fip)
		}
		if out := cli.Fail(t, "floating", "ip", "create", "nope"); !strings.Contains(out, "nope") {
			t.Fatalf("create on an unknown network: %s", out)
		}
		var srv obj
		cli.JSON(t, &srv, "server", "create", "--image", "kumo-tiny", "--flavor", "1", "--wait", "vm")
		cli.Run(t, "server", "add", "floating", "ip", "vm", ip)
		if got := privateAddresses(t, cli); len(got) != 2 || got[1] != ip {
			t.Fatalf("server addresses after add: %v", got)
		}
		var ports []obj
		cli.JSON(t, &ports, "port", "list", "--server", "vm")
		if len(ports) != 1 {
			t.Fatalf("ports of vm %v", ports)
		}
		var list []obj
		cli.JSON(t, &list, "floating", "ip", "list")
		if len(list) != 1 || list[0].str(t, "Port") != ports[0].str(t, "ID") || list[0].str(t, "Fixed IP Address") != privateAddresses(t, cli)[0] {
			t.Fatalf("list while bound %v", list)
		}
		cli.Run(t, "server", "remove", "floating", "ip", "vm", ip)
		if got := privateAddresses(t, cli); len(got) != 1 {
			t.Fatalf("server addresses after remove: %v", got)
		}
		// Neutron's disassociate sets port_id to null again: no error.
		cli.Run(t, "server", "remove", "floating", "ip", "vm", ip)
		cli.Run(t, "server", "add", "floating", "ip", "vm", ip)
		cli.Run(t, "server", "delete", "--wait", "vm")
		cli.JSON(t, &list, "floating", "ip", "list")
		if len(list) != 1 || list[0].str(t, "ID") != id || list[0]["Port"] != nil || list[0]["Fixed IP Address"] != nil {
			t.Fatalf("list after the server's delete %v", list)
		}
		cli.Run(t, "floating", "ip", "delete", ip)
		cli.JSON(t, &list, "floating", "ip", "list")
		if len(list) != 0 {
			t.Fatalf("list after delete %v", list)
		}
	})
}

// privateAddresses is the address list "server show vm" prints for the
// private network.
func privateAddresses(t *testing.T, cli *CLI) []string {
	t.Helper()
	var srv obj
	cli.JSON(t, &srv, "server", "show", "vm")
	addrs, _ := srv["addresses"].(map[string]any)
	var out []string
	for _, a := range addrs["private"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

// TestFloatingIPsGophercloud drives the proxies and actions with raw
// requests on gophercloud's compute client: gophercloud v2 has no compute
// floating IP package (it dropped nova-network's extensions).
func TestFloatingIPsGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	cl := c.Compute
	ctx := context.Background()

	at := func(version string) *gophercloud.ServiceClient {
		cp := *cl
		cp.Microversion = version
		return &cp
	}
	var created struct {
		FloatingIP map[string]any `json:"floating_ip"`
	}
	if _, err := at("2.35").Post(ctx, cl.ServiceURL("os-floating-ips"), map[string]any{"pool": "public"}, &created,
		&gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		t.Fatalf("allocate: %v", err)
	}
	ip, id := created.FloatingIP["ip"].(string), created.FloatingIP["id"].(string)
	if _, err := at("2.36").Get(ctx, cl.ServiceURL("os-floating-ips"), nil, nil); errorStatus(err) != http.StatusNotFound {
		t.Fatalf("list at 2.36: %v", err)
	}

	srv, err := servers.Create(ctx, at("2.37"), servers.CreateOpts{Name: "gc-fip", ImageRef: imageIDByName(t, c, "kumo-tiny"),
		FlavorRef: "1", Networks: "auto"}, nil).Extract()
	if err != nil {
		t.Fatalf("create server: %v", err)
	}
	gcWaitStatus(t, cl, srv.ID, "ACTIVE")
	action := cl.ServiceURL("servers", srv.ID, "action")
	add := map[string]any{"addFloatingIp": map[string]any{"address": ip}}
	if _, err := at("2.44").Post(ctx, action, add, nil, &gophercloud.RequestOpts{OkCodes: []int{202}}); errorStatus(err) != http.StatusNotFound {
		t.Fatalf("addFloatingIp at 2.44: %v", err)
	}
	if _, err := at("2.43").Post(ctx, action, add, nil, &gophercloud.RequestOpts{OkCodes: []int{202}}); err != nil {
		t.Fatalf("addFloatingIp at 2.43: %v", err)
	}

	// The floating address shows on the server as Nova+Neutron shows it.
	got, err := servers.Get(ctx, at("2.1"), srv.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	private, _ := got.Addresses["private"].([]any)
	if len(private) != 2 {
		t.Fatalf("addresses %v", got.Addresses)
	}
	fixed, floating := private[0].(map[string]any), private[1].(map[string]any)
	if floating["addr"] != ip || floating["OS-EXT-IPS:type"] != "floating" || floating["version"] != float64(4) ||
		floating["OS-EXT-IPS-MAC:mac_addr"] != fixed["OS-EXT-IPS-MAC:mac_addr"] {
		t.Fatalf("floating address %v (fixed %v)", floating, fixed)
	}
	var shown struct {
		FloatingIP map[string]any `json:"floating_ip"`
	}
	if _, err := at("2.1").Get(ctx, cl.ServiceURL("os-floating-ips", id), &shown, nil); err != nil {
		t.Fatal(err)
	}
	if shown.FloatingIP["instance_id"] != srv.ID || shown.FloatingIP["fixed_ip"] != fixed["addr"] {
		t.Fatalf("shown %v", shown.FloatingIP)
	}
	var list struct {
		Servers []servers.Server `json:"servers"`
	}
	if _, err := at("2.1").Get(ctx, cl.ServiceURL("servers", "detail"), &list, nil); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(list.Servers, func(s servers.Server) bool { return s.ID == srv.ID }); i < 0 ||
		len(list.Servers[i].Addresses["private"].([]any)) != 2 {
		t.Fatalf("detail list %+v", list.Servers)
	}

	remove := map[string]any{"removeFloatingIp": map[string]any{"address": ip}}
	if _, err := at("2.1").Post(ctx, action, remove, nil, &gophercloud.RequestOpts{OkCodes: []int{202}}); err != nil {
		t.Fatalf("removeFloatingIp: %v", err)
	}
	if _, err := at("2.1").Post(ctx, action, remove, nil, &gophercloud.RequestOpts{OkCodes: []int{202}}); errorStatus(err) != http.StatusConflict {
		t.Fatalf("second removeFloatingIp: %v", err)
	}
	if _, err := at("2.1").Delete(ctx, cl.ServiceURL("os-floating-ips", id), &gophercloud.RequestOpts{OkCodes: []int{202}}); err != nil {
		t.Fatalf("deallocate: %v", err)
	}
	if _, err := at("2.1").Get(ctx, cl.ServiceURL("os-floating-ips", id), nil, nil); errorStatus(err) != http.StatusNotFound {
		t.Fatalf("show after deallocate: %v", err)
	}
}
