package blockstorage

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/volume"
)

// userVisibleExtraSpecs are the extra specs a caller without
// read_sensitive sees (policies/type_extra_specs.py).
var userVisibleExtraSpecs = []string{"RESKEY:availability_zones", "multiattach", "replication_enabled"}

// typeActions are the rows of POST /types/{id}/action.
var typeActions = []api.Action{
	{Name: "addProjectAccess", Rule: "volume_extension:volume_type_access:addProjectAccess"},
	{Name: "removeProjectAccess", Rule: "volume_extension:volume_type_access:removeProjectAccess"},
}

func (h *handlers) typeRoutes() []api.Route {
	const one = "/types/{type_id}"
	return []api.Route{
		{Method: "GET", Path: "/types", Rule: "volume_extension:type_get_all", Handler: h.listTypes},
		{Method: "POST", Path: "/types", Rule: "volume_extension:type_create", Handler: h.createType},
		{Method: "GET", Path: one, Rule: "volume_extension:type_get", Handler: h.showType},
		{Method: "PUT", Path: one, Rule: "volume_extension:type_update", Handler: h.updateType},
		{Method: "DELETE", Path: one, Rule: "volume_extension:type_delete", Handler: h.deleteType},
		{Method: "POST", Path: one + "/action", Rule: policy.Action, Actions: typeActions, Handler: h.typeAction},
		{Method: "GET", Path: one + "/os-volume-type-access", Rule: "volume_extension:volume_type_access:get_all_for_type", Handler: h.typeAccess},
		{Method: "GET", Path: one + "/extra_specs", Rule: "volume_extension:types_extra_specs:index", Handler: h.extraSpecs},
		{Method: "POST", Path: one + "/extra_specs", Rule: "volume_extension:types_extra_specs:create", Handler: h.createExtraSpecs},
		{Method: "GET", Path: one + "/extra_specs/{key}", Rule: "volume_extension:types_extra_specs:show", Handler: h.extraSpec},
		{Method: "PUT", Path: one + "/extra_specs/{key}", Rule: "volume_extension:types_extra_specs:update", Handler: h.updateExtraSpec},
		{Method: "DELETE", Path: one + "/extra_specs/{key}", Rule: "volume_extension:types_extra_specs:delete", Handler: h.deleteExtraSpec},
		{Method: "PUT", Path: "/default-types/{project_id}", Rule: "volume_extension:default_set_or_update", Handler: h.setDefaultType, MinVer: mv.V3_62},
		{Method: "GET", Path: "/default-types", Rule: "volume_extension:default_get_all", Handler: h.listDefaultTypes, MinVer: mv.V3_62},
		{Method: "GET", Path: "/default-types/{project_id}", Rule: "volume_extension:default_get", Handler: h.showDefaultType, MinVer: mv.V3_62},
		{Method: "DELETE", Path: "/default-types/{project_id}", Rule: "volume_extension:default_unset", Handler: h.unsetDefaultType, MinVer: mv.V3_62},
	}
}

// typeView is v3/views/types.py's with volume_type_access's attribute.
func typeView(c *api.Call, t *volume.VolumeType) map[string]any {
	v := map[string]any{"id": t.ID, "name": t.Name, "is_public": t.IsPublic, "description": t.Description}
	if c.Allowed("volume_extension:access_types_extra_specs", nil) {
		specs := map[string]string{}
		sensitive := c.Allowed("volume_extension:types_extra_specs:read_sensitive", nil)
		for k, s := range t.ExtraSpecs {
			if sensitive || slices.Contains(userVisibleExtraSpecs, k) {
				specs[k] = s
			}
		}
		v["extra_specs"] = specs
	}
	if c.Allowed("volume_extension:access_types_qos_specs_id", nil) {
		v["qos_specs_id"] = t.QoSSpecsID
	}
	if c.Allowed("volume_extension:volume_type_access", nil) {
		v["os-volume-type-access:is_public"] = t.IsPublic
	}
	return v
}

// typeManageView is the type view of types_manage's create and update
// (cinder/api/views/types.py): every extra spec, no qos_specs_id; create
// is also extended with volume_type_access's attribute.
func typeManageView(c *api.Call, t *volume.VolumeType, created bool) map[string]any {
	v := map[string]any{"id": t.ID, "name": t.Name, "is_public": t.IsPublic, "description": t.Description,
		"extra_specs": nonNil(t.ExtraSpecs)}
	if created && c.Allowed("volume_extension:volume_type_access", nil) {
		v["os-volume-type-access:is_public"] = t.IsPublic
	}
	return v
}

