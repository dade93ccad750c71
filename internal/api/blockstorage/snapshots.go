package blockstorage

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/volume"
)

// snapshotFilters are resource_filters.json's "snapshot" keys.
var snapshotFilters = []string{"name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"}

// snapshotActions are the rows of POST /snapshots/{id}/action.
var snapshotActions = []api.Action{
	{Name: "os-reset_status", Rule: "volume_extension:snapshot_admin_actions:reset_status"},
	{Name: "os-force_delete", Rule: "volume_extension:snapshot_admin_actions:force_delete"},
	{Name: "os-update_snapshot_status", Rule: "snapshot_extension:snapshot_actions:update_snapshot_status"},
	{Name: "os-unmanage", Rule: "snapshot_extension:snapshot_unmanage"},
}

func (h *handlers) snapshotRoutes() []api.Route {
	const one = "/snapshots/{snapshot_id}"
	return []api.Route{
		{Method: "GET", Path: "/snapshots", Rule: "volume:get_all_snapshots", Handler: h.listSnapshots(false)},
		{Method: "GET", Path: "/snapshots/detail", Rule: "volume:get_all_snapshots", Handler: h.listSnapshots(true)},
		{Method: "POST", Path: "/snapshots", Rule: "volume:create_snapshot", Handler: h.createSnapshot},
		{Method: "GET", Path: one, Rule: "volume:get_snapshot", Handler: h.showSnapshot},
		{Method: "PUT", Path: one, Rule: "volume:update_snapshot", Handler: h.updateSnapshot},
		{Method: "DELETE", Path: one, Rule: "volume:delete_snapshot", Handler: h.deleteSnapshot},
		{Method: "POST", Path: one + "/action", Rule: policy.Action, Actions: snapshotActions, Handler: h.snapshotAction},
		{Method: "GET", Path: one + "/metadata", Rule: "volume:get_snapshot_metadata", Handler: h.snapshotMetadata},
		{Method: "POST", Path: one + "/metadata", Rule: "volume:update_snapshot_metadata", Handler: h.setSnapshotMetadata(false)},
		{Method: "PUT", Path: one + "/metadata", Rule: "volume:update_snapshot_metadata", Handler: h.setSnapshotMetadata(true)},
		{Method: "GET", Path: one + "/metadata/{key}", Rule: "volume:get_snapshot_metadata", Handler: h.snapshotMetadataKey},
		{Method: "PUT", Path: one + "/metadata/{key}", Rule: "volume:update_snapshot_metadata", Handler: h.setSnapshotMetadataKey},
		{Method: "DELETE", Path: one + "/metadata/{key}", Rule: "volume:delete_snapshot_metadata", Handler: h.deleteSnapshotMetadataKey},
	}
}

func (h *handlers) listSnapshots(detail bool) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		q := c.Query()
		pg, err := listParams(q)
		if err != nil {
			return nil, err
		}
		for i, s := range pg.Sort {
			if s.Key == "name" {
				pg.Sort[i].Key = "display_name"
			}
		}
		if !c.AtLeast(mv.V3_65) {
			q.Del("consumes_quota")
		}
		f, err := listFilters(c, q, snapshotFilters)
		if err != nil {
			return nil, err
		}
		opts := volume.SnapshotListOptions{AllTenants: f.AllTenants, ProjectID: f.ProjectID, Filters: f.Exact,
			Metadata: f.Metadata, Like: f.Like, Sort: pg.Sort, Marker: pg.Marker, Limit: pg.Limit, Offset: pg.Offset}
		var snaps []*volume.Snapshot
		if pg.Limit > 0 { // limit=0 asks for none (Cinder's LIMIT 0)
			if snaps, err = h.vols.Snapshots(c.Ctx, c.Principal, opts); err != nil {
				return nil, err
			}
		}
		l := listing[*volume.Snapshot]{key: "snapshots", linksKey: "snapshots_links", collection: "snapshots", items: snaps, limit: pg.Limit,
			id: func(s *volume.Snapshot) string { return s.ID }, view: snapshotSummary}
		if detail {
			l.collection = "snapshots/detail"
			l.view = func(s *volume.Snapshot) map[string]any { return snapshotDetail(c, s, true) }
		}
		if f.WithCount {
			opts.Marker, opts.Limit, opts.Offset = "", 0, 0
			l.count = func() (int, error) { return h.vols.SnapshotCount(c.Ctx, c.Principal, opts) }
		}
		return l.reply(c)
	}
}

var snapshotCreateSchema = js.Object([]string{"snapshot"}, js.Property{Name: "snapshot", Schema: js.Object([]string{"volume_id"},
	js.Property{Name: "name", Schema: nameZeroMin}, js.Property{Name: "display_name", Schema: nameZeroMin},
	js.Property{Name: "description", Schema: description}, js.Property{Name: "volume_id", Schema: uuidAllowNull},
	js.Property{Name: "force", Schema: boolean}, js.Property{Name: "metadata", Schema: metadataAllowsNull})})

