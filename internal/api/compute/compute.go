// Package compute serves the OpenStack Compute API (Nova v2.1, and the
// legacy v2.0 endpoint at microversion 2.1). One file per resource; each
// contributes its routes to Routes.
package compute

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/aggregate"
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/apirate"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/console"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/keypair"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/servergroup"
	"github.com/kumocloud/kumo/internal/volume"
)

// Deps are the domain services the compute API calls; every one is
// required (NewServices panics naming one that is missing).
type Deps struct {
	Flavors  *flavor.Service
	Images   *image.Service
	Keypairs *keypair.Service
	Quotas   *quota.Service
	Servers  *compute.Service
	// Network reads servers' addresses and the networks Nova proxies.
	Network *network.Service
	// Hosts reads and updates compute hosts (os-hypervisors, os-services,
	// os-hosts, os-availability-zone, the zone of a new server).
	Hosts *hosts.Directory
	// Aggregates are the host aggregates (os-aggregates).
	Aggregates *aggregate.Service
	// ServerMetadataLimit checks metadata_items.
	ServerMetadataLimit compute.MetadataLimit
	// SecurityGroups, FloatingIPs and ServerGroups are the built-in
	// network and placement objects Nova proxies or keeps.
	SecurityGroups *secgroup.Service
	FloatingIPs    *floatingip.Service
	ServerGroups   *servergroup.Service
	// BlockStorage is the volume service Nova's os-volumes and
	// os-snapshots proxies answer from.
	BlockStorage *volume.Service
	// Consoles issues and checks remote console tokens.
	Consoles *console.Service
	// HostUptime asks a compute host for its `uptime` line
	// (os-hypervisors), as Nova's API asks the host's compute service
	// (get_host_uptime); an error when its driver measures none
	// (virt.ErrNotSupported) or it cannot be asked.
	HostUptime func(ctx context.Context, host string) (string, error)
	// RateLimits are the request rate limits /limits shows in "rate"
	// (none when off: "rate": []); api.Service.RateLimits enforces them.
	RateLimits *apirate.Limiter
}

// handlers carries the dependencies every compute handler uses.
type handlers struct {
	Deps
	createSchemas *createSchemas
	// publicURL is the cloud's base URL when configured (console URLs
	// are built on it, else on the request's origin).
	publicURL string
}

// Routes is the compute route table, relative to the version prefix. Its
// handlers call d's services, which only NewServices checks: a table
// built on a partial Deps is for reading, not serving.
func Routes(d Deps) []api.Route {
	return (&handlers{Deps: d, createSchemas: &createSchemas{}}).routes()
}

func (h *handlers) routes() []api.Route {
	var rs []api.Route
	rs = append(rs, h.versionRoutes()...)
	rs = append(rs, h.extensionRoutes()...)
	rs = append(rs, h.flavorRoutes()...)
	rs = append(rs, h.imageRoutes()...)
	rs = append(rs, h.keypairRoutes()...)
	rs = append(rs, h.quotaRoutes()...)
	rs = append(rs, h.serverCreateRoutes()...)
	rs = append(rs, h.serverRoutes()...)
	rs = append(rs, h.volumesBootRoutes()...)
	rs = append(rs, h.interfaceRoutes()...)
	rs = append(rs, h.volumeAttachmentRoutes()...)
	rs = append(rs, h.volumeProxyRoutes()...)
	rs = append(rs, h.instanceActionRoutes()...)
	rs = append(rs, h.hypervisorRoutes()...)
	rs = append(rs, h.serviceRoutes()...)
	rs = append(rs, h.availabilityZoneRoutes()...)
	rs = append(rs, h.serverActionRoutes()...)
	rs = append(rs, h.migrationRoutes()...)
	rs = append(rs, h.securityGroupRoutes()...)
	rs = append(rs, h.floatingIPRoutes()...)
	rs = append(rs, h.goneRoutes()...)
	rs = append(rs, h.serverGroupRoutes()...)
	rs = append(rs, h.serverTagRoutes()...)
	rs = append(rs, h.usageRoutes()...)
	rs = append(rs, h.aggregateRoutes()...)
	rs = append(rs, h.hostRoutes()...)
	rs = append(rs, h.serverPasswordRoutes()...)
	rs = append(rs, h.serverDiagnosticsRoutes()...)
	rs = append(rs, h.remoteConsoleRoutes()...)
	rs = append(rs, h.usageAuditLogRoutes()...)
	rs = append(rs, h.serverExternalEventRoutes()...)
	return rs
}

