package networking

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
)

// networkExtensions are the extensions the network resource brings.
var networkExtensions = []extension{
	{"external-net", "Neutron external network", "Adds external network attribute to network resource.", "2013-01-14T10:00:00-00:00"},
	{"net-mtu", "Network MTU", "Provides MTU attribute for a network resource.", "2015-03-25T10:00:00-00:00"},
	{"port-security", "Port Security", "Provides port security", "2012-07-23T10:00:00-00:00"},
	{"provider", "Provider Network", "Expose mapping of virtual networks to physical networks", "2012-09-07T10:00:00-00:00"},
}

// networkAttrs are the network attributes a body may hold.
var networkAttrs = attrSpec{
	post: []string{"name", "description", "admin_state_up", "shared", "router:external", "mtu", "port_security_enabled",
		"provider:network_type", "provider:physical_network", "provider:segmentation_id", "tenant_id", "project_id",
		"availability_zone_hints"},
	put: []string{"name", "description", "admin_state_up", "shared", "router:external", "mtu", "port_security_enabled",
		"provider:network_type", "provider:physical_network", "provider:segmentation_id"},
	readOnly: []string{"id", "status", "subnets", "availability_zones", "created_at", "updated_at", "revision_number", "tags",
		"ipv4_address_scope", "ipv6_address_scope", "l2_adjacency"},
}

// providerAttrs are the admin-only attributes of the provider extension.
var providerAttrs = []string{"provider:network_type", "provider:physical_network", "provider:segmentation_id"}

type networkHandlers struct {
	svc *network.Service
	res resource
}

