package blockstorage

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/volume"
)

// volumeActions are the rows of POST /volumes/{id}/action (Cinder's
// volume_actions, admin_actions and volume_image_metadata extensions).
var volumeActions = []api.Action{
	{Name: "os-extend", Rule: "volume:extend"},
	{Name: "os-set_bootable", Rule: "volume:update"},
	{Name: "os-update_readonly_flag", Rule: "volume:update_readonly_flag"},
	{Name: "os-reset_status", Rule: "volume_extension:volume_admin_actions:reset_status"},
	{Name: "os-force_delete", Rule: "volume_extension:volume_admin_actions:force_delete"},
	{Name: "os-force_detach", Rule: "volume_extension:volume_admin_actions:force_detach"},
	{Name: "os-retype", Rule: "volume:retype"},
	{Name: "os-volume_upload_image", Rule: "volume_extension:volume_actions:upload_image"},
	{Name: "os-reserve", Rule: "volume_extension:volume_actions:reserve"},
	{Name: "os-unreserve", Rule: "volume_extension:volume_actions:unreserve"},
	{Name: "os-attach", Rule: "volume_extension:volume_actions:attach"},
	{Name: "os-begin_detaching", Rule: "volume_extension:volume_actions:begin_detaching"},
	{Name: "os-roll_detaching", Rule: "volume_extension:volume_actions:roll_detaching"},
	{Name: "os-detach", Rule: "volume_extension:volume_actions:detach"},
	{Name: "os-initialize_connection", Rule: "volume_extension:volume_actions:initialize_connection"},
	{Name: "os-terminate_connection", Rule: "volume_extension:volume_actions:terminate_connection"},
	{Name: "os-set_image_metadata", Rule: "volume_extension:volume_image_metadata:set"},
	{Name: "os-unset_image_metadata", Rule: "volume_extension:volume_image_metadata:remove"},
	{Name: "os-show_image_metadata", Rule: "volume:get_volume_metadata"},
	{Name: "revert", Rule: "volume:revert_to_snapshot", MinVer: mv.V3_40},
	{Name: "os-reimage", Rule: "volume:reimage", MinVer: mv.V3_68},
	{Name: "os-unmanage", Rule: "volume_extension:volume_unmanage"},
}

func (h *handlers) volumeActionRoute() api.Route {
	return api.Route{Method: "POST", Path: "/volumes/{volume_id}/action", Rule: policy.Action, Actions: volumeActions, Handler: h.volumeAction}
}

// emptyAction is the schema of the actions whose value is ignored
// ({"os-reserve": {}} or null).
func emptyAction(name string) js.Schema {
	return js.Object([]string{name}, js.Property{Name: name, Schema: js.Schema{}})
}

// volumeStatuses are Cinder's VolumeStatus.ALL, as Python prints the
// tuple in os-reset_status' message.
var volumeStatuses = []string{"creating", "available", "deleting", "error", "error_deleting", "error_managing", "managing",
	"attaching", "in-use", "detaching", "maintenance", "restoring-backup", "error_restoring", "reserved",
	"awaiting-transfer", "backing-up", "error_backing-up", "error_extending", "downloading", "uploading", "retyping", "extending"}

var migrationStatuses = []string{"migrating", "error", "success", "completing", "none", "starting"}

