package image

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
)

// Glance's metadata definitions API (glance/api/v2/metadef_*.py).

const metadefNS = "/v2/metadefs/namespaces/{namespace_name}"

func (h *handlers) metadefRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/v2/metadefs/namespaces", Rule: "get_metadef_namespaces", Handler: h.listNamespaces},
		{Method: "POST", Path: "/v2/metadefs/namespaces", Rule: "add_metadef_namespace", Handler: h.createNamespace},
		{Method: "GET", Path: metadefNS, Rule: "get_metadef_namespace", Handler: h.showNamespace},
		{Method: "PUT", Path: metadefNS, Rule: "modify_metadef_namespace", Handler: h.updateNamespace},
		{Method: "DELETE", Path: metadefNS, Rule: "delete_metadef_namespace", Handler: h.deleteNamespace},

		{Method: "GET", Path: metadefNS + "/objects", Rule: "get_metadef_objects", Handler: h.listObjects},
		{Method: "POST", Path: metadefNS + "/objects", Rule: "add_metadef_object", Handler: h.createObject},
		{Method: "DELETE", Path: metadefNS + "/objects", Rule: "delete_metadef_namespace", Handler: h.deleteContents(image.ContentObjects)},
		{Method: "GET", Path: metadefNS + "/objects/{object_name}", Rule: "get_metadef_object", Handler: h.showObject},
		{Method: "PUT", Path: metadefNS + "/objects/{object_name}", Rule: "modify_metadef_object", Handler: h.updateObject},
		{Method: "DELETE", Path: metadefNS + "/objects/{object_name}", Rule: "delete_metadef_object", Handler: h.deleteObject},

		{Method: "GET", Path: metadefNS + "/properties", Rule: "get_metadef_properties", Handler: h.listProperties},
		{Method: "POST", Path: metadefNS + "/properties", Rule: "add_metadef_property", Handler: h.createProperty},
		{Method: "DELETE", Path: metadefNS + "/properties", Rule: "delete_metadef_namespace", Handler: h.deleteContents(image.ContentProperties)},
		{Method: "GET", Path: metadefNS + "/properties/{property_name}", Rule: "get_metadef_property", Handler: h.showProperty},
		{Method: "PUT", Path: metadefNS + "/properties/{property_name}", Rule: "modify_metadef_property", Handler: h.updateProperty},
		{Method: "DELETE", Path: metadefNS + "/properties/{property_name}", Rule: "remove_metadef_property", Handler: h.deleteProperty},

		{Method: "GET", Path: metadefNS + "/tags", Rule: "get_metadef_tags", Handler: h.listMetadefTags},
		{Method: "POST", Path: metadefNS + "/tags", Rule: "add_metadef_tags", Handler: h.createMetadefTags},
		{Method: "DELETE", Path: metadefNS + "/tags", Rule: "delete_metadef_tags", Handler: h.deleteContents(image.ContentTags)},
		{Method: "GET", Path: metadefNS + "/tags/{tag_name}", Rule: "get_metadef_tag", Handler: h.showMetadefTag},
		{Method: "POST", Path: metadefNS + "/tags/{tag_name}", Rule: "add_metadef_tag", Handler: h.createMetadefTag},
		{Method: "PUT", Path: metadefNS + "/tags/{tag_name}", Rule: "modify_metadef_tag", Handler: h.updateMetadefTag},
		{Method: "DELETE", Path: metadefNS + "/tags/{tag_name}", Rule: "delete_metadef_tag", Handler: h.deleteMetadefTag},

		{Method: "GET", Path: "/v2/metadefs/resource_types", Rule: "list_metadef_resource_types", Handler: h.listResourceTypes},
		{Method: "GET", Path: metadefNS + "/resource_types", Rule: "get_metadef_resource_type", Handler: h.listAssociations},
		{Method: "POST", Path: metadefNS + "/resource_types", Rule: "add_metadef_resource_type_association", Handler: h.associate},
		{Method: "DELETE", Path: metadefNS + "/resource_types/{name}", Rule: "remove_metadef_resource_type_association", Handler: h.dissociate},
	}
}

