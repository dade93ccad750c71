package networking_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// floatingIPKeys are the attributes of a floating IP in the api-ref's
// samples that kumo serves (no dns, qos or port forwardings).
var floatingIPKeys = []string{"created_at", "description", "fixed_ip_address", "floating_ip_address", "floating_network_id",
	"id", "port_details", "port_id", "project_id", "revision_number", "router_id", "status", "tags", "tenant_id", "updated_at"}

// Nova's proxies and the networking API read and write the same floating
// IPs: binding by addFloatingIp equals setting port_id to the server's
// port, and the other way round.
func TestFloatingIPsTwoFaces(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		server := c.CreateServer(c.member, "s1", nil)
		c.Step()
		port := list(t, c.member.Do("GET", "/networking/v2.0/ports?device_id="+server, nil).Expect(t, http.StatusOK), "ports")[0]
		portID, fixed := port["id"].(string), fixedAddrs(t, port)[0]
		public := list(t, c.member.Do("GET", "/networking/v2.0/networks?router:external=true", nil).Expect(t, http.StatusOK), "networks")[0]

		fip := create(t, c.member, "/networking/v2.0/floatingips", "floatingip", map[string]any{
			"floating_network_id": public["id"], "description": "d"})
		wantKeys(t, "created floating IP", fip, floatingIPKeys)
		id, addr := fip["id"].(string), fip["floating_ip_address"].(string)
		if fip["status"] != "DOWN" || fip["port_id"] != nil || fip["fixed_ip_address"] != nil || fip["description"] != "d" ||
			fip["floating_network_id"] != public["id"] || fip["project_id"] != c.MemberProject || fip["revision_number"] != float64(1) {
			t.Errorf("created %v", fip)
		}
		novaShow := func() map[string]any {
			return obj(t, c.member.Do("GET", "/v2.1/os-floating-ips/"+id, nil).Expect(t, http.StatusOK), "floating_ip")
		}
		if n := novaShow(); n["ip"] != addr || n["instance_id"] != nil || n["pool"] != "public" {
			t.Errorf("Nova's view of a new floating IP %v", n)
		}

		// Nova binds: Neutron sees the server's port.
		c.member.Do("POST", "/v2.1/servers/"+server+"/action", map[string]any{"addFloatingIp": map[string]any{"address": addr}}).
			Expect(t, http.StatusAccepted)
		got := obj(t, c.member.Do("GET", "/networking/v2.0/floatingips/"+id, nil).Expect(t, http.StatusOK), "floatingip")
		details, _ := got["port_details"].(map[string]any)
		if got["port_id"] != portID || got["fixed_ip_address"] != fixed || got["status"] != "ACTIVE" || got["router_id"] == nil ||
			details["device_id"] != server || details["device_owner"] != "compute:nova" || details["mac_address"] != port["mac_address"] {
			t.Errorf("after addFloatingIp %v", got)
		}

		// Neutron unbinds and binds again by port: Nova sees the server.
		upd := func(body map[string]any) map[string]any {
			return obj(t, c.member.Do("PUT", "/networking/v2.0/floatingips/"+id, map[string]any{"floatingip": body}).
				Expect(t, http.StatusOK), "floatingip")
		}
		if got := upd(map[string]any{"port_id": nil}); got["port_id"] != nil || got["status"] != "DOWN" || got["port_details"] != nil {
			t.Errorf("after port_id null %v", got)
		}
		if n := novaShow(); n["instance_id"] != nil || n["fixed_ip"] != nil {
			t.Errorf("Nova after Neutron's disassociate %v", n)
		}
		if got := upd(map[string]any{"port_id": portID, "description": "e"}); got["port_id"] != portID || got["fixed_ip_address"] != fixed ||
			got["description"] != "e" || got["revision_number"] != float64(4) {
			t.Errorf("after port_id %v", got)
		}
		if n := novaShow(); n["instance_id"] != server || n["fixed_ip"] != fixed {
			t.Errorf("Nova after Neutron's associate %v", n)
		}
		byPort := list(t, c.member.Do("GET", "/networking/v2.0/floatingips?port_id="+portID, nil).Expect(t, http.StatusOK), "floatingips")
		if len(byPort) != 1 || byPort[0]["id"] != id {
			t.Errorf("list by port %v", byPort)
		}
		if got := list(t, c.other.Do("GET", "/networking/v2.0/floatingips", nil).Expect(t, http.StatusOK), "floatingips"); len(got) != 0 {
			t.Errorf("another project lists %v", got)
		}

		// The removed floating IP is gone from both faces.
		c.member.Do("DELETE", "/networking/v2.0/floatingips/"+id, nil).Expect(t, http.StatusNoContent)
		c.member.Do("GET", "/v2.1/os-floating-ips/"+id, nil).Expect(t, http.StatusNotFound)
	})
}

