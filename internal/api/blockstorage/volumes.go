package blockstorage

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/volume"
)

// volumeFilters are resource_filters.json's "volume" keys, the filters
// a non-admin may use.
var volumeFilters = []string{"name", "status", "metadata", "bootable", "migration_status", "availability_zone",
	"group_id", "size", "created_at", "updated_at", "consumes_quota"}

func (h *handlers) volumeRoutes() []api.Route {
	const one = "/volumes/{volume_id}"
	return []api.Route{
		{Method: "GET", Path: "/volumes", Rule: "volume:get_all", Handler: h.listVolumes(false)},
		{Method: "GET", Path: "/volumes/detail", Rule: "volume:get_all", Handler: h.listVolumes(true)},
		{Method: "GET", Path: "/volumes/summary", Rule: "volume:get_all", Handler: h.volumeSummary, MinVer: mv.Version{Major: 3, Minor: 12}},
		{Method: "POST", Path: "/volumes", Rule: "volume:create", Handler: h.createVolume},
		{Method: "GET", Path: one, Rule: "volume:get", Handler: h.showVolume},
		{Method: "PUT", Path: one, Rule: "volume:update", Handler: h.updateVolume},
		{Method: "DELETE", Path: one, Rule: "volume:delete", Handler: h.deleteVolume},
		h.volumeActionRoute(),
		{Method: "GET", Path: one + "/metadata", Rule: "volume:get_volume_metadata", Handler: h.volumeMetadata},
		{Method: "POST", Path: one + "/metadata", Rule: "volume:create_volume_metadata", Handler: h.setVolumeMetadata(false)},
		{Method: "PUT", Path: one + "/metadata", Rule: "volume:update_volume_metadata", Handler: h.setVolumeMetadata(true)},
		{Method: "GET", Path: one + "/metadata/{key}", Rule: "volume:get_volume_metadata", Handler: h.volumeMetadataKey},
		{Method: "PUT", Path: one + "/metadata/{key}", Rule: "volume:update_volume_metadata", Handler: h.setVolumeMetadataKey},
		{Method: "DELETE", Path: one + "/metadata/{key}", Rule: "volume:delete_volume_metadata", Handler: h.deleteVolumeMetadataKey},
	}
}

// listVolumes answers GET /volumes and /volumes/detail.
func (h *handlers) listVolumes(detail bool) api.Handler {
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
		// Filters that came with later microversions are ignored before
		// (_MV_ADDED_FILTERS).
		if !c.AtLeast(mv.V3_2) {
			q.Del("glance_metadata")
		}
		if !c.AtLeast(mv.V3_4) {
			q.Del("group_id")
		}
		if !c.AtLeast(mv.V3_65) {
			q.Del("consumes_quota")
		}
		f, err := listFilters(c, q, volumeFilters)
		if err != nil {
			return nil, err
		}
		if b, ok := f.Exact["bootable"]; ok {
			v, valid := parseBool(b)
			if !valid && c.AtLeast(mv.V3_2) {
				return nil, errs.Invalid("Invalid input received: '%s' is not a valid boolean value.", b)
			}
			f.Exact["bootable"] = boolString(v)
		}
		opts := volume.ListOptions{AllTenants: f.AllTenants, ProjectID: f.ProjectID, Filters: f.Exact, Like: f.Like,
			Metadata: f.Metadata, ImageMetadata: f.Image, Sort: pg.Sort, Marker: pg.Marker, Limit: pg.Limit, Offset: pg.Offset}
		var vols []*volume.Volume
		if pg.Limit > 0 { // limit=0 asks for none (Cinder's LIMIT 0)
			if vols, err = h.vols.List(c.Ctx, c.Principal, opts); err != nil {
				return nil, err
			}
		}
		l := listing[*volume.Volume]{key: "volumes", linksKey: "volumes_links", collection: "volumes", items: vols, limit: pg.Limit,
			id: func(v *volume.Volume) string { return v.ID }, view: func(v *volume.Volume) map[string]any { return volumeSummaryView(c, v) }}
		if detail {
			l.collection = "volumes/detail"
			l.view = func(v *volume.Volume) map[string]any { return volumeDetail(c, v, true) }
		}
		if f.WithCount {
			opts.Marker, opts.Limit, opts.Offset = "", 0, 0
			l.count = func() (int, error) { return h.vols.Count(c.Ctx, c.Principal, opts) }
		}
		return l.reply(c)
	}
}