// listTypes answers GET /types: public types by default, ?is_public=None
// every type (admins), private ones shared with the caller's project.
func (h *handlers) listTypes(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	pg, err := listParams(q)
	if err != nil {
		return nil, err
	}
	pub := true
	opts := volume.TypeListOptions{IsPublic: &pub, Sort: pg.Sort, Marker: pg.Marker, Limit: pg.Limit, Offset: pg.Offset}
	if q.Has("is_public") {
		s := q.Get("is_public")
		if strings.EqualFold(s, "none") {
			opts.IsPublic = nil
		} else {
			b, ok := parseBool(s)
			if !ok {
				return nil, errs.Invalid("Invalid is_public filter [%s]", s)
			}
			opts.IsPublic = &b
		}
	}
	if !c.IsAdmin() {
		opts.IsPublic = &pub
	}
	if s := q.Get("extra_specs"); s != "" && c.AtLeast(mv.V3_52) {
		m, err := parseDict(s)
		if err != nil {
			return nil, errs.Invalid("Invalid extra_specs value")
		}
		opts.ExtraSpecs = m
	}
	types, err := h.vols.Types(c.Ctx, c.Principal, opts)
	if err != nil {
		return nil, err
	}
	return listing[*volume.VolumeType]{key: "volume_types", linksKey: "volume_type_links", collection: "types", items: types, limit: pg.Limit,
		id: func(t *volume.VolumeType) string { return t.ID }, view: func(t *volume.VolumeType) map[string]any { return typeView(c, t) }}.reply(c)
}

// showType answers GET /types/{id}; "default" is the caller's default.
func (h *handlers) showType(c *api.Call) (*api.Reply, error) {
	id := c.Param("type_id")
	var t *volume.VolumeType
	var err error
	if id == "default" {
		t, err = h.vols.DefaultType(c.Ctx, c.Principal)
	} else {
		t, err = h.vols.Type(c.Ctx, c.Principal, id)
	}
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"volume_type": typeView(c, t)}), nil
}

var (
	typeName         = js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255), js.Format("name_with_leading_trailing_spaces")}
	extraSpecsNoSp   = append(js.Schema{js.Type("object")}, js.PatternProperties(`^[a-zA-Z0-9\-_:.]{1,255}$`, `^[a-zA-Z0-9-_:.]{1,255}$`, js.Schema{js.Type("string", "null"), js.MinLength(0), js.MaxLength(255)})...)
	extraSpecsNullOK = append(js.Schema{js.Type("object")}, js.PatternProperties(extraSpecsGoRE, extraSpecsKey, js.Schema{js.Type("string", "null"), js.MaxLength(255)})...)
	typeCreateSchema = js.Object([]string{"volume_type"}, js.Property{Name: "volume_type", Schema: js.Object([]string{"name"},
		js.Property{Name: "name", Schema: typeName}, js.Property{Name: "description", Schema: description},
		js.Property{Name: "extra_specs", Schema: extraSpecsNullOK}, js.Property{Name: "os-volume-type-access:is_public", Schema: boolean})})
	typeUpdateSchema = js.Object([]string{"volume_type"}, js.Property{Name: "volume_type", Schema: js.Object(nil,
		js.Property{Name: "name", Schema: js.Schema{js.Type("string", "null"), js.MinLength(1), js.MaxLength(255)}},
		js.Property{Name: "description", Schema: description}, js.Property{Name: "is_public", Schema: boolean})})
)

func (h *handlers) createType(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, typeCreateSchema)
	if err != nil {
		return nil, err
	}
	v := body["volume_type"].(map[string]any)
	name, _ := str(v, "name")
	req := volume.TypeCreate{Name: name, Description: strPtr(v, "description"), ExtraSpecs: stringMap(v["extra_specs"])}
	if p, ok := v["os-volume-type-access:is_public"]; ok {
		b := boolValue(p)
		req.IsPublic = &b
	}
	t, err := h.vols.CreateType(c.Ctx, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"volume_type": typeManageView(c, t, true)}), nil
}

func (h *handlers) updateType(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, typeUpdateSchema)
	if err != nil {
		return nil, err
	}
	v := body["volume_type"].(map[string]any)
	req := volume.TypeUpdate{}
	if n, ok := str(v, "name"); ok {
		if strings.TrimSpace(n) == "" {
			return nil, errs.Invalid("Volume type name can not be empty.")
		}
		req.Name = &n
	}
	if d, ok := str(v, "description"); ok {
		req.Description = &d
	}
	if p, ok := v["is_public"]; ok {
		b := boolValue(p)
		req.IsPublic = &b
	}
	if req.Name == nil && req.Description == nil && req.IsPublic == nil {
		return nil, errs.Invalid("Specify volume type name, description, is_public or a combination thereof.")
	}
	t, err := h.vols.UpdateType(c.Ctx, c.Param("type_id"), req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"volume_type": typeManageView(c, t, false)}), nil
}

