package compute

// createImage (servers.py), createBackup (create_backup.py) and shelve,
// shelveOffload, unshelve (shelve.py).

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	imageapi "github.com/kumocloud/kumo/internal/api/image"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/mv"
)

// imageServerActions are createImage, createBackup, shelve, shelveOffload and unshelve.
func (h *handlers) imageServerActions() map[string]action {
	return map[string]action{
		"createImage":  {policy: "os_compute_api:servers:create_image", handle: h.createImage},
		"createBackup": {policy: "os_compute_api:os-create-backup", handle: h.createBackup},
		"shelve":       {policy: "os_compute_api:os-shelve:shelve", handle: h.shelveServer},
		"unshelve":     {policy: "os_compute_api:os-shelve:unshelve", handle: h.unshelveServer},
		// Admin only by default; checked after the server lookup, as Nova.
		"shelveOffload": {policy: "os_compute_api:os-shelve:shelve_offload", handle: h.shelveOffloadServer},
	}
}

// The action bodies' schemas (nova/api/openstack/compute/schemas).
var (
	csNonNegativeInteger = js.Schema{js.Type("integer", "string"), js.Pattern(`^[0-9]*$`), js.Minimum(0), js.MinLength(1)}

	createImageSchema = js.Object([]string{"createImage"}, js.Property{Name: "createImage",
		Schema: js.Object([]string{"name"}, js.Property{Name: "name", Schema: csName}, js.Property{Name: "metadata", Schema: csMetadata()})})
	createBackupSchema       = backupSchema(csName)
	createBackupLegacySchema = backupSchema(csLegacyName)

	shelveSchema        = js.Object([]string{"shelve"}, js.Property{Name: "shelve", Schema: js.Schema{}})
	shelveOffloadSchema = js.Object([]string{"shelveOffload"}, js.Property{Name: "shelveOffload", Schema: js.Schema{}})
	unshelveSchema      = js.Object([]string{"unshelve"}, js.Property{Name: "unshelve", Schema: js.Schema{}})
	unshelveSchema277   = js.Object([]string{"unshelve"}, js.Property{Name: "unshelve", Schema: js.Schema{js.Type("object", "null"),
		js.Properties(js.Property{Name: "availability_zone", Schema: csName}), js.Required("availability_zone"),
		js.NoAdditional(js.Property{Name: "availability_zone"})}})
	unshelveSchema291 = js.Object([]string{"unshelve"}, js.Property{Name: "unshelve", Schema: js.Schema{js.Type("object", "null"),
		js.Properties(js.Property{Name: "availability_zone", Schema: js.Schema{js.Type("string", "null")}},
			js.Property{Name: "host", Schema: js.Schema{js.Type("string")}}),
		js.NoAdditional(js.Property{Name: "availability_zone"}, js.Property{Name: "host"})}})
)

func backupSchema(name js.Schema) js.Schema {
	return js.Object([]string{"createBackup"}, js.Property{Name: "createBackup",
		Schema: js.Object([]string{"name", "backup_type", "rotation"}, js.Property{Name: "name", Schema: name},
			js.Property{Name: "backup_type", Schema: js.Schema{js.Type("string")}},
			js.Property{Name: "rotation", Schema: csNonNegativeInteger}, js.Property{Name: "metadata", Schema: csMetadata()})})
}

// imageMetadataQuota is common.check_img_metadata_properties_quota, which
// Nova applies before microversion 2.39.
func (h *handlers) imageMetadataQuota(c *api.Call, meta map[string]string) error {
	if len(meta) == 0 || c.AtLeast(mv.V2_39) {
		return nil
	}
	err := h.ServerMetadataLimit(c.Ctx, c.Principal.ProjectID, len(meta))
	if errs.Is(err, errs.KindOverQuota) {
		return errs.Forbidden("Image metadata limit exceeded")
	}
	return err
}

// imageServiceFault is Nova's answer when the image service refuses a
// snapshot's image with a 413 (a project over its image quota): Nova
// leaves glanceclient's HTTPOverLimit untranslated, so its fault wrapper
// keeps the status and gives webob's text, not Glance's.
func imageServiceFault(err error) error {
	if errs.Is(err, errs.KindTooLarge) {
		return errs.TooLarge("The body of your request was too large for this server.")
	}
	return err
}

// snapshotRequest reads the name and metadata both actions share.
func snapshotRequest(c *api.Call, entity map[string]any) compute.SnapshotRequest {
	req := compute.SnapshotRequest{Name: strings.TrimSpace(entity["name"].(string)), RequestID: c.RequestID}
	if meta, ok := entity["metadata"].(map[string]any); ok {
		req.Metadata = map[string]string{}
		for k, v := range meta {
			req.Metadata[k] = v.(string)
		}
	}
	return req
}

