package compute

// Host aggregates (Nova's aggregates.py): admin-only create, list, show,
// update, delete and the add_host / remove_host / set_metadata actions.
// 2.41 adds uuid to the view.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/aggregate"
	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// aggregateRoutes serve os-aggregates.
func (h *handlers) aggregateRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/os-aggregates", Rule: aggregateRule("index"), Handler: h.listAggregates},
		{Method: "POST", Path: "/os-aggregates", Rule: aggregateRule("create"), Handler: h.createAggregate},
		{Method: "GET", Path: "/os-aggregates/{aggregate_id}", Rule: aggregateRule("show"), Handler: h.showAggregate},
		{Method: "PUT", Path: "/os-aggregates/{aggregate_id}", Rule: aggregateRule("update"), Handler: h.updateAggregate},
		{Method: "DELETE", Path: "/os-aggregates/{aggregate_id}", Rule: aggregateRule("delete"), Handler: h.deleteAggregate},
		actionRoute("/os-aggregates/{aggregate_id}/action", h.aggregateActions()),
	}
}

var (
	aggZone       = js.Schema{js.OneOf(js.Schema{js.Type("string"), js.Format("name"), jsNoColon, js.MinLength(1), js.MaxLength(255)}, js.Schema{js.Type("null")})}
	aggZoneLegacy = js.Schema{js.OneOf(js.Schema{js.Type("string"), js.Format("name_with_leading_trailing_spaces"), jsNoColon, js.MinLength(1), js.MaxLength(255)}, js.Schema{js.Type("null")})}
	aggHost       = js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255), js.Pattern(`^[a-zA-Z0-9-._]*$`)}
	aggMetadata   = append(js.Schema{js.Type("object")}, js.PatternProperties(`^[a-zA-Z0-9-_:. ]{1,255}$`, `^[a-zA-Z0-9-_:. ]{1,255}$`,
		js.Schema{js.Type("string", "null"), js.MaxLength(255)})...)
)

// jsNoColon is the part of Nova's az_name format that refuses ':' (the
// zone:host:node separator of create requests).
func jsNoColon(_ *js.Run, _ []string, v any) *js.Failure {
	if s, ok := v.(string); ok && strings.Contains(s, ":") {
		return &js.Failure{Raw: true, Message: "An invalid 'availability_zone' value was provided. The name must be: printable characters except colon (:). Can not start or end with whitespace."}
	}
	return nil
}

// jsNameOrZone is update's anyOf: name or availability_zone is required.
func jsNameOrZone(r *js.Run, path []string, v any) *js.Failure {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	_, name := m["name"]
	_, zone := m["availability_zone"]
	if !name && !zone {
		return js.FailAt(path, v, "%s is not valid under any of the given schemas", r.Repr(v))
	}
	return nil
}

// normalizeName is Nova's common.normalize_name: surrounding whitespace
// goes.
func normalizeName(s string) string { return strings.TrimSpace(s) }

func aggregateCreateSchema(c *api.Call) js.Schema {
	name, zone := csName, aggZone
	if isLegacyV2(c) {
		name, zone = csLegacyName, aggZoneLegacy
	}
	return js.Object([]string{"aggregate"}, js.Property{Name: "aggregate", Schema: js.Object([]string{"name"},
		js.Property{Name: "name", Schema: name}, js.Property{Name: "availability_zone", Schema: zone})})
}

func aggregateUpdateSchema(c *api.Call) js.Schema {
	zone := aggZone
	if isLegacyV2(c) {
		zone = aggZoneLegacy
	}
	inner := js.Object(nil, js.Property{Name: "name", Schema: csLegacyName}, js.Property{Name: "availability_zone", Schema: zone})
	inner = append(inner, jsNameOrZone)
	return js.Object([]string{"aggregate"}, js.Property{Name: "aggregate", Schema: inner})
}

// decodeSchemaBody decodes a JSON body and validates it against schema.
func decodeSchemaBody(c *api.Call, schema js.Schema) (map[string]any, error) {
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	body, err := schemaChecked(c, raw, schema)
	if err != nil {
		return nil, err
	}
	return body.(map[string]any), nil
}

// aggregateID parses the path id as Nova's validate_integer does.
func aggregateID(c *api.Call) (int64, error) {
	raw := c.Param("aggregate_id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, errs.Invalid("Invalid input for field/attribute id. Value: %s. id must be an integer", raw)
	}
	return id, nil
}

func (h *handlers) listAggregates(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	all, err := h.Aggregates.List(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(all))
	for _, a := range all {
		out = append(out, aggregateView(c, a, true))
	}
	return api.JSON(http.StatusOK, map[string]any{"aggregates": out}), nil
}

