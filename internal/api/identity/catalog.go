package identity

// The catalog API (/v3/services, /v3/endpoints, /v3/regions), as
// keystone/api/{services,endpoints,regions}.py serve it from the stored
// catalog, with Keystone's default policies: reads for everyone where
// Keystone allows, writes for admins.

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

func (h *handlers) catalogRoutes() []api.Route {
	return []api.Route{
		{Method: "POST", Path: "/v3/services", Rule: "identity:create_service", Handler: h.createService},
		{Method: "PATCH", Path: "/v3/services/{service_id}", Rule: "identity:update_service", Handler: h.updateService},
		{Method: "DELETE", Path: "/v3/services/{service_id}", Rule: "identity:delete_service", Handler: h.deleteService},
		{Method: "POST", Path: "/v3/endpoints", Rule: "identity:create_endpoint", Handler: h.createEndpoint},
		{Method: "PATCH", Path: "/v3/endpoints/{endpoint_id}", Rule: "identity:update_endpoint", Handler: h.updateEndpoint},
		{Method: "DELETE", Path: "/v3/endpoints/{endpoint_id}", Rule: "identity:delete_endpoint", Handler: h.deleteEndpoint},
		{Method: "POST", Path: "/v3/regions", Rule: "identity:create_region", Handler: h.createRegion},
		{Method: "PUT", Path: "/v3/regions/{region_id}", Rule: "identity:create_region", Handler: h.createRegion},
		{Method: "PATCH", Path: "/v3/regions/{region_id}", Rule: "identity:update_region", Handler: h.updateRegion},
		{Method: "DELETE", Path: "/v3/regions/{region_id}", Rule: "identity:delete_region", Handler: h.deleteRegion},
	}
}

func serviceView(c *api.Call, s *identity.CatalogService) obj {
	v := withExtra(obj{"id": s.ID, "type": s.Type, "enabled": s.Enabled, "links": selfLink(c, "/services/"+s.ID)}, s.Extra)
	if _, ok := v["name"]; !ok {
		v["name"] = ""
	}
	return v
}

func endpointView(c *api.Call, e *identity.Endpoint) obj {
	return withExtra(obj{
		"id": e.ID, "interface": e.Interface, "region": nullable(e.RegionID), "region_id": nullable(e.RegionID),
		"service_id": e.ServiceID, "url": identity.ResolveURL(origin(c), e.URL), "enabled": e.Enabled,
		"links": selfLink(c, "/endpoints/"+e.ID),
	}, e.Extra)
}

func regionView(c *api.Call, r *identity.CatalogRegion) obj {
	return withExtra(obj{"id": r.ID, "description": r.Description, "parent_region_id": nullable(r.ParentRegionID),
		"links": selfLink(c, "/regions/"+r.ID)}, r.Extra)
}

// member reads the body's object under key, as Keystone's schemas want it.
func member(c *api.Call, key string) (map[string]any, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if err := decodeBytes(b, &body); err != nil {
		return nil, err
	}
	v, ok := body[key]
	if !ok {
		return nil, required(key)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errs.Invalid("Invalid input for field '%s': %s is not of type 'object'", key, api.PyRepr(v))
	}
	return m, nil
}

// bodyField reads m[name] as a string: present reports whether it was given;
// a null is allowed only when nullable.
func bodyField(m map[string]any, name string, nullable bool) (val string, present bool, err error) {
	v, ok := m[name]
	if !ok {
		return "", false, nil
	}
	switch x := v.(type) {
	case string:
		return x, true, nil
	case nil:
		if nullable {
			return "", true, nil
		}
	}
	return "", true, errs.Invalid("Invalid input for field '%s': %s is not of type 'string'", name, api.PyRepr(v))
}

// boolField reads m[name] as a boolean.
func boolField(m map[string]any, name string) (*bool, error) {
	v, ok := m[name]
	if !ok {
		return nil, nil
	}
	b, ok := v.(bool)
	if !ok {
		return nil, errs.Invalid("Invalid input for field '%s': %s is not of type 'boolean'", name, api.PyRepr(v))
	}
	return &b, nil
}