// createImage answers 202 with a Location header naming the image in the
// image service before 2.45, and 202 with {"image_id"} from 2.45.
func (h *handlers) createImage(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := createImageSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	id := c.Param("server_id")
	if _, err := h.Servers.Get(c.Ctx, c.Principal, id); err != nil {
		return nil, err
	}
	req := snapshotRequest(c, value.(map[string]any))
	if err := h.imageMetadataQuota(c, req.Metadata); err != nil {
		return nil, err
	}
	vb, err := h.Servers.IsVolumeBacked(c.Ctx, id)
	if err != nil {
		return nil, err
	}
	if vb {
		if err := c.Authorize("os_compute_api:servers:create_image:allow_volume_backed", nil); err != nil {
			return nil, err
		}
	}
	img, err := h.Servers.Snapshot(c.Ctx, c.Principal, id, req)
	if err != nil {
		return nil, imageServiceFault(err)
	}
	if c.AtLeast(mv.V2_45) {
		return api.JSON(http.StatusAccepted, map[string]any{"image_id": img.ID}), nil
	}
	return api.NoContent(http.StatusAccepted).WithHeader("Location", imageServiceURL(c, img)), nil
}

// imageServiceURL is Nova's glance generate_image_url: the image service
// endpoint followed by /images/{id}.
func imageServiceURL(c *api.Call, img *image.Image) string {
	return imageServiceOrigin(c) + imageapi.Mount + "/images/" + img.ID
}

// createBackup answers like createImage, except that before 2.45 the
// Location (a compute /images URL) is only given when rotation > 0.
func (h *handlers) createBackup(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	schema := createBackupSchema
	if isLegacyV2(c) {
		schema = createBackupLegacySchema
	}
	if f := schema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	id := c.Param("server_id")
	if _, err := h.Servers.Get(c.Ctx, c.Principal, id); err != nil {
		return nil, err
	}
	entity := value.(map[string]any)
	req := snapshotRequest(c, entity)
	req.Backup, req.BackupType = true, entity["backup_type"].(string)
	rotation := parseRotation(entity["rotation"])
	req.Rotation = rotation
	if err := h.imageMetadataQuota(c, req.Metadata); err != nil {
		return nil, err
	}
	img, err := h.Servers.Snapshot(c.Ctx, c.Principal, id, req)
	if err != nil {
		return nil, imageServiceFault(err)
	}
	if c.AtLeast(mv.V2_45) {
		return api.JSON(http.StatusAccepted, map[string]any{"image_id": img.ID}), nil
	}
	reply := api.NoContent(http.StatusAccepted)
	if rotation > 0 {
		reply.WithHeader("Location", strings.TrimRight(c.BaseURL, "/")+"/images/"+img.ID)
	}
	return reply, nil
}

// parseRotation is Python's int() of a schema-valid rotation (a whole
// number or a string of digits).
func parseRotation(v any) int {
	text := fmt.Sprint(v)
	if f, ok := v.(float64); ok {
		text = strconv.FormatFloat(f, 'f', -1, 64)
	}
	n, err := strconv.Atoi(text)
	if err != nil { // digits only (the schema checked): too many for an int
		return math.MaxInt
	}
	return n
}

func (h *handlers) shelveServer(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := shelveSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	return h.accepted(imageServiceFault(h.Servers.Shelve(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID)))
}

func (h *handlers) shelveOffloadServer(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	if f := shelveOffloadSchema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	return h.accepted(h.Servers.ShelveOffload(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID))
}

// unshelveServer takes no arguments before 2.77, an availability_zone
// from 2.77 and also a host (admin only) or a null zone (unpin) from 2.91.
func (h *handlers) unshelveServer(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	schema := unshelveSchema
	switch {
	case c.AtLeast(mv.V2_91):
		schema = unshelveSchema291
	case c.AtLeast(mv.V2_77):
		schema = unshelveSchema277
	}
	if f := schema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	req := compute.UnshelveRequest{RequestID: c.RequestID, AdminHost: c.Allowed("os_compute_api:os-shelve:unshelve_to_host", nil)}
	if args, ok := value.(map[string]any); ok && len(args) > 0 && c.AtLeast(mv.V2_77) {
		if az, given := args["availability_zone"]; given {
			req.AZPassed = true
			if s, ok := az.(string); ok {
				req.AZ = &s
			}
		}
		if c.AtLeast(mv.V2_91) {
			req.Host, _ = args["host"].(string)
		}
	}
	return h.accepted(h.Servers.Unshelve(c.Ctx, c.Principal, c.Param("server_id"), req))
}