func metadefSchemaRoutes() []api.Route {
	var rs []api.Route
	for _, name := range []string{"namespace", "namespaces", "object", "objects", "property", "properties",
		"tag", "tags", "resource_type", "resource_types"} {
		doc := json.RawMessage(metadefSchemaDocs[name])
		rs = append(rs, api.Route{Method: "GET", Path: "/v2/schemas/metadefs/" + name, Rule: "kumo:image:get_schemas",
			Handler: func(c *api.Call) (*api.Reply, error) { return api.JSON(http.StatusOK, doc), nil }})
	}
	return rs
}

// ---- request bodies

// stringArray is the namespace and object schemas'
// definitions/stringArray; the property schema's (propertyRequired)
// wants one item at least.
var (
	stringArray      = js.Schema{js.Type("array"), js.Items(js.Schema{js.Type("string")}), js.UniqueItems()}
	propertyRequired = js.Schema{js.Type("array"), js.Items(js.Schema{js.Type("string")}), js.MinItems(1), js.UniqueItems()}
)

var propertyTypes = []any{"array", "boolean", "integer", "number", "object", "string", nil}

// propertyFields are the keywords of a property definition
// (definitions/property in Glance's schemas).
func propertyFields(withName bool, requiredSchema js.Schema) []js.Property {
	positive := js.Schema{js.Type("integer"), js.Minimum(0)}
	ps := []js.Property{
		{Name: "title", Schema: js.Schema{js.Type("string")}},
		{Name: "description", Schema: js.Schema{js.Type("string")}},
		{Name: "operators", Schema: js.Schema{js.Type("array"), js.Items(js.Schema{js.Type("string")})}},
		{Name: "type", Schema: js.Schema{js.Type("string"), js.Enum(propertyTypes...)}},
		{Name: "required", Schema: requiredSchema},
		{Name: "minimum", Schema: js.Schema{js.Type("number")}},
		{Name: "maximum", Schema: js.Schema{js.Type("number")}},
		{Name: "maxLength", Schema: positive},
		{Name: "minLength", Schema: positive},
		{Name: "pattern", Schema: js.Schema{js.Type("string")}},
		{Name: "enum", Schema: js.Schema{js.Type("array")}},
		{Name: "readonly", Schema: js.Schema{js.Type("boolean")}},
		{Name: "default", Schema: js.Schema{}},
		{Name: "items", Schema: js.Schema{js.Type("object"), js.Properties(
			js.Property{Name: "type", Schema: js.Schema{js.Type("string"), js.Enum(propertyTypes...)}},
			js.Property{Name: "enum", Schema: js.Schema{js.Type("array")}})}},
		{Name: "maxItems", Schema: positive},
		{Name: "minItems", Schema: positive},
		{Name: "uniqueItems", Schema: js.Schema{js.Type("boolean")}},
		{Name: "additionalItems", Schema: js.Schema{js.Type("boolean")}},
	}
	if withName {
		ps = append([]js.Property{{Name: "name", Schema: js.Schema{js.Type("string"), js.MaxLength(255)}}}, ps...)
	}
	return ps
}

// propertySchema is a property body (/v2/schemas/metadefs/property).
var propertySchema = append(js.Object(nil, propertyFields(true, propertyRequired)...), js.Required("type", "title", "name"))

// propertyMap is definitions/property: named property definitions.
var propertyMap = js.Schema{js.Type("object"), eachValue(append(js.Object(nil, propertyFields(true, stringArray)...), js.Required("title", "type")))}

// eachValue validates every value of an object (additionalProperties
// given as a schema).
func eachValue(s js.Schema) js.Keyword {
	return func(r *js.Run, path []string, v any) *js.Failure {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, k := range r.Keys(obj) {
			if f := s.Validate(r, js.Child(path, k), obj[k]); f != nil {
				return f
			}
		}
		return nil
	}
}

var objectFields = []js.Property{
	{Name: "name", Schema: js.Schema{js.Type("string"), js.MaxLength(255)}},
	{Name: "description", Schema: js.Schema{js.Type("string")}},
	{Name: "required", Schema: stringArray},
	{Name: "properties", Schema: propertyMap},
	{Name: "schema", Schema: js.Schema{js.Type("string")}},
	{Name: "self", Schema: js.Schema{js.Type("string")}},
	{Name: "created_at", Schema: js.Schema{js.Type("string")}},
	{Name: "updated_at", Schema: js.Schema{js.Type("string")}},
}