// extraOf is m without the named attributes.
func extraOf(m map[string]any, known ...string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if !slices.Contains(known, k) {
			out[k] = v
		}
	}
	return out
}

// matchingID is Keystone's _require_matching_id: an id in an update body
// must be the path's.
func matchingID(m map[string]any, id string) error {
	if v, ok := m["id"]; ok && v != id {
		return errs.Invalid("Cannot change ID")
	}
	return nil
}

func nonEmpty(m map[string]any, key string) error {
	if len(m) == 0 {
		return errs.Invalid("Invalid input for field '%s': {} does not have enough properties", key)
	}
	return nil
}

// --- services ---

// listServices answers GET /v3/services (filters: type, name).
func (h *handlers) listServices(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	ss, err := h.svc.ListCatalogServices(c.Ctx, q.Get("type"), q.Get("name"), inexact(c, "type", "name")...)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "services", views(c, ss, serviceView))), nil
}

// showService answers GET /v3/services/{service_id}.
func (h *handlers) showService(c *api.Call) (*api.Reply, error) {
	s, err := h.svc.GetCatalogService(c.Ctx, c.Param("service_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"service": serviceView(c, s)}), nil
}

// serviceFields reads a service body's type, name and enabled.
func serviceFields(m map[string]any) (typ *string, enabled *bool, err error) {
	for _, n := range []string{"type", "name"} {
		v, present, err := bodyField(m, n, false)
		if err != nil {
			return nil, nil, err
		}
		if present && (v == "" || len(v) > 255) {
			return nil, nil, errs.Invalid("Invalid input for field '%s': '%s' is too %s", n, v, map[bool]string{true: "short", false: "long"}[v == ""])
		}
		if n == "type" && present {
			typ = &v
		}
	}
	enabled, err = boolField(m, "enabled")
	return typ, enabled, err
}

// createService answers POST /v3/services.
func (h *handlers) createService(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "service")
	if err != nil {
		return nil, err
	}
	typ, enabled, err := serviceFields(m)
	if err != nil {
		return nil, err
	}
	if typ == nil {
		return nil, required("type")
	}
	svc := identity.CatalogService{Type: *typ, Enabled: enabled == nil || *enabled, Extra: extraOf(m, "id", "type", "enabled", "links")}
	s, err := h.svc.CreateCatalogService(c.Ctx, svc)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"service": serviceView(c, s)}), nil
}

// updateService answers PATCH /v3/services/{service_id}.
func (h *handlers) updateService(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "service")
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(m, "service"); err != nil {
		return nil, err
	}
	typ, enabled, err := serviceFields(m)
	if err != nil {
		return nil, err
	}
	if err := matchingID(m, c.Param("service_id")); err != nil {
		return nil, err
	}
	s, err := h.svc.UpdateCatalogService(c.Ctx, c.Param("service_id"), identity.CatalogServicePatch{
		Type: typ, Enabled: enabled, Extra: extraOf(m, "id", "type", "enabled", "links")})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"service": serviceView(c, s)}), nil
}

