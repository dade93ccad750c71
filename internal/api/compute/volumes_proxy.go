package compute

// The deprecated volume proxies (os-volumes, os-snapshots): Nova's
// volumes.py and snapshots.py, which answer from Cinder with the caller's
// token, up to microversion 2.35 (404 from 2.36, as Nova).

import (
	"errors"
	"net/http"

	js "github.com/kumocloud/kumo/internal/api/jsonschema"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/volume"
)

// maxVolumeProxy is Nova's MAX_PROXY_API_SUPPORT_VERSION.
var maxVolumeProxy = mv.V2_35

func (h *handlers) volumeProxyRoutes() []api.Route {
	const v = "os_compute_api:os-volumes:"
	upTo := func(r api.Route) api.Route { r.MaxVer = maxVolumeProxy; return r }
	return []api.Route{
		upTo(api.Route{Method: "GET", Path: "/os-volumes", Rule: v + "list", Handler: h.listProxyVolumes}),
		upTo(api.Route{Method: "GET", Path: "/os-volumes/detail", Rule: v + "detail", Handler: h.listProxyVolumes}),
		upTo(api.Route{Method: "POST", Path: "/os-volumes", Rule: v + "create", Handler: h.createProxyVolume}),
		upTo(api.Route{Method: "GET", Path: "/os-volumes/{volume_id}", Rule: v + "show", Handler: h.showProxyVolume}),
		upTo(api.Route{Method: "DELETE", Path: "/os-volumes/{volume_id}", Rule: v + "delete", Handler: h.deleteProxyVolume}),
		upTo(api.Route{Method: "GET", Path: "/os-snapshots", Rule: v + "snapshots:list", Handler: h.listProxySnapshots}),
		upTo(api.Route{Method: "GET", Path: "/os-snapshots/detail", Rule: v + "snapshots:detail", Handler: h.listProxySnapshots}),
		upTo(api.Route{Method: "POST", Path: "/os-snapshots", Rule: v + "snapshots:create", Handler: h.createProxySnapshot}),
		upTo(api.Route{Method: "GET", Path: "/os-snapshots/{snapshot_id}", Rule: v + "snapshots:show", Handler: h.showProxySnapshot}),
		upTo(api.Route{Method: "DELETE", Path: "/os-snapshots/{snapshot_id}", Rule: v + "snapshots:delete", Handler: h.deleteProxySnapshot}),
	}
}

// cinderTime is how Cinder's created_at reaches Nova's views.
const cinderTime = "2006-01-02T15:04:05.000000"

// proxyVolumeView is _translate_volume_summary_view (detail is the same).
func proxyVolumeView(v *volume.Volume) map[string]any {
	attachments := []any{map[string]any{}}
	for _, a := range v.Attachments {
		if a.AttachStatus != "attached" || a.InstanceUUID == nil {
			continue
		}
		att := map[string]any{"id": v.ID, "volumeId": v.ID, "serverId": *a.InstanceUUID}
		if a.Mountpoint != nil && *a.Mountpoint != "" {
			att["device"] = *a.Mountpoint
		}
		attachments = []any{att}
		break
	}
	var vtype any = v.VolumeTypeName
	if v.VolumeTypeName == "" {
		vtype = nullable(v.VolumeTypeID)
	}
	metadata := v.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	return map[string]any{
		"id": v.ID, "status": v.Status, "size": v.Size, "availabilityZone": v.AvailabilityZone,
		"createdAt": v.CreatedAt.UTC().Format(cinderTime), "attachments": attachments,
		"displayName": v.Name, "displayDescription": v.Description, "volumeType": vtype,
		"snapshotId": v.SnapshotID, "metadata": metadata,
	}
}

// proxySnapshotView is _translate_snapshot_summary_view.
func proxySnapshotView(s *volume.Snapshot) map[string]any {
	return map[string]any{
		"id": s.ID, "volumeId": s.VolumeID, "status": s.Status, "size": s.Size,
		"createdAt": s.CreatedAt.UTC().Format(cinderTime), "displayName": s.Name, "displayDescription": s.Description,
	}
}

var proxyListQuery = []flavorQueryRule{
	{"limit", nonNegativeIntegerCheck},
	{"offset", nonNegativeIntegerCheck},
}

func (h *handlers) listProxyVolumes(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, proxyListQuery, false)
	if err != nil {
		return nil, err
	}
	vols, err := h.BlockStorage.List(c.Ctx, c.Principal, volume.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, v := range limitOffset(vols, q.Get("offset"), q.Get("limit")) {
		out = append(out, proxyVolumeView(v))
	}
	return api.JSON(http.StatusOK, map[string]any{"volumes": out}), nil
}

func (h *handlers) showProxyVolume(c *api.Call) (*api.Reply, error) {
	v, err := h.BlockStorage.Get(c.Ctx, c.Principal, c.Param("volume_id"))
	if err != nil {
		return nil, proxyNotFound(err, "Volume %s could not be found.", c.Param("volume_id"))
	}
	return api.JSON(http.StatusOK, map[string]any{"volume": proxyVolumeView(v)}), nil
}