// objectSchema is an object body (/v2/schemas/metadefs/object).
var objectSchema = js.Object([]string{"name"}, objectFields...)

var associationFields = []js.Property{
	{Name: "name", Schema: js.Schema{js.Type("string"), js.MaxLength(80)}},
	{Name: "prefix", Schema: js.Schema{js.Type("string"), js.MaxLength(80)}},
	{Name: "properties_target", Schema: js.Schema{js.Type("string"), js.MaxLength(80)}},
	{Name: "created_at", Schema: js.Schema{js.Type("string")}},
	{Name: "updated_at", Schema: js.Schema{js.Type("string")}},
}

// associationSchema is a resource type association body.
var associationSchema = js.Object([]string{"name"}, associationFields...)

// namespaceSchema is a namespace body (/v2/schemas/metadefs/namespace).
var namespaceSchema = js.Object([]string{"namespace"},
	js.Property{Name: "namespace", Schema: js.Schema{js.Type("string"), js.MaxLength(80)}},
	js.Property{Name: "display_name", Schema: js.Schema{js.Type("string"), js.MaxLength(80)}},
	js.Property{Name: "description", Schema: js.Schema{js.Type("string"), js.MaxLength(500)}},
	js.Property{Name: "visibility", Schema: js.Schema{js.Type("string"), js.Enum("public", "private")}},
	js.Property{Name: "protected", Schema: js.Schema{js.Type("boolean")}},
	js.Property{Name: "owner", Schema: js.Schema{js.Type("string"), js.MaxLength(255)}},
	js.Property{Name: "created_at", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "updated_at", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "schema", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "self", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "resource_type_associations", Schema: js.Schema{js.Type("array"), js.Items(js.Schema{js.Type("object"),
		js.Properties(associationFields[:3]...)})}},
	js.Property{Name: "properties", Schema: propertyMap},
	js.Property{Name: "objects", Schema: js.Schema{js.Type("array"), js.Items(js.Schema{js.Type("object"), js.Properties(
		js.Property{Name: "name", Schema: js.Schema{js.Type("string")}},
		js.Property{Name: "description", Schema: js.Schema{js.Type("string")}},
		js.Property{Name: "required", Schema: stringArray},
		js.Property{Name: "properties", Schema: propertyMap})})}},
	js.Property{Name: "tags", Schema: js.Schema{js.Type("array"), js.Items(js.Schema{js.Type("object"), js.Properties(
		js.Property{Name: "name", Schema: js.Schema{js.Type("string")}})})}},
)

var tagSchema = js.Object([]string{"name"},
	js.Property{Name: "name", Schema: js.Schema{js.Type("string"), js.MaxLength(255)}},
	js.Property{Name: "created_at", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "updated_at", Schema: js.Schema{js.Type("string")}},
)

var tagsSchema = js.Schema{js.Type("object"), js.Properties(js.Property{Name: "tags", Schema: js.Schema{js.Type("array"),
	js.Items(tagSchema)}})}

// metadefBody reads a request body and validates it against the named
// schema, failing as Glance's deserializers do: read-only attributes are
// 403, a schema mismatch 400.
func metadefBody(c *api.Call, name string, s js.Schema, readOnly ...string) (map[string]any, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, errs.Invalid("Body expected in request.")
	}
	if err := api.CheckJSON(b); err != nil {
		return nil, err
	}
	v, order, err := js.Decode(b)
	if err != nil {
		return nil, errs.Invalid("Malformed JSON in request body.")
	}
	body, ok := v.(map[string]any)
	if ok {
		for _, k := range readOnly {
			if _, has := body[k]; has {
				return nil, errs.Forbidden("Attribute '%s' is read-only.", k)
			}
		}
	}
	if f := s.Validate(&js.Run{Order: order}, nil, v); f != nil {
		return nil, errs.Invalid("Provided object does not match schema '%s': %s", name, f.Message)
	}
	return body, nil
}

