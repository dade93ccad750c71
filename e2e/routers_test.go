package e2e

import (
	"strings"
	"testing"
)

// TestRoutersCLI builds a project topology with the openstack CLI as a
// DevStack user would: a network and subnet, a router with its gateway on
// the external network and an interface on the subnet, a floating IP
// bound to a port through it; the router is in use until taken apart.
func TestRoutersCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t)
	cli.Run(t, "network", "create", "n")
	var subnet obj
	cli.JSON(t, &subnet, "subnet", "create", "--network", "n", "--subnet-range", "10.50.0.0/24", "s")
	var router obj
	cli.JSON(t, &router, "router", "create", "r")
	cli.Run(t, "router", "set", "r", "--external-gateway", "public")
	cli.Run(t, "router", "add", "subnet", "r", "s")
	cli.JSON(t, &router, "router", "show", "r")
	gw, _ := router["external_gateway_info"].(map[string]any)
	ifaces, _ := router["interfaces_info"].([]any)
	if gw == nil || router["status"] != "ACTIVE" || len(ifaces) != 1 ||
		ifaces[0].(map[string]any)["ip_address"] != subnet.str(t, "gateway_ip") {
		t.Fatalf("router %v", router)
	}
	var port obj
	cli.JSON(t, &port, "port", "create", "--network", "n", "p")
	var fip obj
	cli.JSON(t, &fip, "floating", "ip", "create", "--port", "p", "public")
	if fip["status"] != "ACTIVE" || fip["router_id"] != router.str(t, "id") || fip["port_id"] != port.str(t, "id") {
		t.Fatalf("floating IP %v", fip)
	}
	if out := cli.Fail(t, "router", "remove", "subnet", "r", "s"); !strings.Contains(out, "required by one or more floating IPs") {
		t.Fatalf("remove the interface in use: %s", out)
	}
	if out := cli.Fail(t, "router", "delete", "r"); !strings.Contains(out, "still has ports") {
		t.Fatalf("delete the router in use: %s", out)
	}
	cli.Run(t, "floating", "ip", "delete", fip.str(t, "id"))
	cli.Run(t, "router", "remove", "subnet", "r", "s")
	cli.Run(t, "router", "unset", "--external-gateway", "r")
	cli.Run(t, "router", "delete", "r")
	var routers []obj
	cli.JSON(t, &routers, "router", "list")
	if len(routers) != 0 {
		t.Fatalf("routers after delete %v", routers)
	}
}