func (h *handlers) createAggregate(c *api.Call) (*api.Reply, error) {
	body, err := decodeSchemaBody(c, aggregateCreateSchema(c))
	if err != nil {
		return nil, err
	}
	in := body["aggregate"].(map[string]any)
	name := normalizeName(in["name"].(string))
	var zone *string
	if z, ok := in["availability_zone"].(string); ok && z != "" {
		z = normalizeName(z)
		zone = &z
	}
	a, err := h.Aggregates.Create(c.Ctx, name, zone)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"aggregate": aggregateView(c, a, false)}), nil
}

func (h *handlers) showAggregate(c *api.Call) (*api.Reply, error) {
	if err := checkPlainQuery(c); err != nil {
		return nil, err
	}
	id, err := aggregateID(c)
	if err != nil {
		return nil, err
	}
	a, err := h.Aggregates.Get(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"aggregate": aggregateView(c, a, true)}), nil
}

func (h *handlers) updateAggregate(c *api.Call) (*api.Reply, error) {
	body, err := decodeSchemaBody(c, aggregateUpdateSchema(c))
	if err != nil {
		return nil, err
	}
	id, err := aggregateID(c)
	if err != nil {
		return nil, err
	}
	in := body["aggregate"].(map[string]any)
	var name, zone *string
	if n, ok := in["name"].(string); ok {
		n = normalizeName(n)
		name = &n
	}
	zv, zoneGiven := in["availability_zone"]
	if z, ok := zv.(string); ok {
		zone = &z
	}
	a, err := h.Aggregates.Update(c.Ctx, id, name, zone, zoneGiven)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"aggregate": aggregateView(c, a, true)}), nil
}

// deleteAggregate answers 200 without a body, as Nova does.
func (h *handlers) deleteAggregate(c *api.Call) (*api.Reply, error) {
	id, err := aggregateID(c)
	if err != nil {
		return nil, err
	}
	if err := h.Aggregates.Delete(c.Ctx, id); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusOK), nil
}

func aggregateRule(op string) string { return "os_compute_api:os-aggregates:" + op }

var aggregateActionSchemas = map[string]js.Schema{
	"add_host":    js.Object([]string{"add_host"}, js.Property{Name: "add_host", Schema: js.Object([]string{"host"}, js.Property{Name: "host", Schema: aggHost})}),
	"remove_host": js.Object([]string{"remove_host"}, js.Property{Name: "remove_host", Schema: js.Object([]string{"host"}, js.Property{Name: "host", Schema: aggHost})}),
	"set_metadata": js.Object([]string{"set_metadata"}, js.Property{Name: "set_metadata", Schema: js.Object([]string{"metadata"},
		js.Property{Name: "metadata", Schema: aggMetadata})}),
}

// aggregateActions are add_host, remove_host and set_metadata.
func (h *handlers) aggregateActions() map[string]action {
	act := func(name string, do func(c *api.Call, id int64, in map[string]any) (*aggregate.Aggregate, error)) action {
		return action{policy: aggregateRule(name), handle: func(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
			if f := aggregateActionSchemas[name].Validate(run, nil, body); f != nil {
				return nil, f.Err(run)
			}
			id, err := aggregateID(c)
			if err != nil {
				return nil, err
			}
			a, err := do(c, id, value.(map[string]any))
			if err != nil {
				return nil, err
			}
			return api.JSON(http.StatusOK, map[string]any{"aggregate": aggregateView(c, a, true)}), nil
		}}
	}
	return map[string]action{
		"add_host": act("add_host", func(c *api.Call, id int64, in map[string]any) (*aggregate.Aggregate, error) {
			return h.Aggregates.AddHost(c.Ctx, id, in["host"].(string))
		}),
		"remove_host": act("remove_host", func(c *api.Call, id int64, in map[string]any) (*aggregate.Aggregate, error) {
			return h.Aggregates.RemoveHost(c.Ctx, id, in["host"].(string))
		}),
		"set_metadata": act("set_metadata", func(c *api.Call, id int64, in map[string]any) (*aggregate.Aggregate, error) {
			meta := map[string]*string{}
			for k, v := range in["metadata"].(map[string]any) {
				if s, ok := v.(string); ok {
					meta[k] = &s
				} else {
					meta[k] = nil
				}
			}
			return h.Aggregates.SetMetadata(c.Ctx, id, meta)
		}),
	}
}

// aggregateView is Nova's aggregate; create leaves out hosts and metadata.
// Timestamps are naive ISO 8601 with microseconds, as Nova prints them.
func aggregateView(c *api.Call, a *aggregate.Aggregate, full bool) map[string]any {
	const naive = "2006-01-02T15:04:05.000000"
	m := map[string]any{
		"id": a.ID, "name": a.Name, "availability_zone": a.Zone(),
		"created_at": a.CreatedAt.Format(naive), "updated_at": nil,
		"deleted": false, "deleted_at": nil,
	}
	if a.UpdatedAt != nil {
		m["updated_at"] = a.UpdatedAt.Format(naive)
	}
	if full {
		m["hosts"] = a.Hosts
		m["metadata"] = a.Metadata
	}
	if c.AtLeast(mv.V2_41) {
		m["uuid"] = a.UUID
	}
	return m
}