func pyTuple(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// statusFormat is the volume_status / volume_attach_status /
// volume_migration_status formats (InvalidParameterValue).
func statusFormat(label string, valid []string, shown string) js.Keyword {
	return func(_ *js.Run, _ []string, v any) *js.Failure {
		s, ok := v.(string)
		if !ok || s == "" || slicesContainsFold(valid, s) {
			return nil
		}
		return &js.Failure{Raw: true, Message: fmt.Sprintf("%s: %s is invalid, valid statuses are: %s.", label, s, shown)}
	}
}

func slicesContainsFold(xs []string, s string) bool {
	s = strings.ToLower(s)
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

var (
	extendSchema = js.Object([]string{"os-extend"}, js.Property{Name: "os-extend", Schema: js.Object([]string{"new_size"},
		js.Property{Name: "new_size", Schema: js.Schema{js.Type("integer", "string"), js.PatternGo(`^[0-9]+$`, `^[0-9]+$`), js.Minimum(1), js.Maximum(2147483647)}})})
	bootableSchema = js.Object([]string{"os-set_bootable"}, js.Property{Name: "os-set_bootable", Schema: js.Object([]string{"bootable"},
		js.Property{Name: "bootable", Schema: boolean})})
	readonlySchema = js.Object([]string{"os-update_readonly_flag"}, js.Property{Name: "os-update_readonly_flag", Schema: js.Object([]string{"readonly"},
		js.Property{Name: "readonly", Schema: boolean})})
	resetSchema = js.Object([]string{"os-reset_status"}, js.Property{Name: "os-reset_status", Schema: append(js.Schema{js.Type("object"),
		func(_ *js.Run, _ []string, v any) *js.Failure {
			m, _ := v.(map[string]any)
			for _, k := range []string{"status", "attach_status", "migration_status"} {
				if s, ok := m[k].(string); ok && s != "" {
					return nil
				}
			}
			return &js.Failure{Raw: true, Message: "Must specify 'status', 'attach_status' or 'migration_status' for update."}
		}}, js.Object(nil,
		js.Property{Name: "status", Schema: js.Schema{js.Type("string", "null"), statusFormat("Volume status", volumeStatuses, pyTuple(volumeStatuses))}},
		js.Property{Name: "attach_status", Schema: js.Schema{js.Type("string", "null"), statusFormat("Volume attach status", []string{"attached", "detached"}, "['attached', 'detached']")}},
		js.Property{Name: "migration_status", Schema: js.Schema{js.Type("string", "null"), statusFormat("Volume migration status", migrationStatuses, pyTuple(migrationStatuses))}},
	)...)})
	attachSchema = js.Object([]string{"os-attach"}, js.Property{Name: "os-attach", Schema: append(js.Object([]string{"mountpoint"},
		js.Property{Name: "instance_uuid", Schema: js.Schema{js.Type("string"), js.Format("uuid")}},
		js.Property{Name: "mountpoint", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}},
		js.Property{Name: "host_name", Schema: js.Schema{js.Type("string"), js.MaxLength(255)}},
		js.Property{Name: "mode", Schema: js.Schema{js.Type("string"), js.Enum("rw", "ro")}}),
		anyRequired("instance_uuid", "host_name"))})
	detachSchema = js.Object([]string{"os-detach"}, js.Property{Name: "os-detach", Schema: js.Schema{js.Type("object", "null"),
		js.Properties(js.Property{Name: "attachment_id", Schema: uuidAllowNull}), js.NoAdditional(js.Property{Name: "attachment_id"})}})
	connectorSchema = func(name string) js.Schema {
		return js.Object([]string{name}, js.Property{Name: name, Schema: js.Object([]string{"connector"},
			js.Property{Name: "connector", Schema: js.Schema{js.Type("object")}})})
	}
	imageMetadataSchema = js.Object([]string{"os-set_image_metadata"}, js.Property{Name: "os-set_image_metadata", Schema: js.Object([]string{"metadata"},
		js.Property{Name: "metadata", Schema: append(js.Schema{js.Type("object")},
			js.PatternProperties(extraSpecsGoRE, extraSpecsKey, js.Schema{js.Type("string")})...)})})
	revertSchema = js.Object([]string{"revert"}, js.Property{Name: "revert", Schema: js.Schema{js.Type("object"),
		js.Properties(js.Property{Name: "snapshot_id", Schema: js.Schema{js.Type("string", "null")}})}})
	reimageSchema = js.Object([]string{"os-reimage"}, js.Property{Name: "os-reimage", Schema: js.Object([]string{"image_id"},
		js.Property{Name: "image_id", Schema: js.Schema{js.Type("string"), js.Format("uuid")}},
		js.Property{Name: "reimage_reserved", Schema: boolean})})
	unsetImageMetadataSchema = js.Object([]string{"os-unset_image_metadata"}, js.Property{Name: "os-unset_image_metadata", Schema: js.Object([]string{"key"},
		js.Property{Name: "key", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}})})
)

// uploadSchema is volume_upload_image (visibility and protected from 3.1).
func uploadSchema(c *api.Call) js.Schema {
	props := []js.Property{
		{Name: "image_name", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}},
		{Name: "force", Schema: boolean},
		{Name: "disk_format", Schema: js.Schema{js.Type("string"), js.Enum("raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop")}},
		{Name: "container_format", Schema: description},
	}
	if c.AtLeast(mv.V3_1) {
		props = append(props, js.Property{Name: "visibility", Schema: js.Schema{js.Type("string"), js.Enum("community", "public", "private", "shared")}},
			js.Property{Name: "protected", Schema: boolean})
	}
	return js.Object([]string{"os-volume_upload_image"}, js.Property{Name: "os-volume_upload_image", Schema: js.Object([]string{"image_name"}, props...)})
}