// snapshotInUseMessage is SNAPSHOT_IN_USE_FLAG_MSG.
const snapshotInUseMessage = "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored."

func (h *handlers) createSnapshot(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, snapshotCreateSchema)
	if err != nil {
		return nil, err
	}
	s := body["snapshot"].(map[string]any)
	volID, _ := str(s, "volume_id")
	if _, err := h.vols.Get(c.Ctx, c.Principal, volID); err != nil {
		return nil, err
	}
	force := false
	if f, ok := s["force"]; ok && f != nil {
		force = boolValue(f)
		if c.AtLeast(mv.V3_66) && !force {
			return nil, errs.Invalid(snapshotInUseMessage)
		}
	}
	if c.AtLeast(mv.V3_66) {
		// In-use volumes are snapshotted without the flag.
		force = true
	}
	req := volume.SnapshotCreate{VolumeID: volID, Name: strPtr(s, "display_name"), Description: strPtr(s, "description"),
		Force: force, Metadata: stringMap(s["metadata"])}
	if n := strPtr(s, "name"); n != nil {
		req.Name = n
	}
	snap, err := h.vols.CreateSnapshot(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusAccepted, map[string]any{"snapshot": snapshotDetail(c, snap, false)}), nil
}

func (h *handlers) showSnapshot(c *api.Call) (*api.Reply, error) {
	s, err := h.vols.Snapshot(c.Ctx, c.Principal, c.Param("snapshot_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"snapshot": snapshotDetail(c, s, true)}), nil
}

var snapshotUpdateSchema = js.Object([]string{"snapshot"}, js.Property{Name: "snapshot", Schema: append(js.Object(nil,
	js.Property{Name: "name", Schema: nameZeroMin}, js.Property{Name: "description", Schema: description},
	js.Property{Name: "display_name", Schema: nameZeroMin}, js.Property{Name: "display_description", Schema: description}),
	anyRequired("name", "description", "display_name", "display_description"))})

func (h *handlers) updateSnapshot(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, snapshotUpdateSchema)
	if err != nil {
		return nil, err
	}
	s := body["snapshot"].(map[string]any)
	req := volume.SnapshotUpdate{Name: strPtr(s, "display_name"), Description: strPtr(s, "display_description")}
	if n := strPtr(s, "name"); n != nil {
		req.Name = n
	}
	if d := strPtr(s, "description"); d != nil {
		req.Description = d
	}
	snap, err := h.vols.UpdateSnapshot(c.Ctx, c.Principal, c.Param("snapshot_id"), req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"snapshot": snapshotDetail(c, snap, false)}), nil
}

func (h *handlers) deleteSnapshot(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DeleteSnapshot(c.Ctx, c.Principal, c.Param("snapshot_id"), false); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

var snapshotResetSchema = js.Object([]string{"os-reset_status"}, js.Property{Name: "os-reset_status",
	Schema: js.Object([]string{"status"}, js.Property{Name: "status", Schema: js.Schema{js.Type("string"),
		js.Enum("available", "error", "creating", "deleting", "error_deleting", "backing-up", "restoring", "unmanaging")}})})

var snapshotUpdateStatusSchema = js.Object([]string{"os-update_snapshot_status"}, js.Property{Name: "os-update_snapshot_status",
	Schema: js.Object([]string{"status"}, js.Property{Name: "status", Schema: js.Schema{js.Type("string")}},
		js.Property{Name: "progress", Schema: js.Schema{}})})

// snapshotProgress checks a progress as Cinder's "progress" format: an
// integer percentage between 0 and 100 ("" and null are no progress).
func snapshotProgress(v any) (string, error) {
	p, _ := v.(string)
	if v == nil || p == "" {
		return "", nil
	}
	n, err := strconv.Atoi(p[:len(p)-1])
	if err != nil {
		return "", errs.Invalid("Invalid input received: progress must be an integer percentage")
	}
	if n < 0 || n > 100 || !strings.HasSuffix(p, "%") {
		return "", errs.Invalid("Invalid input received: progress must be an integer percentage between 0 and 100")
	}
	return p, nil
}

// snapshotAction answers POST /snapshots/{id}/action.
func (h *handlers) snapshotAction(c *api.Call) (*api.Reply, error) {
	id := c.Param("snapshot_id")
	act, raw, err := pickAction(c, snapshotActions)
	if err != nil {
		return nil, err
	}
	if _, err := h.vols.Snapshot(c.Ctx, c.Principal, id); err != nil {
		return nil, err
	}
	if err := c.Authorize(act.Rule, nil); err != nil {
		return nil, err
	}
	switch act.Name {
	case "os-reset_status":
		body, err := validateRaw(raw, snapshotResetSchema)
		if err != nil {
			return nil, err
		}
		status, _ := str(body["os-reset_status"].(map[string]any), "status")
		if err := h.vols.ResetSnapshotStatus(c.Ctx, c.Principal, id, status); err != nil {
			return nil, err
		}
	case "os-force_delete":
		if err := h.vols.DeleteSnapshot(c.Ctx, c.Principal, id, true); err != nil {
			return nil, err
		}
	case "os-unmanage":
		if err := h.unmanageSnapshot(c, id); err != nil {
			return nil, err
		}
	case "os-update_snapshot_status":
		body, err := validateRaw(raw, snapshotUpdateStatusSchema)
		if err != nil {
			return nil, err
		}
		update := body["os-update_snapshot_status"].(map[string]any)
		progress, err := snapshotProgress(update["progress"])
		if err != nil {
			return nil, err
		}
		status, _ := str(update, "status")
		if err := h.vols.UpdateSnapshotStatus(c.Ctx, c.Principal, id, status, progress); err != nil {
			return nil, err
		}
	}
	return api.NoContent(http.StatusAccepted), nil
}

func (h *handlers) snapshotMetadata(c *api.Call) (*api.Reply, error) {
	md, err := h.vols.SnapshotMetadata(c.Ctx, c.Principal, c.Param("snapshot_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"metadata": nonNil(md)}), nil
}

func (h *handlers) setSnapshotMetadata(replace bool) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		body, err := decodeBody(c, metadataSchema)
		if err != nil {
			return nil, err
		}
		md, err := h.vols.SetSnapshotMetadata(c.Ctx, c.Principal, c.Param("snapshot_id"), stringMap(body["metadata"]), replace)
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusOK, map[string]any{"metadata": nonNil(md)}), nil
	}
}

