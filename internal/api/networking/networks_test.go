package networking_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// networkKeys are the keys of a network in Neutron's api-ref
// (network-show-response.json), without the extensions kumo lacks
// (dns_domain, qos_policy_id, pvlan, vlan_transparent, qinq, is_default).
var networkKeys = []string{"admin_state_up", "availability_zone_hints", "availability_zones", "created_at", "description",
	"id", "ipv4_address_scope", "ipv6_address_scope", "l2_adjacency", "mtu", "name", "port_security_enabled", "project_id",
	"revision_number", "router:external", "shared", "status", "subnets", "tags", "tenant_id", "updated_at"}

// providerKeys are the provider extension's, shown to admins
// (network-provider-show-response.json).
var providerKeys = []string{"provider:network_type", "provider:physical_network", "provider:segmentation_id"}

func TestNetworksOfAFreshCloud(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		// A project's network made on first need, and the external one.
		nets := list(t, c.member.Do("GET", "/networking/v2.0/networks", nil).Expect(t, http.StatusOK), "networks")
		if got := names(nets); !slices.Equal(got, []string{"public", "private"}) && !slices.Equal(got, []string{"private", "public"}) {
			t.Fatalf("networks %v, want private and public", got)
		}
		for _, n := range nets {
			wantKeys(t, "member's network", n, networkKeys)
			if n["status"] != "ACTIVE" || n["mtu"] != float64(1500) || n["admin_state_up"] != true {
				t.Errorf("network %v", n)
			}
			if n["name"] == "public" && (n["router:external"] != true || n["shared"] != false) {
				t.Errorf("external network %v", n)
			}
			if n["name"] == "private" && (n["router:external"] != false || n["project_id"] != c.MemberProject ||
				n["tenant_id"] != c.MemberProject || len(n["subnets"].([]any)) != 1) {
				t.Errorf("private network %v", n)
			}
		}
		ext := list(t, c.member.Do("GET", "/networking/v2.0/networks?router:external=True", nil).Expect(t, http.StatusOK), "networks")
		if len(ext) != 1 || ext[0]["name"] != "public" {
			t.Errorf("external networks %v", ext)
		}
		// The admin sees the provider attributes.
		pub := obj(t, c.Admin.Do("GET", "/networking/v2.0/networks/"+ext[0]["id"].(string), nil).Expect(t, http.StatusOK), "network")
		wantKeys(t, "admin's network", pub, append(slices.Clone(networkKeys), providerKeys...))
		if pub["provider:network_type"] != "flat" || pub["provider:physical_network"] != "public" || pub["provider:segmentation_id"] != nil {
			t.Errorf("external network's provider attributes %v", pub)
		}
		subnetID := pub["subnets"].([]any)[0].(string)
		sub := obj(t, c.Admin.Do("GET", "/networking/v2.0/subnets/"+subnetID, nil).Expect(t, http.StatusOK), "subnet")
		if sub["cidr"] != "203.0.113.0/24" || sub["enable_dhcp"] != false || sub["router:external"] != true {
			t.Errorf("external subnet %v", sub)
		}
		// As in Neutron, the external network is everyone's to see, its
		// subnets only its owner's (it is not shared).
		wantError(t, c.member.Do("GET", "/networking/v2.0/subnets/"+subnetID, nil), http.StatusNotFound, "SubnetNotFound",
			"Subnet "+subnetID+" could not be found.")
		wantError(t, c.member.Do("PUT", "/networking/v2.0/subnets/"+subnetID, map[string]any{"subnet": map[string]any{"name": "x"}}),
			http.StatusNotFound, "SubnetNotFound", "Subnet "+subnetID+" could not be found.")
		if subs := list(t, c.member.Do("GET", "/networking/v2.0/subnets?network_id="+ext[0]["id"].(string), nil).Expect(t, http.StatusOK), "subnets"); len(subs) != 0 {
			t.Errorf("member sees the external network's subnets %v", subs)
		}
	})
}

