package compute

// rescue and unrescue (Nova's rescue.py), changePassword
// (admin_password.py), trigger_crash_dump (servers.py, 2.17+),
// os-getConsoleOutput (console_output.py) and the admin actions
// os-resetState and injectNetworkInfo (admin_actions.py).

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/mv"
)

// rescueServerActions are rescue, unrescue, changePassword, trigger_crash_dump, os-getConsoleOutput, os-resetState and injectNetworkInfo.
func (h *handlers) rescueServerActions() map[string]action {
	return map[string]action{
		"rescue":              {policy: "os_compute_api:os-rescue", handle: h.rescueServer},
		"unrescue":            {policy: "os_compute_api:os-unrescue", handle: h.unrescueServer},
		"changePassword":      {policy: "os_compute_api:os-admin-password", handle: h.changePassword},
		"os-getConsoleOutput": {policy: "os_compute_api:os-console-output", handle: h.consoleOutput},
		// These check their policy themselves, where Nova does: after the
		// microversion, the schema and the server lookup.
		"trigger_crash_dump": {policy: "os_compute_api:servers:trigger_crash_dump", minVer: mv.V2_17, handle: h.triggerCrashDump},
		"os-resetState":      {policy: "os_compute_api:os-admin-actions:reset_state", handle: h.resetState},
		"injectNetworkInfo":  {policy: "os_compute_api:os-admin-actions:inject_network_info", handle: h.injectNetworkInfo},
	}
}

// The action bodies' schemas (nova/api/openstack/compute/schemas).
var (
	rescueBodySchema = js.Object([]string{"rescue"}, js.Property{Name: "rescue", Schema: js.Schema{js.Type("object", "null"),
		js.Properties(js.Property{Name: "adminPass", Schema: js.Schema{js.Type("string")}},
			js.Property{Name: "rescue_image_ref", Schema: js.Schema{js.Type("string"), js.Format("uuid")}}),
		js.NoAdditional(js.Property{Name: "adminPass"}, js.Property{Name: "rescue_image_ref"})}})
	unrescueBodySchema       = js.Object([]string{"unrescue"}, js.Property{Name: "unrescue", Schema: js.Schema{}})
	changePasswordBodySchema = js.Object([]string{"changePassword"}, js.Property{Name: "changePassword",
		Schema: js.Object([]string{"adminPass"}, js.Property{Name: "adminPass", Schema: js.Schema{js.Type("string")}})})
	consoleOutputBodySchema = js.Object([]string{"os-getConsoleOutput"}, js.Property{Name: "os-getConsoleOutput",
		Schema: js.Object(nil, js.Property{Name: "length", Schema: js.Schema{js.Type("integer", "string", "null"), js.Pattern("^-?[0-9]+$"), js.Minimum(-1)}})})
	crashDumpBodySchema  = js.Object([]string{"trigger_crash_dump"}, js.Property{Name: "trigger_crash_dump", Schema: js.Schema{js.Type("null")}})
	resetStateBodySchema = js.Object([]string{"os-resetState"}, js.Property{Name: "os-resetState",
		Schema: js.Object([]string{"state"}, js.Property{Name: "state", Schema: js.Schema{js.Type("string"), js.Enum("active", "error")}})})
	injectNetworkInfoBodySchema = js.Object([]string{"injectNetworkInfo"}, js.Property{Name: "injectNetworkInfo", Schema: js.Schema{}})
)

// rescueServer answers 200 with the rescue password (Nova's
// enable_instance_password is true by default).
func (h *handlers) rescueServer(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := rescueBodySchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	req := compute.RescueRequest{RequestID: c.RequestID, AllowVolumeBacked: c.AtLeast(mv.V2_87)}
	if obj, ok := value.(map[string]any); ok {
		if pass, ok := obj["adminPass"].(string); ok {
			req.AdminPass = &pass
		}
		req.ImageRef, _ = obj["rescue_image_ref"].(string)
	}
	pass, err := h.Servers.Rescue(c.Ctx, c.Principal, c.Param("server_id"), req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"adminPass": pass}), nil
}

func (h *handlers) unrescueServer(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := unrescueBodySchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	return h.accepted(h.Servers.Unrescue(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID))
}

// changePassword answers 202 once the guest has the password.
func (h *handlers) changePassword(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := changePasswordBodySchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	pass := value.(map[string]any)["adminPass"].(string)
	return h.accepted(h.Servers.SetAdminPassword(c.Ctx, c.Principal, c.Param("server_id"), pass, c.RequestID))
}

func (h *handlers) consoleOutput(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := consoleOutputBodySchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	length := consoleLength(value.(map[string]any)["length"])
	out, err := h.Servers.ConsoleOutput(c.Ctx, c.Principal, c.Param("server_id"), length, c.RequestID)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"output": out}), nil
}

// consoleLength reads a validated length (an integer, a numeric string or
// null) as Python's int() would; nil means the whole log.
func consoleLength(v any) *int64 {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		switch {
		case ferr == nil && math.Abs(f) < math.MaxInt64:
			n = int64(f) // a whole float such as 5.0
		case len(s) > 0 && s[0] == '-':
			n = math.MinInt64
		default:
			n = math.MaxInt64
		}
	}
	return &n
}

// triggerCrashDump exists from 2.17; before, Nova answers as if the action
// were unknown to the resource (a bare 404).
func (h *handlers) triggerCrashDump(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := crashDumpBodySchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	return h.accepted(h.Servers.TriggerCrashDump(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID))
}

func (h *handlers) resetState(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := resetStateBodySchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	target := state.VMState(value.(map[string]any)["state"].(string))
	return h.accepted(h.Servers.ResetState(c.Ctx, c.Principal, c.Param("server_id"), target, c.RequestID))
}

func (h *handlers) injectNetworkInfo(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := injectNetworkInfoBodySchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	return h.accepted(h.Servers.InjectNetworkInfo(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID))
}
