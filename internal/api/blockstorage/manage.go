package blockstorage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/volume"
)

// The microversions of managing existing volumes: the manageable_volumes
// resource (3.8), the cluster of a manage request (3.16) and of a
// listing (3.17).
var (
	manageExistingList    = mv.Version{Major: 3, Minor: 8}
	volumeMigrateCluster  = mv.Version{Major: 3, Minor: 16}
	manageExistingCluster = mv.Version{Major: 3, Minor: 17}
)

// manageRoutes are Cinder's volume_manage: manageable_volumes (3.8) and
// the older os-volume-manage extension.
func (h *handlers) manageRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/manageable_volumes", Rule: "volume_extension:list_manageable", Handler: h.listManageable(false), MinVer: manageExistingList},
		{Method: "GET", Path: "/manageable_volumes/detail", Rule: "volume_extension:list_manageable", Handler: h.listManageable(true), MinVer: manageExistingList},
		{Method: "POST", Path: "/manageable_volumes", Rule: "volume_extension:volume_manage", Handler: h.manageVolume, MinVer: manageExistingList},
		{Method: "POST", Path: "/os-volume-manage", Rule: "volume_extension:volume_manage", Handler: h.manageVolume},
	}
}

// shownStatus is the status the API shows: Cinder's managing statuses
// appear as creating, error and deleting (bug 1504007).
func shownStatus(s string) string {
	switch s {
	case volume.StatusManaging:
		return volume.StatusCreating
	case volume.StatusErrorManaging:
		return volume.StatusError
	case "error_managing_deleting":
		return volume.StatusDeleting
	}
	return s
}

// clusterHost is Cinder's common.get_cluster_host: from version since,
// one and only one of cluster and host; before it, host.
func clusterHost(c *api.Call, host, cluster string, since mv.Version) (string, string, error) {
	msg := "Host field is missing."
	if c.AtLeast(since) {
		msg = "One and only one of cluster and host must be set."
	} else {
		cluster = ""
	}
	if (cluster != "") == (host != "") {
		return "", "", errs.Named("InvalidInput", errs.Invalid("Invalid input received: %s", msg))
	}
	return host, cluster, nil
}

// listManageable answers GET /manageable_volumes[/detail] (admin): the
// backend's disks, sorted by reference or size, paged by a marker that
// is a reference in JSON.
func (h *handlers) listManageable(detail bool) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		q := c.Query()
		host, cluster, err := clusterHost(c, q.Get("host"), q.Get("cluster"), manageExistingCluster)
		if err != nil {
			return nil, err
		}
		// Cinder's default sort key here is the reference.
		if q.Has("sort_dir") && !q.Has("sort_key") && !q.Has("sort") {
			q.Set("sort_key", "reference")
		}
		pg, err := listParams(q)
		if err != nil {
			return nil, err
		}
		opts := volume.ManageableOptions{Sort: pg.Sort, Limit: pg.Limit, Offset: pg.Offset}
		var badKeys, badDirs []string
		for _, k := range pg.Sort {
			if k.Key != "reference" && k.Key != "size" {
				badKeys = append(badKeys, k.Key)
			}
			if k.Dir != "asc" && k.Dir != "desc" {
				badDirs = append(badDirs, k.Dir)
			}
		}
		if len(badKeys) > 0 {
			return nil, errs.Named("InvalidParameterValue", errs.Invalid("Invalid sort keys passed: %s", strings.Join(badKeys, ", ")))
		}
		if len(badDirs) > 0 {
			return nil, errs.Named("InvalidParameterValue", errs.Invalid("Invalid sort dirs passed: %s", strings.Join(badDirs, ", ")))
		}
		if pg.Marker != "" {
			var ref map[string]any
			if err := json.Unmarshal([]byte(pg.Marker), &ref); err != nil {
				return nil, errs.Named("InvalidInput", errs.Invalid("Invalid input received: marker %s can not be analysed, please use json like format", pg.Marker))
			}
			name, _ := ref["source-name"].(string)
			if len(ref) != 1 || name == "" {
				return nil, errs.Named("InvalidInput", errs.Invalid("Invalid input received: marker not found: %s", pg.Marker))
			}
			opts.Marker = &name
		}
		list, err := h.vols.ManageableVolumes(c.Ctx, host, cluster, opts)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, 0, len(list))
		for _, m := range list {
			d := map[string]any{"reference": map[string]any{"source-name": m.SourceName}, "size": m.Size, "safe_to_manage": m.SafeToManage}
			if detail {
				d["reason_not_safe"], d["cinder_id"], d["extra_info"] = m.ReasonNotSafe, m.CinderID, nil
			}
			out = append(out, d)
		}
		return api.JSON(http.StatusOK, map[string]any{"manageable-volumes": out}), nil
	}
}