// Nova's proxies and the networking API show one network: a server made
// without networks is on the project's "private" network, whose id
// os-networks, the server's port and Neutron's network share.
func TestServerNetworkIsTheNeutronNetwork(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		id := c.CreateServer(c.member, "s1", nil)
		c.Step()
		nets := list(t, c.member.Do("GET", "/networking/v2.0/networks?name=private&status=ACTIVE", nil).Expect(t, http.StatusOK), "networks")
		if len(nets) != 1 {
			t.Fatalf("networks named private: %v", nets)
		}
		// os-networks lists what Neutron lists to the caller: its own
		// network and the external one.
		var novaIDs, neutronIDs []any
		for _, n := range list(t, c.member.Do("GET", "/v2.1/os-networks", nil).Expect(t, http.StatusOK), "networks") {
			novaIDs = append(novaIDs, n["id"])
		}
		for _, n := range list(t, c.member.Do("GET", "/networking/v2.0/networks", nil).Expect(t, http.StatusOK), "networks") {
			neutronIDs = append(neutronIDs, n["id"])
		}
		if len(novaIDs) != 2 || !slices.Equal(novaIDs, neutronIDs) || !slices.Contains(novaIDs, nets[0]["id"]) {
			t.Errorf("os-networks %v, Neutron %v, private %v", novaIDs, neutronIDs, nets[0]["id"])
		}
		addrs := obj(t, c.member.Do("GET", "/v2.1/servers/"+id+"/ips", nil).Expect(t, http.StatusOK), "addresses")
		if _, ok := addrs["private"]; !ok {
			t.Errorf("server addresses %v", addrs)
		}
		// The port holds the network and its subnet.
		netID := nets[0]["id"].(string)
		wantError(t, c.member.Do("DELETE", "/networking/v2.0/networks/"+netID, nil), http.StatusConflict, "NetworkInUse",
			"Unable to complete operation on network "+netID+". There are one or more ports still in use on the network.")
		subnetID := nets[0]["subnets"].([]any)[0].(string)
		wantError(t, c.member.Do("DELETE", "/networking/v2.0/subnets/"+subnetID, nil), http.StatusConflict, "SubnetInUse",
			"Unable to complete operation on subnet "+subnetID+": One or more ports have an IP allocation from this subnet.")
	})
}

func TestNetworkCreateUpdateDelete(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		n := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "net1", "description": "d", "mtu": 1400})
		wantKeys(t, "created network", n, networkKeys)
		id := n["id"].(string)
		if n["revision_number"] != float64(1) || n["shared"] != false || n["mtu"] != float64(1400) ||
			n["description"] != "d" || len(n["subnets"].([]any)) != 0 || n["created_at"] != n["updated_at"] {
			t.Errorf("created network %v", n)
		}
		up := obj(t, c.member.Do("PUT", "/networking/v2.0/networks/"+id, map[string]any{"network": map[string]any{"name": "net2"}}).Expect(t, http.StatusOK), "network")
		if up["name"] != "net2" || up["revision_number"] != float64(2) {
			t.Errorf("updated network %v", up)
		}

		cases := []struct {
			name     string
			client   string
			method   string
			path     string
			body     any
			status   int
			typ, msg string
		}{
			{"shared needs admin", "member", "POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"shared": true}},
				403, "PolicyNotAuthorized", "(rule:create_network:shared) is disallowed by policy"},
			{"external needs admin", "member", "PUT", "/networking/v2.0/networks/" + id, map[string]any{"network": map[string]any{"router:external": true}},
				403, "PolicyNotAuthorized", "(rule:update_network:router:external) is disallowed by policy"},
			{"provider needs admin", "member", "POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"provider:network_type": "vlan"}},
				403, "PolicyNotAuthorized", "(rule:create_network:provider:network_type) is disallowed by policy"},
			{"reader cannot create", "reader", "POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{}},
				403, "PolicyNotAuthorized", "(rule:create_network) is disallowed by policy"},
			{"reader cannot update", "reader", "PUT", "/networking/v2.0/networks/" + id, map[string]any{"network": map[string]any{"name": "x"}},
				403, "PolicyNotAuthorized", "(rule:update_network) is disallowed by policy"},
			{"another project's is missing", "other", "GET", "/networking/v2.0/networks/" + id, nil,
				404, "NetworkNotFound", "Network " + id + " could not be found."},
			{"another project's cannot change", "other", "PUT", "/networking/v2.0/networks/" + id, map[string]any{"network": map[string]any{"name": "x"}},
				404, "NetworkNotFound", "Network " + id + " could not be found."},
			{"another project's cannot go", "other", "DELETE", "/networking/v2.0/networks/" + id, nil,
				404, "NetworkNotFound", "Network " + id + " could not be found."},
			{"missing", "member", "GET", "/networking/v2.0/networks/f0b6e2d4-0000-4000-8000-000000000000", nil,
				404, "NetworkNotFound", "Network f0b6e2d4-0000-4000-8000-000000000000 could not be found."},
			{"unknown attribute", "member", "POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"color": "red"}},
				400, "HTTPBadRequest", "Unrecognized attribute(s) 'color'"},
			{"read-only attribute", "member", "PUT", "/networking/v2.0/networks/" + id, map[string]any{"network": map[string]any{"status": "DOWN"}},
				400, "HTTPBadRequest", "Cannot update read-only attribute status"},
			{"no body key", "member", "POST", "/networking/v2.0/networks", map[string]any{"net": map[string]any{}},
				400, "HTTPBadRequest", "Unable to find 'network' in request body"},
			{"empty body object", "member", "POST", "/networking/v2.0/networks", map[string]any{},
				400, "HTTPBadRequest", "Resource body required"},
			{"empty list body", "member", "POST", "/networking/v2.0/networks", []any{},
				400, "HTTPBadRequest", "Resource body required"},
			{"list body", "member", "POST", "/networking/v2.0/networks", []any{map[string]any{"network": map[string]any{}}},
				400, "HTTPBadRequest", "Body contains invalid data"},
			{"number body", "member", "PUT", "/networking/v2.0/networks/" + id, 7,
				400, "HTTPBadRequest", "Body contains invalid data"},
			{"bad boolean", "member", "POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"admin_state_up": "maybe"}},
				400, "HTTPBadRequest", "Invalid input for admin_state_up. Reason: 'maybe' cannot be converted to boolean."},
			{"name too long", "member", "POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"name": string(make([]byte, 256))}},
				400, "HTTPBadRequest", ""},
			{"mtu out of range", "member", "POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"mtu": 20}},
				400, "InvalidInput", "Invalid input for operation: MTU 20 is out of range 68 to 9000."},
			{"for another project", "member", "POST", "/networking/v2.0/networks", map[string]any{"network": map[string]any{"project_id": "p-other"}},
				403, "PolicyNotAuthorized", "(rule:create_network) is disallowed by policy"},
		}
		clients := map[string]*apitest.Client{"member": c.member, "reader": c.reader, "other": c.other}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, clients[tc.client].Do(tc.method, tc.path, tc.body), tc.status, tc.typ, tc.msg)
			})
		}

		// Shared by an admin, the network is the other project's to see
		// but not to change.
		c.Admin.Do("PUT", "/networking/v2.0/networks/"+id, map[string]any{"network": map[string]any{"shared": true}}).Expect(t, http.StatusOK)
		if got := obj(t, c.other.Do("GET", "/networking/v2.0/networks/"+id, nil).Expect(t, http.StatusOK), "network"); got["shared"] != true {
			t.Errorf("shared network as seen by another project: %v", got)
		}
		wantError(t, c.other.Do("PUT", "/networking/v2.0/networks/"+id, map[string]any{"network": map[string]any{"name": "x"}}),
			403, "PolicyNotAuthorized", "(rule:update_network) is disallowed by policy")
		if got := names(list(t, c.other.Do("GET", "/networking/v2.0/networks?shared=true", nil).Expect(t, http.StatusOK), "networks")); !slices.Equal(got, []string{"net2"}) {
			t.Errorf("shared networks seen by another project: %v", got)
		}

		c.member.Do("DELETE", "/networking/v2.0/networks/"+id, nil).Expect(t, http.StatusNoContent)
		wantError(t, c.member.Do("GET", "/networking/v2.0/networks/"+id, nil), 404, "NetworkNotFound", "")
	})
}

