package compute

// Remote consoles (Nova's remote_consoles.py and console_auth_tokens.py):
// POST /servers/{id}/remote-consoles (2.6+), the legacy actions
// os-getVNCConsole, os-getSerialConsole, os-getSPICEConsole and
// os-getRDPConsole (up to 2.5), and GET /os-console-auth-tokens/{token}.
// kumo has serial and noVNC consoles, served by its own proxies
// (internal/api/consoleproxy); SPICE and MKS are disabled as in a Nova
// whose [spice] and [mks] are off, RDP is gone with Hyper-V.

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/api/consoleproxy"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/console"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
)

const remoteConsolesRule = "os_compute_api:os-remote-consoles"

func (h *handlers) remoteConsoleRoutes() []api.Route {
	return []api.Route{
		{Method: "POST", Path: "/servers/{server_id}/remote-consoles", Rule: remoteConsolesRule, MinVer: mv.V2_6,
			Handler: h.createRemoteConsole},
		// Deferred: below 2.31 Nova answers 400 before its policy.
		{Method: "GET", Path: "/os-console-auth-tokens/{console_token}", Rule: "os_compute_api:os-console-auth-tokens",
			Deferred: true, Handler: h.showConsoleAuthToken},
	}
}

// remoteConsoleServerActions are the legacy console actions (2.1-2.5).
func (h *handlers) remoteConsoleServerActions() map[string]action {
	legacy := func(schema js.Schema, protocol string) action {
		return action{policy: remoteConsolesRule, maxVer: mv.V2_5,
			handle: func(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
				if f := schema.Validate(run, nil, body); f != nil {
					return nil, f.Err(run)
				}
				consoleType, _ := value.(map[string]any)["type"].(string)
				url, err := h.remoteConsole(c, protocol, consoleType)
				if err != nil {
					return nil, err
				}
				return api.JSON(http.StatusOK, map[string]any{"console": map[string]any{"type": consoleType, "url": url}}), nil
			}}
	}
	return map[string]action{
		"os-getVNCConsole":    legacy(legacyConsoleSchema("os-getVNCConsole", "novnc", "xvpvnc"), "vnc"),
		"os-getSPICEConsole":  legacy(legacyConsoleSchema("os-getSPICEConsole", "spice-html5"), "spice"),
		"os-getSerialConsole": legacy(legacyConsoleSchema("os-getSerialConsole", "serial"), "serial"),
		// Removed with Hyper-V (@wsgi.removed): a bare 400 for everyone,
		// no schema, no policy.
		"os-getRDPConsole": {policy: policy.Removed, maxVer: mv.V2_5,
			handle: func(*api.Call, *js.Run, map[string]any, any) (*api.Reply, error) { return nil, errBareBadRequest() }},
	}
}

// legacyConsoleSchema is the schema of a legacy console action: an
// object with a required type among types.
func legacyConsoleSchema(name string, types ...any) js.Schema {
	return js.Object([]string{name}, js.Property{Name: name,
		Schema: js.Object([]string{"type"}, js.Property{Name: "type", Schema: js.Schema{js.Type("string"), js.Enum(types...)}})})
}

// remoteConsoleSchema is create's schema at a microversion: 2.8 adds
// mks and webmks, 2.99 spice-direct.
func remoteConsoleSchema(c *api.Call) js.Schema {
	protocols := []any{"vnc", "spice", "serial", "rdp"}
	types := []any{"novnc", "xvpvnc", "spice-html5", "serial", "rdp-html5"}
	if c.AtLeast(mv.V2_8) {
		protocols, types = append(protocols, "mks"), append(types, "webmks")
	}
	if c.AtLeast(mv.V2_99) {
		types = append(types, "spice-direct")
	}
	return js.Object([]string{"remote_console"}, js.Property{Name: "remote_console",
		Schema: js.Object([]string{"protocol", "type"},
			js.Property{Name: "protocol", Schema: js.Schema{js.Type("string"), js.Enum(protocols...)}},
			js.Property{Name: "type", Schema: js.Schema{js.Type("string"), js.Enum(types...)}})})
}

func (h *handlers) createRemoteConsole(c *api.Call) (*api.Reply, error) {
	body, err := validatedBody(c, remoteConsoleSchema(c))
	if err != nil {
		return nil, err
	}
	rc := body.(map[string]any)["remote_console"].(map[string]any)
	protocol, consoleType := rc["protocol"].(string), rc["type"].(string)
	if protocol == "rdp" {
		return nil, errBareBadRequest()
	}
	url, err := h.remoteConsole(c, protocol, consoleType)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"remote_console": map[string]any{
		"protocol": protocol, "type": consoleType, "url": url}}), nil
}

// remoteConsole is Nova's compute API get_<protocol>_console: the
// server's host (404, 409 not ready), then the compute manager's checks
// (the console type, the consoles this cloud disables) and the driver's
// (through the console service), then a token and its URL.
func (h *handlers) remoteConsole(c *api.Call, protocol, consoleType string) (string, error) {
	host, err := h.Servers.ConsoleHost(c.Ctx, c.Principal, c.Param("server_id"), "get_"+protocol+"_console")
	if err != nil {
		return "", err
	}
	switch {
	case protocol == "vnc" && consoleType != "novnc":
		return "", errs.Invalid("Invalid console type %s", consoleType)
	case protocol != "vnc" && protocol != "serial": // spice, mks: disabled
		return "", errs.Invalid("Unavailable console type %s.", consoleType)
	}
	kind := console.Serial
	if protocol == "vnc" {
		kind = console.VNC
	}
	token, err := h.Consoles.Authorize(c.Ctx, c.Param("server_id"), host, kind, consoleType)
	if err != nil {
		return "", err
	}
	root := h.publicURL
	if root == "" {
		root = api.RequestOrigin(c.Req)
	}
	if kind == console.VNC {
		return consoleproxy.NoVNCURL(root, token), nil
	}
	return consoleproxy.SerialURL(root, token), nil
}

func (h *handlers) showConsoleAuthToken(c *api.Call) (*api.Reply, error) {
	// Before 2.31 only RDP tokens were shown, and RDP is gone.
	if !c.AtLeast(mv.V2_31) {
		return nil, errBareBadRequest()
	}
	if _, err := checkQuery(c, nil, strictQuery(c, mv.V2_99)); err != nil {
		return nil, err
	}
	if err := c.Authorize("os_compute_api:os-console-auth-tokens", nil); err != nil {
		return nil, err
	}
	token := c.Param("console_token")
	if strings.TrimSpace(token) == "" {
		return nil, errs.Invalid("token not provided")
	}
	a, err := h.Consoles.Show(c.Ctx, token)
	if err != nil {
		return nil, err
	}
	var path any
	if a.InternalAccessPath != nil {
		path = *a.InternalAccessPath
	}
	return api.JSON(http.StatusOK, map[string]any{"console": map[string]any{
		"instance_uuid": a.InstanceID, "host": a.Host, "port": a.Port, "internal_access_path": path}}), nil
}

// errBareBadRequest is webob's HTTPBadRequest raised without an
// explanation (Nova's removed RDP console and pre-2.31 token show).
func errBareBadRequest() error {
	return errs.Invalid("The server could not comply with the request since it is either malformed or otherwise incorrect.")
}
