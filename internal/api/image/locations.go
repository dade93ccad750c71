package image

import (
	"encoding/json"
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/policy"
)

// The location API (Image API 2.17). Glance loads the image before its
// policy check: GET's rule reads no image, so the service checks it first
// (a caller refused on an image it may not get gets the 404 Glance
// gives); POST's reads the owner and comes after the body and the
// image's status, so its handler checks it.
func (h *handlers) locationRoutes() []api.Route {
	const path = "/v2/images/{image_id}/locations"
	return []api.Route{
		{Method: "GET", Path: path, Rule: "fetch_image_location", Handler: h.locations},
		{Method: "POST", Path: path, Rule: "add_image_location", Deferred: true, Handler: h.addLocation},
		// Glance's reject_method_resource for the path's other methods.
		{Method: "PUT", Path: path, Rule: "kumo:image:location_methods", Handler: rejectLocations},
		{Method: "PATCH", Path: path, Rule: "kumo:image:location_methods", Handler: rejectLocations},
		{Method: "DELETE", Path: path, Rule: "kumo:image:location_methods", Handler: rejectLocations},
	}
}

// locations answers GET /v2/images/{image_id}/locations: the image's
// locations, each its url and metadata.
func (h *handlers) locations(c *api.Call) (*api.Reply, error) {
	locs, err := h.svc.Locations(c.Ctx, c.Principal, c.Param("image_id"))
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(locs))
	for i, l := range locs {
		out[i] = map[string]any{"url": l.URL, "metadata": l.Metadata}
	}
	return api.JSON(http.StatusOK, out), nil
}

// hashAlgo and hashValue are validation_data's properties.
var (
	hashAlgo  = js.Property{Name: "os_hash_algo", Schema: js.Schema{js.Type("string"), js.MaxLength(64), js.Enum("sha1", "sha256", "sha512", "md5")}}
	hashValue = js.Property{Name: "os_hash_value", Schema: js.Schema{js.Type("string"), js.MaxLength(128)}}
)

// locationSchema is Glance's get_location_schema (its add_location
// property, which the body is checked as), keywords in Glance's order.
// Unknown keys of the body are allowed; of validation_data not.
var locationSchema = js.Schema{js.Type("object"), js.Properties(
	js.Property{Name: "url", Schema: js.Schema{js.Type("string")}},
	js.Property{Name: "validation_data", Schema: js.Schema{js.Type("object"), js.NoAdditional(hashAlgo, hashValue),
		js.Properties(hashAlgo, hashValue), dependentRequired([2]string{"os_hash_value", "os_hash_algo"},
			[2]string{"os_hash_algo", "os_hash_value"})}},
), js.Required("url")}

// dependentRequired is jsonschema's "dependentRequired" keyword, one pair
// (property, the property it needs) at a time.
func dependentRequired(pairs ...[2]string) js.Keyword {
	return func(_ *js.Run, path []string, v any) *js.Failure {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, p := range pairs {
			if _, has := obj[p[0]]; !has {
				continue
			}
			if _, has := obj[p[1]]; !has {
				return js.FailAt(path, v, "'%s' is a dependency of '%s'", p[1], p[0])
			}
		}
		return nil
	}
}

// addLocation answers POST /v2/images/{image_id}/locations: 202 once the
// location_import task is recorded.
func (h *handlers) addLocation(c *api.Call) (*api.Reply, error) {
	v, order, err := glanceJSON(c)
	if err != nil {
		return nil, err
	}
	if f := locationSchema.Validate(&js.Run{Order: order}, nil, v); f != nil {
		return nil, errs.Invalid("Provided object does not match schema 'location': %s", f.Message)
	}
	body := v.(map[string]any)
	url, _ := body["url"].(string)
	val, _ := body["validation_data"].(map[string]any)
	_, err = h.svc.AddLocation(c.Ctx, c.Principal, c.Param("image_id"), image.LocationRequest{
		URL: url, ValidationData: val, RequestID: c.RequestID,
		Authorize: func(img *image.Image) error {
			// Glance's ImageTarget: project_id and owner are the image's
			// owner. The caller got the image, so a refusal is a 403.
			if !c.Allowed("add_image_location", policy.Target{"project_id": img.Owner, "owner": img.Owner}) {
				return denied("add_image_location")
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// glanceJSON reads a body as Glance's JSONRequestDeserializer does, with
// its messages.
func glanceJSON(c *api.Call) (any, js.KeyOrder, error) {
	b, err := c.Body()
	if err != nil {
		return nil, nil, err
	}
	if len(b) == 0 {
		return nil, nil, errs.Invalid("Body expected in request.")
	}
	if !json.Valid(b) {
		return nil, nil, errs.Invalid("Malformed JSON in request body.")
	}
	v, order, err := js.Decode(b)
	if err != nil {
		return nil, nil, errs.Invalid("Malformed JSON in request body.")
	}
	switch v.(type) {
	case map[string]any, []any:
		return v, order, nil
	}
	return nil, nil, errs.Invalid("Unexpected body type. Expected list/dict.")
}

// rejectLocations answers the methods the locations path lacks as
// Glance's reject_method_resource does: 405, allowing POST only.
func rejectLocations(*api.Call) (*api.Reply, error) { return methodNotAllowed("POST"), nil }