// NewServices returns the /v2.1 service (microversioned) and the legacy
// /v2 service (fixed at 2.1, no version headers), sharing one route table.
// A Deps missing a service is a wiring mistake: it panics naming it.
func NewServices(d Deps, o api.Options) (v21, v2 *api.Service) {
	if name := d.missing(); name != "" {
		panic("computeapi.NewServices: Deps." + name + " is nil")
	}
	h := &handlers{Deps: d, createSchemas: &createSchemas{}, publicURL: o.PublicURL}
	router := api.NewRouter(h.routes())
	rules := policy.Compute()
	supported := mv.Supported()
	legacy := supported.Min
	mk := func(mount string) *api.Service {
		return &api.Service{
			Name: "compute", Mount: mount, Router: router, Auth: o.Auth, AuthURL: o.AuthURL,
			Errors: api.NovaFault, ProjectInPath: true, PublicURL: o.PublicURL, Log: o.Log,
			NoTrailingSlash: true, Policy: rules, Denied: forbidden, Target: api.CallerTarget,
			Conceal: h.conceal, Text: novaText(),
			// nova/api/openstack/wsgi.py's _SUPPORTED_CONTENT_TYPES.
			BodyTypes: []string{"application/json", "application/vnd.openstack.compute+json"},
		}
	}
	v21 = mk("/v2.1")
	v21.Versions = &supported
	v2 = mk("/v2")
	v2.FixedVersion = &legacy
	return v21, v2
}

// missing names the first service d lacks ("" for none).
func (d Deps) missing() string {
	for _, dep := range []struct {
		name   string
		absent bool
	}{
		{"Flavors", d.Flavors == nil}, {"Images", d.Images == nil}, {"Keypairs", d.Keypairs == nil},
		{"Quotas", d.Quotas == nil}, {"Servers", d.Servers == nil}, {"Network", d.Network == nil},
		{"Hosts", d.Hosts == nil}, {"Aggregates", d.Aggregates == nil},
		{"ServerMetadataLimit", d.ServerMetadataLimit == nil}, {"SecurityGroups", d.SecurityGroups == nil},
		{"FloatingIPs", d.FloatingIPs == nil}, {"ServerGroups", d.ServerGroups == nil},
		{"BlockStorage", d.BlockStorage == nil}, {"Consoles", d.Consoles == nil}, {"HostUptime", d.HostUptime == nil},
		{"RateLimits", d.RateLimits == nil},
	} {
		if dep.absent {
			return dep.name
		}
	}
	return ""
}

// conceal answers a refused call about a server or image the caller may
// not see with the 404 of a missing one, as Nova does: it looks servers up
// (scoped to the caller's project) before checking their policy, and
// Glance hides the images a caller may not get.
func (h *handlers) conceal(c *api.Call) error {
	if id := c.Param("server_id"); id != "" {
		if _, err := h.Servers.Get(c.Ctx, c.Principal, id); errs.Is(err, errs.KindNotFound) {
			return err
		}
	}
	if id := c.Param("image_id"); id != "" {
		if _, err := h.Images.Get(c.Ctx, c.Principal, id); errs.Is(err, errs.KindNotFound) {
			return errs.NotFound("Image not found.")
		}
	}
	return nil
}

// novaText is Nova's answer to request text no database can hold (see
// api.TextRules).
func novaText() api.TextRules {
	return api.TextRules{
		// nova/api/validation's query_schema: webob's UnicodeDecodeError.
		QueryNotUTF8: "Query string is not UTF-8 encoded",
		// Nova hands a NUL to the database, where it matches nothing on
		// MySQL; kumo refuses it in the shape of Nova's query errors.
		QueryNUL: func(name, value string) string {
			return fmt.Sprintf("Invalid input for query parameters %s. Value: %s. NUL characters are not allowed", name, value)
		},
		// nova/api/openstack/wsgi.py: a body json.loads cannot take.
		BadBody: "Malformed request body",
	}
}
