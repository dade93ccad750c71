package compute

// POST /servers/{server_id}/action: Nova dispatches on the body's first
// key. The power actions and lock/unlock are here; every other family of
// actions has its own server_actions_<family>.go.

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
)

// serverActionRoutes is the action route of servers.
func (h *handlers) serverActionRoutes() []api.Route {
	return []api.Route{actionRoute("/servers/{server_id}/action", h.serverActionHandlers())}
}

// actionRoute is an action route (POST .../action): one row per action,
// built once with the table its dispatcher reads.
func actionRoute(path string, actions map[string]action) api.Route {
	rows := make([]api.Action, 0, len(actions))
	for name, a := range actions {
		rows = append(rows, a.row(name))
	}
	slices.SortFunc(rows, func(a, b api.Action) int { return strings.Compare(a.Name, b.Name) })
	return api.Route{Method: "POST", Path: path, Rule: policy.Action, Actions: rows,
		Handler: func(c *api.Call) (*api.Reply, error) { return dispatchAction(c, actions) }}
}

// actionHandler handles one action; body is the decoded root object
// (key order recorded in run) and value the action key's value.
type actionHandler func(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error)

// action is one action of an action route (servers, flavors,
// aggregates): the policy rule that guards it, the microversions it
// exists at (zero: all) and its handler. The dispatcher checks the
// version, then the rule.
type action struct {
	policy         string
	minVer, maxVer mv.Version
	handle         actionHandler
}

// row is the action's row of the route table.
func (a action) row(name string) api.Action {
	return api.Action{Name: name, Rule: a.policy, MinVer: a.minVer, MaxVer: a.maxVer}
}

// serverActionHandlers is every action by body key. Each family of
// actions lives in its own file.
func (h *handlers) serverActionHandlers() map[string]action {
	all := map[string]action{}
	for _, group := range []map[string]action{h.powerServerActions(), h.rebuildServerActions(),
		h.resizeServerActions(), h.imageServerActions(), h.rescueServerActions(), h.deleteServerActions(),
		h.securityGroupServerActions(), h.floatingIPServerActions(), h.moveServerActions(), h.remoteConsoleServerActions()} {
		for name, a := range group {
			all[name] = a
		}
	}
	return all
}

// powerServerActions are the power actions and lock/unlock.
func (h *handlers) powerServerActions() map[string]action {
	power := func(a state.Action, policy string) action {
		return action{policy: policy, handle: func(c *api.Call, _ *js.Run, _ map[string]any, _ any) (*api.Reply, error) {
			return h.accepted(h.Servers.Act(c.Ctx, c.Principal, c.Param("server_id"), a, c.RequestID))
		}}
	}
	return map[string]action{
		"os-stop":  power(state.ActionStop, "os_compute_api:servers:stop"),
		"os-start": power(state.ActionStart, "os_compute_api:servers:start"),
		"pause":    power(state.ActionPause, "os_compute_api:os-pause-server:pause"),
		"unpause":  power(state.ActionUnpause, "os_compute_api:os-pause-server:unpause"),
		"suspend":  power(state.ActionSuspend, "os_compute_api:os-suspend-server:suspend"),
		"resume":   power(state.ActionResume, "os_compute_api:os-suspend-server:resume"),
		"reboot":   {policy: "os_compute_api:servers:reboot", handle: h.rebootServer},
		"lock":     {policy: "os_compute_api:os-lock-server:lock", handle: h.lockServer},
		"unlock":   {policy: "os_compute_api:os-lock-server:unlock", handle: h.unlockServer},
	}
}

// dispatchAction decodes the body once, picks the action its first
// key names and runs it. An action that does not exist at the request's
// microversion is a 404, as a route would be; then the action's rule.
func dispatchAction(c *api.Call, actions map[string]action) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	if err := api.CheckJSON(raw); err != nil {
		return nil, err
	}
	decoded, order, err := js.Decode(raw)
	if err != nil {
		return nil, errs.Invalid("Malformed request body")
	}
	if err := actionPeek(decoded); err != nil {
		return nil, err
	}
	body := decoded.(map[string]any)
	run := &js.Run{Relaxed: isLegacyV2(c), Order: order}
	name := run.Keys(body)[0]
	a, known := actions[name]
	if !known {
		return nil, errs.Invalid("There is no such action: %s", name)
	}
	if !a.row(name).Exists(c.Version) {
		return nil, errs.NotFound("The resource could not be found.")
	}
	if err := c.Authorize(a.policy, nil); err != nil {
		return nil, err
	}
	return a.handle(c, run, body, body[name])
}

// actionPeek answers as Nova's action_peek does for a body that is not
// an object with exactly one key: Python's len() of anything but one
// item is a malformed body; one item that has no keys (a list, a
// string) or no len() at all (a number, a boolean, null) fails the
// lookup, which Nova answers 404.
func actionPeek(decoded any) error {
	n := 1
	switch v := decoded.(type) {
	case map[string]any:
		if len(v) == 1 {
			return nil
		}
		n = len(v)
	case []any:
		n = len(v)
	case string:
		n = utf8.RuneCountInString(v)
	}
	if n != 1 {
		return errs.Invalid("Malformed request body")
	}
	return errs.NotFound("The resource could not be found.")
}

func (h *handlers) accepted(err error) (*api.Reply, error) {
	if err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

var rebootSchema = js.Object([]string{"reboot"}, js.Property{Name: "reboot", Schema: js.Object([]string{"type"},
	js.Property{Name: "type", Schema: js.Schema{js.Type("string"), js.Enum("HARD", "Hard", "hard", "SOFT", "Soft", "soft")}})})

func (h *handlers) rebootServer(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := rebootSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	kind := body["reboot"].(map[string]any)["type"].(string)
	return h.accepted(h.Servers.Act(c.Ctx, c.Principal, c.Param("server_id"), state.Reboot(kind), c.RequestID))
}

// lockSchema273 is the lock body from 2.73: null or {"locked_reason"}.
var lockSchema273 = js.Object([]string{"lock"}, js.Property{Name: "lock", Schema: js.Schema{js.Type("object", "null"),
	js.Properties(js.Property{Name: "locked_reason", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}}),
	js.NoAdditional(js.Property{Name: "locked_reason"})}})

func (h *handlers) lockServer(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	var reason *string
	if c.AtLeast(mv.V2_73) {
		if f := lockSchema273.Validate(run, nil, body); f != nil {
			return nil, f.Err(run)
		}
		if obj, ok := value.(map[string]any); ok {
			if r, ok := obj["locked_reason"].(string); ok {
				reason = &r
			}
		}
	}
	return h.accepted(h.Servers.SetLock(c.Ctx, c.Principal, c.Param("server_id"), true, reason, c.RequestID))
}

func (h *handlers) unlockServer(c *api.Call, _ *js.Run, _ map[string]any, _ any) (*api.Reply, error) {
	return h.accepted(h.Servers.SetLock(c.Ctx, c.Principal, c.Param("server_id"), false, nil, c.RequestID))
}