// deleteService answers DELETE /v3/services/{service_id}.
func (h *handlers) deleteService(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteCatalogService(c.Ctx, c.Param("service_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// --- endpoints ---

// listEndpoints answers GET /v3/endpoints (filters: service_id,
// interface, region_id).
func (h *handlers) listEndpoints(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	if v := q.Get("interface"); q.Has("interface") && !validInterface(v) {
		return nil, errs.Invalid("Invalid input for field 'interface': '%s' is not one of ['admin', 'internal', 'public']", v)
	}
	es, err := h.svc.ListEndpoints(c.Ctx, identity.EndpointFilter{
		ServiceID: q.Get("service_id"), Interface: q.Get("interface"), RegionID: q.Get("region_id")})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "endpoints", views(c, es, endpointView))), nil
}

// showEndpoint answers GET /v3/endpoints/{endpoint_id}.
func (h *handlers) showEndpoint(c *api.Call) (*api.Reply, error) {
	e, err := h.svc.GetEndpoint(c.Ctx, c.Param("endpoint_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"endpoint": endpointView(c, e)}), nil
}

func validInterface(v string) bool { return v == "public" || v == "internal" || v == "admin" }

// endpointBody is an endpoint body's defined attributes.
type endpointBody struct {
	serviceID, iface, url, regionID, legacyRegion *string
	enabled                                       *bool
	extra                                         map[string]any
}

func readEndpoint(m map[string]any) (*endpointBody, error) {
	var b endpointBody
	for _, f := range []struct {
		name     string
		dst      **string
		nullable bool
	}{{"service_id", &b.serviceID, false}, {"interface", &b.iface, false}, {"url", &b.url, false},
		{"region_id", &b.regionID, true}, {"region", &b.legacyRegion, true}} {
		v, present, err := bodyField(m, f.name, f.nullable)
		if err != nil {
			return nil, err
		}
		if present {
			*f.dst = &v
		}
	}
	if b.iface != nil && !validInterface(*b.iface) {
		return nil, errs.Invalid("Invalid input for field 'interface': '%s' is not one of ['admin', 'internal', 'public']", *b.iface)
	}
	if b.url != nil {
		// Keystone's url schema: a scheme, then something, at most 225.
		u := *b.url
		i := strings.Index(u, ":")
		if i <= 0 || i == len(u)-1 || strings.TrimLeft(u[:i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") != "" {
			return nil, errs.Invalid("Invalid input for field 'url': '%s' does not match '^[a-zA-Z0-9+.-]+:.+'", u)
		}
		if len(u) > 225 {
			return nil, errs.Invalid("Invalid input for field 'url': '%s' is too long", u)
		}
		if err := checkEndpointURL(u); err != nil {
			return nil, err
		}
	}
	var err error
	if b.enabled, err = boolField(m, "enabled"); err != nil {
		return nil, err
	}
	b.extra = extraOf(m, "id", "service_id", "interface", "url", "region_id", "region", "enabled", "links", "legacy_endpoint_id")
	return &b, nil
}

// checkEndpointURL is Keystone's utils.check_endpoint_url: substitutions
// other than its WHITELISTED_PROPERTIES are refused.
func checkEndpointURL(u string) error {
	rest := u
	for {
		i := strings.Index(rest, "$(")
		if i < 0 {
			return nil
		}
		j := strings.Index(rest[i:], ")s")
		if j < 0 {
			return nil
		}
		name := rest[i+2 : i+j]
		switch name {
		case "tenant_id", "project_id", "user_id", "compute_host", "public_endpoint":
		default:
			return errs.Invalid("Cannot create an endpoint with an invalid URL: %s.", u)
		}
		rest = rest[i+j+2:]
	}
}

// createEndpoint answers POST /v3/endpoints.
func (h *handlers) createEndpoint(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "endpoint")
	if err != nil {
		return nil, err
	}
	b, err := readEndpoint(m)
	if err != nil {
		return nil, err
	}
	for _, r := range []struct {
		name string
		v    *string
	}{{"interface", b.iface}, {"service_id", b.serviceID}, {"url", b.url}} {
		if r.v == nil {
			return nil, required(r.name)
		}
	}
	id, _, err := bodyField(m, "id", false)
	if err != nil {
		return nil, err
	}
	e := identity.Endpoint{ID: id, ServiceID: *b.serviceID, Interface: *b.iface, URL: *b.url,
		RegionID: str(b.regionID), Enabled: b.enabled == nil || *b.enabled, Extra: b.extra}
	out, err := h.svc.CreateEndpoint(c.Ctx, e, str(b.legacyRegion))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"endpoint": endpointView(c, out)}), nil
}

// updateEndpoint answers PATCH /v3/endpoints/{endpoint_id}.
func (h *handlers) updateEndpoint(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "endpoint")
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(m, "endpoint"); err != nil {
		return nil, err
	}
	b, err := readEndpoint(m)
	if err != nil {
		return nil, err
	}
	if err := matchingID(m, c.Param("endpoint_id")); err != nil {
		return nil, err
	}
	p := identity.EndpointPatch{ServiceID: b.serviceID, Interface: b.iface, URL: b.url, Enabled: b.enabled,
		LegacyRegion: str(b.legacyRegion), Extra: b.extra}
	if b.regionID != nil {
		p.SetRegion, p.RegionID = true, *b.regionID
	}
	out, err := h.svc.UpdateEndpoint(c.Ctx, c.Param("endpoint_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"endpoint": endpointView(c, out)}), nil
}

// deleteEndpoint answers DELETE /v3/endpoints/{endpoint_id}.
func (h *handlers) deleteEndpoint(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteEndpoint(c.Ctx, c.Param("endpoint_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// --- regions ---

// listRegions answers GET /v3/regions (filter: parent_region_id).
func (h *handlers) listRegions(c *api.Call) (*api.Reply, error) {
	var parent *string
	if q := c.Query(); q.Has("parent_region_id") {
		v := q.Get("parent_region_id")
		parent = &v
	}
	rs, err := h.svc.ListRegions(c.Ctx, parent)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, collection(c, "regions", views(c, rs, regionView))), nil
}

// showRegion answers GET /v3/regions/{region_id}.
func (h *handlers) showRegion(c *api.Call) (*api.Reply, error) {
	r, err := h.svc.GetRegion(c.Ctx, c.Param("region_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"region": regionView(c, r)}), nil
}

// regionFields reads a region body's description and parent.
func regionFields(m map[string]any) (desc *string, parent *string, err error) {
	if v, present, err := bodyField(m, "description", true); err != nil {
		return nil, nil, err
	} else if present {
		if len(v) > 255 {
			return nil, nil, errs.Invalid("Invalid input for field 'description': '%s' is too long", v)
		}
		desc = &v
	}
	if v, present, err := bodyField(m, "parent_region_id", true); err != nil {
		return nil, nil, err
	} else if present {
		parent = &v
	}
	return desc, parent, nil
}

// createRegion answers POST /v3/regions and PUT /v3/regions/{region_id}.
func (h *handlers) createRegion(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "region")
	if err != nil {
		return nil, err
	}
	desc, parent, err := regionFields(m)
	if err != nil {
		return nil, err
	}
	id, present, err := bodyField(m, "id", false)
	if err != nil {
		return nil, err
	}
	if len(id) > 255 {
		return nil, errs.Invalid("Invalid input for field 'id': '%s' is too long", id)
	}
	if pathID := c.Param("region_id"); pathID != "" {
		if !present {
			id = pathID
		} else if id != pathID {
			return nil, errs.Invalid(`Conflicting region IDs specified: "%s" != "%s"`, pathID, id)
		}
	}
	r, err := h.svc.CreateRegion(c.Ctx, identity.CatalogRegion{ID: id, Description: str(desc), ParentRegionID: str(parent),
		Extra: extraOf(m, "id", "description", "parent_region_id", "links")})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, obj{"region": regionView(c, r)}), nil
}

// updateRegion answers PATCH /v3/regions/{region_id}.
func (h *handlers) updateRegion(c *api.Call) (*api.Reply, error) {
	m, err := member(c, "region")
	if err != nil {
		return nil, err
	}
	if err := nonEmpty(m, "region"); err != nil {
		return nil, err
	}
	desc, parent, err := regionFields(m)
	if err != nil {
		return nil, err
	}
	if err := matchingID(m, c.Param("region_id")); err != nil {
		return nil, err
	}
	p := identity.RegionPatch{Description: desc, Extra: extraOf(m, "id", "description", "parent_region_id", "links")}
	if parent != nil {
		p.SetParent, p.ParentRegionID = true, *parent
	}
	r, err := h.svc.UpdateRegion(c.Ctx, c.Param("region_id"), p)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, obj{"region": regionView(c, r)}), nil
}

// deleteRegion answers DELETE /v3/regions/{region_id}.
func (h *handlers) deleteRegion(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteRegion(c.Ctx, c.Param("region_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
