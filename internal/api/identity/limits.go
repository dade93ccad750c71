package identity

// Unified limits: /v3/registered_limits, /v3/limits and /v3/limits/model
// (keystone/api/registered_limits.py, limits.py), with the request
// schemas of keystone/limit/schema.py and their 400 texts.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) limitRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/v3/registered_limits", Rule: "identity:list_registered_limits", Handler: h.listRegisteredLimits},
		{Method: "POST", Path: "/v3/registered_limits", Rule: "identity:create_registered_limits", Handler: h.createRegisteredLimits},
		{Method: "GET", Path: "/v3/registered_limits/{registered_limit_id}", Rule: "identity:get_registered_limit", Handler: h.showRegisteredLimit},
		{Method: "PATCH", Path: "/v3/registered_limits/{registered_limit_id}", Rule: "identity:update_registered_limit", Handler: h.updateRegisteredLimit},
		{Method: "DELETE", Path: "/v3/registered_limits/{registered_limit_id}", Rule: "identity:delete_registered_limit", Handler: h.deleteRegisteredLimit},

		// The list is narrowed to the caller's scope.
		{Method: "GET", Path: "/v3/limits/model", Rule: "identity:get_limit_model", Handler: h.limitModel},
		{Method: "GET", Path: "/v3/limits", Rule: "identity:list_limits", Handler: h.listLimits},
		{Method: "POST", Path: "/v3/limits", Rule: "identity:create_limits", Handler: h.createLimits},
		{Method: "GET", Path: "/v3/limits/{limit_id}", Rule: "identity:get_limit", Target: h.limitTarget, Handler: h.showLimit},
		{Method: "PATCH", Path: "/v3/limits/{limit_id}", Rule: "identity:update_limit", Handler: h.updateLimit},
		{Method: "DELETE", Path: "/v3/limits/{limit_id}", Rule: "identity:delete_limit", Handler: h.deleteLimit},
	}
}

// limitTarget is the limit in the path as Keystone's get_limit sees it:
// the limit with its project (target.limit.project.*) or its domain
// (target.limit.domain.*), whichever it belongs to. A missing limit is
// an empty target, so only admins pass and get the 404; others get
// Keystone's 403.
func (h *handlers) limitTarget(c *api.Call) (policy.Target, error) {
	l, err := h.svc.GetLimit(c.Ctx, c.Param("limit_id"))
	if errs.Is(err, errs.KindNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t := policy.Target{"target.limit.project_id": noneIfEmpty(l.ProjectID), "target.limit.domain_id": noneIfEmpty(l.DomainID)}
	switch {
	case l.ProjectID != "":
		p, err := h.svc.GetProject(c.Ctx, l.ProjectID)
		if err != nil {
			return nil, err
		}
		t["target.limit.project.id"], t["target.limit.project.domain_id"] = p.ID, p.DomainID
	case l.DomainID != "":
		t["target.limit.domain.id"] = l.DomainID
	}
	return t, nil
}

func registeredLimitView(c *api.Call, r *identity.RegisteredLimit) obj {
	return obj{
		"id": r.ID, "service_id": r.ServiceID, "region_id": nullable(r.RegionID), "resource_name": r.ResourceName,
		"default_limit": r.DefaultLimit, "description": r.Description, "links": selfLink(c, "/registered_limits/"+r.ID),
	}
}

func limitView(c *api.Call, l *identity.Limit) obj {
	return obj{
		"id": l.ID, "project_id": nullable(l.ProjectID), "domain_id": nullable(l.DomainID), "service_id": l.ServiceID,
		"region_id": nullable(l.RegionID), "resource_name": l.ResourceName, "resource_limit": l.ResourceLimit,
		"description": l.Description, "links": selfLink(c, "/limits/"+l.ID),
	}
}

// limitFilter reads the list filters; limits (forLimits) also filter by
// project and domain.
func limitFilter(c *api.Call, forLimits bool) identity.LimitFilter {
	q := c.Query()
	get := func(k string) *string {
		if !q.Has(k) {
			return nil
		}
		v := q.Get(k)
		return &v
	}
	f := identity.LimitFilter{ServiceID: get("service_id"), RegionID: get("region_id"), ResourceName: get("resource_name")}
	if forLimits {
		f.ProjectID, f.DomainID = get("project_id"), get("domain_id")
	}
	return f
}

func (h *handlers) listRegisteredLimits(c *api.Call) (*api.Reply, error) {
	rs, err := h.svc.ListRegisteredLimits(c.Ctx, limitFilter(c, false))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "registered_limits", views(c, rs, registeredLimitView))), nil
}

