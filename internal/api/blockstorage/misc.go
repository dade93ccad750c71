package blockstorage

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/policy"
)

func (h *handlers) miscRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/extensions", Rule: policy.VolumeExtensions, Handler: listExtensions},
		{Method: "GET", Path: "/os-availability-zone", Rule: policy.VolumeAvailabilityZones, Handler: h.availabilityZones},
	}
}

// extension is one of Cinder's API extensions (cinder/api/contrib), as
// GET /extensions lists it.
type extension struct{ name, alias, description, updated string }

// extensions are Cinder's extensions whose calls and attributes kumo
// serves; the others (backups, consistency groups, QoS specs, hosts,
// manage/unmanage, transfers, encryption) are left out.
var extensions = []extension{
	{"AdminActions", "os-admin-actions", "Enable admin actions.", "2012-08-25T00:00:00+00:00"},
	{"AvailabilityZones", "os-availability-zone", "Describe Availability Zones.", "2013-06-27T00:00:00+00:00"},
	{"ExtendedSnapshotAttributes", "os-extended-snapshot-attributes", "Extended SnapshotAttributes support.", "2012-06-19T00:00:00+00:00"},
	{"QuotaClasses", "os-quota-class-sets", "Quota classes management support.", "2012-03-12T00:00:00+00:00"},
	{"Quotas", "os-quota-sets", "Quota management support.", "2011-08-08T00:00:00+00:00"},
	{"SchedulerHints", "OS-SCH-HNT", "Pass arbitrary key/value pairs to the scheduler.", "2013-04-18T00:00:00+00:00"},
	{"Services", "os-services", "Services support.", "2012-10-28T00:00:00-00:00"},
	{"SnapshotActions", "os-snapshot-actions", "Enable snapshot manager actions.", "2013-07-16T00:00:00+00:00"},
	{"TypesExtraSpecs", "os-types-extra-specs", "Type extra specs support.", "2011-08-24T00:00:00+00:00"},
	{"TypesManage", "os-types-manage", "Types manage support.", "2011-08-24T00:00:00+00:00"},
	{"UsedLimits", "os-used-limits", "Provide data on limited resources that are being used.", "2013-10-03T00:00:00+00:00"},
	{"VolumeActions", "os-volume-actions", "Enable volume actions.", "2012-05-31T00:00:00+00:00"},
	{"VolumeHostAttribute", "os-vol-host-attr", "Expose host as an attribute of a volume.", "2011-11-03T00:00:00+00:00"},
	{"VolumeImageMetadata", "os-vol-image-meta", "Show image metadata associated with the volume.", "2012-12-07T00:00:00+00:00"},
	{"VolumeMigStatusAttribute", "os-vol-mig-status-attr", "Expose migration_status as an attribute of a volume.", "2013-08-08T00:00:00+00:00"},
	{"VolumeTenantAttribute", "os-vol-tenant-attr", "Expose the internal project_id as an attribute of a volume.", "2011-11-03T00:00:00+00:00"},
	{"VolumeTypeAccess", "os-volume-type-access", "Volume type access support.", "2014-06-26T00:00:00Z"},
}

func listExtensions(*api.Call) (*api.Reply, error) {
	out := make([]map[string]any, 0, len(extensions))
	for _, e := range extensions {
		out = append(out, map[string]any{"name": e.name, "alias": e.alias, "description": e.description,
			"updated": e.updated, "links": []any{}})
	}
	return api.JSON(http.StatusOK, map[string]any{"extensions": out}), nil
}

// availabilityZones answers GET /os-availability-zone: the storage
// host's zone.
func (h *handlers) availabilityZones(*api.Call) (*api.Reply, error) {
	return api.JSON(http.StatusOK, map[string]any{"availabilityZoneInfo": []any{map[string]any{
		"zoneName": h.vols.AvailabilityZone(), "zoneState": map[string]bool{"available": true},
	}}}), nil
}
