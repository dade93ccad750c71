package compute

// The live halves of the nova-network families whose other methods are
// gone (gone.go): GET os-networks and os-tenant-networks, proxies to the
// network service up to 2.35 and 404 after, as in Nova's networks.py and
// tenant_networks.py. Nova asks Neutron, with the caller's token, for the
// networks the caller sees: its project's, the shared and the external
// ones (an admin's: all). The project's default network is made on the
// first listing as its first server would.

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
)

// networkProxyRoutes are the GET methods of os-networks and
// os-tenant-networks.
func (h *handlers) networkProxyRoutes() []api.Route {
	upTo := func(r api.Route) api.Route { r.MaxVer = maxNetworkProxy; return r }
	return []api.Route{
		upTo(api.Route{Method: "GET", Path: "/os-networks", Rule: "os_compute_api:os-networks:list",
			Handler: h.listNetworks(novaNetworkView)}),
		upTo(api.Route{Method: "GET", Path: "/os-networks/{id}", Rule: "os_compute_api:os-networks:show",
			Handler: h.showNetwork(novaNetworkView)}),
		upTo(api.Route{Method: "GET", Path: "/os-tenant-networks", Rule: "os_compute_api:os-tenant-networks:list",
			Handler: h.listNetworks(tenantNetworkView)}),
		upTo(api.Route{Method: "GET", Path: "/os-tenant-networks/{id}", Rule: "os_compute_api:os-tenant-networks:show",
			Handler: h.showNetwork(tenantNetworkView)}),
	}
}

// networkAdminFields are the nova-network fields only admins see; like
// every field but id and label they are always null now.
var networkAdminFields = []string{"created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge",
	"vlan", "vpn_public_address", "vpn_public_port", "vpn_private_address", "dhcp_start", "project_id", "host",
	"bridge_interface", "multi_host", "priority", "rxtx_base", "mtu", "dhcp_server", "enable_dhcp", "share_address"}

// novaNetworkView is networks.py's network_dict.
func novaNetworkView(c *api.Call, n network.Network) map[string]any {
	v := map[string]any{"id": n.ID, "label": n.Name}
	for _, f := range []string{"cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "netmask_v6"} {
		v[f] = nil
	}
	if c.IsAdmin() {
		for _, f := range networkAdminFields {
			v[f] = nil
		}
	}
	return v
}

// tenantNetworkView is tenant_networks.py's network_dict: the cidr is
// the string "None", as the API always returned with Neutron.
func tenantNetworkView(_ *api.Call, n network.Network) map[string]any {
	return map[string]any{"id": n.ID, "cidr": "None", "label": n.Name}
}

// networkScope is the networks the caller sees through Neutron.
func networkScope(c *api.Call) network.Scope {
	return network.Scope{ProjectID: c.Principal.ProjectID, All: c.IsAdmin()}
}

type networkView func(c *api.Call, n network.Network) map[string]any

func (h *handlers) listNetworks(view networkView) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		// A project's network exists before its first server here, as
		// Tempest and clients expect of Nova with Neutron.
		nets, err := h.Network.ListNetworks(c.Ctx, networkScope(c))
		if err != nil {
			return nil, err
		}
		// In Neutron's order: by id, as the networking API lists them.
		slices.SortFunc(nets, func(a, b network.Network) int { return strings.Compare(a.ID, b.ID) })
		out := []map[string]any{}
		for _, n := range nets {
			out = append(out, view(c, n))
		}
		return api.JSON(http.StatusOK, map[string]any{"networks": out}), nil
	}
}

func (h *handlers) showNetwork(view networkView) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		n, err := h.Network.GetNetwork(c.Ctx, c.Param("id"))
		if err == nil && !n.VisibleTo(networkScope(c)) {
			err = network.NetworkNotFound(n.ID)
		}
		if errs.Is(err, errs.KindNotFound) {
			// Nova turns Neutron's NetworkNotFound into its own 404.
			return nil, errs.NotFound("Network not found")
		}
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusOK, map[string]any{"network": view(c, n)}), nil
	}
}
