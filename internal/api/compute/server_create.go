package compute

// POST /servers (Nova's servers.py create): the body is checked against
// the schema of the request's microversion, then against the rules Nova's
// controller and compute API apply before building, and the compute
// service creates the servers. The answer is the first server (id, links,
// adminPass, OS-DCF:diskConfig, security_groups) with a Location header,
// or only the reservation id when the caller asked for it.

import (
	"context"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

func (h *handlers) serverCreateRoutes() []api.Route {
	return []api.Route{
		{Method: "POST", Path: "/servers", Rule: "os_compute_api:servers:create", Handler: h.createServer},
	}
}

func (h *handlers) createServer(c *api.Call) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	in, err := parseServerCreate(c, h.createSchemas, raw)
	if err != nil {
		return nil, err
	}
	if err := h.checkServerCreate(c, in); err != nil {
		return nil, err
	}
	res, err := h.Servers.Create(c.Ctx, c.Principal, in.req)
	if err != nil {
		return nil, err
	}
	if in.returnReservationID {
		return api.JSON(http.StatusAccepted, map[string]any{"reservation_id": res.ReservationID}), nil
	}
	srv := res.Servers[0]
	path := "/servers/" + srv.ID
	self := c.Link(path)
	server := map[string]any{
		"id": srv.ID,
		"links": []api.Link{
			{Href: self, Rel: "self"},
			{Href: bookmarkLink(c, path), Rel: "bookmark"},
		},
		"OS-DCF:diskConfig": srv.DiskConfig,
		"security_groups":   in.groupsEcho,
		// Nova's enable_instance_password defaults to true.
		"adminPass": res.AdminPass,
	}
	return api.JSON(http.StatusAccepted, map[string]any{"server": server}).WithHeader("Location", self), nil
}

// checkServerCreate makes the checks of Nova's compute API that come
// before the build and that the compute service leaves to the API:
// multiple-create conflicts, the zone and requested host, boot from
// volume, the zero-disk flavor policy, and the metadata and personality
// quotas.
func (h *handlers) checkServerCreate(c *api.Call, in *serverCreateInput) error {
	ctx, r := c.Ctx, &in.req
	if r.MaxCount > 1 {
		for _, n := range r.Networks.Networks {
			if n.FixedIP != "" {
				return errs.Invalid("Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified.")
			}
		}
		for _, n := range r.Networks.Networks {
			if n.Port != "" {
				// MultiplePortsNotApplicable (compute/api.py
				// _check_multiple_instances_with_neutron_ports).
				return errs.Invalid("Failed to launch instances: Unable to launch multiple instances with a single configured port ID. " +
					"Please launch your instance one by one with different ports.")
			}
		}
		if r.Hostname != "" {
			return errs.Invalid("Unable to allocate a single hostname to multiple instances")
		}
	}
	if err := h.checkZone(ctx, in); err != nil {
		return err
	}
	if err := h.checkRequestedHost(ctx, in.requestedHost, in.requestedNode); err != nil {
		return err
	}
	if r.ImageRef == "" && len(in.trustedCerts) > 0 {
		return errs.Invalid("Image certificate validation is not supported when booting from volume")
	}
	r.BlockDevices = in.bdms
	if err := h.checkZeroDiskFlavor(ctx, c, in); err != nil {
		return err
	}
	return h.checkCreateQuotas(ctx, c.ProjectID(), in)
}

// checkRequestedHost is Nova's _validate_host_and_node (2.74): the host
// must exist, a node alone must exist, and a node with a host must be one
// of that host's nodes (in kumo, the node named after it).
func (h *handlers) checkRequestedHost(ctx context.Context, host, node string) error {
	name := host
	if name == "" {
		name = node
	}
	if name == "" {
		return nil
	}
	ok, err := h.computeHostExists(ctx, name)
	if err != nil {
		return err
	}
	if !ok || (host != "" && node != "" && node != host) {
		return errs.Invalid("Compute host %s could not be found.", name)
	}
	return nil
}

// checkZone refuses a zone no enabled host is in. With a forced host the
// zone is not checked; as in Nova, a zone the host is not in is dropped
// so the server goes to the host.
func (h *handlers) checkZone(ctx context.Context, in *serverCreateInput) error {
	r := &in.req
	if in.forcedHost != "" {
		hostZone, found, err := h.hostZone(ctx, in.forcedHost)
		if err != nil {
			return err
		}
		if (found && hostZone != r.AZ) || (!found && r.AZ != defaultZone) {
			r.AZ = ""
		}
		return nil
	}
	if r.AZ == "" {
		return nil
	}
	ok, err := h.availabilityZoneExists(ctx, r.AZ)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Invalid("The requested availability zone is not available")
	}
	return nil
}

// defaultZone is the zone of hosts in no other zone (Nova's
// default_availability_zone).
const defaultZone = "nova"

// checkCreateQuotas checks the per-server metadata and personality limits
// (403 when over, as Nova's OverQuota errors are).
func (h *handlers) checkCreateQuotas(ctx context.Context, projectID string, in *serverCreateInput) error {
	if len(in.req.Metadata) > 0 {
		if err := h.Quotas.CheckMetadataItems(ctx, projectID, len(in.req.Metadata)); err != nil {
			return err
		}
	}
	if len(in.personality) == 0 {
		return nil
	}
	longestPath, largestContent := 0, 0
	for _, p := range in.personality {
		longestPath = max(longestPath, len(p.path))
		largestContent = max(largestContent, len(p.contents))
	}
	return h.Quotas.CheckInjectedFiles(ctx, projectID, len(in.personality), longestPath, largestContent)
}

// availabilityZoneExists reports whether an enabled compute host is in zone.
func (h *handlers) availabilityZoneExists(ctx context.Context, zone string) (bool, error) {
	return h.Hosts.ZoneAvailable(ctx, zone)
}

// hostZone returns the zone of compute host name.
func (h *handlers) hostZone(ctx context.Context, name string) (zone string, found bool, err error) {
	return h.Hosts.ZoneOf(ctx, name)
}

// computeHostExists reports whether name is a compute host (kumo's nodes
// are named after their hosts).
func (h *handlers) computeHostExists(ctx context.Context, name string) (bool, error) {
	_, found, err := h.Hosts.ZoneOf(ctx, name)
	return found, err
}