func snapshotMetadataNotFound(id, key string) error {
	return errs.Named("SnapshotMetadataNotFound", errs.NotFound("Snapshot %s has no metadata with key %s.", id, key))
}

func (h *handlers) snapshotMetadataKey(c *api.Call) (*api.Reply, error) {
	id, key := c.Param("snapshot_id"), c.Param("key")
	md, err := h.vols.SnapshotMetadata(c.Ctx, c.Principal, id)
	if err != nil {
		return nil, err
	}
	val, ok := md[key]
	if !ok {
		return nil, snapshotMetadataNotFound(id, key)
	}
	return api.JSON(http.StatusOK, map[string]any{"meta": map[string]string{key: val}}), nil
}

func (h *handlers) setSnapshotMetadataKey(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, metaSchema)
	if err != nil {
		return nil, err
	}
	meta := stringMap(body["meta"])
	key := c.Param("key")
	if _, ok := meta[key]; !ok {
		return nil, errs.Invalid("Request body and URI mismatch")
	}
	if _, err := h.vols.SetSnapshotMetadata(c.Ctx, c.Principal, c.Param("snapshot_id"), meta, false); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"meta": meta}), nil
}

func (h *handlers) deleteSnapshotMetadataKey(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DeleteSnapshotMetadataKey(c.Ctx, c.Principal, c.Param("snapshot_id"), c.Param("key")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusOK), nil
}

// snapshotSummary is the snapshot list's entry (views/snapshots.py).
func snapshotSummary(s *volume.Snapshot) map[string]any {
	return map[string]any{
		"id": s.ID, "created_at": cinderTime(s.CreatedAt), "updated_at": cinderTime(s.UpdatedAt),
		"name": s.Name, "description": s.Description, "volume_id": s.VolumeID, "status": s.Status,
		"size": s.Size, "metadata": nonNil(s.Metadata),
	}
}

// snapshotDetail adds the v3 fields and, extended (show and the detail
// list, which extended_snapshot_attributes extends; not create or
// update), the extended attributes.
func snapshotDetail(c *api.Call, s *volume.Snapshot, extended bool) map[string]any {
	d := snapshotSummary(s)
	if c.AtLeast(mv.Version{Major: 3, Minor: 14}) {
		d["group_snapshot_id"] = nil
	}
	if c.AtLeast(mv.V3_41) {
		d["user_id"] = s.UserID
	}
	if c.AtLeast(mv.V3_65) {
		d["consumes_quota"] = s.ConsumesQuota
	}
	if extended && c.Allowed("volume_extension:extended_snapshot_attributes", nil) {
		d["os-extended-snapshot-attributes:project_id"] = s.ProjectID
		progress := s.Progress
		if progress == "" {
			progress = "0%"
			if s.Status == volume.SnapshotAvailable {
				progress = "100%"
			}
		}
		d["os-extended-snapshot-attributes:progress"] = progress
	}
	return d
}
