package networking_test

import (
	"net/http"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestL3OnAnyExternalNetwork: on an external network an admin makes,
// floating IPs and router gateways take their addresses from its subnet
// and own ports there (hidden from projects, not deletable through the
// port API) that keep other ports off their addresses, count in the IP
// availability and keep the network in use; a network delete takes its
// unbound floating IPs along.
func TestL3OnAnyExternalNetwork(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		const v2 = "/networking/v2.0"
		extID := create(t, c.Admin, v2+"/networks", "network", map[string]any{"name": "ext2", "router:external": true})["id"].(string)
		subnetID := create(t, c.Admin, v2+"/subnets", "subnet", map[string]any{"network_id": extID, "ip_version": 4,
			"cidr": "198.51.100.0/28", "enable_dhcp": false})["id"].(string)

		// A fixed address: a random one could take the gateway's .9.
		fip := create(t, c.Admin, v2+"/floatingips", "floatingip", map[string]any{"floating_network_id": extID,
			"project_id": c.MemberProject, "floating_ip_address": "198.51.100.5"})
		fipID, fipAddr := fip["id"].(string), fip["floating_ip_address"].(string)
		if fip["floating_network_id"] != extID || fip["project_id"] != c.MemberProject {
			t.Errorf("floating IP %v", fip)
		}
		r := create(t, c.Admin, v2+"/routers", "router", map[string]any{"name": "r", "external_gateway_info": map[string]any{
			"network_id": extID, "external_fixed_ips": []any{map[string]any{"subnet_id": subnetID, "ip_address": "198.51.100.9"}}}})
		routerID := r["id"].(string)
		gw := r["external_gateway_info"].(map[string]any)["external_fixed_ips"].([]any)
		if len(gw) != 1 || gw[0].(map[string]any)["ip_address"] != "198.51.100.9" || gw[0].(map[string]any)["subnet_id"] != subnetID {
			t.Errorf("gateway %v", r["external_gateway_info"])
		}

		ports := list(t, c.Admin.Do("GET", v2+"/ports?network_id="+extID, nil).Expect(t, http.StatusOK), "ports")
		byOwner := map[string]map[string]any{}
		for _, p := range ports {
			byOwner[p["device_owner"].(string)] = p
		}
		for _, tt := range []struct {
			owner, device, address string
		}{
			{"network:floatingip", fipID, fipAddr},
			{"network:router_gateway", routerID, "198.51.100.9"},
		} {
			p, ok := byOwner[tt.owner]
			if !ok {
				t.Errorf("no %s port on the external network: %v", tt.owner, ports)
				continue
			}
			fixed := p["fixed_ips"].([]any)
			if p["device_id"] != tt.device || p["project_id"] != "" || len(fixed) != 1 ||
				fixed[0].(map[string]any)["ip_address"] != tt.address {
				t.Errorf("%s port %v", tt.owner, p)
			}
			wantError(t, c.Admin.Do("DELETE", v2+"/ports/"+p["id"].(string), nil), http.StatusConflict, "ServicePortInUse",
				"Port "+p["id"].(string)+" cannot be deleted directly via the port API: has device owner "+tt.owner+".")
			c.member.Do("GET", v2+"/ports/"+p["id"].(string), nil).Expect(t, http.StatusNotFound)
			c.member.Do("DELETE", v2+"/ports/"+p["id"].(string), nil).Expect(t, http.StatusNotFound)
		}
		if len(ports) != 2 {
			t.Errorf("ports on the external network: %v", ports)
		}
		if mine := list(t, c.member.Do("GET", v2+"/ports?network_id="+extID, nil).Expect(t, http.StatusOK), "ports"); len(mine) != 0 {
			t.Errorf("a member sees %v", mine)
		}

		// Their addresses are taken, for ports, gateways and floating IPs.
		for _, tt := range []struct {
			name, path, key string
			body            map[string]any
		}{
			{"port on the floating IP's address", v2 + "/ports", "port", map[string]any{"network_id": extID,
				"fixed_ips": []any{map[string]any{"ip_address": fipAddr}}}},
			{"port on the gateway's address", v2 + "/ports", "port", map[string]any{"network_id": extID,
				"fixed_ips": []any{map[string]any{"ip_address": "198.51.100.9"}}}},
			{"floating IP on the gateway's address", v2 + "/floatingips", "floatingip", map[string]any{
				"floating_network_id": extID, "floating_ip_address": "198.51.100.9"}},
			{"gateway on the floating IP's address", v2 + "/routers", "router", map[string]any{"external_gateway_info": map[string]any{
				"network_id": extID, "external_fixed_ips": []any{map[string]any{"ip_address": fipAddr}}}}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantError(t, c.Admin.Do("POST", tt.path, map[string]any{tt.key: tt.body}), http.StatusConflict,
					"IpAddressAlreadyAllocated", "")
			})
		}

		avail := obj(t, c.Admin.Do("GET", v2+"/network-ip-availabilities/"+extID, nil).Expect(t, http.StatusOK),
			"network_ip_availability")
		if avail["used_ips"] != float64(2) {
			t.Errorf("IP availability %v", avail)
		}

		// In use while the gateway is there; the unbound floating IP goes
		// with the network.
		wantError(t, c.Admin.Do("DELETE", v2+"/networks/"+extID, nil), http.StatusConflict, "NetworkInUse", "")
		wantError(t, c.Admin.Do("DELETE", v2+"/subnets/"+subnetID, nil), http.StatusConflict, "SubnetInUse", "")
		c.Admin.Do("PUT", v2+"/routers/"+routerID, map[string]any{"router": map[string]any{"external_gateway_info": nil}}).
			Expect(t, http.StatusOK)
		c.Admin.Do("DELETE", v2+"/networks/"+extID, nil).Expect(t, http.StatusNoContent)
		c.Admin.Do("GET", v2+"/floatingips/"+fipID, nil).Expect(t, http.StatusNotFound)
	})
}