// proxyNotFound words the volume service's 404 as Nova's.
func proxyNotFound(err error, format, id string) error {
	if errs.KindOf(err) == errs.KindNotFound {
		return errs.NotFound(format, id)
	}
	return err
}

var proxyVolumeSchema = js.Object([]string{"volume"}, js.Property{Name: "volume", Schema: js.Object([]string{"size"},
	js.Property{Name: "volume_type", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "metadata", Schema: js.Schema{js.Type("object")}},
	js.Property{Name: "snapshot_id", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "size", Schema: js.Schema{js.Type("integer", "string"), js.Pattern(`^[0-9]+$`), js.Minimum(1)}},
	js.Property{Name: "availability_zone", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "display_name", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "display_description", Schema: js.Schema{js.Type("string")}},
)})

func (h *handlers) createProxyVolume(c *api.Call) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	body, err := schemaChecked(c, raw, proxyVolumeSchema)
	if err != nil {
		return nil, err
	}
	m := body.(map[string]any)["volume"].(map[string]any)
	req := volume.CreateRequest{Size: sizeOf(m["size"])}
	req.VolumeType, _ = m["volume_type"].(string)
	req.AvailabilityZone, _ = m["availability_zone"].(string)
	if s, ok := m["snapshot_id"].(string); ok {
		if _, err := h.BlockStorage.Snapshot(c.Ctx, c.Principal, s); err != nil {
			return nil, proxyNotFound(err, "Snapshot %s could not be found.", s)
		}
		req.SnapshotID = s
	}
	if s, ok := m["display_name"].(string); ok {
		req.Name = &s
	}
	if s, ok := m["display_description"].(string); ok {
		req.Description = &s
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		req.Metadata = map[string]string{}
		for k, v := range md {
			req.Metadata[k] = pyStr(v)
		}
	}
	v, err := h.BlockStorage.Create(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"volume": proxyVolumeView(v)}).
		WithHeader("Location", c.Link("/os-volumes/"+v.ID)), nil
}

func (h *handlers) deleteProxyVolume(c *api.Call) (*api.Reply, error) {
	id := c.Param("volume_id")
	err := h.BlockStorage.Delete(c.Ctx, c.Principal, id, volume.DeleteOptions{})
	if errs.KindOf(err) == errs.KindConflict {
		// Cinder's 400 InvalidVolume reaches Nova as InvalidInput.
		var e *errs.Error
		if errors.As(err, &e) {
			return nil, errs.Invalid("%s", e.Message)
		}
	}
	return h.accepted(proxyNotFound(err, "Volume %s could not be found.", id))
}

func (h *handlers) listProxySnapshots(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, proxyListQuery, false)
	if err != nil {
		return nil, err
	}
	snaps, err := h.BlockStorage.Snapshots(c.Ctx, c.Principal, volume.SnapshotListOptions{})
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, s := range limitOffset(snaps, q.Get("offset"), q.Get("limit")) {
		out = append(out, proxySnapshotView(s))
	}
	return api.JSON(http.StatusOK, map[string]any{"snapshots": out}), nil
}

func (h *handlers) showProxySnapshot(c *api.Call) (*api.Reply, error) {
	s, err := h.BlockStorage.Snapshot(c.Ctx, c.Principal, c.Param("snapshot_id"))
	if err != nil {
		return nil, proxyNotFound(err, "Snapshot %s could not be found.", c.Param("snapshot_id"))
	}
	return api.JSON(http.StatusOK, map[string]any{"snapshot": proxySnapshotView(s)}), nil
}

var proxySnapshotSchema = js.Object([]string{"snapshot"}, js.Property{Name: "snapshot", Schema: js.Object([]string{"volume_id"},
	js.Property{Name: "volume_id", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "force", Schema: csBoolean},
	js.Property{Name: "display_name", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "display_description", Schema: js.Schema{js.Type("string")}},
)})

func (h *handlers) createProxySnapshot(c *api.Call) (*api.Reply, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	body, err := schemaChecked(c, raw, proxySnapshotSchema)
	if err != nil {
		return nil, err
	}
	m := body.(map[string]any)["snapshot"].(map[string]any)
	req := volume.SnapshotCreate{VolumeID: m["volume_id"].(string), Force: createBool(m["force"])}
	if s, ok := m["display_name"].(string); ok {
		req.Name = &s
	}
	if s, ok := m["display_description"].(string); ok {
		req.Description = &s
	}
	s, err := h.BlockStorage.CreateSnapshot(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"snapshot": proxySnapshotView(s)}), nil
}

func (h *handlers) deleteProxySnapshot(c *api.Call) (*api.Reply, error) {
	id := c.Param("snapshot_id")
	return h.accepted(proxyNotFound(h.BlockStorage.DeleteSnapshot(c.Ctx, c.Principal, id, false), "Snapshot %s could not be found.", id))
}