func (h *handlers) deleteType(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DeleteType(c.Ctx, c.Param("type_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

var projectAccessSchema = func(action string) js.Schema {
	return js.Object([]string{action}, js.Property{Name: action, Schema: js.Object([]string{"project"},
		js.Property{Name: "project", Schema: js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}})})
}

// typeAction answers POST /types/{id}/action: addProjectAccess and
// removeProjectAccess.
func (h *handlers) typeAction(c *api.Call) (*api.Reply, error) {
	act, raw, err := pickAction(c, typeActions)
	if err != nil {
		return nil, err
	}
	if err := c.Authorize(act.Rule, nil); err != nil {
		return nil, err
	}
	body, err := validateRaw(raw, projectAccessSchema(act.Name))
	if err != nil {
		return nil, err
	}
	project, _ := str(body[act.Name].(map[string]any), "project")
	id := c.Param("type_id")
	if act.Name == "addProjectAccess" {
		err = h.vols.AddTypeAccess(c.Ctx, id, project)
	} else {
		err = h.vols.RemoveTypeAccess(c.Ctx, id, project)
	}
	if err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// typeAccess answers GET /types/{id}/os-volume-type-access.
func (h *handlers) typeAccess(c *api.Call) (*api.Reply, error) {
	id := c.Param("type_id")
	t, err := h.vols.Type(c.Ctx, c.Principal, id)
	if err != nil {
		return nil, err
	}
	if t.IsPublic {
		return nil, errs.Named("VolumeTypeAccessNotFound", errs.NotFound("Access list not available for public volume types."))
	}
	access, err := h.vols.TypeAccess(c.Ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, 0, len(access))
	for _, a := range access {
		out = append(out, map[string]string{"volume_type_id": a.VolumeTypeID, "project_id": a.ProjectID})
	}
	return api.JSON(http.StatusOK, map[string]any{"volume_type_access": out}), nil
}

func (h *handlers) extraSpecs(c *api.Call) (*api.Reply, error) {
	specs, err := h.vols.ExtraSpecs(c.Ctx, c.Principal, c.Param("type_id"))
	if err != nil {
		return nil, err
	}
	if !c.Allowed("volume_extension:types_extra_specs:read_sensitive", nil) {
		visible := map[string]string{}
		for k, v := range specs {
			if slices.Contains(userVisibleExtraSpecs, k) {
				visible[k] = v
			}
		}
		specs = visible
	}
	return api.JSON(http.StatusOK, map[string]any{"extra_specs": nonNil(specs)}), nil
}

var extraSpecsCreateSchema = js.Object([]string{"extra_specs"}, js.Property{Name: "extra_specs", Schema: extraSpecsNoSp})

func (h *handlers) createExtraSpecs(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, extraSpecsCreateSchema)
	if err != nil {
		return nil, err
	}
	specs := stringMap(body["extra_specs"])
	if _, err := h.vols.SetExtraSpecs(c.Ctx, c.Param("type_id"), specs); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"extra_specs": nonNil(specs)}), nil
}

func (h *handlers) extraSpec(c *api.Call) (*api.Reply, error) {
	key := c.Param("key")
	if !slices.Contains(userVisibleExtraSpecs, key) && !c.Allowed("volume_extension:types_extra_specs:read_sensitive", nil) {
		return nil, errs.Named("VolumeTypeExtraSpecsNotFound", errs.NotFound("Volume Type %s has no extra specs with key %s.", c.Param("type_id"), key))
	}
	val, err := h.vols.ExtraSpec(c.Ctx, c.Principal, c.Param("type_id"), key)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]string{key: val}), nil
}

var extraSpecUpdateSchema = append(append(js.Schema{}, extraSpecsNoSp...), oneProperty)

func (h *handlers) updateExtraSpec(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, extraSpecUpdateSchema)
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	if _, ok := body[key]; !ok {
		return nil, errs.Invalid("Request body and URI mismatch")
	}
	specs := stringMap(body)
	if _, err := h.vols.SetExtraSpecs(c.Ctx, c.Param("type_id"), specs); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, specs), nil
}

func (h *handlers) deleteExtraSpec(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DeleteExtraSpec(c.Ctx, c.Param("type_id"), c.Param("key")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// Default types (3.62).

func defaultTypeView(d *volume.DefaultType) map[string]any {
	return map[string]any{"project_id": d.ProjectID, "volume_type_id": d.VolumeTypeID}
}

var defaultTypeSchema = js.Schema{js.Type("object"), js.Properties(js.Property{Name: "default_type", Schema: js.Object([]string{"volume_type"},
	js.Property{Name: "volume_type", Schema: typeName})})}

func (h *handlers) setDefaultType(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, defaultTypeSchema)
	if err != nil {
		return nil, err
	}
	dt, ok := body["default_type"].(map[string]any)
	if !ok {
		return nil, errs.Invalid("Missing required element 'default_type' in request body.")
	}
	typ, _ := str(dt, "volume_type")
	d, err := h.vols.SetProjectDefaultType(c.Ctx, c.Param("project_id"), typ)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"default_type": defaultTypeView(d)}), nil
}

func (h *handlers) listDefaultTypes(c *api.Call) (*api.Reply, error) {
	ds, err := h.vols.ProjectDefaultTypes(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		out = append(out, defaultTypeView(d))
	}
	return api.JSON(http.StatusOK, map[string]any{"default_types": out}), nil
}

func (h *handlers) showDefaultType(c *api.Call) (*api.Reply, error) {
	d, err := h.vols.ProjectDefaultType(c.Ctx, c.Param("project_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"default_type": defaultTypeView(d)}), nil
}

func (h *handlers) unsetDefaultType(c *api.Call) (*api.Reply, error) {
	if err := h.vols.UnsetProjectDefaultType(c.Ctx, c.Param("project_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
