package identity

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/identity"
)

func serviceView(c *api.Call, s *identity.CatalogService) obj {
	return obj{
		"id": s.ID, "type": s.Type, "name": s.Name, "description": s.Description,
		"enabled": true, "links": selfLink(c, "/services/"+s.ID),
	}
}

func endpointView(c *api.Call, e *identity.Endpoint) obj {
	return obj{
		"id": e.ID, "interface": e.Interface, "region": e.RegionID, "region_id": e.RegionID,
		"service_id": e.ServiceID, "url": e.URL, "enabled": true, "links": selfLink(c, "/endpoints/"+e.ID),
	}
}

func regionView(c *api.Call) obj {
	return obj{"id": identity.Region, "description": "", "parent_region_id": nil,
		"links": selfLink(c, "/regions/"+identity.Region)}
}

// listServices answers GET /v3/services (filters: type, name).
func (h *handlers) listServices(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	var out []obj
	for _, s := range identity.Catalog(origin(c)) {
		if (q.Has("type") && q.Get("type") != s.Type) || (q.Has("name") && q.Get("name") != s.Name) {
			continue
		}
		out = append(out, serviceView(c, &s))
	}
	return api.JSON(http.StatusOK, collection(c, "services", out)), nil
}

// showService answers GET /v3/services/{service_id}.
func (h *handlers) showService(c *api.Call) (*api.Reply, error) {
	id := c.Param("service_id")
	for _, s := range identity.Catalog(origin(c)) {
		if s.ID == id {
			return api.JSON(http.StatusOK, obj{"service": serviceView(c, &s)}), nil
		}
	}
	return nil, errs.NotFound("Could not find service: %s.", id)
}

func allEndpoints(c *api.Call) []identity.Endpoint {
	var out []identity.Endpoint
	for _, s := range identity.Catalog(origin(c)) {
		out = append(out, s.Endpoints...)
	}
	return out
}

// listEndpoints answers GET /v3/endpoints (filters: service_id,
// interface, region_id).
func (h *handlers) listEndpoints(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	var out []obj
	for _, e := range allEndpoints(c) {
		if (q.Has("service_id") && q.Get("service_id") != e.ServiceID) ||
			(q.Has("interface") && q.Get("interface") != e.Interface) ||
			(q.Has("region_id") && q.Get("region_id") != e.RegionID) {
			continue
		}
		out = append(out, endpointView(c, &e))
	}
	return api.JSON(http.StatusOK, collection(c, "endpoints", out)), nil
}

// showEndpoint answers GET /v3/endpoints/{endpoint_id}.
func (h *handlers) showEndpoint(c *api.Call) (*api.Reply, error) {
	id := c.Param("endpoint_id")
	for _, e := range allEndpoints(c) {
		if e.ID == id {
			return api.JSON(http.StatusOK, obj{"endpoint": endpointView(c, &e)}), nil
		}
	}
	return nil, errs.NotFound("Could not find endpoint: %s.", id)
}

// listRegions answers GET /v3/regions.
func (h *handlers) listRegions(c *api.Call) (*api.Reply, error) {
	return api.JSON(http.StatusOK, collection(c, "regions", []obj{regionView(c)})), nil
}

// showRegion answers GET /v3/regions/{region_id}.
func (h *handlers) showRegion(c *api.Call) (*api.Reply, error) {
	if id := c.Param("region_id"); id != identity.Region {
		return nil, errs.NotFound("Could not find region: %s.", id)
	}
	return api.JSON(http.StatusOK, obj{"region": regionView(c)}), nil
}
