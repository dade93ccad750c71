package blockstorage

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/volume"
)

// attachmentFilters are resource_filters.json's "attachment" keys.
var attachmentFilters = []string{"volume_id", "status", "instance_id", "attach_status"}

var attachmentActions = []api.Action{{Name: "os-complete", Rule: "volume:attachment_complete", MinVer: mv.V3_44}}

// attachmentRoutes are the attachments API (3.27; os-complete 3.44).
func (h *handlers) attachmentRoutes() []api.Route {
	const one = "/attachments/{attachment_id}"
	return []api.Route{
		{Method: "GET", Path: "/attachments", Rule: policy.VolumeAttachmentsRead, Handler: h.listAttachments(false), MinVer: mv.V3_27},
		{Method: "GET", Path: "/attachments/detail", Rule: policy.VolumeAttachmentsRead, Handler: h.listAttachments(true), MinVer: mv.V3_27},
		{Method: "POST", Path: "/attachments", Rule: "volume:attachment_create", Handler: h.createAttachment, MinVer: mv.V3_27},
		{Method: "GET", Path: one, Rule: policy.VolumeAttachmentsRead, Handler: h.showAttachment, MinVer: mv.V3_27},
		{Method: "PUT", Path: one, Rule: "volume:attachment_update", Handler: h.updateAttachment, MinVer: mv.V3_27},
		{Method: "DELETE", Path: one, Rule: "volume:attachment_delete", Handler: h.deleteAttachment, MinVer: mv.V3_27},
		{Method: "POST", Path: one + "/action", Rule: policy.Action, Actions: attachmentActions, Handler: h.attachmentAction, MinVer: mv.V3_44},
	}
}

// attachmentTime is the views' _normalize: the time, or "" when unset.
func attachmentTime(t any) any {
	if t == nil {
		return ""
	}
	return t
}

func attachmentSummary(a *volume.Attachment) map[string]any {
	return map[string]any{"id": a.ID, "status": a.AttachStatus, "instance": a.InstanceUUID, "volume_id": a.VolumeID}
}

func attachmentDetail(a *volume.Attachment) map[string]any {
	d := attachmentSummary(a)
	d["attached_at"] = attachmentTime(cinderTimePtr(a.AttachTime))
	d["detached_at"] = attachmentTime(cinderTimePtr(a.DetachTime))
	d["attach_mode"] = a.AttachMode
	info := a.ConnectionInfo
	if info == nil {
		info = map[string]any{}
	}
	d["connection_info"] = info
	return d
}

func (h *handlers) listAttachments(detail bool) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		q := c.Query()
		pg, err := listParams(q)
		if err != nil {
			return nil, err
		}
		f, err := listFilters(c, q, attachmentFilters)
		if err != nil {
			return nil, err
		}
		atts, err := h.vols.Attachments(c.Ctx, c.Principal, volume.AttachmentListOptions{AllTenants: f.AllTenants,
			ProjectID: f.ProjectID, Filters: f.Exact, Sort: pg.Sort, Marker: pg.Marker, Limit: pg.Limit, Offset: pg.Offset})
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, 0, len(atts))
		for _, a := range atts {
			if detail {
				out = append(out, attachmentDetail(a))
			} else {
				out = append(out, attachmentSummary(a))
			}
		}
		return api.JSON(http.StatusOK, map[string]any{"attachments": out}), nil
	}
}

func (h *handlers) showAttachment(c *api.Call) (*api.Reply, error) {
	a, err := h.vols.Attachment(c.Ctx, c.Principal, c.Param("attachment_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"attachment": attachmentDetail(a)}), nil
}

func attachmentCreateSchema(c *api.Call) js.Schema {
	props := []js.Property{
		{Name: "instance_uuid", Schema: js.Schema{js.Type("string"), js.Format("uuid")}},
		{Name: "connector", Schema: js.Schema{js.Type("object", "null")}},
		{Name: "volume_uuid", Schema: js.Schema{js.Type("string"), js.Format("uuid")}},
	}
	if c.AtLeast(mv.V3_54) {
		props = append(props, js.Property{Name: "mode", Schema: js.Schema{js.Type("string"), js.Enum("rw", "ro")}})
	}
	return js.Object([]string{"attachment"}, js.Property{Name: "attachment", Schema: js.Object([]string{"volume_uuid"}, props...)})
}

// createAttachment answers POST /attachments: a reserved attachment, or
// a connected one when a connector is given.
func (h *handlers) createAttachment(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, attachmentCreateSchema(c))
	if err != nil {
		return nil, err
	}
	a := body["attachment"].(map[string]any)
	req := volume.AttachmentCreate{}
	req.VolumeID, _ = str(a, "volume_uuid")
	req.InstanceUUID, _ = str(a, "instance_uuid")
	req.Connector, _ = a["connector"].(map[string]any)
	req.Mode, _ = str(a, "mode")
	// Cinder gets the volume first: a volume the caller cannot see is
	// its 404.
	if _, err := h.vols.Get(c.Ctx, c.Principal, req.VolumeID); err != nil {
		return nil, err
	}
	att, err := h.vols.CreateAttachment(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"attachment": attachmentDetail(att)}), nil
}

var attachmentUpdateSchema = js.Object([]string{"attachment"}, js.Property{Name: "attachment", Schema: js.Object([]string{"connector"},
	js.Property{Name: "connector", Schema: js.Schema{js.Type("object"), func(r *js.Run, path []string, v any) *js.Failure {
		if m, ok := v.(map[string]any); ok && len(m) < 1 {
			return js.FailAt(path, v, "%s does not have enough properties", r.Repr(v))
		}
		return nil
	}}})})

func (h *handlers) updateAttachment(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, attachmentUpdateSchema)
	if err != nil {
		return nil, err
	}
	connector := body["attachment"].(map[string]any)["connector"].(map[string]any)
	att, err := h.vols.UpdateAttachment(c.Ctx, c.Principal, c.Param("attachment_id"), connector)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"attachment": attachmentDetail(att)}), nil
}

// deleteAttachment answers DELETE /attachments/{id}: 200 with the
// attachments left sharing the connection.
func (h *handlers) deleteAttachment(c *api.Call) (*api.Reply, error) {
	left, err := h.vols.DeleteAttachment(c.Ctx, c.Principal, c.Param("attachment_id"))
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(left))
	for i := range left {
		out = append(out, attachmentSummary(&left[i]))
	}
	return api.JSON(http.StatusOK, map[string]any{"attachments": out}), nil
}

// attachmentAction answers POST /attachments/{id}/action: os-complete
// (3.44), 204.
func (h *handlers) attachmentAction(c *api.Call) (*api.Reply, error) {
	act, raw, err := pickAction(c, attachmentActions)
	if err != nil {
		return nil, err
	}
	if _, err := validateRaw(raw, emptyAction(act.Name)); err != nil {
		return nil, err
	}
	id := c.Param("attachment_id")
	if _, err := h.vols.Attachment(c.Ctx, c.Principal, id); err != nil {
		return nil, err
	}
	if err := c.Authorize(act.Rule, nil); err != nil {
		return nil, err
	}
	if err := h.vols.CompleteAttachment(c.Ctx, c.Principal, id); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
