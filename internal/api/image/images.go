package image

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/policy"
)

// handlers carries the image service every handler calls.
type handlers struct {
	svc *image.Service
}

func (h *handlers) imageRoutes() []api.Route {
	return []api.Route{
		{Method: "POST", Path: "/v2/images", Rule: "add_image", Target: newImageTarget, Handler: h.create},
		{Method: "GET", Path: "/v2/images", Rule: "get_images", Handler: h.list},
		{Method: "PUT", Path: "/v2/images", Rule: "kumo:image:collection_methods", Handler: rejectCollection},
		{Method: "PATCH", Path: "/v2/images", Rule: "kumo:image:collection_methods", Handler: rejectCollection},
		{Method: "DELETE", Path: "/v2/images", Rule: "kumo:image:collection_methods", Handler: rejectCollection},
		{Method: "GET", Path: "/v2/images/{image_id}", Rule: "get_image", Handler: h.show},
		{Method: "PATCH", Path: "/v2/images/{image_id}", Rule: "modify_image", Handler: h.patch},
		{Method: "DELETE", Path: "/v2/images/{image_id}", Rule: "delete_image", Handler: h.delete},
		{Method: "PUT", Path: "/v2/images/{image_id}/tags/{tag}", Rule: "modify_image", Handler: h.addTag},
		{Method: "DELETE", Path: "/v2/images/{image_id}/tags/{tag}", Rule: "modify_image", Handler: h.deleteTag},
		{Method: "POST", Path: "/v2/images/{image_id}/actions/deactivate", Rule: "deactivate", Handler: h.deactivate},
		{Method: "POST", Path: "/v2/images/{image_id}/actions/reactivate", Rule: "reactivate", Handler: h.reactivate},
	}
}

// newImageTarget is the image a create makes as Glance's add_image sees
// it: owned by the caller's project. (An owner named in the body is the
// image service's to refuse, with Glance's message.)
func newImageTarget(c *api.Call) (policy.Target, error) {
	if p := c.ProjectID(); p != "" {
		return policy.Target{"owner": p}, nil
	}
	return nil, nil
}

// disallowed are attributes a create body may not carry at all.
var disallowed = []string{"direct_url", "self", "file", "schema", "stores"}

// create answers POST /v2/images.
func (h *handlers) create(c *api.Call) (*api.Reply, error) {
	var body map[string]any
	if err := c.DecodeJSON(&body); err != nil {
		return nil, err
	}
	req, err := createRequest(body)
	if err != nil {
		return nil, err
	}
	img, err := h.svc.Create(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, imageView(img)).
		WithHeader("Location", c.BaseURL+"/v2/images/"+img.ID), nil
}

// createRequest reads a create body: base attributes with their schema
// types, everything else an extra string property.
func createRequest(body map[string]any) (image.CreateRequest, error) {
	var req image.CreateRequest
	for _, k := range disallowed {
		if _, ok := body[k]; ok {
			return req, errs.Forbidden("Attribute '%s' is read-only.", k)
		}
	}
	req.Properties = map[string]string{}
	for k, v := range body {
		if k != "id" && k != "tags" {
			if err := image.CheckPatch([]image.PatchOp{{Op: "add", Attr: k, Value: v}}); err != nil {
				return req, err
			}
		}
		switch k {
		case "id":
			s, ok := v.(string)
			if !ok {
				return req, errs.Invalid("Invalid value for id: %v is not of type 'string'", v)
			}
			req.ID = s
		case "name":
			req.Name = optString(v)
		case "visibility":
			req.Visibility = v.(string)
		case "owner":
			if s := optString(v); s != nil {
				req.Owner = *s
			}
		case "container_format":
			req.ContainerFormat = optString(v)
		case "disk_format":
			req.DiskFormat = optString(v)
		case "min_disk":
			req.MinDisk = intValue(v)
		case "min_ram":
			req.MinRAM = intValue(v)
		case "protected":
			req.Protected = v.(bool)
		case "os_hidden":
			req.OSHidden = v.(bool)
		case "tags":
			tags, err := stringList(v)
			if err != nil {
				return req, err
			}
			req.Tags = tags
		case "locations":
			return req, errs.Invalid("Setting image locations is not supported")
		default:
			if image.IsBase(k) {
				return req, errs.Forbidden("Attribute '%s' is read-only.", k)
			}
			req.Properties[k] = v.(string)
		}
	}
	return req, nil
}

func optString(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

func intValue(v any) int {
	n, _ := v.(json.Number).Int64()
	return int(n)
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errs.Invalid("Invalid value for tags: %v is not of type 'array'", v)
	}
	out := make([]string, 0, len(list))
	for _, t := range list {
		s, ok := t.(string)
		if !ok {
			return nil, errs.Invalid("Invalid value for tags: %v is not of type 'string'", t)
		}
		out = append(out, s)
	}
	return out, nil
}

// emptyID reports a request for "/v2/images/": an image with an empty
// id, which does not exist (the router folds the trailing slash).
func emptyID(c *api.Call) bool { return strings.HasSuffix(c.Req.URL.Path, "/v2/images/") }

// rejectCollection answers the methods the image collection lacks: 405
// with the allowed ones, or 404 for the empty image id.
func rejectCollection(c *api.Call) (*api.Reply, error) {
	if emptyID(c) {
		return nil, errs.NotFound("The resource could not be found.")
	}
	return methodNotAllowed("GET, POST"), nil
}

// methodNotAllowed is Glance's reject_method_resource: 405 naming the
// methods allowed.
func methodNotAllowed(allow string) *api.Reply {
	ct, body := api.GlanceError(http.StatusMethodNotAllowed, "The method is not allowed for this resource.")
	r := &api.Reply{Status: http.StatusMethodNotAllowed, Raw: body, ContentType: ct}
	return r.WithHeader("Allow", allow)
}

// show answers GET /v2/images/{image_id}.
func (h *handlers) show(c *api.Call) (*api.Reply, error) {
	img, err := h.svc.Get(c.Ctx, c.Principal, c.Param("image_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, imageView(img)), nil
}

// delete answers DELETE /v2/images/{image_id}.
func (h *handlers) delete(c *api.Call) (*api.Reply, error) {
	if err := h.svc.Delete(c.Ctx, c.Principal, c.Param("image_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// addTag answers PUT /v2/images/{image_id}/tags/{tag}.
func (h *handlers) addTag(c *api.Call) (*api.Reply, error) {
	if err := h.svc.AddTag(c.Ctx, c.Principal, c.Param("image_id"), c.Param("tag")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// deleteTag answers DELETE /v2/images/{image_id}/tags/{tag}.
func (h *handlers) deleteTag(c *api.Call) (*api.Reply, error) {
	if err := h.svc.DeleteTag(c.Ctx, c.Principal, c.Param("image_id"), c.Param("tag")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// deactivate answers POST /v2/images/{image_id}/actions/deactivate.
func (h *handlers) deactivate(c *api.Call) (*api.Reply, error) {
	if err := h.svc.Deactivate(c.Ctx, c.Principal, c.Param("image_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// reactivate answers POST /v2/images/{image_id}/actions/reactivate.
func (h *handlers) reactivate(c *api.Call) (*api.Reply, error) {
	if err := h.svc.Reactivate(c.Ctx, c.Principal, c.Param("image_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
