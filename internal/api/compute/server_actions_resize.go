package compute

// resize, confirmResize and revertResize (Nova's servers.py _resize,
// _confirm_resize and _revert_resize with schemas/servers.py resize,
// confirm_resize and revert_resize).

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/mv"
)

// resizeServerActions are resize, confirmResize and revertResize.
func (h *handlers) resizeServerActions() map[string]action {
	return map[string]action{
		"resize":        {policy: "os_compute_api:servers:resize", handle: h.resizeServer},
		"confirmResize": {policy: "os_compute_api:servers:confirm_resize", handle: h.confirmResize},
		"revertResize":  {policy: "os_compute_api:servers:revert_resize", handle: h.revertResize},
		"migrate":       {policy: "os_compute_api:os-migrate-server:migrate", handle: h.migrateServer},
	}
}

var (
	resizeSchema = js.Object([]string{"resize"}, js.Property{Name: "resize", Schema: js.Object([]string{"flavorRef"},
		js.Property{Name: "flavorRef", Schema: js.Schema{js.Type("string", "integer"), js.MinLength(1)}},
		js.Property{Name: "OS-DCF:diskConfig", Schema: js.Schema{js.Type("string"), js.Enum("AUTO", "MANUAL")}})})
	// The confirm and revert values are not checked (Nova's schema has {}
	// for them), only that nothing else is in the body.
	confirmResizeSchema = js.Object([]string{"confirmResize"}, js.Property{Name: "confirmResize", Schema: js.Schema{}})
	revertResizeSchema  = js.Object([]string{"revertResize"}, js.Property{Name: "revertResize", Schema: js.Schema{}})
	// migrateSchema256 is Nova's migrate schema, checked from 2.56.
	migrateSchema256 = js.Object([]string{"migrate"}, js.Property{Name: "migrate", Schema: js.Schema{js.Type("object", "null"),
		js.Properties(js.Property{Name: "host", Schema: js.Schema{js.Type("string", "null"), js.Pattern("^[a-zA-Z0-9-._]*$"), js.MinLength(1), js.MaxLength(255)}}),
		js.NoAdditional(js.Property{Name: "host"})}})
)

// resizeServer answers 202 with no body. The flavor is looked up by
// str(flavorRef) as Nova does, so a flavor URL is not found.
func (h *handlers) resizeServer(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := resizeSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	args := value.(map[string]any)
	req := compute.ResizeRequest{FlavorRef: pyStr(args["flavorRef"]), RequestID: c.RequestID}
	if dc, ok := args["OS-DCF:diskConfig"].(string); ok {
		req.DiskConfig = dc
	}
	return h.accepted(h.Servers.Resize(c.Ctx, c.Principal, c.Param("server_id"), req))
}

// confirmResize answers 204 (Nova keeps 204 for backwards compatibility,
// though the confirm completes asynchronously).
func (h *handlers) confirmResize(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := confirmResizeSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	if err := h.Servers.ConfirmResize(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) revertResize(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := revertResizeSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	return h.accepted(h.Servers.RevertResize(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID))
}

// migrateServer is the admin migrate action (cold migration), 202 with no
// body. Nova finds the server first (404), then checks
// os-migrate-server:migrate (PROJECT_MANAGER_OR_ADMIN) or, with a host
// (2.56), migrate:host (ADMIN).
func (h *handlers) migrateServer(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	host := ""
	if c.AtLeast(mv.V2_56) {
		if f := migrateSchema256.Validate(run, nil, body); f != nil {
			return nil, f.Err(run)
		}
		if args, ok := value.(map[string]any); ok {
			host, _ = args["host"].(string)
		}
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	if host != "" {
		if err := c.Authorize("os_compute_api:os-migrate-server:migrate:host", nil); err != nil {
			return nil, err
		}
	}
	return h.accepted(h.Servers.Migrate(c.Ctx, c.Principal, srv.ID, host, c.RequestID))
}