func TestFloatingIPErrors(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		public := list(t, c.Admin.Do("GET", "/networking/v2.0/networks?router:external=true", nil).Expect(t, http.StatusOK), "networks")[0]
		pubID := public["id"].(string)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		subnetID := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4,
			"cidr": "10.9.0.0/24"})["id"].(string)
		port := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID})
		portID := port["id"].(string)
		// No router connects the subnet to the external network yet.
		wantError(t, c.member.Do("POST", "/networking/v2.0/floatingips", map[string]any{"floatingip": map[string]any{
			"floating_network_id": pubID, "port_id": portID}}), 404, "ExternalGatewayForFloatingIPNotFound",
			"External network "+pubID+" is not reachable from subnet "+subnetID+".  Therefore, cannot associate Port "+portID+
				" with a Floating IP.")
		routerID := create(t, c.member, "/networking/v2.0/routers", "router", map[string]any{"name": "r",
			"external_gateway_info": map[string]any{"network_id": pubID}})["id"].(string)
		c.member.Do("PUT", "/networking/v2.0/routers/"+routerID+"/add_router_interface", map[string]any{"subnet_id": subnetID}).
			Expect(t, http.StatusOK)
		dhcp := create(t, c.Admin, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID,
			"device_owner": "network:dhcp", "project_id": c.MemberProject})["id"].(string)
		// On the member's network, so the member sees it, but the admin's.
		adminPort := create(t, c.Admin, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID})["id"].(string)
		otherNet := create(t, c.other, "/networking/v2.0/networks", "network", map[string]any{"name": "o"})["id"].(string)
		create(t, c.other, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": otherNet, "ip_version": 4, "cidr": "10.8.0.0/24"})
		otherPort := create(t, c.other, "/networking/v2.0/ports", "port", map[string]any{"network_id": otherNet})["id"].(string)
		bound := create(t, c.member, "/networking/v2.0/floatingips", "floatingip", map[string]any{"floating_network_id": pubID,
			"port_id": portID})
		if bound["port_id"] != portID || bound["status"] != "ACTIVE" || bound["router_id"] != routerID || bound["revision_number"] != float64(1) {
			t.Fatalf("created bound %v", bound)
		}
		free := create(t, c.member, "/networking/v2.0/floatingips", "floatingip", map[string]any{"floating_network_id": pubID})
		given := create(t, c.Admin, "/networking/v2.0/floatingips", "floatingip", map[string]any{"floating_network_id": pubID,
			"floating_ip_address": "203.0.113.77"})
		if given["floating_ip_address"] != "203.0.113.77" {
			t.Errorf("admin's address %v", given)
		}
		freePath := "/networking/v2.0/floatingips/" + free["id"].(string)
		fipBody := func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return map[string]any{"floatingip": m}
		}
		cases := []struct {
			name, method, path string
			body               any
			status             int
			typ, msg           string
		}{
			{"private network", "POST", "/networking/v2.0/floatingips", fipBody("floating_network_id", netID), 400, "BadRequest",
				"Bad floatingip request: Network " + netID + " is not a valid external network."},
			{"no network", "POST", "/networking/v2.0/floatingips", fipBody("description", "x"), 400, "HTTPBadRequest",
				"Failed to parse request. Required attribute 'floating_network_id' not specified"},
			{"address by a member", "POST", "/networking/v2.0/floatingips", fipBody("floating_network_id", pubID,
				"floating_ip_address", "203.0.113.78"), 403, "PolicyNotAuthorized",
				"(rule:create_floatingip:floating_ip_address) is disallowed by policy"},
			{"port already has one", "PUT", freePath, fipBody("port_id", portID), 409, "FloatingIPPortAlreadyAssociated",
				"Cannot associate floating IP " + free["floating_ip_address"].(string) + " (" + free["id"].(string) + ") with port " +
					portID + " using fixed IP " + fixedAddrs(t, port)[0] + ", as that fixed IP already has a floating IP on external network " + pubID + "."},
			{"another project's port", "PUT", freePath, fipBody("port_id", otherPort), 404, "PortNotFound", ""},
			{"fixed address without port", "PUT", freePath, fipBody("fixed_ip_address", "10.9.0.5"), 400, "BadRequest",
				"Bad floatingip request: fixed_ip_address cannot be specified without a port_id."},
			{"address the port lacks", "PUT", "/networking/v2.0/floatingips/" + bound["id"].(string),
				fipBody("port_id", portID, "fixed_ip_address", "10.9.0.200"), 400, "BadRequest",
				"Bad floatingip request: Port " + portID + " does not have fixed ip 10.9.0.200."},
			{"DHCP port", "PUT", freePath, fipBody("port_id", dhcp), 400, "BadRequest",
				"Bad floatingip request: Port " + dhcp + " is unable to be assigned a floating IP."},
			{"port of another project on the network", "PUT", freePath, fipBody("port_id", adminPort), 400, "BadRequest",
				"Bad floatingip request: Cannot process floating IP association with Port " + adminPort +
					", since that port is owned by a different project."},
			{"read-only", "PUT", freePath, fipBody("floating_network_id", pubID), 400, "HTTPBadRequest",
				"Cannot update read-only attribute floating_network_id"},
			{"unknown", "GET", "/networking/v2.0/floatingips/nope", nil, 404, "FloatingIPNotFound", "Floating IP nope could not be found"},
			{"foreign", "GET", freePath, nil, 404, "FloatingIPNotFound", ""},
			{"reader writes", "DELETE", freePath, nil, 403, "PolicyNotAuthorized", ""},
		}
		for _, tc := range cases {
			client := c.member
			switch tc.name {
			case "foreign":
				client = c.other
			case "reader writes":
				client = c.reader
			}
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, client.Do(tc.method, tc.path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}
		c.Admin.Do("POST", "/networking/v2.0/floatingips", fipBody("floating_network_id", pubID, "floating_ip_address", "203.0.113.77")).
			Expect(t, http.StatusConflict)
		c.Admin.Do("PUT", "/networking/v2.0/quotas/"+c.MemberProject, map[string]any{"quota": map[string]any{"floatingip": 2}}).
			Expect(t, http.StatusOK)
		wantError(t, c.member.Do("POST", "/networking/v2.0/floatingips", fipBody("floating_network_id", pubID)), 409, "OverQuota",
			"Quota exceeded for resources: ['floatingip'].")
	})
}

