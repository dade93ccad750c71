package blockstorage

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) miscRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/extensions", Rule: policy.VolumeExtensions, Handler: listExtensions},
		{Method: "GET", Path: "/os-availability-zone", Rule: policy.VolumeAvailabilityZones, Handler: h.availabilityZones},
		{Method: "GET", Path: "/os-services", Rule: "volume_extension:services:index", Handler: h.services},
	}
}

// extension is one of Cinder's API extensions (cinder/api/contrib), as
// GET /extensions lists it.
type extension struct{ name, alias, description, updated string }

// extensions are Cinder's extensions whose calls and attributes kumo
// serves; the others (consistency groups) are left out.
var extensions = []extension{
	{"AdminActions", "os-admin-actions", "Enable admin actions.", "2012-08-25T00:00:00+00:00"},
	{"AvailabilityZones", "os-availability-zone", "Describe Availability Zones.", "2013-06-27T00:00:00+00:00"},
	{"Backups", "backups", "Backups support.", "2012-12-12T00:00:00+00:00"},
	{"Capabilities", "capabilities", "Capabilities support.", "2015-08-31T00:00:00+00:00"},
	{"ExtendedSnapshotAttributes", "os-extended-snapshot-attributes", "Extended SnapshotAttributes support.", "2012-06-19T00:00:00+00:00"},
	{"Hosts", "os-hosts", "Admin-only host administration.", "2011-06-29T00:00:00+00:00"},
	{"Qos_specs_manage", "qos-specs", "QoS specs support.", "2013-08-02T00:00:00+00:00"},
	{"QuotaClasses", "os-quota-class-sets", "Quota classes management support.", "2012-03-12T00:00:00+00:00"},
	{"Quotas", "os-quota-sets", "Quota management support.", "2011-08-08T00:00:00+00:00"},
	{"SchedulerHints", "OS-SCH-HNT", "Pass arbitrary key/value pairs to the scheduler.", "2013-04-18T00:00:00+00:00"},
	{"Scheduler_stats", "scheduler-stats", "Scheduler stats support.", "2014-09-07T00:00:00+00:00"},
	{"Services", "os-services", "Services support.", "2012-10-28T00:00:00-00:00"},
	{"SnapshotActions", "os-snapshot-actions", "Enable snapshot manager actions.", "2013-07-16T00:00:00+00:00"},
	{"SnapshotUnmanage", "os-snapshot-unmanage", "Enable volume unmanage operation.", "2014-12-31T00:00:00+00:00"},
	{"TypesExtraSpecs", "os-types-extra-specs", "Type extra specs support.", "2011-08-24T00:00:00+00:00"},
	{"TypesManage", "os-types-manage", "Types manage support.", "2011-08-24T00:00:00+00:00"},
	{"UsedLimits", "os-used-limits", "Provide data on limited resources that are being used.", "2013-10-03T00:00:00+00:00"},
	{"VolumeActions", "os-volume-actions", "Enable volume actions.", "2012-05-31T00:00:00+00:00"},
	{"VolumeHostAttribute", "os-vol-host-attr", "Expose host as an attribute of a volume.", "2011-11-03T00:00:00+00:00"},
	{"VolumeImageMetadata", "os-vol-image-meta", "Show image metadata associated with the volume.", "2012-12-07T00:00:00+00:00"},
	{"VolumeManage", "os-volume-manage", "Allows existing backend storage to be 'managed' by Cinder.", "2014-02-10T00:00:00+00:00"},
	{"VolumeMigStatusAttribute", "os-vol-mig-status-attr", "Expose migration_status as an attribute of a volume.", "2013-08-08T00:00:00+00:00"},
	{"VolumeTransfer", "os-volume-transfer", "Volume transfer management support.", "2013-05-29T00:00:00+00:00"},
	{"VolumeTenantAttribute", "os-vol-tenant-attr", "Expose the internal project_id as an attribute of a volume.", "2011-11-03T00:00:00+00:00"},
	{"VolumeTypeAccess", "os-volume-type-access", "Volume type access support.", "2014-06-26T00:00:00Z"},
	{"VolumeTypeEncryption", "encryption", "Encryption support for volume types.", "2013-07-01T00:00:00+00:00"},
	{"VolumeUnmanage", "os-volume-unmanage", "Enable volume unmanage operation.", "2012-05-31T00:00:00+00:00"},
}

func listExtensions(*api.Call) (*api.Reply, error) {
	out := make([]map[string]any, 0, len(extensions))
	for _, e := range extensions {
		out = append(out, map[string]any{"name": e.name, "alias": e.alias, "description": e.description,
			"updated": e.updated, "links": []any{}})
	}
	return api.JSON(http.StatusOK, map[string]any{"extensions": out}), nil
}

// hostMatches is Cinder's host filter (db _filter_host): a value with
// '#' names a pool exactly, one with '@' a backend and its pools, any
// other a host and its backends and pools.
func hostMatches(host, value string) bool {
	switch {
	case strings.Contains(value, "#"):
		return host == value
	case strings.Contains(value, "@"):
		return host == value || strings.HasPrefix(host, value+"#")
	}
	return host == value || strings.HasPrefix(host, value+"@") || strings.HasPrefix(host, value+"#")
}

// services answers GET /os-services (admin): the scheduler and the
// volume service of kumo's one storage host; ?host= and ?binary= filter.
func (h *handlers) services(c *api.Call) (*api.Reply, error) {
	svcs, err := h.vols.Services(c.Ctx)
	if err != nil {
		return nil, err
	}
	q := c.Query()
	out := make([]map[string]any, 0, len(svcs))
	for _, s := range svcs {
		if (q.Has("host") && !hostMatches(s.Host, q.Get("host"))) || (q.Has("binary") && q.Get("binary") != s.Binary) {
			continue
		}
		v := map[string]any{"binary": s.Binary, "host": s.Host, "zone": s.Zone, "status": s.Status, "state": s.State,
			"updated_at": cinderTime(s.UpdatedAt), "disabled_reason": s.DisabledReason}
		if c.AtLeast(mv.Version{Major: 3, Minor: 7}) {
			v["cluster"] = s.Cluster
		}
		if s.Binary == "cinder-volume" {
			v["replication_status"], v["active_backend_id"], v["frozen"] = s.ReplicationStatus, s.ActiveBackendID, s.Frozen
			if c.AtLeast(mv.Version{Major: 3, Minor: 49}) {
				v["backend_state"] = s.BackendState
			}
		}
		out = append(out, v)
	}
	return api.JSON(http.StatusOK, map[string]any{"services": out}), nil
}

// availabilityZones answers GET /os-availability-zone: the storage
// host's zone.
func (h *handlers) availabilityZones(c *api.Call) (*api.Reply, error) {
	zones, err := h.vols.AvailabilityZones(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(zones))
	for _, z := range zones {
		out = append(out, map[string]any{"zoneName": z.Name, "zoneState": map[string]bool{"available": z.Available}})
	}
	return api.JSON(http.StatusOK, map[string]any{"availabilityZoneInfo": out}), nil
}
