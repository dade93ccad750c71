package networking

import (
	"fmt"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
)

// subnetAttrs are the subnet attributes a body may hold. The subnet
// pool, segment, service type and DNS publishing attributes are taken at
// their defaults only (kumo has none of those features).
var subnetAttrs = attrSpec{
	post: []string{"name", "description", "network_id", "tenant_id", "project_id", "ip_version", "cidr", "gateway_ip",
		"allocation_pools", "dns_nameservers", "host_routes", "enable_dhcp", "ipv6_ra_mode", "ipv6_address_mode",
		"subnetpool_id", "use_default_subnetpool", "segment_id", "service_types", "dns_publish_fixed_ip"},
	put: []string{"name", "description", "gateway_ip", "allocation_pools", "dns_nameservers", "host_routes", "enable_dhcp"},
	readOnly: []string{"id", "network_id", "tenant_id", "project_id", "ip_version", "cidr", "ipv6_ra_mode",
		"ipv6_address_mode", "subnetpool_id", "created_at", "updated_at", "revision_number", "tags", "router:external"},
}

type subnetHandlers struct {
	svc *network.Service
	res resource
}

func newSubnets(svc *network.Service) *subnetHandlers {
	h := &subnetHandlers{svc: svc}
	h.res = resource{
		collection: collection{Name: "subnets", Sortable: []string{"id", "name", "network_id", "ip_version", "cidr",
			"gateway_ip", "enable_dhcp", "ipv6_ra_mode", "ipv6_address_mode", "project_id", "tenant_id", "created_at",
			"updated_at", "revision_number", "description"}},
		Singular: "subnet", Param: "subnet_id",
		Target: func(c *api.Call, id string) (policy.Target, error) {
			s, err := scopedSubnet(c, svc, id)
			if err != nil {
				return nil, err
			}
			return subnetTarget(s), nil
		},
		NotFound: network.SubnetNotFound,
	}
	return h
}

// scopedSubnet is subnet id when it is in the caller's scope, else its
// 404: Neutron finds a subnet through the caller's query scope, which
// leaves out the subnets of external networks that are not shared.
func scopedSubnet(c *api.Call, svc *network.Service, id string) (network.Subnet, error) {
	s, err := svc.GetSubnet(c.Ctx, id)
	if err != nil {
		return network.Subnet{}, err
	}
	if !s.InScope(network.Scope{ProjectID: c.ProjectID(), All: c.IsAdmin()}) {
		return network.Subnet{}, network.SubnetNotFound(id)
	}
	return s, nil
}

// visibleSubnet is subnet id when the caller may see it, else its 404.
func visibleSubnet(c *api.Call, svc *network.Service, id string) (network.Subnet, error) {
	s, err := scopedSubnet(c, svc, id)
	if err != nil {
		return network.Subnet{}, err
	}
	if !c.Allowed("get_subnet", subnetTarget(s)) {
		return network.Subnet{}, network.SubnetNotFound(id)
	}
	return s, nil
}

// subnetTarget is what the subnet rules read of s and its network.
func subnetTarget(s network.Subnet) policy.Target {
	return policy.Target{"project_id": s.ProjectID, "tenant_id": s.ProjectID,
		"network:project_id": s.NetworkProjectID, "network:tenant_id": s.NetworkProjectID,
		"shared": pyBool(s.Shared), "router:external": pyBool(s.External)}
}

func (h *subnetHandlers) routes() []api.Route {
	r := h.res
	return append([]api.Route{
		{Method: "GET", Path: r.path(), Rule: r.rule("get"), Handler: h.list},
		{Method: "POST", Path: r.path(), Rule: r.rule("create"), Handler: creator{res: r, spec: subnetAttrs,
			create: h.create, remove: func(c *api.Call, id string) error { return h.svc.DeleteSubnet(c.Ctx, id) }}.handler},
		{Method: "GET", Path: r.path(""), Rule: r.rule("get"), Target: r.objectTarget, Handler: h.show},
		{Method: "PUT", Path: r.path(""), Rule: r.rule("update"), Target: r.objectTarget, Handler: h.update},
		{Method: "DELETE", Path: r.path(""), Rule: r.rule("delete"), Target: r.objectTarget, Handler: h.delete},
	}, tagRoutes(r, kindTags{h.svc, network.KindSubnets})...)
}