func strField(m map[string]any, k string) *string {
	if s, ok := m[k].(string); ok {
		return &s
	}
	return nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// propertyDocs reads named property definitions (definitions/property);
// the name lives in the key.
func propertyDocs(v any) map[string]map[string]any {
	m, _ := v.(map[string]any)
	out := make(map[string]map[string]any, len(m))
	for k, doc := range m {
		d, _ := doc.(map[string]any)
		cp := make(map[string]any, len(d))
		for dk, dv := range d {
			if dk != "name" {
				cp[dk] = dv
			}
		}
		out[k] = cp
	}
	return out
}

func propertyOf(body map[string]any) image.MetadefProperty {
	doc := make(map[string]any, len(body))
	for k, v := range body {
		if k != "name" {
			doc[k] = v
		}
	}
	return image.MetadefProperty{Name: str(body, "name"), Schema: doc}
}

func objectOf(body map[string]any) image.MetadefObject {
	return image.MetadefObject{Name: str(body, "name"), Description: strField(body, "description"),
		Required: stringsOf(body["required"]), Properties: propertyDocs(body["properties"])}
}

func associationOf(body map[string]any) image.ResourceTypeAssociation {
	return image.ResourceTypeAssociation{Name: str(body, "name"), Prefix: strField(body, "prefix"),
		PropertiesTarget: strField(body, "properties_target")}
}

func namespaceRequest(body map[string]any) image.NamespaceRequest {
	req := image.NamespaceRequest{Namespace: str(body, "namespace"), DisplayName: strField(body, "display_name"),
		Description: strField(body, "description"), Visibility: str(body, "visibility"), Owner: str(body, "owner")}
	req.Protected, _ = body["protected"].(bool)
	for _, a := range asList(body["resource_type_associations"]) {
		req.ResourceTypes = append(req.ResourceTypes, associationOf(a))
	}
	for _, o := range asList(body["objects"]) {
		req.Objects = append(req.Objects, objectOf(o))
	}
	props := propertyDocs(body["properties"])
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		req.Properties = append(req.Properties, image.MetadefProperty{Name: k, Schema: props[k]})
	}
	for _, t := range asList(body["tags"]) {
		req.Tags = append(req.Tags, str(t, "name"))
	}
	return req
}

func asList(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// ---- views

func namespaceHref(name string) string { return "/v2/metadefs/namespaces/" + name }

func setOpt(v map[string]any, k string, s *string) {
	if s != nil {
		v[k] = *s
	}
}

func associationView(a *image.ResourceTypeAssociation) map[string]any {
	v := map[string]any{"name": a.Name, "created_at": isoTime(a.CreatedAt), "updated_at": isoTime(a.UpdatedAt)}
	setOpt(v, "prefix", a.Prefix)
	setOpt(v, "properties_target", a.PropertiesTarget)
	return v
}

func propertiesView(ps []image.MetadefProperty) map[string]any {
	out := make(map[string]any, len(ps))
	for _, p := range ps {
		out[p.Name] = p.Schema
	}
	return out
}

func objectPropertiesView(ps map[string]map[string]any) map[string]any {
	out := make(map[string]any, len(ps))
	for k, doc := range ps {
		out[k] = doc
	}
	return out
}

func objectView(ns string, o *image.MetadefObject) map[string]any {
	v := map[string]any{
		"name": o.Name, "required": o.Required, "properties": objectPropertiesView(o.Properties),
		"created_at": isoTime(o.CreatedAt), "updated_at": isoTime(o.UpdatedAt),
		"self": namespaceHref(ns) + "/objects/" + o.Name, "schema": "/v2/schemas/metadefs/object",
	}
	setOpt(v, "description", o.Description)
	return v
}

func propertyView(p *image.MetadefProperty) map[string]any {
	v := make(map[string]any, len(p.Schema)+1)
	for k, x := range p.Schema {
		v[k] = x
	}
	v["name"] = p.Name
	return v
}

func tagView(t *image.MetadefTag) map[string]any {
	return map[string]any{"name": t.Name, "created_at": isoTime(t.CreatedAt), "updated_at": isoTime(t.UpdatedAt)}
}

// namespaceView is a namespace as Glance shows it: unset attributes and
// empty contents are left out.
func namespaceView(ns *image.Namespace) map[string]any {
	v := map[string]any{
		"namespace": ns.Namespace, "visibility": ns.Visibility, "protected": ns.Protected, "owner": ns.Owner,
		"created_at": isoTime(ns.CreatedAt), "updated_at": isoTime(ns.UpdatedAt),
		"self": namespaceHref(ns.Namespace), "schema": "/v2/schemas/metadefs/namespace",
	}
	setOpt(v, "display_name", ns.DisplayName)
	setOpt(v, "description", ns.Description)
	if len(ns.ResourceTypes) > 0 {
		as := make([]map[string]any, len(ns.ResourceTypes))
		for i := range ns.ResourceTypes {
			as[i] = associationView(&ns.ResourceTypes[i])
		}
		v["resource_type_associations"] = as
	}
	if len(ns.Properties) > 0 {
		v["properties"] = propertiesView(ns.Properties)
	}
	if len(ns.Objects) > 0 {
		os := make([]map[string]any, len(ns.Objects))
		for i := range ns.Objects {
			os[i] = objectView(ns.Namespace, &ns.Objects[i])
		}
		v["objects"] = os
	}
	if len(ns.Tags) > 0 {
		ts := make([]map[string]any, len(ns.Tags))
		for i, t := range ns.Tags {
			ts[i] = map[string]any{"name": t.Name}
		}
		v["tags"] = ts
	}
	return v
}

// ---- namespaces

// pageLimit reads limit as Glance does: limit_param_default (25) when
// absent, at most api_limit_max (1000).
func pageLimit(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return 25, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errs.Invalid("limit param must be an integer")
	}
	if n < 0 {
		return 0, errs.Invalid("limit param must be positive")
	}
	return min(n, 1000), nil
}

