package blockstorage

import (
	"net/http"
	"strconv"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/volume"
)

// Microversions of get_pools' filters (Cinder's POOL_FILTER and
// POOL_TYPE_FILTER).
var (
	poolFilter     = mv.Version{Major: 3, Minor: 28}
	poolTypeFilter = mv.Version{Major: 3, Minor: 35}
)

func (h *handlers) poolRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/scheduler-stats/get_pools", Rule: "scheduler_extension:scheduler_stats:get_pools", Handler: h.getPools},
		{Method: "GET", Path: "/capabilities/{host_name}", Rule: "volume_extension:capabilities", Handler: h.capabilities},
		{Method: "GET", Path: "/os-hosts", Rule: "volume_extension:hosts", Handler: h.listHosts},
		{Method: "GET", Path: "/os-hosts/{host_id}", Rule: "volume_extension:hosts", Handler: h.showHost},
	}
}

// getPools answers GET /scheduler-stats/get_pools (admin): the pools the
// scheduler knows, by name, with their capabilities when ?detail= is
// true. From 3.28 the other query parameters filter (name exactly, any
// other the capability of that name); from 3.35 volume_type keeps the
// pools the type's extra specs fit.
func (h *handlers) getPools(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	detail := false
	if q.Has("detail") {
		b, ok := parseBool(q.Get("detail"))
		if !ok {
			return nil, errs.Invalid("Value '%s' for 'detail' is not a boolean.", q.Get("detail"))
		}
		detail = b
		q.Del("detail")
	}
	if !c.AtLeast(poolFilter) {
		q = nil
	}
	var typ *volume.VolumeType
	if q.Has("volume_type") {
		if c.AtLeast(poolTypeFilter) {
			t, err := h.vols.TypeElevated(c.Ctx, q.Get("volume_type"))
			if err != nil {
				return nil, err
			}
			typ = t
		}
		q.Del("volume_type")
	}
	pools, err := h.vols.Pools(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, p := range pools {
		caps := p.Capabilities()
		if !poolMatches(p, caps, q) || (typ != nil && !volume.SatisfiesExtraSpecs(caps, typ.ExtraSpecs)) {
			continue
		}
		if detail {
			out = append(out, map[string]any{"name": p.Name, "capabilities": caps})
		} else {
			out = append(out, map[string]any{"name": p.Name})
		}
	}
	return api.JSON(http.StatusOK, map[string]any{"pools": out}), nil
}

// poolMatches is the host manager's filtering of get_pools.
func poolMatches(p volume.Pool, caps map[string]any, q map[string][]string) bool {
	for k, vs := range q {
		v := vs[0]
		if k == "name" {
			if p.Name != v {
				return false
			}
			continue
		}
		if !volume.EqualAfterConvert(caps[k], v) {
			return false
		}
	}
	return true
}

// volumeService is the cinder-volume service whose host (or cluster) id
// names, as Cinder's host_or_cluster filter matches it.
func (h *handlers) volumeService(c *api.Call, id string) (*volume.ServiceInfo, error) {
	svcs, err := h.vols.Services(c.Ctx)
	if err != nil {
		return nil, err
	}
	for i := range svcs {
		if svcs[i].Binary == "cinder-volume" && hostMatches(svcs[i].Host, id) {
			return &svcs[i], nil
		}
	}
	return nil, nil
}

// capabilities answers GET /capabilities/{host} (admin): the backend's
// capabilities as Cinder's capabilities view shows them. A pool name
// (host@backend#pool) is not a service's host: Cinder matches it
// exactly, and clients sending it unquoted lose "#pool" as a fragment.
func (h *handlers) capabilities(c *api.Call) (*api.Reply, error) {
	id := c.Param("host_name")
	svc, err := h.volumeService(c, id)
	if err != nil {
		return nil, err
	}
	if svc == nil {
		return nil, errs.NotFound("Can't find service: %s", id)
	}
	bc := h.vols.Capabilities(c.Ctx)
	return api.JSON(http.StatusOK, map[string]any{
		"namespace": "OS::Storage::Capabilities::" + svc.Host, "vendor_name": bc.VendorName,
		"volume_backend_name": bc.BackendName, "pool_name": nil, "driver_version": bc.DriverVersion,
		"storage_protocol": bc.StorageProtocol, "display_name": nil, "description": nil, "visibility": nil,
		"replication_targets": []any{}, "properties": bc.Properties,
	}), nil
}

// listHosts answers GET /os-hosts (admin; Cinder's deprecated hosts
// extension): the enabled services, ?zone= filtering.
func (h *handlers) listHosts(c *api.Call) (*api.Reply, error) {
	svcs, err := h.vols.Services(c.Ctx)
	if err != nil {
		return nil, err
	}
	zone := c.Query().Get("zone")
	out := []map[string]any{}
	for _, s := range svcs {
		if s.Status != "enabled" || (zone != "" && s.Zone != zone) {
			continue
		}
		status := "available"
		if s.State != "up" {
			status = "unavailable"
		}
		out = append(out, map[string]any{"host_name": s.Host, "service": s.Binary, "zone": s.Zone,
			"service-status": status, "service-state": "enabled", "last-update": hostTime(s.UpdatedAt)})
	}
	return api.JSON(http.StatusOK, map[string]any{"hosts": out}), nil
}

func hostTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return cinderTime(t)
}

// showHost answers GET /os-hosts/{host} (admin): the volumes and
// snapshots on the volume service's host, in total and per project, the
// counts and sizes as strings.
func (h *handlers) showHost(c *api.Call) (*api.Reply, error) {
	id := c.Param("host_id")
	svc, err := h.volumeService(c, id)
	if err != nil {
		return nil, err
	}
	if svc == nil {
		return nil, errs.Named("ServiceNotFound", errs.NotFound("Service cinder-volume could not be found on host %s.", id))
	}
	usage, err := h.vols.HostUsage(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(usage))
	for _, u := range usage {
		out = append(out, map[string]any{"resource": map[string]any{
			"host": id, "project": u.Project,
			"volume_count": strconv.FormatInt(u.VolumeCount, 10), "total_volume_gb": strconv.FormatInt(u.VolumeGB, 10),
			"snapshot_count": strconv.FormatInt(u.SnapshotCount, 10), "total_snapshot_gb": strconv.FormatInt(u.SnapshotGB, 10),
		}})
	}
	return api.JSON(http.StatusOK, map[string]any{"host": out}), nil
}