// A network made through the networking API is one Nova's server create
// takes: the server's port gets an address of its subnet, and a network
// without subnets is Nova's 400.
func TestServerOnANeutronNetwork(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		netID := create(t, c.member, "/networking/v2.0/networks", "network", map[string]any{"name": "web"})["id"].(string)
		r := c.member.Do("POST", "/v2.1/servers", map[string]any{"server": map[string]any{"name": "s", "imageRef": c.ImageID,
			"flavorRef": "1", "networks": []any{map[string]any{"uuid": netID}}}})
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "Network "+netID+" requires a subnet in order to boot instances on.") {
			t.Errorf("server on a network without subnets: %d %s", r.Status, r.Body)
		}
		subnet := create(t, c.member, "/networking/v2.0/subnets", "subnet", map[string]any{"network_id": netID, "ip_version": 4,
			"cidr": "172.16.5.0/24"})["id"].(string)
		server := c.CreateServer(c.member, "s", map[string]any{"networks": []any{map[string]any{"uuid": netID}}})
		c.Step()
		ports := list(t, c.member.Do("GET", "/networking/v2.0/ports?device_id="+server, nil).Expect(t, http.StatusOK), "ports")
		if len(ports) != 1 || ports[0]["network_id"] != netID {
			t.Fatalf("server's ports %v", ports)
		}
		fixed := ports[0]["fixed_ips"].([]any)[0].(map[string]any)
		if fixed["subnet_id"] != subnet || !strings.HasPrefix(fixed["ip_address"].(string), "172.16.5.") {
			t.Errorf("server's address %v", fixed)
		}
		addrs := obj(t, c.member.Do("GET", "/v2.1/servers/"+server+"/ips", nil).Expect(t, http.StatusOK), "addresses")
		if _, ok := addrs["web"]; !ok {
			t.Errorf("server's addresses %v, want them on web", addrs)
		}
	})
}