// volumeSummary answers GET /volumes/summary (3.12; metadata from 3.36).
func (h *handlers) volumeSummary(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	f, err := listFilters(c, q, volumeFilters)
	if err != nil {
		return nil, err
	}
	vols, err := h.vols.List(c.Ctx, c.Principal, volume.ListOptions{AllTenants: f.AllTenants, ProjectID: f.ProjectID,
		Filters: f.Exact, Metadata: f.Metadata})
	if err != nil {
		return nil, err
	}
	size := 0
	md := map[string][]string{}
	for _, v := range vols {
		size += v.Size
		for k, val := range v.Metadata {
			if !slices.Contains(md[k], val) {
				md[k] = append(md[k], val)
			}
		}
	}
	s := map[string]any{"total_count": len(vols), "total_size": size}
	if c.AtLeast(mv.V3_36) {
		s["metadata"] = md
	}
	return api.JSON(http.StatusOK, map[string]any{"volume-summary": s}), nil
}

// volumeCreateSchema is schemas/volumes.py's create at the request's
// microversion: group_id from 3.13, backup_id from 3.47, no unknown keys
// from 3.53.
func volumeCreateSchema(c *api.Call) js.Schema {
	props := []js.Property{
		{Name: "name", Schema: nameText}, {Name: "description", Schema: descriptionText},
		{Name: "display_name", Schema: nameText}, {Name: "display_description", Schema: descriptionText},
		{Name: "volume_type", Schema: nameZeroMin}, {Name: "metadata", Schema: metadataAllowsNull},
		{Name: "snapshot_id", Schema: optionalUUID}, {Name: "source_volid", Schema: optionalUUID},
		{Name: "consistencygroup_id", Schema: optionalUUID}, {Name: "size", Schema: volumeSize},
		{Name: "availability_zone", Schema: availabilityZone}, {Name: "multiattach", Schema: optionalBoolean},
		{Name: "image_id", Schema: nameZeroMin}, {Name: "imageRef", Schema: nameZeroMin},
	}
	if c.AtLeast(mv.V3_13) {
		props = append(props, js.Property{Name: "group_id", Schema: nameZeroMin})
	}
	if c.AtLeast(mv.Version{Major: 3, Minor: 47}) {
		props = append(props, js.Property{Name: "backup_id", Schema: optionalUUID})
	}
	vol := js.Schema{js.Type("object"), js.Properties(props...)}
	if c.AtLeast(mv.V3_53) {
		vol = append(vol, js.NoAdditional(props...))
	}
	top := []js.Property{{Name: "volume", Schema: vol}, {Name: "OS-SCH-HNT:scheduler_hints", Schema: js.Schema{js.Type("object", "null")}}}
	return js.Object([]string{"volume"}, top...)
}

// createVolume answers POST /volumes: 202 with the new volume's detail.
func (h *handlers) createVolume(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, volumeCreateSchema(c))
	if err != nil {
		return nil, err
	}
	v := body["volume"].(map[string]any)
	req := volume.CreateRequest{Metadata: stringMap(v["metadata"])}
	req.Name = strPtr(v, "display_name")
	if n := strPtr(v, "name"); n != nil {
		req.Name = n
	}
	req.Description = strPtr(v, "display_description")
	if d := strPtr(v, "description"); d != nil {
		req.Description = d
	}
	if t, ok := str(v, "volume_type"); ok {
		req.VolumeType = t
	}
	if s, ok := str(v, "snapshot_id"); ok {
		req.SnapshotID = s
	}
	if s, ok := str(v, "source_volid"); ok {
		req.SourceVolID = s
	}
	if s, ok := str(v, "backup_id"); ok && s != "" {
		return nil, errs.Invalid("Creating a volume from a backup is not supported.")
	}
	if z, ok := str(v, "availability_zone"); ok {
		req.AvailabilityZone = z
	}
	if g, ok := str(v, "group_id"); ok && g != "" {
		return nil, errs.Named("GroupNotFound", errs.NotFound("Group %s could not be found.", g))
	}
	if m, ok := v["multiattach"]; ok && m != nil && boolValue(m) {
		// Cinder removed the multiattach flag: multiattach volumes come
		// from a type with multiattach="<is> True".
		return nil, errs.Invalid("multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.")
	}
	imageRef, hasImage := str(v, "imageRef")
	if id, ok := str(v, "image_id"); ok {
		imageRef, hasImage = id, true
	}
	if hasImage && imageRef != "" {
		if err := c.Authorize("volume:create_from_image", nil); err != nil {
			return nil, err
		}
		// A Nova-style image href ends with the id.
		req.ImageID = imageRef[strings.LastIndexByte(imageRef, '/')+1:]
	}
	switch size := v["size"].(type) {
	case nil:
	case string:
		n, _ := jsNumber(size)
		req.Size = n
	default:
		f, _, _ := js.NumberOf(size)
		req.Size = int(f)
	}
	// A multiattach volume comes from a type with multiattach="<is> True"
	// (volume:multiattach guards it, as Cinder's create flow).
	var typ *volume.VolumeType
	if req.VolumeType != "" {
		typ, err = h.vols.Type(c.Ctx, c.Principal, req.VolumeType)
	} else if req.SnapshotID == "" && req.SourceVolID == "" {
		typ, err = h.vols.DefaultType(c.Ctx, c.Principal)
	}
	if err != nil {
		return nil, err
	}
	if typ != nil && typ.ExtraSpecs["multiattach"] == "<is> True" {
		if err := c.Authorize("volume:multiattach", nil); err != nil {
			return nil, err
		}
		req.Multiattach = true
	}
	vol, err := h.vols.Create(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusAccepted, map[string]any{"volume": volumeDetail(c, vol, false)}), nil
}

