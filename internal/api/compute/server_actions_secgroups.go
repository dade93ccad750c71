package compute

import (
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
)

// securityGroupServerActions are addSecurityGroup and removeSecurityGroup.
// Nova applies them to the server's ports whatever its state or lock, and
// records no instance action.
func (h *handlers) securityGroupServerActions() map[string]action {
	return map[string]action{
		"addSecurityGroup":    {policy: "os_compute_api:os-security-groups:add", handle: h.securityGroupAction("addSecurityGroup", true)},
		"removeSecurityGroup": {policy: "os_compute_api:os-security-groups:remove", handle: h.securityGroupAction("removeSecurityGroup", false)},
	}
}

// securityGroupActionSchema is schemas/security_groups.py
// add_security_group / remove_security_group.
func securityGroupActionSchema(action string) js.Schema {
	return js.Schema{js.Type("object"),
		js.Properties(js.Property{Name: action, Schema: js.Object([]string{"name"}, js.Property{Name: "name", Schema: js.Schema{js.Type("string"), js.MinLength(1)}})}),
		js.Required(action)}
}

func (h *handlers) securityGroupAction(action string, add bool) actionHandler {
	schema := securityGroupActionSchema(action)
	return func(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
		if f := schema.Validate(run, nil, body); f != nil {
			return nil, f.Err(run)
		}
		srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
		if err != nil {
			return nil, err
		}
		name := value.(map[string]any)["name"].(string)
		if strings.TrimSpace(name) == "" {
			return nil, errs.Invalid("Security group name cannot be empty")
		}
		if add {
			return h.accepted(h.SecurityGroups.AddToServer(c.Ctx, c.Principal, srv.ID, name))
		}
		return h.accepted(h.SecurityGroups.RemoveFromServer(c.Ctx, c.Principal, srv.ID, name))
	}
}