// On a fresh cloud a project's network made on first need gets its
// router (DevStack's router1) when a floating IP is first bound to one
// of its ports, so binding works as it did before routers existed.
func TestDefaultTopology(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		s1 := c.CreateServer(c.member, "s1", nil)
		s2 := c.CreateServer(c.member, "s2", nil)
		c.Step()
		if rs := list(t, c.member.Do("GET", "/networking/v2.0/routers", nil).Expect(t, http.StatusOK), "routers"); len(rs) != 0 {
			t.Fatalf("routers before any floating IP %v", rs)
		}
		pubID := list(t, c.member.Do("GET", "/networking/v2.0/networks?router:external=true", nil).Expect(t, http.StatusOK),
			"networks")[0]["id"].(string)
		private := list(t, c.member.Do("GET", "/networking/v2.0/networks?name=private", nil).Expect(t, http.StatusOK), "networks")[0]
		subnet := obj(t, c.member.Do("GET", "/networking/v2.0/subnets/"+private["subnets"].([]any)[0].(string), nil).
			Expect(t, http.StatusOK), "subnet")
		bind := func(server string) map[string]any {
			port := list(t, c.member.Do("GET", "/networking/v2.0/ports?device_id="+server, nil).Expect(t, http.StatusOK), "ports")[0]
			return create(t, c.member, "/networking/v2.0/floatingips", "floatingip", map[string]any{
				"floating_network_id": pubID, "port_id": port["id"]})
		}
		f1, f2 := bind(s1), bind(s2)
		rs := list(t, c.member.Do("GET", "/networking/v2.0/routers", nil).Expect(t, http.StatusOK), "routers")
		if len(rs) != 1 || rs[0]["name"] != "router1" || rs[0]["external_gateway_info"].(map[string]any)["network_id"] != pubID {
			t.Fatalf("routers after binding %v", rs)
		}
		if f1["status"] != "ACTIVE" || f1["router_id"] != rs[0]["id"] || f2["router_id"] != rs[0]["id"] {
			t.Errorf("floating IPs %v %v", f1, f2)
		}
		ifaces := list(t, c.member.Do("GET", "/networking/v2.0/ports?device_owner=network:router_interface", nil).
			Expect(t, http.StatusOK), "ports")
		if len(ifaces) != 1 || ifaces[0]["device_id"] != rs[0]["id"] || fixedAddrs(t, ifaces[0])[0] != subnet["gateway_ip"] {
			t.Errorf("router interfaces %v (subnet %v)", ifaces, subnet)
		}
	})
}

