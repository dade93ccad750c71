package blockstorage

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/volume"
)

var (
	// retypeSchema is Cinder's volume_actions retype schema.
	retypeSchema = js.Object([]string{"os-retype"}, js.Property{Name: "os-retype", Schema: js.Object([]string{"new_type"},
		js.Property{Name: "new_type", Schema: js.Schema{js.Type("string")}},
		js.Property{Name: "migration_policy", Schema: js.Schema{js.Type("string", "null"), js.Enum("on-demand", "never")}})})
	// forceDetachSchema is Cinder's admin_actions force_detach schema.
	forceDetachSchema = js.Object([]string{"os-force_detach"}, js.Property{Name: "os-force_detach", Schema: js.Object(nil,
		js.Property{Name: "connector", Schema: js.Schema{js.Type("string", "object", "null")}},
		js.Property{Name: "attachment_id", Schema: js.Schema{js.Type("string", "null")}})})
)

// retype answers os-retype (202). The volume stays on kumo's one backend
// whatever the migration policy, so the type changes in place. Retyping
// to a multiattach type needs volume:multiattach, as Cinder's retype
// checks once the multiattach change is allowed (available volumes).
func (h *handlers) retype(c *api.Call, v *volume.Volume, args map[string]any) (*api.Reply, error) {
	ref, _ := str(args, "new_type")
	t, err := h.vols.TypeElevated(c.Ctx, ref)
	if err != nil {
		return nil, err
	}
	if t.IsMultiattach() && !v.Multiattach && v.Status == volume.StatusAvailable {
		if err := c.Authorize("volume:multiattach", nil); err != nil {
			return nil, err
		}
	}
	if err := h.vols.Retype(c.Ctx, c.Principal, v.ID, t.ID); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// forceDetach answers os-force_detach (202): the connector is the
// backend's business (kumo's file backend keeps no exports), the
// attachment goes. The volume manager's refusals come back as Cinder's
// admin_actions shows them: "Error force detaching volume - ...".
func (h *handlers) forceDetach(c *api.Call, v *volume.Volume, args map[string]any) (*api.Reply, error) {
	// Cinder's volume API refuses a volume in maintenance before the
	// volume manager is asked.
	if v.Status == volume.StatusMaintenance {
		return nil, errs.Named("InvalidVolume", errs.Invalid("Invalid volume: The volume cannot be detached in maintenance mode."))
	}
	att, _ := str(args, "attachment_id")
	if err := h.vols.ForceDetach(c.Ctx, c.Principal, v.ID, att); err != nil {
		return nil, forceDetachError(err)
	}
	return api.NoContent(http.StatusAccepted), nil
}
