package blockstorage

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/volume"
)

// QoS specs (cinder/api/contrib/qos_specs_manage.py): admin-only by
// Cinder's default policies. kumo keeps them and shows them on volume
// types; its volume backends do not throttle I/O by them.

func (h *handlers) qosRoutes() []api.Route {
	const one = "/qos-specs/{qos_id}"
	const rule = "volume_extension:qos_specs_manage:"
	return []api.Route{
		{Method: "GET", Path: "/qos-specs", Rule: rule + "get_all", Handler: h.listQoS},
		{Method: "POST", Path: "/qos-specs", Rule: rule + "create", Handler: h.createQoS},
		{Method: "GET", Path: one, Rule: rule + "get", Handler: h.showQoS},
		{Method: "PUT", Path: one, Rule: rule + "update", Handler: h.updateQoS},
		{Method: "DELETE", Path: one, Rule: rule + "delete", Handler: h.deleteQoS},
		{Method: "PUT", Path: one + "/delete_keys", Rule: rule + "delete", Handler: h.deleteQoSKeys},
		{Method: "GET", Path: one + "/associations", Rule: rule + "get_all", Handler: h.qosAssociations},
		{Method: "GET", Path: one + "/associate", Rule: rule + "update", Handler: h.associateQoS},
		{Method: "GET", Path: one + "/disassociate", Rule: rule + "update", Handler: h.disassociateQoS},
		{Method: "GET", Path: one + "/disassociate_all", Rule: rule + "update", Handler: h.disassociateAllQoS},
	}
}

// qosView is views/qos_specs.py's detail (without its links).
func qosView(q *volume.QoSSpecs) map[string]any {
	specs := q.Specs
	if specs == nil {
		specs = map[string]*string{}
	}
	return map[string]any{"id": q.ID, "name": q.Name, "consumer": q.Consumer, "specs": specs}
}

var (
	// qosName is the name_skip_leading_trailing_spaces format, whose
	// failures Cinder shows as its InvalidName.
	qosName = js.Schema{js.Type("string"), func(_ *js.Run, _ []string, v any) *js.Failure {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		var reason string
		switch t := strings.TrimSpace(s); {
		case s == "":
			reason = "The 'name' can not be None."
		case t == "":
			reason = "The 'name' can not be empty."
		case len([]rune(t)) > 255:
			reason = "The 'name' can not be greater than 255 characters."
		default:
			return nil
		}
		return &js.Failure{Raw: true, Message: "An invalid 'name' value was provided. " + reason}
	}}
	// qosCreateSchema is schemas/qos_specs.py's create: any other key of
	// qos_specs is a spec.
	qosCreateSchema = js.Schema{js.Type("object"), js.Properties(js.Property{Name: "qos_specs", Schema: js.Schema{js.Type("object"),
		js.Properties(js.Property{Name: "name", Schema: qosName}), js.Required("name")}}),
		js.Required("qos_specs"), js.NoAdditional(js.Property{Name: "qos_specs"})}
	qosSetSchema = js.Object([]string{"qos_specs"}, js.Property{Name: "qos_specs", Schema: append(js.Schema{js.Type("object")},
		js.PatternProperties(extraSpecsGoRE, extraSpecsKey, js.Schema{js.Type("string", "null"), js.MaxLength(255)})...)})
	qosUnsetSchema = js.Object([]string{"keys"}, js.Property{Name: "keys", Schema: js.Schema{js.Type("array"),
		js.Items(js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}), js.UniqueItems()}})
)

// qosSpecsOf reads specs from a validated body object: strings or null,
// as validate_dictionary_string_length wants them.
func qosSpecsOf(m map[string]any) (map[string]*string, error) {
	out := make(map[string]*string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch v := m[k].(type) {
		case nil:
			out[k] = nil
		case string:
			out[k] = &v
		default:
			return nil, errs.Invalid("Invalid input received: Value for key \"%s\" is not a string or unicode", k)
		}
	}
	return out, nil
}