// manageSchema is Cinder's volume_manage_create (cluster from 3.16).
func manageSchema(c *api.Call) js.Schema {
	props := []js.Property{
		{Name: "description", Schema: description},
		{Name: "availability_zone", Schema: nameZeroMin},
		{Name: "bootable", Schema: boolean},
		{Name: "volume_type", Schema: nameZeroMin},
		{Name: "name", Schema: nameZeroMin},
		{Name: "host", Schema: js.Schema{js.Type("string", "null"), js.MinLength(1), js.MaxLength(255)}},
		{Name: "ref", Schema: js.Schema{js.Type("object", "string")}},
		{Name: "metadata", Schema: metadataAllowsNull},
	}
	if c.AtLeast(volumeMigrateCluster) {
		props = append(props, js.Property{Name: "cluster", Schema: js.Schema{js.Type("string", "null"), js.MinLength(0), js.MaxLength(255)}})
	}
	return js.Object([]string{"volume"}, js.Property{Name: "volume", Schema: js.Object([]string{"ref"}, props...)})
}

// manageVolume answers POST /manageable_volumes and /os-volume-manage
// (admin, 202): the new volume, "creating" until the worker has taken
// the disk; a reference the backend does not know turns it to "error"
// later, as Cinder's volume manager does.
func (h *handlers) manageVolume(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, manageSchema(c))
	if err != nil {
		return nil, err
	}
	v := body["volume"].(map[string]any)
	hostArg, _ := str(v, "host")
	clusterArg, _ := str(v, "cluster")
	host, cluster, err := clusterHost(c, hostArg, clusterArg, volumeMigrateCluster)
	if err != nil {
		return nil, err
	}
	req := volume.ManageRequest{Host: host, Cluster: cluster, Metadata: stringMap(v["metadata"]), Bootable: boolValue(v["bootable"])}
	switch ref := v["ref"].(type) {
	case map[string]any:
		req.Ref = ref
	case string:
		// A string reference is no dictionary: LVM finds no source-name.
		req.Ref = map[string]any{}
	}
	if t, ok := str(v, "volume_type"); ok {
		req.VolumeType = t
	}
	// Cinder keeps a name or description only when not empty.
	if n := strPtr(v, "name"); n != nil && *n != "" {
		req.Name = n
	}
	if d := strPtr(v, "description"); d != nil && *d != "" {
		req.Description = d
	}
	if z, ok := str(v, "availability_zone"); ok {
		req.AvailabilityZone = &z
	}
	vol, err := h.vols.Manage(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusAccepted, map[string]any{"volume": volumeDetail(c, vol, false)}), nil
}

// unmanageVolume is os-unmanage (202).
func (h *handlers) unmanageVolume(c *api.Call, v *volume.Volume) (*api.Reply, error) {
	if err := h.vols.Unmanage(c.Ctx, c.Principal, v.ID); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// unmanageSnapshot is the snapshot's os-unmanage (202); Cinder answers
// an InvalidSnapshot with a plain bad request.
func (h *handlers) unmanageSnapshot(c *api.Call, id string) error {
	err := h.vols.UnmanageSnapshot(c.Ctx, c.Principal, id)
	if errs.Is(err, errs.KindInvalid) {
		return errs.Invalid("%s", errs.Message(err))
	}
	if err != nil {
		return fmt.Errorf("unmanage snapshot %s: %w", id, err)
	}
	return nil
}
