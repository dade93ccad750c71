package compute

// Volume attachments (/servers/{id}/os-volume_attachments): Nova's
// volume_attachments.py. A server's volumes are its block device
// mappings; the attachment's id is the volume's.

import (
	"net/http"

	js "github.com/kumocloud/kumo/internal/api/jsonschema"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

func (h *handlers) volumeAttachmentRoutes() []api.Route {
	const va = "os_compute_api:os-volumes-attachments:"
	return []api.Route{
		{Method: "GET", Path: "/servers/{server_id}/os-volume_attachments", Rule: va + "index", Handler: h.listVolumeAttachments},
		{Method: "GET", Path: "/servers/{server_id}/os-volume_attachments/{volume_id}", Rule: va + "show", Handler: h.showVolumeAttachment},
		{Method: "POST", Path: "/servers/{server_id}/os-volume_attachments", Rule: va + "create", Handler: h.attachVolume},
		// A swap also needs the swap rule, which the handler checks.
		{Method: "PUT", Path: "/servers/{server_id}/os-volume_attachments/{volume_id}", Rule: va + "update", Handler: h.updateVolumeAttachment},
		{Method: "DELETE", Path: "/servers/{server_id}/os-volume_attachments/{volume_id}", Rule: va + "delete", Handler: h.detachVolume},
	}
}

// csDevice is the device of schemas/volume_attachments.py (match_device).
var csDevice = js.Schema{js.Type("string", "null"), js.Pattern(`(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$`)}

// attachVolumeSchema is create (2.1), create_v249 (tag) and create_v279
// (delete_on_termination).
func attachVolumeSchema(c *api.Call) js.Schema {
	props := []js.Property{{Name: "volumeId", Schema: csUUID}, {Name: "device", Schema: csDevice}}
	if c.AtLeast(mv.V2_49) {
		props = append(props, js.Property{Name: "tag", Schema: csTag})
	}
	if c.AtLeast(mv.V2_79) {
		props = append(props, js.Property{Name: "delete_on_termination", Schema: csBoolean})
	}
	return js.Object([]string{"volumeAttachment"}, js.Property{Name: "volumeAttachment", Schema: js.Object([]string{"volumeId"}, props...)})
}

// updateVolumeSchema is update (volumeId only) and update_v285.
func updateVolumeSchema(c *api.Call) js.Schema {
	props := []js.Property{{Name: "volumeId", Schema: csUUID}}
	if c.AtLeast(mv.V2_85) {
		props = append(props, js.Property{Name: "device", Schema: csDevice}, js.Property{Name: "tag", Schema: csTag},
			js.Property{Name: "delete_on_termination", Schema: csBoolean}, js.Property{Name: "serverId", Schema: csUUID},
			js.Property{Name: "id", Schema: csUUID})
	}
	return js.Object([]string{"volumeAttachment"}, js.Property{Name: "volumeAttachment", Schema: js.Object([]string{"volumeId"}, props...)})
}

var volumeAttachmentListQuery = []flavorQueryRule{
	{"limit", nonNegativeIntegerCheck},
	{"offset", nonNegativeIntegerCheck},
}

func (h *handlers) listVolumeAttachments(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, volumeAttachmentListQuery, strictQuery(c, mv.V2_75))
	if err != nil {
		return nil, err
	}
	bs, err := h.Servers.BlockDevices(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, b := range limitOffset(bs, q.Get("offset"), q.Get("limit")) {
		if b.VolumeID == "" || c.AtLeast(mv.V2_89) && b.AttachmentID == "" {
			continue
		}
		out = append(out, volumeAttachmentView(c, &b))
	}
	return api.JSON(http.StatusOK, map[string]any{"volumeAttachments": out}), nil
}

func (h *handlers) showVolumeAttachment(c *api.Call) (*api.Reply, error) {
	if _, err := checkQuery(c, nil, false); err != nil {
		return nil, err
	}
	id, volumeID := c.Param("server_id"), c.Param("volume_id")
	b, err := h.Servers.BlockDevice(c.Ctx, c.Principal, id, volumeID)
	if err != nil {
		return nil, err
	}
	if c.AtLeast(mv.V2_89) && b.AttachmentID == "" {
		return nil, errs.NotFound("Instance %s is not attached to volume %s", id, volumeID)
	}
	return api.JSON(http.StatusOK, map[string]any{"volumeAttachment": volumeAttachmentView(c, b)}), nil
}

// volumeAttachmentView is _translate_attachment_detail_view at c's
// microversion.
func volumeAttachmentView(c *api.Call, b *compute.BlockDevice) map[string]any {
	v := map[string]any{"volumeId": b.VolumeID, "serverId": b.InstanceID}
	if !c.AtLeast(mv.V2_89) {
		v["id"] = b.VolumeID
	}
	if b.DeviceName != "" {
		v["device"] = b.DeviceName
	}
	if c.AtLeast(mv.V2_70) {
		v["tag"] = nullable(b.Tag)
	}
	if c.AtLeast(mv.V2_79) {
		v["delete_on_termination"] = b.DeleteOnTermination
	}
	if c.AtLeast(mv.V2_89) {
		v["attachment_id"] = b.AttachmentID
		v["bdm_uuid"] = b.ID
	}
	return v
}

// nullable is s, or null when empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// attachVolume answers as Nova does: the attachment before it is done
// (the device the host will use), nothing from 2.101.
func (h *handlers) attachVolume(c *api.Call) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	body, err := schemaChecked(c, raw, attachVolumeSchema(c))
	if err != nil {
		return nil, err
	}
	a := body.(map[string]any)["volumeAttachment"].(map[string]any)
	req := compute.AttachVolumeRequest{RequestID: c.RequestID}
	req.VolumeID, _ = a["volumeId"].(string)
	req.Device, _ = a["device"].(string)
	req.Tag, _ = a["tag"].(string)
	if v, ok := a["delete_on_termination"]; ok {
		req.DeleteOnTermination = createBool(v)
	}
	id := c.Param("server_id")
	if err := h.checkShelvedVolumeCall(c, id, "attach_volume"); err != nil {
		return nil, err
	}
	b, err := h.Servers.AttachVolume(c.Ctx, c.Principal, id, req)
	if err != nil {
		return nil, err
	}
	if c.AtLeast(mv.V2_101) {
		return api.NoContent(http.StatusAccepted), nil
	}
	v := map[string]any{"id": req.VolumeID, "serverId": id, "volumeId": req.VolumeID, "device": nullable(b.DeviceName)}
	if c.AtLeast(mv.V2_70) {
		v["tag"] = nullable(req.Tag)
	}
	if c.AtLeast(mv.V2_79) {
		v["delete_on_termination"] = req.DeleteOnTermination
	}
	return api.JSON(http.StatusOK, map[string]any{"volumeAttachment": v}), nil
}

