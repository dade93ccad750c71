// Package networking serves a Neutron v2.0 subset under /networking,
// from the network domain (internal/network) that Nova's network proxies
// share.
//
// Each resource is a resource value (resource.go) with its route rows,
// its rules named after it (create_network, get_network:tags, ...), a
// policy target built from the object as Neutron builds it, and views as
// Neutron's attribute dicts that the shared list machinery (list.go)
// filters, sorts, pages and cuts to fields.
package networking

import (
	"slices"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/router"
	"github.com/kumocloud/kumo/internal/secgroup"
)

// Mount is where the networking API is served; the catalog's network
// endpoint points here and clients append v2.0/.
const Mount = "/networking"

// Deps are the domain services the networking API serves from.
type Deps struct {
	// Networks is the network service Nova's proxies share.
	Networks *network.Service
	// SecurityGroups is the security group service Nova's
	// os-security-groups proxies share.
	SecurityGroups *secgroup.Service
	// Quotas are the networking quotas.
	Quotas *netquota.Service
	// FloatingIPs is the floating IP pool Nova's proxies share.
	FloatingIPs *floatingip.Service
	// Routers are the routers floating IPs go through.
	Routers *router.Service
}

// NewService returns the networking API service.
func NewService(d Deps, o api.Options) *api.Service {
	h := newHandlers(d)
	return &api.Service{
		Name: "network", Mount: Mount, Router: api.NewRouter(h.routes()), Auth: o.Auth,
		// ErrorBody renders every error but 401s (Keystone's on every API).
		AuthURL: o.AuthURL, Errors: api.KeystoneError, ErrorBody: errorBody, PublicURL: o.PublicURL, Log: o.Log,
		Policy: policy.Network(), Denied: denied, Target: defaultTarget, Conceal: h.conceal,
	}
}

// handlers holds the resources the API serves.
type handlers struct {
	resources  []resource
	rows       []api.Route
	extensions []extension
}

// newHandlers registers the resources: each adds its route rows and the
// extensions it brings; the tag extension names the taggable ones.
func newHandlers(d Deps) *handlers {
	h := &handlers{extensions: slices.Clone(machineryExtensions)}
	nets := newNetworks(d.Networks)
	h.add(nets.res, nets.routes(), networkExtensions...)
	subnets := newSubnets(d.Networks)
	h.add(subnets.res, subnets.routes())
	ports := newPorts(d.Networks)
	h.add(ports.res, ports.routes(), portExtensions...)
	groups := newSecurityGroups(d.SecurityGroups)
	h.add(groups.res, groups.routes(), securityGroupExtensions...)
	rules := newSecurityGroupRules(d.SecurityGroups)
	h.add(rules.res, rules.routes())
	routers := newRouters(d.Routers, d.Networks)
	h.add(routers.res, routers.routes(), routerExtensions...)
	fips := newFloatingIPs(d.FloatingIPs, d.Networks)
	h.add(fips.res, fips.routes(), floatingIPExtensions...)
	// Neither quotas nor the read-only views below are resources of the
	// v2.0 resource list.
	h.addRoutes(quotaHandlers{d.Quotas}.routes(), quotaExtensions...)
	h.addRoutes(ipAvailabilityHandlers{svc: d.Networks, nets: nets.res}.routes(), ipAvailabilityExtensions...)
	h.addRoutes(availabilityZoneRoutes(), availabilityZoneExtensions...)
	h.extensions = append(h.extensions, tagExtension(h.taggable()))
	return h
}

// add registers a resource with its routes and extensions.
func (h *handlers) add(r resource, routes []api.Route, exts ...extension) {
	h.resources = append(h.resources, r)
	h.rows = append(h.rows, routes...)
	h.extensions = append(h.extensions, exts...)
}

// addRoutes registers routes that serve no resource of the v2.0 list,
// with the extensions they bring.
func (h *handlers) addRoutes(routes []api.Route, exts ...extension) {
	h.rows = append(h.rows, routes...)
	h.extensions = append(h.extensions, exts...)
}

// taggable are the singular names of the resources with tag routes.
func (h *handlers) taggable() []string {
	var out []string
	for _, r := range h.resources {
		for _, route := range h.rows {
			if route.Path == r.path("/tags") {
				out = append(out, r.Singular)
				break
			}
		}
	}
	return out
}

// routes is the route table, relative to Mount: versions, extensions,
// then each resource's rows.
func (h *handlers) routes() []api.Route {
	rs := versionRoutes(h.resources)
	rs = append(rs, extensionRoutes(h.extensions)...)
	return append(rs, h.rows...)
}

// Routes is the networking route table (for documentation and tests).
func Routes(d Deps) []api.Route { return newHandlers(d).routes() }

// defaultTarget is what rules are checked against before the object is
// known (collections, creates): the caller's own project as owner, of
// the object and of its parent (network, security group).
func defaultTarget(c *api.Call) policy.Target {
	t := api.CallerTarget(c)
	if p, ok := t["project_id"]; ok {
		t["tenant_id"], t["network:project_id"], t["network:tenant_id"] = p, p, p
		t["security_group:project_id"], t["security_group:tenant_id"] = p, p
	}
	return t
}

// conceal turns a refusal on an object the caller may not even see into
// the object's NotFound.
func (h *handlers) conceal(c *api.Call) error {
	for _, r := range h.resources {
		if id := c.Param(r.Param); id != "" && !r.visible(c) {
			return r.NotFound(id)
		}
	}
	return nil
}