// jsNumber parses a validated size string.
func jsNumber(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' || n > 1<<31 {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

func (h *handlers) showVolume(c *api.Call) (*api.Reply, error) {
	v, err := h.vols.Get(c.Ctx, c.Principal, c.Param("volume_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"volume": volumeDetail(c, v, true)}), nil
}

// volumeUpdateSchema is schemas/volumes.py's update (update_v353 asks
// for at least one key).
func volumeUpdateSchema(c *api.Call) js.Schema {
	props := []js.Property{
		{Name: "name", Schema: nameText}, {Name: "description", Schema: descriptionText},
		{Name: "display_name", Schema: nameText}, {Name: "display_description", Schema: descriptionText},
		{Name: "metadata", Schema: extraSpecs},
	}
	vol := js.Schema{js.Type("object"), js.Properties(props...), js.NoAdditional(props...)}
	if c.AtLeast(mv.V3_53) {
		vol = append(vol, func(r *js.Run, path []string, v any) *js.Failure {
			if m, ok := v.(map[string]any); ok && len(m) == 0 {
				return js.FailAt(path, v, "%s is not valid under any of the given schemas", r.Repr(v))
			}
			return nil
		})
	}
	return js.Object([]string{"volume"}, js.Property{Name: "volume", Schema: vol})
}

// updateVolume answers PUT /volumes/{id}.
func (h *handlers) updateVolume(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, volumeUpdateSchema(c))
	if err != nil {
		return nil, err
	}
	v := body["volume"].(map[string]any)
	req := volume.UpdateRequest{Name: strPtr(v, "display_name"), Description: strPtr(v, "display_description")}
	if n := strPtr(v, "name"); n != nil {
		req.Name = n
	}
	if d := strPtr(v, "description"); d != nil {
		req.Description = d
	}
	if _, ok := v["metadata"]; ok {
		req.Metadata = stringMap(v["metadata"])
	}
	vol, err := h.vols.Update(c.Ctx, c.Principal, c.Param("volume_id"), req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"volume": volumeDetail(c, vol, false)}), nil
}

// deleteVolume answers DELETE /volumes/{id}: ?cascade, and ?force from
// 3.23 (volume:force_delete).
func (h *handlers) deleteVolume(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	opts := volume.DeleteOptions{}
	if q.Has("cascade") {
		b, ok := parseBool(q.Get("cascade"))
		if !ok {
			return nil, errs.Invalid("Invalid value '%s' for cascade", q.Get("cascade"))
		}
		opts.Cascade = b
	}
	if c.AtLeast(mv.V3_23) && q.Has("force") {
		b, ok := parseBool(q.Get("force"))
		if !ok {
			return nil, errs.Invalid("Invalid value '%s' for force", q.Get("force"))
		}
		opts.Force = b
	}
	if opts.Force {
		if _, err := h.vols.Get(c.Ctx, c.Principal, c.Param("volume_id")); err != nil {
			return nil, err
		}
		if err := c.Authorize("volume:force_delete", nil); err != nil {
			return nil, err
		}
	}
	if err := h.vols.Delete(c.Ctx, c.Principal, c.Param("volume_id"), opts); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// Metadata: Cinder's volume_metadata controller.

func (h *handlers) volumeMetadata(c *api.Call) (*api.Reply, error) {
	v, err := h.vols.Get(c.Ctx, c.Principal, c.Param("volume_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"metadata": nonNil(v.Metadata)}), nil
}

var metadataSchema = js.Object([]string{"metadata"}, js.Property{Name: "metadata", Schema: extraSpecs})

// setVolumeMetadata answers POST (merge) and PUT (replace) of
// /volumes/{id}/metadata.
func (h *handlers) setVolumeMetadata(replace bool) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		body, err := decodeBody(c, metadataSchema)
		if err != nil {
			return nil, err
		}
		md := stringMap(body["metadata"])
		v, err := h.vols.Get(c.Ctx, c.Principal, c.Param("volume_id"))
		if err != nil {
			return nil, err
		}
		if !replace {
			merged := map[string]string{}
			for k, x := range v.Metadata {
				merged[k] = x
			}
			for k, x := range md {
				merged[k] = x
			}
			md = merged
		}
		v, err = h.vols.Update(c.Ctx, c.Principal, v.ID, volume.UpdateRequest{Metadata: md})
		if err != nil {
			return nil, err
		}
		return api.JSON(http.StatusOK, map[string]any{"metadata": nonNil(v.Metadata)}), nil
	}
}

func (h *handlers) volumeMetadataKey(c *api.Call) (*api.Reply, error) {
	v, err := h.vols.Get(c.Ctx, c.Principal, c.Param("volume_id"))
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	val, ok := v.Metadata[key]
	if !ok {
		return nil, errs.Named("VolumeMetadataNotFound", errs.NotFound("Volume %s has no metadata with key %s.", v.ID, key))
	}
	return api.JSON(http.StatusOK, map[string]any{"meta": map[string]string{key: val}}), nil
}

var metaSchema = js.Object([]string{"meta"}, js.Property{Name: "meta", Schema: append(append(js.Schema{}, extraSpecs...),
	oneProperty)})

// oneProperty is minProperties 1 and maxProperties 1, with
// jsonschema's messages.
func oneProperty(r *js.Run, path []string, v any) *js.Failure {
	m, ok := v.(map[string]any)
	switch {
	case !ok:
		return nil
	case len(m) < 1:
		return js.FailAt(path, v, "%s does not have enough properties", r.Repr(v))
	case len(m) > 1:
		return js.FailAt(path, v, "%s has too many properties", r.Repr(v))
	}
	return nil
}

func (h *handlers) setVolumeMetadataKey(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, metaSchema)
	if err != nil {
		return nil, err
	}
	meta := stringMap(body["meta"])
	key := c.Param("key")
	if _, ok := meta[key]; !ok {
		return nil, errs.Invalid("Request body and URI mismatch")
	}
	v, err := h.vols.Get(c.Ctx, c.Principal, c.Param("volume_id"))
	if err != nil {
		return nil, err
	}
	md := map[string]string{}
	for k, x := range v.Metadata {
		md[k] = x
	}
	md[key] = meta[key]
	if _, err := h.vols.Update(c.Ctx, c.Principal, v.ID, volume.UpdateRequest{Metadata: md}); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"meta": meta}), nil
}

