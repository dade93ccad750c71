package networking

import (
	"math/big"
	"slices"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
)

// ipAvailabilityExtensions are network-ip-availability and its details.
var ipAvailabilityExtensions = []extension{
	{"network-ip-availability", "Network IP Availability", "Provides IP availability data for each network and subnet.", "2015-09-24T00:00:00-00:00"},
	{"network-ip-availability-details", "Network IP Availability Details Extension",
		"Add ip_availability_details attribute to network-ip-availabilities resource.", "2025-10-31T00:00:00-00:00"},
}

// ipAvailabilities is the network-ip-availabilities collection: keyed by
// network_id, sortable by it alone.
var ipAvailabilities = collection{Name: "network_ip_availabilities", Sortable: []string{"network_id"}, Key: "network_id"}

type ipAvailabilityHandlers struct {
	svc  *network.Service
	nets resource // the network resource: its targets and NotFound
}

func (h ipAvailabilityHandlers) routes() []api.Route {
	const coll = "/v2.0/network-ip-availabilities"
	return []api.Route{
		{Method: "GET", Path: coll, Rule: policy.NetworkIPAvailabilities, Handler: h.list},
		{Method: "GET", Path: coll + "/{network_id}", Rule: policy.NetworkIPAvailabilities, Handler: h.show},
	}
}

// list answers the collection with the list machinery's filters
// (network_id, network_name, project_id, tenant_id), and ip_version,
// which keeps the subnets of that version and the networks with any.
func (h ipAvailabilityHandlers) list(c *api.Call) (*api.Reply, error) {
	all, err := h.svc.IPAvailabilities(c.Ctx)
	if err != nil {
		return nil, err
	}
	versions := nonEmpty(c.Query()["ip_version"])
	views := make([]view, 0, len(all))
	for _, a := range all {
		if len(versions) > 0 {
			if a.Subnets = onlyVersions(a.Subnets, versions); len(a.Subnets) == 0 {
				continue
			}
		}
		v := ipAvailabilityView(a)
		if c.Allowed("get_network_ip_availability", itemTarget(v)) {
			views = append(views, v)
		}
	}
	return listReply(c, ipAvailabilities, views)
}

// onlyVersions keeps the subnets of the IP versions asked for.
func onlyVersions(subnets []network.SubnetIPAvailability, versions []string) []network.SubnetIPAvailability {
	var out []network.SubnetIPAvailability
	for _, s := range subnets {
		if slices.Contains(versions, strconv.Itoa(s.IPVersion)) {
			out = append(out, s)
		}
	}
	return out
}

func (h ipAvailabilityHandlers) show(c *api.Call) (*api.Reply, error) {
	a, err := h.svc.NetworkIPAvailability(c.Ctx, c.Param("network_id"))
	if err != nil {
		return nil, err
	}
	v := ipAvailabilityView(a)
	if !c.Allowed("get_network_ip_availability", itemTarget(v)) {
		// Neutron's show pretends a network the caller may not get the
		// availability of does not exist.
		return nil, errs.NotFound("The resource could not be found.")
	}
	return showReply(c, "network_ip_availability", v), nil
}

// ipAvailabilityView is Neutron's network_ip_availability dict. Totals
// may pass 2^64 (an IPv6 /64 alone holds that many), so they are big
// integers, which JSON carries as plain numbers.
func ipAvailabilityView(a network.IPAvailability) view {
	subnets := make([]map[string]any, 0, len(a.Subnets))
	for _, s := range a.Subnets {
		subnets = append(subnets, map[string]any{"subnet_id": s.SubnetID, "subnet_name": s.SubnetName, "cidr": s.CIDR,
			"ip_version": s.IPVersion, "total_ips": s.TotalIPs, "used_ips": s.UsedIPs,
			"ip_availability_details": ipDetails(s.TotalInSubnet, s.TotalInPools, s.UsedIPs, s.UsedInPools)})
	}
	total, used, inSubnet, inPools, usedInPools := a.Totals()
	return view{"network_id": a.NetworkID, "network_name": a.NetworkName, "project_id": a.ProjectID, "tenant_id": a.ProjectID,
		"subnet_ip_availability": subnets, "total_ips": total, "used_ips": used,
		"ip_availability_details": ipDetails(inSubnet, inPools, used, usedInPools)}
}

func ipDetails(inSubnet, inPools *big.Int, usedInSubnet, usedInPools int) map[string]any {
	return map[string]any{"total_ips_in_subnet": inSubnet, "total_ips_in_allocation_pool": inPools,
		"used_ips_in_subnet": usedInSubnet, "used_ips_in_allocation_pool": usedInPools}
}
