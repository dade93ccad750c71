package networking

import (
	"net/http"
	"net/url"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/network"
)

// availabilityZoneExtensions are availability_zone and the network's
// (availability_zone_hints and availability_zones on networks).
var availabilityZoneExtensions = []extension{
	{"availability_zone", "Availability Zone", "The availability zone extension.", "2015-01-01T10:00:00-00:00"},
	{"network_availability_zone", "Network Availability Zone", "Availability zone support for network.", "2015-01-01T10:00:00-00:00"},
}

// zoneResources are the resources that live in zones.
var zoneResources = []string{"network"}

// availabilityZoneRoutes serve GET /v2.0/availability_zones.
func availabilityZoneRoutes() []api.Route {
	return []api.Route{{Method: "GET", Path: "/v2.0/availability_zones", Rule: "get_availability_zone", Handler: listAvailabilityZones}}
}

// listAvailabilityZones answers the zone of each zoned resource, with
// the name, resource and state filters and fields. Neutron serves this
// collection without pagination or sorting, and ignores their
// parameters.
func listAvailabilityZones(c *api.Call) (*api.Reply, error) {
	views := make([]view, 0, len(zoneResources))
	for _, res := range zoneResources {
		views = append(views, view{"name": network.AvailabilityZone, "resource": res, "state": "available"})
	}
	lq := listQuery{filters: url.Values{}, fields: nonEmpty(c.Query()["fields"])}
	for _, k := range []string{"name", "resource", "state"} {
		if vs := nonEmpty(c.Query()[k]); len(vs) > 0 {
			lq.filters[k] = vs
		}
	}
	page, _, err := lq.apply(views, nil, nil)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"availability_zones": page}), nil
}