func (h *subnetHandlers) view(s network.Subnet) view {
	pools := make([]map[string]string, 0, len(s.Pools))
	for _, p := range s.Pools {
		pools = append(pools, map[string]string{"start": p.Start, "end": p.End})
	}
	routes := make([]map[string]string, 0, len(s.HostRoutes))
	for _, r := range s.HostRoutes {
		routes = append(routes, map[string]string{"destination": r.Destination, "nexthop": r.NextHop})
	}
	v := view{"id": s.ID, "name": s.Name, "network_id": s.NetworkID, "ip_version": s.IPVersion, "cidr": s.CIDR,
		"gateway_ip": nullable(s.GatewayIP), "allocation_pools": pools, "dns_nameservers": nonNil(s.DNS),
		"host_routes": routes, "enable_dhcp": s.EnableDHCP, "ipv6_ra_mode": nullable(s.IPv6RAMode),
		"ipv6_address_mode": nullable(s.IPv6AddressMode), "subnetpool_id": nil, "segment_id": nil,
		"service_types": []string{}, "dns_publish_fixed_ip": false, "router:external": s.External}
	return standardAttrs(v, s.ProjectID, s.Description, s.Revision, s.CreatedAt, s.UpdatedAt, s.Tags)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (h *subnetHandlers) list(c *api.Call) (*api.Reply, error) {
	subnets, err := h.svc.ListSubnets(c.Ctx, network.Scope{ProjectID: c.ProjectID(), All: c.IsAdmin()})
	if err != nil {
		return nil, err
	}
	views := make([]view, 0, len(subnets))
	for _, s := range subnets {
		if c.Allowed("get_subnet", subnetTarget(s)) {
			views = append(views, h.view(s))
		}
	}
	return listReply(c, h.res.collection, views)
}

func (h *subnetHandlers) show(c *api.Call) (*api.Reply, error) {
	s, err := scopedSubnet(c, h.svc, c.Param("subnet_id"))
	if err != nil {
		return nil, err
	}
	return showReply(c, "subnet", h.view(s)), nil
}

// fields reads the subnet attributes a create or update may set.
func subnetFields(a attrs) (network.SubnetFields, error) {
	var f network.SubnetFields
	var err error
	if f.Name, err = a.str("name", 255); err != nil {
		return f, err
	}
	if f.Description, err = a.str("description", 255); err != nil {
		return f, err
	}
	if v, ok := a["gateway_ip"]; ok {
		none := ""
		f.GatewayIP = &none
		if v != nil {
			if f.GatewayIP, err = a.str("gateway_ip", 64); err != nil {
				return f, err
			}
		}
	}
	if f.EnableDHCP, err = a.boolean("enable_dhcp"); err != nil {
		return f, err
	}
	if f.DNS, err = a.strings("dns_nameservers"); err != nil {
		return f, err
	}
	pools, err := a.dicts("allocation_pools", "start", "end")
	if err != nil {
		return f, err
	}
	if pools != nil {
		list := make([]network.Pool, 0, len(*pools))
		for _, p := range *pools {
			list = append(list, network.Pool{Start: p["start"], End: p["end"]})
		}
		f.Pools = &list
	}
	routes, err := a.dicts("host_routes", "destination", "nexthop")
	if err != nil {
		return f, err
	}
	if routes != nil {
		list := make([]network.HostRoute, 0, len(*routes))
		for _, r := range *routes {
			list = append(list, network.HostRoute{Destination: r["destination"], NextHop: r["nexthop"]})
		}
		f.HostRoutes = &list
	}
	for _, m := range []struct {
		key string
		dst **string
	}{{"ipv6_ra_mode", &f.IPv6RAMode}, {"ipv6_address_mode", &f.IPv6AddressMode}} {
		if v, ok := a[m.key]; ok && v != nil {
			if *m.dst, err = a.str(m.key, 255); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// unsupported refuses the attributes of features kumo lacks unless they
// hold their defaults.
func unsupported(a attrs) error {
	for _, d := range []struct {
		key string
		def any
	}{{"subnetpool_id", nil}, {"segment_id", nil}, {"use_default_subnetpool", false}, {"dns_publish_fixed_ip", false}} {
		if v, ok := a[d.key]; ok && v != d.def {
			return badRequest("%s is not supported by this cloud", d.key)
		}
	}
	if st, err := a.strings("service_types"); err != nil {
		return err
	} else if st != nil && len(*st) > 0 {
		return badRequest("service_types is not supported by this cloud")
	}
	return nil
}

// create makes one subnet of a create body.
func (h *subnetHandlers) create(c *api.Call, a attrs) (view, error) {
	if err := unsupported(a); err != nil {
		return nil, err
	}
	for _, key := range []string{"network_id", "ip_version"} {
		if _, ok := a[key]; !ok {
			return nil, badRequest("Failed to parse request. Required attribute '%s' not specified", key)
		}
	}
	netID, err := a.str("network_id", 36)
	if err != nil {
		return nil, err
	}
	version, err := a.integer("ip_version")
	if err != nil {
		return nil, err
	}
	if *version != 4 && *version != 6 {
		return nil, invalidAttr("ip_version", pyIntNotIn(*version))
	}
	cidr, err := a.str("cidr", 64)
	if err != nil {
		return nil, err
	}
	if cidr == nil {
		return nil, badRequest("a subnetpool must be specified in the absence of a cidr")
	}
	project, err := projectOf(c, a)
	if err != nil {
		return nil, err
	}
	net, err := visibleNetwork(c, h.svc, *netID)
	if err != nil {
		return nil, err
	}
	target := policy.Target{"project_id": project, "tenant_id": project, "network:project_id": net.ProjectID,
		"network:tenant_id": net.ProjectID, "shared": pyBool(net.Shared), "router:external": pyBool(net.External)}
	if err := forbidden(c, "create_subnet", target); err != nil {
		return nil, err
	}
	f, err := subnetFields(a)
	if err != nil {
		return nil, err
	}
	s, err := h.svc.CreateSubnet(c.Ctx, network.SubnetCreate{NetworkID: net.ID, ProjectID: project, IPVersion: *version,
		CIDR: *cidr, SubnetFields: f})
	if err != nil {
		return nil, err
	}
	return h.view(s), nil
}

// pyIntNotIn is neutron-lib's validate_values reason for ip_version.
func pyIntNotIn(v int) string { return fmt.Sprintf("'%d' is not in [4, 6]", v) }

func (h *subnetHandlers) update(c *api.Call) (*api.Reply, error) {
	a, err := decodeAttrs(c, "subnet", subnetAttrs, true)
	if err != nil {
		return nil, err
	}
	f, err := subnetFields(a)
	if err != nil {
		return nil, err
	}
	s, err := h.svc.UpdateSubnet(c.Ctx, c.Param("subnet_id"), f)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"subnet": h.view(s)}), nil
}

func (h *subnetHandlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteSubnet(c.Ctx, c.Param("subnet_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