func newNetworks(svc *network.Service) *networkHandlers {
	h := &networkHandlers{svc: svc}
	h.res = resource{
		collection: collection{Name: "networks", Sortable: []string{"id", "name", "status", "admin_state_up", "shared",
			"router:external", "mtu", "project_id", "tenant_id", "created_at", "updated_at", "revision_number", "description"}},
		Singular: "network", Param: "network_id",
		Target: func(c *api.Call, id string) (policy.Target, error) {
			n, err := svc.GetNetwork(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			return networkTarget(n), nil
		},
		NotFound: network.NetworkNotFound,
	}
	return h
}

// visibleNetwork is network id as the caller may see it: one it may not
// get is missing (NetworkNotFound), as Neutron hides it from a subnet's
// or port's create.
func visibleNetwork(c *api.Call, svc *network.Service, id string) (network.Network, error) {
	net, err := svc.GetNetwork(c.Ctx, id)
	if err != nil {
		return network.Network{}, err
	}
	if !c.Allowed("get_network", networkTarget(net)) {
		return network.Network{}, network.NetworkNotFound(id)
	}
	return net, nil
}

// networkTarget is what the network rules read of n.
func networkTarget(n network.Network) policy.Target {
	return policy.Target{"project_id": n.ProjectID, "tenant_id": n.ProjectID,
		"shared": pyBool(n.Shared), "router:external": pyBool(n.External)}
}

func (h *networkHandlers) routes() []api.Route {
	r := h.res
	return append([]api.Route{
		{Method: "GET", Path: r.path(), Rule: r.rule("get"), Handler: h.list},
		{Method: "POST", Path: r.path(), Rule: r.rule("create"), Handler: creator{res: r, spec: networkAttrs,
			create: h.create, remove: func(c *api.Call, id string) error { return h.svc.DeleteNetwork(c.Ctx, id) }}.handler},
		{Method: "GET", Path: r.path(""), Rule: r.rule("get"), Target: r.objectTarget, Handler: h.show},
		{Method: "PUT", Path: r.path(""), Rule: r.rule("update"), Target: r.objectTarget, Handler: h.update},
		{Method: "DELETE", Path: r.path(""), Rule: r.rule("delete"), Target: r.objectTarget, Handler: h.delete},
	}, tagRoutes(r, kindTags{h.svc, network.KindNetworks})...)
}

// view is a network as Neutron shows it to the caller: the provider
// attributes only to those their rules let see them.
func (h *networkHandlers) view(c *api.Call, n network.Network) view {
	v := view{"id": n.ID, "name": n.Name, "admin_state_up": n.AdminStateUp, "status": networkStatus(n),
		"subnets": n.Subnets, "shared": n.Shared, "router:external": n.External, "mtu": n.MTU,
		"port_security_enabled": n.PortSecurity, "availability_zone_hints": nonNil(n.AvailabilityZoneHints), "availability_zones": []string{network.AvailabilityZone},
		"ipv4_address_scope": nil, "ipv6_address_scope": nil, "l2_adjacency": true}
	standardAttrs(v, n.ProjectID, n.Description, n.Revision, n.CreatedAt, n.UpdatedAt, n.Tags)
	target := networkTarget(n)
	for _, attr := range providerAttrs {
		if c.Allowed("get_network:"+attr, target) {
			v[attr] = providerValue(n, attr)
		}
	}
	return v
}

func networkStatus(network.Network) string { return "ACTIVE" }

// azHints reads availability_zone_hints as neutron-lib's
// availability_zone_hint_list validates it: unique strings that fit
// Neutron's column when joined with commas. The domain checks that the
// zones exist.
func azHints(a attrs) (*[]string, error) {
	hints, err := a.strings("availability_zone_hints")
	if err != nil || hints == nil {
		return nil, err
	}
	var dups []string
	for i, h := range *hints {
		if slices.Contains((*hints)[:i], h) && !slices.Contains(dups, h) {
			dups = append(dups, h)
		}
	}
	if len(dups) > 0 {
		return nil, invalidAttr("availability_zone_hints", fmt.Sprintf("Duplicate items in the list: '%s'", strings.Join(dups, ", ")))
	}
	if len(strings.Join(*hints, ",")) > 255 {
		return nil, invalidInput("Too many availability_zone_hints specified")
	}
	return hints, nil
}

func providerValue(n network.Network, attr string) any {
	switch attr {
	case "provider:network_type":
		return n.NetworkType
	case "provider:physical_network":
		if n.PhysicalNetwork == "" {
			return nil
		}
		return n.PhysicalNetwork
	}
	if n.SegmentationID == 0 {
		return nil
	}
	return n.SegmentationID
}

// list answers GET /v2.0/networks: the networks the caller may get
// (get_network per network, as Neutron filters them).
func (h *networkHandlers) list(c *api.Call) (*api.Reply, error) {
	nets, err := h.svc.ListNetworks(c.Ctx, network.Scope{ProjectID: c.ProjectID(), All: c.IsAdmin()})
	if err != nil {
		return nil, err
	}
	views := make([]view, 0, len(nets))
	for _, n := range nets {
		if c.Allowed("get_network", networkTarget(n)) {
			views = append(views, h.view(c, n))
		}
	}
	return listReply(c, h.res.collection, views)
}

func (h *networkHandlers) show(c *api.Call) (*api.Reply, error) {
	n, err := h.svc.GetNetwork(c.Ctx, c.Param("network_id"))
	if err != nil {
		return nil, err
	}
	return showReply(c, "network", h.view(c, n)), nil
}

// fields reads the network attributes of a body, checking the rules of
// the attributes it sets (create_network:shared, ...): on a create those
// set to other than their defaults, on an update those present.
func (h *networkHandlers) fields(c *api.Call, a attrs, action string, target policy.Target) (network.NetworkFields, error) {
	var f network.NetworkFields
	var err error
	if f.Name, err = a.str("name", 255); err != nil {
		return f, err
	}
	if f.Description, err = a.str("description", 255); err != nil {
		return f, err
	}
	for _, b := range []struct {
		key     string
		dst     **bool
		def     bool
		hasRule bool // the policy has <action>_network:<key>
	}{{"admin_state_up", &f.AdminStateUp, true, false}, {"shared", &f.Shared, false, true},
		{"router:external", &f.External, false, true}, {"port_security_enabled", &f.PortSecurity, true, true}} {
		if *b.dst, err = a.boolean(b.key); err != nil {
			return f, err
		}
		if *b.dst != nil && (action == "update" || **b.dst != b.def) && b.hasRule {
			if err := forbidden(c, action+"_network:"+b.key, target); err != nil {
				return f, err
			}
		}
	}
	if f.MTU, err = a.integer("mtu"); err != nil {
		return f, err
	}
	if f.NetworkType, err = a.str("provider:network_type", 255); err != nil {
		return f, err
	}
	if f.PhysicalNetwork, err = a.str("provider:physical_network", 64); err != nil {
		return f, err
	}
	if f.SegmentationID, err = a.integer("provider:segmentation_id"); err != nil {
		return f, err
	}
	for _, attr := range providerAttrs {
		if _, ok := a[attr]; ok {
			if err := forbidden(c, action+"_network:"+attr, target); err != nil {
				return f, err
			}
		}
	}
	if f.AvailabilityZoneHints, err = azHints(a); err != nil {
		return f, err
	}
	return f, nil
}

// create makes one network of a create body.
func (h *networkHandlers) create(c *api.Call, a attrs) (view, error) {
	project, err := projectOf(c, a)
	if err != nil {
		return nil, err
	}
	target := policy.Target{"project_id": project, "tenant_id": project}
	if project != c.ProjectID() {
		if err := forbidden(c, "create_network", target); err != nil {
			return nil, err
		}
	}
	f, err := h.fields(c, a, "create", target)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.CreateNetwork(c.Ctx, project, f)
	if err != nil {
		return nil, err
	}
	return h.view(c, n), nil
}

func (h *networkHandlers) update(c *api.Call) (*api.Reply, error) {
	id := c.Param("network_id")
	a, err := decodeAttrs(c, "network", networkAttrs, true)
	if err != nil {
		return nil, err
	}
	n, err := h.svc.GetNetwork(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := h.fields(c, a, "update", networkTarget(n))
	if err != nil {
		return nil, err
	}
	if n, err = h.svc.UpdateNetwork(c.Ctx, id, f); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"network": h.view(c, n)}), nil
}

func (h *networkHandlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteNetwork(c.Ctx, c.Param("network_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