func sortDir(q url.Values) (string, error) {
	d := q.Get("sort_dir")
	if d == "" {
		return "desc", nil
	}
	if d != "asc" && d != "desc" {
		return "", errs.Invalid("Invalid sort direction: %s", d)
	}
	return d, nil
}

func (h *handlers) listNamespaces(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	limit, err := pageLimit(q)
	if err != nil {
		return nil, err
	}
	dir, err := sortDir(q)
	if err != nil {
		return nil, err
	}
	vis := q.Get("visibility")
	if vis != "" && vis != image.Public && vis != image.Private {
		return nil, errs.Invalid("Invalid visibility value: %s", vis)
	}
	query := image.NamespaceQuery{Marker: q.Get("marker"), Limit: limit, SortKey: q.Get("sort_key"), SortDir: dir, Visibility: vis}
	if rt := q.Get("resource_types"); rt != "" {
		query.ResourceTypes = strings.Split(rt, ",")
	}
	if limit == 0 {
		// Glance's paginate_query with limit 0 answers nothing.
		return api.JSON(http.StatusOK, map[string]any{"namespaces": []any{}, "first": firstLink(q), "schema": "/v2/schemas/metadefs/namespaces"}), nil
	}
	nss, err := h.svc.ListNamespaces(c.Ctx, c.Principal, query)
	if err != nil {
		return nil, err
	}
	views := make([]map[string]any, len(nss))
	for i, ns := range nss {
		views[i] = namespaceView(ns)
	}
	body := map[string]any{"namespaces": views, "first": firstLink(q), "schema": "/v2/schemas/metadefs/namespaces"}
	if len(nss) > 0 && len(nss) == limit {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("marker", nss[len(nss)-1].Namespace)
		body["next"] = "/v2/metadefs/namespaces?" + next.Encode()
	}
	return api.JSON(http.StatusOK, body), nil
}

func firstLink(q url.Values) string {
	first := url.Values{}
	for k, v := range q {
		if k != "marker" {
			first[k] = v
		}
	}
	if len(first) == 0 {
		return "/v2/metadefs/namespaces"
	}
	return "/v2/metadefs/namespaces?" + first.Encode()
}

var namespaceReadOnly = []string{"self", "schema", "created_at", "updated_at"}

