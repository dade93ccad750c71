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
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
)

// imageServerActions are createImage, createBackup, shelve, shelveOffload and unshelve.
func (h *handlers) imageServerActions() map[string]serverAction {
	return map[string]serverAction{
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
	csNonNegativeInteger = jsSchema{jsType("integer", "string"), jsPattern(`^[0-9]*$`), jsMinimum(0), jsMinLength(1)}

	createImageSchema = jsObject([]string{"createImage"}, jsProperty{"createImage",
		jsObject([]string{"name"}, jsProperty{"name", csName}, jsProperty{"metadata", csMetadata()})})
	createBackupSchema       = backupSchema(csName)
	createBackupLegacySchema = backupSchema(csLegacyName)

	shelveSchema        = jsObject([]string{"shelve"}, jsProperty{"shelve", jsSchema{}})
	shelveOffloadSchema = jsObject([]string{"shelveOffload"}, jsProperty{"shelveOffload", jsSchema{}})
	unshelveSchema      = jsObject([]string{"unshelve"}, jsProperty{"unshelve", jsSchema{}})
	unshelveSchema277   = jsObject([]string{"unshelve"}, jsProperty{"unshelve", jsSchema{jsType("object", "null"),
		jsProperties(jsProperty{"availability_zone", csName}), jsRequired("availability_zone"),
		jsNoAdditional(jsProperty{name: "availability_zone"})}})
	unshelveSchema291 = jsObject([]string{"unshelve"}, jsProperty{"unshelve", jsSchema{jsType("object", "null"),
		jsProperties(jsProperty{"availability_zone", jsSchema{jsType("string", "null")}},
			jsProperty{"host", jsSchema{jsType("string")}}),
		jsNoAdditional(jsProperty{name: "availability_zone"}, jsProperty{name: "host"})}})
)

func backupSchema(name jsSchema) jsSchema {
	return jsObject([]string{"createBackup"}, jsProperty{"createBackup",
		jsObject([]string{"name", "backup_type", "rotation"}, jsProperty{"name", name},
			jsProperty{"backup_type", jsSchema{jsType("string")}},
			jsProperty{"rotation", csNonNegativeInteger}, jsProperty{"metadata", csMetadata()})})
}

// imageMetadataQuota is common.check_img_metadata_properties_quota, which
// Nova applies before microversion 2.39.
func (h *handlers) imageMetadataQuota(c *api.Call, meta map[string]string) error {
	if len(meta) == 0 || c.AtLeast(2, 39) {
		return nil
	}
	err := h.metadataLimit(c.Ctx, c.Principal.ProjectID, len(meta))
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
func (h *handlers) createImage(c *api.Call, run *jsRun, body map[string]any, value any) (*api.Reply, error) {
	if f := createImageSchema.validate(run, nil, body); f != nil {
		return nil, f.err(run)
	}
	id := c.Param("server_id")
	if _, err := h.Servers.Get(c.Ctx, c.Principal, id); err != nil {
		return nil, err
	}
	req := snapshotRequest(c, value.(map[string]any))
	if err := h.imageMetadataQuota(c, req.Metadata); err != nil {
		return nil, err
	}
	img, err := h.Servers.Snapshot(c.Ctx, c.Principal, id, req)
	if err != nil {
		return nil, imageServiceFault(err)
	}
	if c.AtLeast(2, 45) {
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
func (h *handlers) createBackup(c *api.Call, run *jsRun, body map[string]any, value any) (*api.Reply, error) {
	schema := createBackupSchema
	if isLegacyV2(c) {
		schema = createBackupLegacySchema
	}
	if f := schema.validate(run, nil, body); f != nil {
		return nil, f.err(run)
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
	if c.AtLeast(2, 45) {
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

func (h *handlers) shelveServer(c *api.Call, run *jsRun, body map[string]any, _ any) (*api.Reply, error) {
	if f := shelveSchema.validate(run, nil, body); f != nil {
		return nil, f.err(run)
	}
	return h.accepted(imageServiceFault(h.Servers.Shelve(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID)))
}

func (h *handlers) shelveOffloadServer(c *api.Call, run *jsRun, body map[string]any, _ any) (*api.Reply, error) {
	if f := shelveOffloadSchema.validate(run, nil, body); f != nil {
		return nil, f.err(run)
	}
	return h.accepted(h.Servers.ShelveOffload(c.Ctx, c.Principal, c.Param("server_id"), c.RequestID))
}

// unshelveServer takes no arguments before 2.77, an availability_zone
// from 2.77 and also a host (admin only) or a null zone (unpin) from 2.91.
func (h *handlers) unshelveServer(c *api.Call, run *jsRun, body map[string]any, value any) (*api.Reply, error) {
	schema := unshelveSchema
	switch {
	case c.AtLeast(2, 91):
		schema = unshelveSchema291
	case c.AtLeast(2, 77):
		schema = unshelveSchema277
	}
	if f := schema.validate(run, nil, body); f != nil {
		return nil, f.err(run)
	}
	req := compute.UnshelveRequest{RequestID: c.RequestID, AdminHost: c.Allowed("os_compute_api:os-shelve:unshelve_to_host", nil)}
	if args, ok := value.(map[string]any); ok && len(args) > 0 && c.AtLeast(2, 77) {
		if az, given := args["availability_zone"]; given {
			req.AZPassed = true
			if s, ok := az.(string); ok {
				req.AZ = &s
			}
		}
		if c.AtLeast(2, 91) {
			req.Host, _ = args["host"].(string)
		}
	}
	return h.accepted(h.Servers.Unshelve(c.Ctx, c.Principal, c.Param("server_id"), req))
}
