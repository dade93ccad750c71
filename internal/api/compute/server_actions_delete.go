package compute

import (
	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/policy"
)

// deleteServerActions are forceDelete and restore (deferred delete,
// nova/api/openstack/compute/deferred_delete.py), and the server actions
// modern Nova removed, which answer 410 Gone.
func (h *handlers) deleteServerActions() map[string]action {
	return map[string]action{
		"restore": {policy: "os_compute_api:os-deferred-delete:restore", handle: func(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
			if f := restoreSchema.Validate(run, nil, body); f != nil {
				return nil, f.Err(run)
			}
			return h.accepted(h.Servers.Restore(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID))
		}},
		"forceDelete": {policy: "os_compute_api:os-deferred-delete:force", handle: func(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
			if f := forceDeleteSchema.Validate(run, nil, body); f != nil {
				return nil, f.Err(run)
			}
			return h.accepted(h.Servers.ForceDelete(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID))
		}},
		// resetNetwork (XenAPI only) was removed in 23.0.0: HTTPGone before
		// any server lookup or policy check (admin_actions.py), whatever
		// the body (its schema is empty).
		"resetNetwork": {policy: policy.Removed, handle: func(*api.Call, *js.Run, map[string]any, any) (*api.Reply, error) {
			return nil, errGone()
		}},
	}
}

// Nova's deferred delete schemas accept any value for the action key
// ({"restore": null} is the documented body) and no other key.
var (
	restoreSchema     = js.Object([]string{"restore"}, js.Property{Name: "restore"})
	forceDeleteSchema = js.Object([]string{"forceDelete"}, js.Property{Name: "forceDelete"})
)