func (h *handlers) createNamespace(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "namespace", namespaceSchema, namespaceReadOnly...)
	if err != nil {
		return nil, err
	}
	req := namespaceRequest(body)
	if len(req.ResourceTypes) > 0 {
		if err := c.Authorize("add_metadef_resource_type_association", nil); err != nil {
			return nil, err
		}
	}
	for rule, n := range map[string]int{"add_metadef_object": len(req.Objects), "add_metadef_property": len(req.Properties), "add_metadef_tag": len(req.Tags)} {
		if n > 0 {
			if err := c.Authorize(rule, nil); err != nil {
				return nil, err
			}
		}
	}
	ns, err := h.svc.CreateNamespace(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	// Glance answers a create with the contents as they were sent.
	v := namespaceView(ns)
	for _, k := range []string{"resource_type_associations", "properties", "objects", "tags"} {
		delete(v, k)
		if x, ok := body[k]; ok && x != nil {
			v[k] = x
		}
	}
	return api.JSON(http.StatusCreated, v).WithHeader("Location", namespaceHref(ns.Namespace)), nil
}

func (h *handlers) showNamespace(c *api.Call) (*api.Reply, error) {
	ns, err := h.svc.GetNamespace(c.Ctx, c.Principal, c.Param("namespace_name"), c.Query().Get("resource_type"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, namespaceView(ns)), nil
}

func (h *handlers) updateNamespace(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "namespace", namespaceSchema, namespaceReadOnly...)
	if err != nil {
		return nil, err
	}
	ns, err := h.svc.UpdateNamespace(c.Ctx, c.Principal, c.Param("namespace_name"), namespaceRequest(body))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, namespaceView(ns)), nil
}

func (h *handlers) deleteNamespace(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteNamespace(c.Ctx, c.Principal, c.Param("namespace_name")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) deleteContents(content string) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		if err := h.svc.DeleteNamespaceContents(c.Ctx, c.Principal, c.Param("namespace_name"), content); err != nil {
			return nil, err
		}
		return api.NoContent(http.StatusNoContent), nil
	}
}

// ---- objects

var contentReadOnly = []string{"created_at", "updated_at"}

func (h *handlers) listObjects(c *api.Call) (*api.Reply, error) {
	ns := c.Param("namespace_name")
	os, err := h.svc.ListObjects(c.Ctx, c.Principal, ns)
	if err != nil {
		return nil, err
	}
	views := make([]map[string]any, len(os))
	for i := range os {
		views[i] = objectView(ns, &os[i])
	}
	return api.JSON(http.StatusOK, map[string]any{"objects": views, "schema": "v2/schemas/metadefs/objects"}), nil
}

func (h *handlers) createObject(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "object", objectSchema, "self", "schema", "created_at", "updated_at")
	if err != nil {
		return nil, err
	}
	ns := c.Param("namespace_name")
	o, err := h.svc.CreateObject(c.Ctx, c.Principal, ns, objectOf(body))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, objectView(ns, o)), nil
}

func (h *handlers) showObject(c *api.Call) (*api.Reply, error) {
	ns := c.Param("namespace_name")
	o, err := h.svc.GetObject(c.Ctx, c.Principal, ns, c.Param("object_name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, objectView(ns, o)), nil
}

func (h *handlers) updateObject(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "object", objectSchema, "self", "schema", "created_at", "updated_at")
	if err != nil {
		return nil, err
	}
	ns := c.Param("namespace_name")
	o, err := h.svc.UpdateObject(c.Ctx, c.Principal, ns, c.Param("object_name"), objectOf(body))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, objectView(ns, o)), nil
}

func (h *handlers) deleteObject(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteObject(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("object_name")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// ---- properties

func (h *handlers) listProperties(c *api.Call) (*api.Reply, error) {
	ps, err := h.svc.ListProperties(c.Ctx, c.Principal, c.Param("namespace_name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"properties": propertiesView(ps)}), nil
}

func (h *handlers) createProperty(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "property", propertySchema, contentReadOnly...)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.CreateProperty(c.Ctx, c.Principal, c.Param("namespace_name"), propertyOf(body))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, propertyView(p)), nil
}

func (h *handlers) showProperty(c *api.Call) (*api.Reply, error) {
	rt := c.Query().Get("resource_type")
	if rt != "" {
		if err := c.Authorize("get_metadef_resource_type", nil); err != nil {
			return nil, err
		}
	}
	p, err := h.svc.GetProperty(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("property_name"), rt)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, propertyView(p)), nil
}

func (h *handlers) updateProperty(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "property", propertySchema, contentReadOnly...)
	if err != nil {
		return nil, err
	}
	p, err := h.svc.UpdateProperty(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("property_name"), propertyOf(body))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, propertyView(p)), nil
}