// volumeAction answers POST /volumes/{id}/action. Cinder loads the volume
// (a 404 for one the caller cannot see) before the action's policy.
func (h *handlers) volumeAction(c *api.Call) (*api.Reply, error) {
	id := c.Param("volume_id")
	act, raw, err := pickAction(c, volumeActions)
	if err != nil {
		return nil, err
	}
	schemas := map[string]js.Schema{
		"os-extend": extendSchema, "os-set_bootable": bootableSchema, "os-update_readonly_flag": readonlySchema,
		"os-reset_status": resetSchema, "os-force_delete": emptyAction("os-force_delete"), "os-volume_upload_image": uploadSchema(c),
		"os-reserve": emptyAction("os-reserve"), "os-unreserve": emptyAction("os-unreserve"), "os-attach": attachSchema,
		"os-begin_detaching": emptyAction("os-begin_detaching"), "os-roll_detaching": emptyAction("os-roll_detaching"),
		"os-detach": detachSchema, "os-initialize_connection": connectorSchema("os-initialize_connection"),
		"os-terminate_connection": connectorSchema("os-terminate_connection"), "os-set_image_metadata": imageMetadataSchema,
		"os-unset_image_metadata": unsetImageMetadataSchema, "os-show_image_metadata": emptyAction("os-show_image_metadata"),
		"os-retype": retypeSchema, "os-force_detach": forceDetachSchema, "revert": revertSchema, "os-reimage": reimageSchema,
		"os-unmanage": emptyAction("os-unmanage"),
	}
	body, err := validateRaw(raw, schemas[act.Name])
	if err != nil {
		return nil, err
	}
	args, _ := body[act.Name].(map[string]any)
	v, err := h.vols.Get(c.Ctx, c.Principal, id)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize(act.Rule, nil); err != nil {
		return nil, err
	}
	p := c.Principal
	accepted := api.NoContent(http.StatusAccepted)
	switch act.Name {
	case "os-unmanage":
		return h.unmanageVolume(c, v)
	case "os-extend":
		size := 0
		switch n := args["new_size"].(type) {
		case string:
			size, _ = jsNumber(n)
		default:
			f, _, _ := js.NumberOf(n)
			size = int(f)
		}
		inUse := c.AtLeast(mv.V3_42) && v.Status == volume.StatusInUse
		if inUse {
			if err := c.Authorize("volume:extend_attached_volume", nil); err != nil {
				return nil, err
			}
		}
		return accepted, h.vols.Extend(c.Ctx, p, id, size, inUse)
	case "os-set_bootable":
		if err := h.vols.SetBootable(c.Ctx, p, id, boolValue(args["bootable"])); err != nil {
			return nil, err
		}
		return api.NoContent(http.StatusOK), nil
	case "os-update_readonly_flag":
		// Cinder writes the flag with an elevated context: the admin
		// metadata rule is not the caller's.
		if v.Status != volume.StatusAvailable {
			return nil, errs.Named("InvalidVolume", errs.Invalid("Invalid volume: Volume %s status must be available to update readonly flag, but current status is: %s.", v.ID, v.Status))
		}
		return accepted, h.vols.SetReadonly(c.Ctx, p, id, boolValue(args["readonly"]))
	case "os-reset_status":
		req := volume.ResetStatusRequest{}
		for key, dst := range map[string]**string{"status": &req.Status, "attach_status": &req.AttachStatus, "migration_status": &req.MigrationStatus} {
			if s, ok := args[key].(string); ok && s != "" {
				s = strings.ToLower(s)
				*dst = &s
			}
		}
		return accepted, h.vols.ResetStatus(c.Ctx, p, id, req)
	case "os-force_delete":
		return accepted, h.vols.ForceDelete(c.Ctx, p, id)
	case "os-force_detach":
		return h.forceDetach(c, v, args)
	case "os-retype":
		return h.retype(c, v, args)
	case "os-volume_upload_image":
		return h.uploadImage(c, v, args)
	case "os-reserve":
		return accepted, h.vols.Reserve(c.Ctx, p, id)
	case "os-unreserve":
		return accepted, h.vols.Unreserve(c.Ctx, p, id)
	case "os-attach":
		req := volume.AttachRequest{}
		req.InstanceUUID, _ = str(args, "instance_uuid")
		req.HostName, _ = str(args, "host_name")
		req.Mountpoint, _ = str(args, "mountpoint")
		req.Mode, _ = str(args, "mode")
		if err := h.vols.Attach(c.Ctx, p, id, req); err != nil {
			return nil, attachError("attaching", err)
		}
		return accepted, nil
	case "os-begin_detaching":
		return accepted, h.vols.BeginDetaching(c.Ctx, p, id)
	case "os-roll_detaching":
		return accepted, h.vols.RollDetaching(c.Ctx, p, id)
	case "os-detach":
		att, _ := str(args, "attachment_id")
		if err := h.vols.Detach(c.Ctx, p, id, att); err != nil {
			return nil, attachError("detaching", err)
		}
		return accepted, nil
	case "os-initialize_connection":
		connector, _ := args["connector"].(map[string]any)
		info, err := h.vols.InitializeConnection(c.Ctx, p, id, connector)
		if err != nil {
			return nil, err
		}
		multipath, _ := connector["enforce_multipath"].(bool)
		info["enforce_multipath"] = multipath
		return api.JSON(http.StatusOK, map[string]any{"connection_info": info}), nil
	case "os-terminate_connection":
		connector, _ := args["connector"].(map[string]any)
		return accepted, h.vols.TerminateConnection(c.Ctx, p, id, connector)
	case "os-set_image_metadata":
		md, err := h.vols.SetImageMetadata(c.Ctx, p, id, stringMap(args["metadata"]))
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusOK, map[string]any{"metadata": nonNil(md)}), nil
	case "os-unset_image_metadata":
		key, _ := str(args, "key")
		if err := h.vols.DeleteImageMetadataKey(c.Ctx, p, id, key); err != nil {
			return nil, err
		}
		return api.NoContent(http.StatusOK), nil
	case "revert":
		snap, _ := str(args, "snapshot_id")
		return accepted, h.vols.RevertToSnapshot(c.Ctx, p, id, snap)
	case "os-reimage":
		image, _ := str(args, "image_id")
		reserved := boolValue(args["reimage_reserved"])
		if reserved {
			if err := c.Authorize("volume:reimage_reserved", nil); err != nil {
				return nil, err
			}
		}
		return accepted, h.vols.Reimage(c.Ctx, p, id, image, reserved)
	case "os-show_image_metadata":
		md, err := h.vols.ImageMetadata(c.Ctx, p, id)
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusOK, map[string]any{"metadata": nonNil(md)}), nil
	}
	return nil, errs.Invalid("There is no such action: %s. Verify the request body and Content-Type header and try again.", act.Name)
}

