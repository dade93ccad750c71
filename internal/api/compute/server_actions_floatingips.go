package compute

// addFloatingIp and removeFloatingIp (Nova's FloatingIPActionController):
// deprecated actions that exist up to 2.43; from 2.44 Nova answers them
// as a method with no matching version, a bare 404.

import (
	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// floatingIPServerActions are addFloatingIp and removeFloatingIp, which
// Nova removed in 2.44.
func (h *handlers) floatingIPServerActions() map[string]action {
	upTo := mv.V2_43
	return map[string]action{
		"addFloatingIp":    {policy: "os_compute_api:os-floating-ips:add", maxVer: upTo, handle: h.addFloatingIP},
		"removeFloatingIp": {policy: "os_compute_api:os-floating-ips:remove", maxVer: upTo, handle: h.removeFloatingIP},
	}
}

var (
	addFloatingIPSchema = js.Object([]string{"addFloatingIp"}, js.Property{Name: "addFloatingIp", Schema: js.Object([]string{"address"},
		js.Property{Name: "address", Schema: csIPAddress}, js.Property{Name: "fixed_address", Schema: csIPAddress})})
	removeFloatingIPSchema = js.Object([]string{"removeFloatingIp"}, js.Property{Name: "removeFloatingIp", Schema: js.Object([]string{"address"},
		js.Property{Name: "address", Schema: csIPAddress})})
)

func (h *handlers) addFloatingIP(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := addFloatingIPSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	args := value.(map[string]any)
	address := args["address"].(string)
	fixed, _ := args["fixed_address"].(string)
	// Nova's network info cache is empty until the build has set up
	// the server's network, as the addresses view shows.
	if srv.VMState == state.VMBuilding {
		return nil, errs.Invalid("Instance network is not ready yet")
	}
	return h.accepted(h.FloatingIPs.Associate(c.Ctx, c.Principal, srv.ID, address, fixed))
}

func (h *handlers) removeFloatingIP(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := removeFloatingIPSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	address := value.(map[string]any)["address"].(string)
	// Nova never loads the server named in the path: an address bound
	// elsewhere is a 409.
	if _, err := h.FloatingIPs.ByAddress(c.Ctx, c.Principal, address); err != nil {
		return nil, err
	}
	return h.accepted(h.FloatingIPs.Disassociate(c.Ctx, c.Principal, c.Param("server_id"), address))
}
