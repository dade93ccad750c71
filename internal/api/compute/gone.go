package compute

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/policy"
)

// The APIs modern Nova removed (nova-network, cells v1, XenAPI agents and
// consoles, the EC2 certificates) still have routes there whose handlers
// raise webob's bare HTTPGone at every microversion, after request bodies
// pass their now empty schemas and before any lookup or policy check.
// Sources: nova/api/openstack/compute/routes.py and the controllers marked
// @wsgi.removed (agents.py, cells.py, certificates.py, cloudpipe.py,
// consoles.py, fixed_ips.py, floating_ip_dns.py, floating_ips_bulk.py,
// fping.py, networks.py, networks_associate.py,
// security_group_default_rules.py, tenant_networks.py,
// virtual_interfaces.py). GET /os-networks and /os-tenant-networks (and
// their {id}) are live proxy APIs up to 2.35 (gone_networks.go).

// goneMessage is webob.exc.HTTPGone's explanation, which Nova's fault
// wrapper puts in a "computeFault" body (410 has no fault name of its own).
const goneMessage = "This resource is no longer available.  No forwarding address is given."

// errGone is Nova's answer from a removed API.
func errGone() error { return errs.Gone(goneMessage) }

// goneEndpoints are the removed routes by path, with their methods.
var goneEndpoints = []struct {
	path    string
	methods []string
}{
	{"/os-agents", []string{"GET", "POST"}},
	{"/os-agents/{id}", []string{"PUT", "DELETE"}},
	{"/os-cells", []string{"GET", "POST"}},
	{"/os-cells/capacities", []string{"GET"}},
	{"/os-cells/detail", []string{"GET"}},
	{"/os-cells/info", []string{"GET"}},
	{"/os-cells/sync_instances", []string{"POST"}},
	{"/os-cells/{id}", []string{"GET", "PUT", "DELETE"}},
	{"/os-cells/{id}/capacities", []string{"GET"}},
	{"/os-certificates", []string{"POST"}},
	{"/os-certificates/{id}", []string{"GET"}},
	{"/os-cloudpipe", []string{"GET", "POST"}},
	{"/os-cloudpipe/{id}", []string{"PUT"}},
	{"/os-fixed-ips/{id}", []string{"GET"}},
	{"/os-floating-ip-dns", []string{"GET"}},
	{"/os-floating-ip-dns/{id}", []string{"PUT", "DELETE"}},
	{"/os-floating-ip-dns/{domain_id}/entries/{id}", []string{"GET", "PUT", "DELETE"}},
	{"/os-floating-ips-bulk", []string{"GET", "POST"}},
	{"/os-floating-ips-bulk/{id}", []string{"GET", "PUT"}},
	{"/os-fping", []string{"GET"}},
	{"/os-fping/{id}", []string{"GET"}},
	{"/os-networks", []string{"POST"}},
	{"/os-networks/add", []string{"POST"}},
	{"/os-networks/{id}", []string{"DELETE"}},
	{"/os-security-group-default-rules", []string{"GET", "POST"}},
	{"/os-security-group-default-rules/{id}", []string{"GET", "DELETE"}},
	{"/os-tenant-networks", []string{"POST"}},
	{"/os-tenant-networks/{id}", []string{"DELETE"}},
	{"/servers/{server_id}/consoles", []string{"GET", "POST"}},
	{"/servers/{server_id}/consoles/{id}", []string{"GET", "DELETE"}},
	{"/servers/{server_id}/os-virtual-interfaces", []string{"GET"}},
}

// goneActionEndpoints are the removed action routes and their actions;
// any other action is Nova's "There is no such action".
var goneActionEndpoints = []struct {
	path    string
	actions []string
}{
	{"/os-fixed-ips/{id}/action", []string{"reserve", "unreserve"}},
	{"/os-networks/{id}/action", []string{"disassociate", "disassociate_host", "disassociate_project", "associate_host"}},
}

// goneRoutes serve the APIs modern Nova removed, answering 410 Gone as it does.
func (h *handlers) goneRoutes() []api.Route {
	var rs []api.Route
	for _, e := range goneEndpoints {
		for _, m := range e.methods {
			rs = append(rs, api.Route{Method: m, Path: e.path, Rule: policy.Removed, Handler: goneHandler(m)})
		}
	}
	for _, e := range goneActionEndpoints {
		rs = append(rs, api.Route{Method: "POST", Path: e.path, Rule: policy.Removed, Handler: goneActionHandler(e.actions)})
	}
	return append(rs, h.networkProxyRoutes()...)
}

// goneHandler answers 410 once a POST or PUT body, if any, is JSON: Nova
// deserializes it before the (empty) schema and the handler run.
func goneHandler(method string) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		if method == "POST" || method == "PUT" {
			if err := decodeGoneBody(c); err != nil {
				return nil, err
			}
		}
		return nil, errGone()
	}
}

// goneActionHandler dispatches a removed action route as Nova's wsgi
// does: the body must be one key, a removed action answers 410.
func goneActionHandler(actions []string) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		raw, err := c.Body()
		if err != nil {
			return nil, err
		}
		var body any
		if len(raw) == 0 {
			return nil, errs.Invalid("Malformed request body")
		}
		if err := api.DecodeJSON(raw, &body); err != nil {
			return nil, err
		}
		obj, ok := body.(map[string]any)
		if !ok || len(obj) != 1 {
			return nil, errs.Invalid("Malformed request body")
		}
		for name := range obj {
			for _, a := range actions {
				if a == name {
					return nil, errGone()
				}
			}
			return nil, errs.Invalid("There is no such action: %s", name)
		}
		return nil, errGone()
	}
}

func decodeGoneBody(c *api.Call) error {
	raw, err := c.Body()
	if err != nil || len(raw) == 0 {
		return err
	}
	var body any
	return api.DecodeJSON(raw, &body)
}