// Nova's addFloatingIp checks the router as Neutron's association does:
// a server on a network no router connects to the external network
// gets Nova's 400 wrapping Neutron's message, and binds once a router
// serves its subnet.
func TestAddFloatingIPNeedsARouter(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		pubID := list(t, c.member.Do("GET", "/networking/v2.0/networks?router:external=true", nil).Expect(t, http.StatusOK),
			"networks")[0]["id"].(string)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		subnetID := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4,
			"cidr": "10.9.0.0/24"})["id"].(string)
		server := c.CreateServer(c.member, "s1", map[string]any{"networks": []any{map[string]any{"uuid": netID}}})
		c.Step()
		port := list(t, c.member.Do("GET", "/networking/v2.0/ports?device_id="+server, nil).Expect(t, http.StatusOK), "ports")[0]
		fixed := fixedAddrs(t, port)[0]
		fip := create(t, c.member, "/networking/v2.0/floatingips", "floatingip", map[string]any{"floating_network_id": pubID})
		addr := fip["floating_ip_address"].(string)
		add := map[string]any{"addFloatingIp": map[string]any{"address": addr}}
		r := c.member.Do("POST", "/v2.1/servers/"+server+"/action", add).Expect(t, http.StatusBadRequest)
		want := "Unable to associate floating IP " + addr + " to fixed IP " + fixed + " for instance " + server +
			". Error: External network " + pubID + " is not reachable from subnet " + subnetID +
			".  Therefore, cannot associate Port " + port["id"].(string) + " with a Floating IP."
		if msg := r.JSON(t)["badRequest"].(map[string]any)["message"]; msg != want {
			t.Errorf("addFloatingIp without router: %v\nwant %s", msg, want)
		}
		routerID := create(t, c.member, "/networking/v2.0/routers", "router", map[string]any{
			"external_gateway_info": map[string]any{"network_id": pubID}})["id"].(string)
		c.member.Do("PUT", "/networking/v2.0/routers/"+routerID+"/add_router_interface", map[string]any{"subnet_id": subnetID}).
			Expect(t, http.StatusOK)
		c.member.Do("POST", "/v2.1/servers/"+server+"/action", add).Expect(t, http.StatusAccepted)
		got := obj(t, c.member.Do("GET", "/networking/v2.0/floatingips/"+fip["id"].(string), nil).Expect(t, http.StatusOK), "floatingip")
		if got["router_id"] != routerID || got["port_id"] != port["id"] {
			t.Errorf("bound by Nova %v", got)
		}
	})
}