// attachError is how os-attach and os-detach show the volume manager's
// refusals: "Error attaching volume - InvalidVolume: ...".
func attachError(verb string, err error) error {
	if errs.KindOf(err) != errs.KindInvalid && !(verb == "detaching" && errs.KindOf(err) == errs.KindNotFound) {
		return err
	}
	name := errs.NameOf(err)
	if name == "" {
		return err
	}
	return errs.Invalid("Error %s volume - %s: %s", verb, name, errs.Message(err))
}

// forceDetachError is os-force_detach's wording of the volume manager's
// refusals.
func forceDetachError(err error) error {
	name := errs.NameOf(err)
	if name != "VolumeAttachmentNotFound" && name != "InvalidVolume" {
		return err
	}
	return errs.Invalid("Error force detaching volume - %s: %s", name, errs.Message(err))
}

// uploadImage is os-volume_upload_image: 202 with Cinder's
// copy_volume_to_image answer.
func (h *handlers) uploadImage(c *api.Call, v *volume.Volume, args map[string]any) (*api.Reply, error) {
	req := volume.UploadRequest{}
	req.ImageName, _ = str(args, "image_name")
	req.DiskFormat, _ = str(args, "disk_format")
	req.ContainerFormat, _ = str(args, "container_format")
	req.Force = boolValue(args["force"])
	if c.AtLeast(mv.V3_1) {
		req.Visibility, _ = str(args, "visibility")
		req.Protected = boolValue(args["protected"])
		if req.Visibility == "public" {
			if err := c.Authorize("volume_extension:volume_actions:upload_public", nil); err != nil {
				return nil, err
			}
		}
	}
	res, err := h.vols.UploadToImage(c.Ctx, c.Principal, v.ID, req)
	if err != nil {
		if errs.KindOf(err) == errs.KindInvalid || errs.KindOf(err) == errs.KindConflict {
			return nil, errs.Invalid("%s", errs.Message(err))
		}
		return nil, err
	}
	var typ any
	if v.VolumeTypeID != "" {
		typ = map[string]any{"id": v.VolumeTypeID, "name": v.VolumeTypeName}
	}
	out := map[string]any{
		"id": v.ID, "updated_at": res.UpdatedAt, "status": "uploading", "display_description": v.Description,
		"size": v.Size, "volume_type": typ, "image_id": res.ImageID, "container_format": res.ContainerFormat,
		"disk_format": res.DiskFormat, "image_name": res.ImageName, "protected": res.Protected, "visibility": res.Visibility,
	}
	return api.JSON(http.StatusAccepted, map[string]any{"os-volume_upload_image": out}), nil
}