// checkShelvedVolumeCall is _check_request_version: before 2.20 a
// shelved server's volumes cannot change (Nova's 409 for its state).
func (h *handlers) checkShelvedVolumeCall(c *api.Call, id, method string) error {
	if c.AtLeast(mv.V2_20) {
		return nil
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, id)
	if err != nil {
		return err
	}
	if srv.VMState == state.VMShelved || srv.VMState == state.VMShelvedOffloaded {
		return errs.Conflict("Cannot '%s' instance %s while it is in vm_state %s", method, id, srv.VMState)
	}
	return nil
}

func (h *handlers) detachVolume(c *api.Call) (*api.Reply, error) {
	id := c.Param("server_id")
	if err := h.checkShelvedVolumeCall(c, id, "detach_volume"); err != nil {
		return nil, err
	}
	return h.accepted(h.Servers.DetachVolume(c.Ctx, c.Principal, id, c.Param("volume_id"), c.RequestID))
}

// updateVolumeAttachment is Nova's update: before 2.85 always a swap
// (admin or service); from 2.85 the attachment's own properties, then a
// swap when volumeId names another volume.
func (h *handlers) updateVolumeAttachment(c *api.Call) (*api.Reply, error) {
	id, volumeID := c.Param("server_id"), c.Param("volume_id")
	if _, err := h.Servers.Get(c.Ctx, c.Principal, id); err != nil {
		return nil, err
	}
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	body, err := schemaChecked(c, raw, updateVolumeSchema(c))
	if err != nil {
		return nil, err
	}
	a := body.(map[string]any)["volumeAttachment"].(map[string]any)
	newID, _ := a["volumeId"].(string)
	onlySwap := !c.AtLeast(mv.V2_85)
	if onlySwap || newID != volumeID {
		if err := c.Authorize("os_compute_api:os-volumes-attachments:swap", nil); err != nil {
			return nil, err
		}
	}
	if !onlySwap {
		var u compute.VolumeAttachmentUpdate
		for key, dst := range map[string]**string{"id": &u.ID, "serverId": &u.ServerID, "device": &u.Device, "tag": &u.Tag} {
			if v, ok := a[key]; ok {
				s, _ := v.(string)
				*dst = &s
			}
		}
		if v, ok := a["delete_on_termination"]; ok {
			dot := createBool(v)
			u.DeleteOnTermination = &dot
		}
		if err := h.Servers.UpdateVolumeAttachment(c.Ctx, c.Principal, id, volumeID, u); err != nil {
			return nil, err
		}
		if newID == volumeID {
			return api.NoContent(http.StatusAccepted), nil
		}
	}
	return h.accepted(h.Servers.SwapVolume(c.Ctx, c.Principal, id, volumeID, newID))
}