// TestL3NetworkChecks: floating IPs and gateways need an external
// network (with an IPv4 subnet, for floating IPs).
func TestL3NetworkChecks(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	const v2 = "/networking/v2.0"
	internal := create(t, c.Admin, v2+"/networks", "network", map[string]any{"name": "internal"})["id"].(string)
	v6only := create(t, c.Admin, v2+"/networks", "network", map[string]any{"name": "v6", "router:external": true})["id"].(string)
	create(t, c.Admin, v2+"/subnets", "subnet", map[string]any{"network_id": v6only, "ip_version": 6, "cidr": "2001:db8::/64"})
	for _, tt := range []struct {
		name, path, key string
		body            map[string]any
		msg             string
	}{
		{"floating IP on an internal network", v2 + "/floatingips", "floatingip", map[string]any{"floating_network_id": internal},
			"Bad floatingip request: Network " + internal + " is not a valid external network."},
		{"floating IP on an IPv6 network", v2 + "/floatingips", "floatingip", map[string]any{"floating_network_id": v6only},
			"Bad floatingip request: Network " + v6only + " does not contain any IPv4 subnet."},
		{"gateway on an internal network", v2 + "/routers", "router", map[string]any{"external_gateway_info": map[string]any{
			"network_id": internal}}, "Bad router request: Network " + internal + " is not an external network."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, c.Admin.Do("POST", tt.path, map[string]any{tt.key: tt.body}), http.StatusBadRequest, "BadRequest", tt.msg)
		})
	}
}

// TestRouterInterfaceOverlapsAndNullRoutes: interfaces on overlapping
// subnets of two networks are refused; routes null clears them.
func TestRouterInterfaceOverlapsAndNullRoutes(t *testing.T) {
	t.Parallel()
	c := newCloud(t, "")
	const v2 = "/networking/v2.0"
	var subnets []string
	for _, name := range []string{"a", "b"} {
		n := create(t, c.member, v2+"/networks", "network", map[string]any{"name": name})["id"].(string)
		subnets = append(subnets, create(t, c.member, v2+"/subnets", "subnet", map[string]any{"network_id": n, "ip_version": 4,
			"cidr": "10.30.0.0/24"})["id"].(string))
	}
	id := create(t, c.member, v2+"/routers", "router", map[string]any{"name": "r"})["id"].(string)
	path := v2 + "/routers/" + id
	c.member.Do("PUT", path+"/add_router_interface", map[string]any{"subnet_id": subnets[0]}).Expect(t, http.StatusOK)
	wantError(t, c.member.Do("PUT", path+"/add_router_interface", map[string]any{"subnet_id": subnets[1]}),
		http.StatusBadRequest, "BadRequest", "Bad router request: Cidr 10.30.0.0/24 of subnet "+subnets[1]+
			" overlaps with cidr 10.30.0.0/24 of subnet "+subnets[0]+".")

	routes := []any{map[string]any{"destination": "192.0.2.0/24", "nexthop": "10.30.0.9"}}
	for _, tt := range []struct {
		name   string
		routes any
		want   int
	}{
		{"set", routes, 1},
		{"null clears", nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := obj(t, c.member.Do("PUT", path, map[string]any{"router": map[string]any{"routes": tt.routes}}).
				Expect(t, http.StatusOK), "router")
			if got := r["routes"].([]any); len(got) != tt.want {
				t.Errorf("routes %v, want %d", got, tt.want)
			}
		})
	}
}