func (h *handlers) deleteProperty(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteProperty(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("property_name")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// ---- tags

func (h *handlers) listMetadefTags(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	limit, err := pageLimit(q)
	if err != nil {
		return nil, err
	}
	dir, err := sortDir(q)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		return api.JSON(http.StatusOK, map[string]any{"tags": []any{}}), nil
	}
	ts, err := h.svc.ListMetadefTags(c.Ctx, c.Principal, c.Param("namespace_name"),
		image.TagQuery{Marker: q.Get("marker"), Limit: limit, SortKey: q.Get("sort_key"), SortDir: dir})
	if err != nil {
		return nil, err
	}
	views := make([]map[string]any, len(ts))
	for i := range ts {
		views[i] = tagView(&ts[i])
	}
	return api.JSON(http.StatusOK, map[string]any{"tags": views}), nil
}

func (h *handlers) createMetadefTags(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "tags", tagsSchema)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range asList(body["tags"]) {
		names = append(names, str(t, "name"))
	}
	// oslo's bool_from_string: anything but a true word is false.
	switch strings.ToLower(strings.TrimSpace(c.Req.Header.Get("X-Openstack-Append"))) {
	case "1", "t", "true", "on", "y", "yes":
		_, err = h.svc.CreateMetadefTags(c.Ctx, c.Principal, c.Param("namespace_name"), names, true)
	default:
		_, err = h.svc.CreateMetadefTags(c.Ctx, c.Principal, c.Param("namespace_name"), names, false)
	}
	if err != nil {
		return nil, err
	}
	views := make([]map[string]any, len(names))
	for i, n := range names {
		views[i] = map[string]any{"name": n}
	}
	return api.JSON(http.StatusCreated, map[string]any{"tags": views}), nil
}

func (h *handlers) showMetadefTag(c *api.Call) (*api.Reply, error) {
	t, err := h.svc.GetMetadefTag(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("tag_name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, tagView(t)), nil
}

func (h *handlers) createMetadefTag(c *api.Call) (*api.Reply, error) {
	t, err := h.svc.CreateMetadefTag(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("tag_name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, tagView(t)), nil
}

func (h *handlers) updateMetadefTag(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "tag", tagSchema, contentReadOnly...)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.UpdateMetadefTag(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("tag_name"), str(body, "name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, tagView(t)), nil
}

func (h *handlers) deleteMetadefTag(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteMetadefTag(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("tag_name")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// ---- resource types

func (h *handlers) listResourceTypes(c *api.Call) (*api.Reply, error) {
	rts, err := h.svc.ListResourceTypes(c.Ctx, c.Principal)
	if err != nil {
		return nil, err
	}
	views := make([]map[string]any, len(rts))
	for i, rt := range rts {
		views[i] = map[string]any{"name": rt.Name, "created_at": isoTime(rt.CreatedAt), "updated_at": isoTime(rt.UpdatedAt)}
	}
	return api.JSON(http.StatusOK, map[string]any{"resource_types": views}), nil
}

func (h *handlers) listAssociations(c *api.Call) (*api.Reply, error) {
	as, err := h.svc.ListAssociations(c.Ctx, c.Principal, c.Param("namespace_name"))
	if err != nil {
		return nil, err
	}
	views := make([]map[string]any, len(as))
	for i := range as {
		views[i] = associationView(&as[i])
	}
	return api.JSON(http.StatusOK, map[string]any{"resource_type_associations": views}), nil
}

func (h *handlers) associate(c *api.Call) (*api.Reply, error) {
	body, err := metadefBody(c, "resource_type_association", associationSchema, contentReadOnly...)
	if err != nil {
		return nil, err
	}
	a, err := h.svc.Associate(c.Ctx, c.Principal, c.Param("namespace_name"), associationOf(body))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, associationView(a)), nil
}

func (h *handlers) dissociate(c *api.Call) (*api.Reply, error) {
	if err := h.svc.Dissociate(c.Ctx, c.Principal, c.Param("namespace_name"), c.Param("name")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