func (h *handlers) showRegisteredLimit(c *api.Call) (*api.Reply, error) {
	r, err := h.svc.GetRegisteredLimit(c.Ctx, c.Param("registered_limit_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"registered_limit": registeredLimitView(c, r)}), nil
}

func (h *handlers) createRegisteredLimits(c *api.Call) (*api.Reply, error) {
	items, err := decodeLimitList(c, "registered_limits", registeredLimitCreateSchema)
	if err != nil {
		return nil, err
	}
	in := make([]identity.RegisteredLimit, 0, len(items))
	for _, it := range items {
		in = append(in, identity.RegisteredLimit{
			ServiceID: it.str("service_id"), RegionID: it.str("region_id"), ResourceName: it.str("resource_name"),
			DefaultLimit: it.int("default_limit"), Description: it.optStr("description"),
		})
	}
	out, err := h.svc.CreateRegisteredLimits(c.Ctx, in)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"registered_limits": views(c, out, registeredLimitView)}), nil
}

func (h *handlers) updateRegisteredLimit(c *api.Call) (*api.Reply, error) {
	it, err := decodeLimitMember(c, "registered_limit", registeredLimitUpdateSchema)
	if err != nil {
		return nil, err
	}
	var p identity.RegisteredLimitPatch
	if it.has("service_id") {
		v := it.str("service_id")
		p.ServiceID = &v
	}
	if it.has("resource_name") {
		v := it.str("resource_name")
		p.ResourceName = &v
	}
	if it.has("default_limit") {
		v := it.int("default_limit")
		p.DefaultLimit = &v
	}
	p.SetRegion, p.RegionID = it.has("region_id"), it.str("region_id")
	p.SetDescription, p.Description = it.has("description"), it.optStr("description")
	r, err := h.svc.UpdateRegisteredLimit(c.Ctx, c.Param("registered_limit_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"registered_limit": registeredLimitView(c, r)}), nil
}

func (h *handlers) deleteRegisteredLimit(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteRegisteredLimit(c.Ctx, c.Param("registered_limit_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) limitModel(c *api.Call) (*api.Reply, error) {
	return api.JSON(http.StatusOK, obj{"model": obj{
		"name": identity.LimitModelName, "description": identity.LimitModelDescription,
	}}), nil
}

func (h *handlers) listLimits(c *api.Call) (*api.Reply, error) {
	ls, err := h.svc.ListLimits(c.Ctx, c.Principal, limitFilter(c, true))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "limits", views(c, ls, limitView))), nil
}

func (h *handlers) showLimit(c *api.Call) (*api.Reply, error) {
	l, err := h.svc.GetLimit(c.Ctx, c.Param("limit_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"limit": limitView(c, l)}), nil
}

func (h *handlers) createLimits(c *api.Call) (*api.Reply, error) {
	items, err := decodeLimitList(c, "limits", limitCreateSchema)
	if err != nil {
		return nil, err
	}
	in := make([]identity.Limit, 0, len(items))
	for _, it := range items {
		in = append(in, identity.Limit{
			ProjectID: it.str("project_id"), DomainID: it.str("domain_id"), ServiceID: it.str("service_id"),
			RegionID: it.str("region_id"), ResourceName: it.str("resource_name"),
			ResourceLimit: it.int("resource_limit"), Description: it.optStr("description"),
		})
	}
	out, err := h.svc.CreateLimits(c.Ctx, in)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"limits": views(c, out, limitView)}), nil
}

func (h *handlers) updateLimit(c *api.Call) (*api.Reply, error) {
	it, err := decodeLimitMember(c, "limit", limitUpdateSchema)
	if err != nil {
		return nil, err
	}
	var p identity.LimitPatch
	if it.has("resource_limit") {
		v := it.int("resource_limit")
		p.ResourceLimit = &v
	}
	p.SetDescription, p.Description = it.has("description"), it.optStr("description")
	l, err := h.svc.UpdateLimit(c.Ctx, c.Param("limit_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"limit": limitView(c, l)}), nil
}

func (h *handlers) deleteLimit(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteLimit(c.Ctx, c.Param("limit_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// limitItem is one validated object of a limits request body.
type limitItem map[string]any

func (it limitItem) has(k string) bool { _, ok := it[k]; return ok }

// str is a string member, "" when absent or null.
func (it limitItem) str(k string) string { s, _ := it[k].(string); return s }

// optStr is a nullable string member, nil when absent or null.
func (it limitItem) optStr(k string) *string {
	if s, ok := it[k].(string); ok {
		return &s
	}
	return nil
}

func (it limitItem) int(k string) int64 {
	n, _ := it[k].(json.Number).Int64()
	return n
}

// limitField is the schema of one member: its JSON types, whether it is
// a limit value, a name (Keystone's parameter_types.name) or a
// description, region or scope id.
type limitField struct {
	name  string
	types []string // "string", "integer", "null"
	check func(v any) string
}

type limitSchema struct {
	fields   []limitField
	required []string
	// oneOf, when set, lists members of which exactly one must be given
	// (a limit's project_id or domain_id).
	oneOf []string
}

var namePattern = regexp.MustCompile(`[\S]+`)

// Keystone's parameter types, as checks returning jsonschema's message.
func lengthCheck(minLen, maxLen int) func(v any) string {
	return func(v any) string {
		s, ok := v.(string)
		switch {
		case !ok:
			return ""
		case len([]rune(s)) < minLen:
			return api.PyRepr(s) + " should be non-empty"
		case maxLen > 0 && len([]rune(s)) > maxLen:
			return api.PyRepr(s) + " is too long"
		}
		return ""
	}
}

func nameCheck(v any) string {
	if msg := lengthCheck(1, 255)(v); msg != "" {
		return msg
	}
	if s, ok := v.(string); ok && !namePattern.MatchString(s) {
		return fmt.Sprintf("%s does not match '[\\\\S]+'", api.PyRepr(s))
	}
	return ""
}

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

func idCheck(v any) string {
	if msg := lengthCheck(1, 64)(v); msg != "" {
		return msg
	}
	if s, ok := v.(string); ok && !idPattern.MatchString(s) {
		return fmt.Sprintf("%s does not match '^[a-zA-Z0-9-]+$'", api.PyRepr(s))
	}
	return ""
}

func limitValueCheck(v any) string {
	n, ok := v.(json.Number)
	if !ok {
		return ""
	}
	i, err := n.Int64()
	switch {
	case err != nil && strings.HasPrefix(string(n), "-"):
		return fmt.Sprintf("%s is less than the minimum of %d", n, identity.MinLimitValue)
	case err != nil:
		return fmt.Sprintf("%s is greater than the maximum of %d", n, identity.MaxLimitValue)
	case i < identity.MinLimitValue:
		return fmt.Sprintf("%d is less than the minimum of %d", i, identity.MinLimitValue)
	case i > identity.MaxLimitValue:
		return fmt.Sprintf("%d is greater than the maximum of %d", i, identity.MaxLimitValue)
	}
	return ""
}

var (
	serviceIDField   = limitField{"service_id", []string{"string"}, nil}
	regionIDField    = limitField{"region_id", []string{"string", "null"}, lengthCheck(1, 255)}
	resourceField    = limitField{"resource_name", []string{"string"}, nameCheck}
	descriptionField = limitField{"description", []string{"string", "null"}, lengthCheck(0, 255)}

	registeredLimitCreateSchema = limitSchema{
		fields: []limitField{serviceIDField, regionIDField, resourceField,
			{"default_limit", []string{"integer"}, limitValueCheck}, descriptionField},
		required: []string{"service_id", "resource_name", "default_limit"},
	}
	registeredLimitUpdateSchema = limitSchema{
		fields: []limitField{serviceIDField, regionIDField, resourceField,
			{"default_limit", []string{"integer"}, limitValueCheck}, descriptionField},
	}
	limitCreateSchema = limitSchema{
		fields: []limitField{
			{"project_id", []string{"string", "null"}, idCheck}, {"domain_id", []string{"string", "null"}, idCheck},
			resourceField, regionIDField, serviceIDField,
			{"resource_limit", []string{"integer"}, limitValueCheck}, descriptionField},
		required: []string{"service_id", "resource_name", "resource_limit"},
		oneOf:    []string{"domain_id", "project_id"},
	}
	limitUpdateSchema = limitSchema{
		fields: []limitField{{"resource_limit", []string{"integer"}, limitValueCheck}, descriptionField},
	}
)

// schemaError is Keystone's SchemaValidationError text for an error at
// a member: "Invalid input for field/attribute <name>. Value: <v>. <msg>".
func schemaError(field string, value any, msg string) error {
	return errs.Invalid("Invalid input for field/attribute %s. Value: %s. %s", field, pyStr(value), msg)
}

// validate checks one object against s; at names it in the messages
// (the object's index in a list, or its key).
func (s limitSchema) validate(at string, v any) (limitItem, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, schemaError(at, v, api.PyRepr(v)+" is not of type 'object'")
	}
	for _, f := range s.fields {
		x, ok := m[f.name]
		if !ok {
			continue
		}
		if !slices.Contains(f.types, jsonTypeOf(x)) {
			return nil, schemaError(f.name, x, fmt.Sprintf("%s is not of type %s", api.PyRepr(x), quotedList(f.types)))
		}
		if f.check != nil {
			if msg := f.check(x); msg != "" {
				return nil, schemaError(f.name, x, msg)
			}
		}
	}
	var extra []string
	for k := range m {
		if !slices.ContainsFunc(s.fields, func(f limitField) bool { return f.name == k }) {
			extra = append(extra, api.PyRepr(k))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		verb := "was"
		if len(extra) > 1 {
			verb = "were"
		}
		return nil, schemaError(at, v, fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb))
	}
	for _, r := range s.required {
		if _, ok := m[r]; !ok {
			return nil, schemaError(at, v, fmt.Sprintf("'%s' is a required property", r))
		}
	}
	if len(s.oneOf) > 0 {
		n := 0
		for _, k := range s.oneOf {
			if _, ok := m[k]; ok {
				n++
			}
		}
		switch {
		case n == 0:
			return nil, schemaError(at, v, api.PyRepr(v)+" is not valid under any of the given schemas")
		case n > 1:
			return nil, schemaError(at, v, api.PyRepr(v)+" is valid under each of the given schemas")
		}
	}
	return limitItem(m), nil
}

// decodeBodyObject reads the body as a JSON object with numbers kept as
// written.
func decodeBodyObject(c *api.Call) (map[string]any, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var body any
	if len(bytes.TrimSpace(b)) == 0 || d.Decode(&body) != nil {
		return nil, errs.Invalid(malformedJSON)
	}
	m, ok := body.(map[string]any)
	if !ok {
		return nil, errs.Invalid("%s is not of type 'object'", api.PyRepr(body))
	}
	return m, nil
}

// decodeLimitList reads {"<key>": [objects]}: at least one object, each
// valid under item.
func decodeLimitList(c *api.Call, key string, item limitSchema) ([]limitItem, error) {
	body, err := decodeBodyObject(c)
	if err != nil {
		return nil, err
	}
	if err := onlyKey(body, key); err != nil {
		return nil, err
	}
	list, ok := body[key].([]any)
	if !ok {
		return nil, schemaError(key, body[key], api.PyRepr(body[key])+" is not of type 'array'")
	}
	if len(list) == 0 {
		return nil, schemaError(key, list, "[] should be non-empty")
	}
	out := make([]limitItem, 0, len(list))
	for i, v := range list {
		it, err := item.validate(fmt.Sprint(i), v)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// decodeLimitMember reads {"<key>": object} valid under item.
func decodeLimitMember(c *api.Call, key string, item limitSchema) (limitItem, error) {
	body, err := decodeBodyObject(c)
	if err != nil {
		return nil, err
	}
	if err := onlyKey(body, key); err != nil {
		return nil, err
	}
	return item.validate(key, body[key])
}

// onlyKey checks a body with one required member and nothing else.
func onlyKey(body map[string]any, key string) error {
	for k := range body {
		if k != key {
			return errs.Invalid("Additional properties are not allowed (%s was unexpected)", api.PyRepr(k))
		}
	}
	if _, ok := body[key]; !ok {
		return errs.Invalid("'%s' is a required property", key)
	}
	return nil
}

func jsonTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := x.Int64(); err == nil || !strings.ContainsAny(string(x), ".eE") {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

func quotedList(types []string) string {
	q := make([]string, len(types))
	for i, t := range types {
		q[i] = "'" + t + "'"
	}
	return strings.Join(q, ", ")
}

// pyStr renders a value as Python's str() would in Keystone's messages.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return api.PyRepr(v)
}
