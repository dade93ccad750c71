package compute

import (
	"net/http"
	"slices"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/mv"
)

// os-availability-zone: the zones of the compute hosts. Anyone may list
// them; the detail with hosts and services is for admins.
func (h *handlers) availabilityZoneRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/os-availability-zone", Rule: "os_compute_api:os-availability-zone:list", Handler: h.listAvailabilityZones},
		{Method: "GET", Path: "/os-availability-zone/detail", Rule: "os_compute_api:os-availability-zone:detail", Handler: h.availabilityZonesDetail},
	}
}

// zoneSplit is Nova's get_availability_zones: zones with an enabled
// service are available; zones whose services are all disabled are not.
func zoneSplit(services []hosts.Service) (available, unavailable []string) {
	for _, s := range services {
		if !s.Disabled && !slices.Contains(available, s.Zone) {
			available = append(available, s.Zone)
		}
	}
	for _, s := range services {
		if s.Disabled && !slices.Contains(available, s.Zone) && !slices.Contains(unavailable, s.Zone) {
			unavailable = append(unavailable, s.Zone)
		}
	}
	slices.Sort(available)
	slices.Sort(unavailable)
	return available, unavailable
}

func (h *handlers) zoneServices(c *api.Call) ([]hosts.Service, error) {
	return h.Hosts.Services(c.Ctx)
}

func (h *handlers) listAvailabilityZones(c *api.Call) (*api.Reply, error) {
	if _, err := checkActionQuery(c, actionQuery{strict: c.AtLeast(mv.V2_102)}); err != nil {
		return nil, err
	}
	services, err := h.zoneServices(c)
	if err != nil {
		return nil, err
	}
	available, unavailable := zoneSplit(services)
	info := []map[string]any{}
	for _, set := range []struct {
		zones []string
		ok    bool
	}{{available, true}, {unavailable, false}} {
		for _, z := range set.zones {
			if z == hosts.InternalZone { // Nova hides its internal zone here
				continue
			}
			info = append(info, map[string]any{"zoneName": z, "zoneState": map[string]any{"available": set.ok}, "hosts": nil})
		}
	}
	return api.JSON(http.StatusOK, map[string]any{"availabilityZoneInfo": info}), nil
}

func (h *handlers) availabilityZonesDetail(c *api.Call) (*api.Reply, error) {
	if _, err := checkActionQuery(c, actionQuery{strict: c.AtLeast(mv.V2_102)}); err != nil {
		return nil, err
	}
	services, err := h.zoneServices(c)
	if err != nil {
		return nil, err
	}
	available, unavailable := zoneSplit(services)
	info := []map[string]any{}
	for _, z := range available {
		zoneHosts := map[string]any{}
		for _, s := range services {
			if s.Disabled || s.Zone != z {
				continue // Nova lists the enabled services only
			}
			byBinary, _ := zoneHosts[s.Host].(map[string]any)
			if byBinary == nil {
				byBinary = map[string]any{}
				zoneHosts[s.Host] = byBinary
			}
			byBinary[s.Binary] = map[string]any{
				"available":  s.Up,
				"active":     !s.Disabled,
				"updated_at": s.UpdatedAt.UTC().Format(pyDatetimeLayout),
			}
		}
		info = append(info, map[string]any{"zoneName": z, "zoneState": map[string]any{"available": true}, "hosts": zoneHosts})
	}
	for _, z := range unavailable {
		info = append(info, map[string]any{"zoneName": z, "zoneState": map[string]any{"available": false}, "hosts": nil})
	}
	return api.JSON(http.StatusOK, map[string]any{"availabilityZoneInfo": info}), nil
}
