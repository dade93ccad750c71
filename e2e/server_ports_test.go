package e2e

import "testing"

// TestServerOnPortCLI boots a server on a port the user made, as with
// Nova and Neutron: `openstack server create --nic port-id=...` binds the
// port to the server, and deleting the server leaves the port, unbound.
func TestServerOnPortCLI(t *testing.T) {
	t.Parallel()
	_, cli := startAdmin(t)
	cli.Run(t, "network", "create", "n")
	cli.Run(t, "subnet", "create", "--network", "n", "--subnet-range", "10.60.0.0/24", "s")
	var port obj
	cli.JSON(t, &port, "port", "create", "--network", "n", "--fixed-ip", "subnet=s,ip-address=10.60.0.42", "p")
	var srv obj
	cli.JSON(t, &srv, "server", "create", "--image", "kumo-tiny", "--flavor", "1", "--nic", "port-id="+port.str(t, "id"), "--wait", "vm")
	addrs, _ := srv["addresses"].(map[string]any)
	if ips, _ := addrs["n"].([]any); len(ips) != 1 || ips[0] != "10.60.0.42" {
		t.Fatalf("server addresses %v, want the port's 10.60.0.42 on n", srv["addresses"])
	}
	var bound obj
	cli.JSON(t, &bound, "port", "show", "p")
	if bound["device_id"] != srv.str(t, "id") || bound["device_owner"] != "compute:nova" || bound["status"] != "ACTIVE" {
		t.Fatalf("port of the server: device %v owner %v status %v", bound["device_id"], bound["device_owner"], bound["status"])
	}
	cli.Run(t, "server", "delete", "--wait", "vm")
	var left obj
	cli.JSON(t, &left, "port", "show", "p")
	if left["device_id"] != "" || left["device_owner"] != "" || left["status"] != "DOWN" ||
		left["mac_address"] != port["mac_address"] || left["id"] != port["id"] {
		t.Fatalf("port after the server's delete: device %v owner %v status %v", left["device_id"], left["device_owner"], left["status"])
	}
}