func (h *handlers) listQoS(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	pg, err := listParams(q)
	if err != nil {
		return nil, err
	}
	opts := volume.QoSListOptions{Sort: pg.Sort, Marker: pg.Marker, Limit: pg.Limit, Offset: pg.Offset}
	// Cinder filters its QoS specs rows by the model's columns: id
	// filters, name and consumer (not columns) match nothing.
	for k := range q {
		if k == "id" {
			opts.ID = q.Get(k)
		} else {
			opts.NoMatch = true
		}
	}
	specs, err := h.vols.ListQoSSpecs(c.Ctx, opts)
	if err != nil {
		return nil, err
	}
	return listing[*volume.QoSSpecs]{key: "qos_specs", linksKey: "qos_specs_links", collection: "qos-specs", items: specs, limit: pg.Limit,
		id: func(s *volume.QoSSpecs) string { return s.ID }, view: qosView}.reply(c)
}

func (h *handlers) createQoS(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, qosCreateSchema)
	if err != nil {
		return nil, err
	}
	raw := maps.Clone(body["qos_specs"].(map[string]any))
	name, _ := raw["name"].(string)
	delete(raw, "name")
	specs, err := qosSpecsOf(raw)
	if err != nil {
		return nil, err
	}
	q, err := h.vols.CreateQoSSpecs(c.Ctx, name, specs)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"qos_specs": qosView(q), "links": links(c, "qos-specs", q.ID)}), nil
}

func (h *handlers) showQoS(c *api.Call) (*api.Reply, error) {
	q, err := h.vols.QoSSpecs(c.Ctx, c.Param("qos_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"qos_specs": qosView(q), "links": links(c, "qos-specs", q.ID)}), nil
}

// updateQoS answers with the request's body, as Cinder does.
func (h *handlers) updateQoS(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, qosSetSchema)
	if err != nil {
		return nil, err
	}
	specs, err := qosSpecsOf(body["qos_specs"].(map[string]any))
	if err != nil {
		return nil, err
	}
	if _, err := h.vols.UpdateQoSSpecs(c.Ctx, c.Param("qos_id"), specs); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, body), nil
}

func (h *handlers) deleteQoS(c *api.Call) (*api.Reply, error) {
	force := false
	if q := c.Query(); q.Has("force") {
		b, ok := parseBool(q.Get("force"))
		if !ok {
			return nil, errs.Invalid("Value '%s' for 'force' is not a boolean.", q.Get("force"))
		}
		force = b
	}
	if err := h.vols.DeleteQoSSpecs(c.Ctx, c.Param("qos_id"), force); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

func (h *handlers) deleteQoSKeys(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, qosUnsetSchema)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, k := range body["keys"].([]any) {
		keys = append(keys, k.(string))
	}
	if err := h.vols.DeleteQoSKeys(c.Ctx, c.Param("qos_id"), keys); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

func (h *handlers) qosAssociations(c *api.Call) (*api.Reply, error) {
	as, err := h.vols.QoSAssociations(c.Ctx, c.Param("qos_id"))
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(as))
	for _, a := range as {
		out = append(out, map[string]any{"association_type": a.AssociationType, "name": a.Name, "id": a.ID})
	}
	return api.JSON(http.StatusOK, map[string]any{"qos_associations": out}), nil
}

// qosTypeParam is the vol_type_id query parameter associate and
// disassociate need.
func qosTypeParam(c *api.Call) (string, error) {
	id := c.Query().Get("vol_type_id")
	if id == "" {
		return "", errs.Invalid("Volume Type id must not be None.")
	}
	return id, nil
}

func (h *handlers) associateQoS(c *api.Call) (*api.Reply, error) {
	typeID, err := qosTypeParam(c)
	if err != nil {
		return nil, err
	}
	if err := h.vols.AssociateQoSSpecs(c.Ctx, c.Param("qos_id"), typeID); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

func (h *handlers) disassociateQoS(c *api.Call) (*api.Reply, error) {
	typeID, err := qosTypeParam(c)
	if err != nil {
		return nil, err
	}
	if err := h.vols.DisassociateQoSSpecs(c.Ctx, c.Param("qos_id"), typeID); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

func (h *handlers) disassociateAllQoS(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DisassociateAllQoSSpecs(c.Ctx, c.Param("qos_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}
