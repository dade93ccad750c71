package networking_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// routerKeys are the attributes of a router in the api-ref's samples
// that kumo serves (no distributed, ha, flavor, conntrack helpers).
var routerKeys = []string{"admin_state_up", "availability_zone_hints", "availability_zones", "created_at", "description",
	"external_gateway_info", "id", "name", "project_id", "revision_number", "routes", "status", "tags", "tenant_id", "updated_at"}

func TestRouters(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		pubID := list(t, c.member.Do("GET", "/networking/v2.0/networks?router:external=true", nil).Expect(t, http.StatusOK),
			"networks")[0]["id"].(string)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "n"})["id"].(string)
		subnetID := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4,
			"cidr": "10.9.0.0/24"})["id"].(string)
		noGateway := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4,
			"cidr": "10.10.0.0/24", "gateway_ip": nil})["id"].(string)
		otherNet := create(t, c.other, "/networking/v2.0/networks", "network", map[string]any{"name": "o"})["id"].(string)
		otherSubnet := create(t, c.other, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": otherNet,
			"ip_version": 4, "cidr": "10.8.0.0/24"})["id"].(string)

		r := create(t, c.member, "/networking/v2.0/routers", "router", map[string]any{"name": "r1"})
		wantKeys(t, "created router", r, routerKeys)
		if r["external_gateway_info"] != nil || r["status"] != "ACTIVE" || r["admin_state_up"] != true ||
			r["project_id"] != c.MemberProject || len(r["routes"].([]any)) != 0 {
			t.Errorf("created router %v", r)
		}
		id := r["id"].(string)
		path := "/networking/v2.0/routers/" + id
		put := func(body map[string]any) map[string]any {
			return obj(t, c.member.Do("PUT", path, map[string]any{"router": body}).Expect(t, http.StatusOK), "router")
		}
		got := put(map[string]any{"external_gateway_info": map[string]any{"network_id": pubID}})
		gw, _ := got["external_gateway_info"].(map[string]any)
		fixed, _ := gw["external_fixed_ips"].([]any)
		if gw["network_id"] != pubID || gw["enable_snat"] != true || len(fixed) != 1 || got["revision_number"] != float64(2) {
			t.Fatalf("router with a gateway %v", got)
		}
		gwAddr := fixed[0].(map[string]any)["ip_address"].(string)
		// The gateway's address is no floating IP's.
		if fips := list(t, c.Admin.Do("GET", "/networking/v2.0/floatingips?floating_ip_address="+gwAddr, nil).
			Expect(t, http.StatusOK), "floatingips"); len(fips) != 0 {
			t.Errorf("gateway address listed as a floating IP %v", fips)
		}
		wantError(t, c.Admin.Do("POST", "/networking/v2.0/floatingips", map[string]any{"floatingip": map[string]any{
			"floating_network_id": pubID, "floating_ip_address": gwAddr}}), 409, "IpAddressAlreadyAllocated", "")
		iface := c.member.Do("PUT", path+"/add_router_interface", map[string]any{"subnet_id": subnetID}).Expect(t, http.StatusOK).JSON(t)
		if iface["id"] != id || iface["subnet_id"] != subnetID || iface["network_id"] != netID || iface["project_id"] != c.MemberProject {
			t.Errorf("interface %v", iface)
		}
		free := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID})
		taken := create(t, c.member, "/networking/v2.0/ports", "port", map[string]any{"network_id": netID, "device_id": "some-server"})

		body := func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		router := func(kv ...any) map[string]any { return map[string]any{"router": body(kv...)} }
		cases := []struct {
			name, who, method, path string
			body                    any
			status                  int
			typ, msg                string
		}{
			{"gateway on a private network", "member", "PUT", path, router("external_gateway_info", body("network_id", netID)),
				400, "BadRequest", "Bad router request: Network " + netID + " is not an external network."},
			{"gateway on no network", "member", "PUT", path, router("external_gateway_info", body("network_id", "nope")),
				404, "NetworkNotFound", ""},
			{"snat by a member", "member", "PUT", path, router("external_gateway_info", body("network_id", pubID, "enable_snat", false)),
				403, "PolicyNotAuthorized", "(rule:update_router:external_gateway_info:enable_snat) is disallowed by policy"},
			{"gateway address by a member", "member", "POST", "/networking/v2.0/routers", router("external_gateway_info",
				body("network_id", pubID, "external_fixed_ips", []any{body("ip_address", "203.0.113.9")})),
				403, "PolicyNotAuthorized", "(rule:create_router:external_gateway_info:external_fixed_ips) is disallowed by policy"},
			{"routes on create", "member", "POST", "/networking/v2.0/routers", router("routes", []any{}),
				400, "HTTPBadRequest", "Attribute 'routes' not allowed in POST"},
			{"subnet attached twice", "member", "PUT", path + "/add_router_interface", body("subnet_id", subnetID),
				400, "BadRequest", "Bad router request: Router already has a port on subnet " + subnetID + "."},
			{"subnet without gateway", "member", "PUT", path + "/add_router_interface", body("subnet_id", noGateway),
				400, "BadRequest", "Bad router request: Subnet for router interface must have a gateway IP."},
			{"another project's subnet", "member", "PUT", path + "/add_router_interface", body("subnet_id", otherSubnet),
				404, "SubnetNotFound", ""},
			{"port with a device", "member", "PUT", path + "/add_router_interface", body("port_id", taken["id"]),
				409, "PortInUse", ""},
			{"port on an attached subnet", "member", "PUT", path + "/add_router_interface", body("port_id", free["id"]),
				400, "BadRequest", "Bad router request: Router already has a port on subnet " + subnetID + "."},
			{"both", "member", "PUT", path + "/add_router_interface", body("port_id", free["id"], "subnet_id", subnetID),
				400, "BadRequest", "Bad router request: Cannot specify both subnet-id and port-id."},
			{"neither", "member", "PUT", path + "/add_router_interface", body(),
				400, "BadRequest", "Bad router request: Either subnet_id or port_id must be specified."},
			{"no interface on the subnet", "member", "PUT", path + "/remove_router_interface", body("subnet_id", noGateway),
				404, "RouterInterfaceNotFoundForSubnet", "Router " + id + " has no interface on subnet " + noGateway},
			{"no interface by port", "member", "PUT", path + "/remove_router_interface", body("port_id", free["id"]),
				404, "RouterInterfaceNotFound", "Router " + id + " does not have an interface with id " + free["id"].(string)},
			{"in use", "member", "DELETE", path, nil, 409, "RouterInUse", "Router " + id + " still has ports"},
			{"interface port by the port API", "member", "DELETE", "/networking/v2.0/ports/" + iface["port_id"].(string), nil,
				409, "ServicePortInUse", "Port " + iface["port_id"].(string) + " cannot be deleted directly via the port API: " +
					"has device owner network:router_interface."},
			{"another project's router", "other", "GET", path, nil, 404, "RouterNotFound", "Router " + id + " could not be found"},
			{"another project's router interface", "other", "PUT", path + "/add_router_interface", body("subnet_id", otherSubnet),
				404, "RouterNotFound", ""},
			{"reader", "reader", "PUT", path + "/remove_router_interface", body("subnet_id", subnetID), 403, "PolicyNotAuthorized", ""},
		}
		for _, tc := range cases {
			client := c.member
			switch tc.who {
			case "other":
				client = c.other
			case "reader":
				client = c.reader
			}
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, client.Do(tc.method, tc.path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}

		// The admin sets the gateway's address and SNAT.
		setGateway := map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{
			"network_id": pubID, "enable_snat": false, "external_fixed_ips": []any{map[string]any{"ip_address": "203.0.113.9"}}}}}
		// Again with the address it holds: no change of address.
		for range 2 {
			admin := obj(t, c.Admin.Do("PUT", path, setGateway).Expect(t, http.StatusOK), "router")
			gw = admin["external_gateway_info"].(map[string]any)
			if gw["enable_snat"] != false || gw["external_fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "203.0.113.9" {
				t.Errorf("admin's gateway %v", admin)
			}
		}
		// Taken apart: the interface by port, the gateway, the router.
		c.member.Do("PUT", path+"/remove_router_interface", map[string]any{"port_id": iface["port_id"]}).Expect(t, http.StatusOK)
		if got := put(map[string]any{"external_gateway_info": map[string]any{}}); got["external_gateway_info"] != nil {
			t.Errorf("gateway removed %v", got)
		}
		c.Admin.Do("POST", "/networking/v2.0/floatingips", map[string]any{"floatingip": map[string]any{
			"floating_network_id": pubID, "floating_ip_address": "203.0.113.9"}}).Expect(t, http.StatusCreated)
		c.member.Do("DELETE", path, nil).Expect(t, http.StatusNoContent)
		c.member.Do("GET", path, nil).Expect(t, http.StatusNotFound)
	})
}