func (h *handlers) deleteVolumeMetadataKey(c *api.Call) (*api.Reply, error) {
	v, err := h.vols.Get(c.Ctx, c.Principal, c.Param("volume_id"))
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	if _, ok := v.Metadata[key]; !ok {
		return nil, errs.Named("VolumeMetadataNotFound", errs.NotFound("Volume %s has no metadata with key %s.", v.ID, key))
	}
	md := map[string]string{}
	for k, x := range v.Metadata {
		if k != key {
			md[k] = x
		}
	}
	if _, err := h.vols.Update(c.Ctx, c.Principal, v.ID, volume.UpdateRequest{Metadata: md}); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusOK), nil
}

// Views.

// links are a resource's self and bookmark links (common.ViewBuilder):
// the bookmark drops the version from the path.
func links(c *api.Call, collection, id string) []api.Link {
	self := c.Link("/" + collection + "/" + id)
	root := strings.TrimSuffix(c.BaseURL, "/v3")
	bookmark := root + "/" + collection + "/" + id
	if c.ProjectInURL != "" {
		bookmark = root + "/" + c.ProjectInURL + "/" + collection + "/" + id
	}
	return []api.Link{{Rel: "self", Href: self}, {Rel: "bookmark", Href: bookmark}}
}

func volumeSummaryView(c *api.Call, v *volume.Volume) map[string]any {
	return map[string]any{"id": v.ID, "name": v.Name, "links": links(c, "volumes", v.ID)}
}

// cinderTime is how Cinder's views print times: isoformat without a zone.
func cinderTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

func cinderTimePtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return cinderTime(*t)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// volumeDetail is Cinder's volume detail at the request's microversion;
// extended (show and the detail list, the calls Cinder's controller
// extensions extend; not create or update) adds the extension attributes
// the caller's rules allow.
func volumeDetail(c *api.Call, v *volume.Volume, extended bool) map[string]any {
	admin := c.IsAdmin()
	typ := any(v.VolumeTypeName)
	if v.VolumeTypeName == "" {
		typ = nil
	}
	d := map[string]any{
		"id": v.ID, "status": shownStatus(v.Status), "size": v.Size, "availability_zone": v.AvailabilityZone,
		"created_at": cinderTime(v.CreatedAt), "updated_at": cinderTime(v.UpdatedAt),
		"name": v.Name, "description": v.Description, "volume_type": typ,
		"snapshot_id": v.SnapshotID, "source_volid": v.SourceVolID, "metadata": visibleMetadata(v),
		"links": links(c, "volumes", v.ID), "user_id": v.UserID, "bootable": boolString(v.Bootable),
		"encrypted": false, "replication_status": nil, "consistencygroup_id": nil, "multiattach": v.Multiattach,
		"attachments": volumeAttachments(c, v),
	}
	if admin {
		d["migration_status"] = v.MigrationStatus
	}
	if c.AtLeast(mv.V3_13) {
		d["group_id"] = nil
	}
	if admin && c.AtLeast(mv.V3_21) {
		d["provider_id"] = nil
	}
	if c.AtLeast(mv.V3_48) {
		// kumo's volumes are files: no shared targets (false); from 3.69
		// null would mean "unknown", which kumo never is.
		d["shared_targets"] = false
		d["service_uuid"] = serviceUUID(v.Host)
	}
	if admin && c.AtLeast(mv.V3_61) {
		d["cluster_name"] = nil
	}
	if c.AtLeast(mv.V3_63) {
		d["volume_type_id"] = v.VolumeTypeID
	}
	if c.AtLeast(mv.V3_65) {
		d["consumes_quota"] = v.ConsumesQuota
	}
	if !extended {
		return d
	}
	// The controller extensions' attributes.
	if c.Allowed("volume_extension:volume_host_attribute", nil) {
		var host any
		if v.Host != "" {
			host = v.Host
		}
		d["os-vol-host-attr:host"] = host
	}
	if c.Allowed("volume_extension:volume_tenant_attribute", nil) {
		d["os-vol-tenant-attr:tenant_id"] = v.ProjectID
	}
	if c.Allowed("volume_extension:volume_mig_status_attribute", nil) {
		d["os-vol-mig-status-attr:migstat"] = v.MigrationStatus
		d["os-vol-mig-status-attr:name_id"] = nil
	}
	if len(v.ImageMetadata) > 0 && c.Allowed("volume_extension:volume_image_metadata:show", nil) {
		d["volume_image_metadata"] = v.ImageMetadata
	}
	return d
}

// visibleMetadata is the volume's metadata with the admin metadata every
// caller sees ("readonly", "attached_mode") over it, as Cinder's
// add_visible_admin_metadata shows them.
func visibleMetadata(v *volume.Volume) map[string]string {
	out := make(map[string]string, len(v.Metadata)+1)
	maps.Copy(out, v.Metadata)
	for _, k := range []string{"readonly", "attached_mode"} {
		if val, ok := v.AdminMetadata[k]; ok {
			out[k] = val
		}
	}
	return out
}

// volumeAttachments are the attached attachments of a volume as its
// view shows them; host_name only for admins and services.
func volumeAttachments(c *api.Call, v *volume.Volume) []map[string]any {
	out := []map[string]any{}
	showHost := c.IsAdmin() || c.Principal.HasRole("service")
	for _, a := range v.Attachments {
		if a.AttachStatus != volume.AttachAttached {
			continue
		}
		var host any
		if showHost && a.AttachedHost != nil {
			host = *a.AttachedHost
		}
		out = append(out, map[string]any{
			"id": v.ID, "attachment_id": a.ID, "volume_id": v.ID, "server_id": a.InstanceUUID,
			"host_name": host, "device": a.Mountpoint, "attached_at": cinderTimePtr(a.AttachTime),
		})
	}
	return out
}

// serviceUUID is the id of the cinder-volume service holding a volume
// (3.48), stable for its host; nil before the volume is placed.
func serviceUUID(host string) any {
	if host == "" {
		return nil
	}
	h, _, _ := strings.Cut(host, "#")
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("cinder-volume/"+h)).String()
}
