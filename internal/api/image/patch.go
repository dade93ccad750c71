package image

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
)

// Patch media types and the JSON-schema draft each follows.
const (
	patchV20 = "application/openstack-images-v2.0-json-patch"
	patchV21 = "application/openstack-images-v2.1-json-patch"
)

// patch answers PATCH /v2/images/{image_id}.
func (h *handlers) patch(c *api.Call) (*api.Reply, error) {
	mt, _, _ := mime.ParseMediaType(c.Req.Header.Get("Content-Type"))
	if mt != patchV20 && mt != patchV21 {
		allowed := patchV20 + ", " + patchV21
		ct, body := api.GlanceError(http.StatusUnsupportedMediaType, "Image PATCH expects Content-Type one of: "+allowed)
		r := &api.Reply{Status: http.StatusUnsupportedMediaType, Raw: body, ContentType: ct}
		return r.WithHeader("Accept-Patch", allowed), nil
	}
	raw, err := c.Body()
	if err != nil {
		return nil, err
	}
	ops, err := parsePatch(raw, mt == patchV20)
	if err != nil {
		return nil, err
	}
	img, err := h.svc.Patch(c.Ctx, c.Principal, c.Param("image_id"), ops)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, imageView(img)), nil
}

// parsePatch reads a JSON-patch body: draft 10 objects ({"op", "path",
// "value"}) for v2.1, draft 4 objects ({"replace": path, "value"}) for
// v2.0. Only top-level attributes may be addressed.
func parsePatch(raw []byte, draft4 bool) ([]image.PatchOp, error) {
	// json.Valid first: the decoder alone accepts a stray "]" or "}"
	// after the array, which Glance's json.loads refuses.
	if !json.Valid(raw) {
		return nil, errs.Invalid("Malformed JSON in request body.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil {
		return nil, errs.Invalid("Malformed JSON in request body.")
	}
	list, ok := body.([]any)
	if !ok {
		return nil, errs.Invalid("Request body must be a JSON array of operation objects.")
	}
	ops := make([]image.PatchOp, 0, len(list))
	for _, item := range list {
		change, ok := item.(map[string]any)
		if !ok {
			return nil, errs.Invalid("Operations must be JSON objects.")
		}
		op, path, err := opAndPath(change, draft4)
		if err != nil {
			return nil, err
		}
		segs, err := decodePointer(path)
		if err != nil {
			return nil, err
		}
		if len(segs) != pathDepth(segs[0], op) {
			return nil, errs.Invalid("Invalid JSON pointer for this resource: '/%s'", strings.Join(segs, "/"))
		}
		p := image.PatchOp{Op: op, Attr: segs[0], Strict: draft4}
		if op != "remove" {
			v, ok := change["value"]
			if !ok {
				return nil, errs.Invalid("Operation \"%s\" requires a member named \"value\".", op)
			}
			p.Value = v
			if p.Attr == "locations" {
				if err := checkLocationsValue(v, len(segs) == 2); err != nil {
					return nil, err
				}
			}
		}
		ops = append(ops, p)
	}
	return ops, nil
}

var patchOps = []string{"add", "remove", "replace"}

// pathDepth is Glance's _path_depth_limits: a location is added or
// removed at a position (/locations/N or /locations/-), the list is
// replaced whole; every other path names a top-level attribute.
func pathDepth(root, op string) int {
	if root == "locations" && op != "replace" {
		return 2
	}
	return 1
}

// locationItem is a location of Glance's image schema.
var locationItem = js.Schema{js.Type("object"), js.Properties(
	js.Property{Name: "url", Schema: js.Schema{js.Type("string"), js.MaxLength(255)}},
	js.Property{Name: "metadata", Schema: js.Schema{js.Type("object")}},
	js.Property{Name: "validation_data", Schema: js.Schema{js.Type("object"), js.NoAdditional(locationValidationData...),
		js.Properties(locationValidationData...), js.Required("os_hash_algo", "os_hash_value")}},
), js.Required("url", "metadata")}

var locationValidationData = []js.Property{
	{Name: "checksum", Schema: js.Schema{js.Type("string"), js.MinLength(32), js.MaxLength(32)}},
	{Name: "os_hash_algo", Schema: js.Schema{js.Type("string"), js.MaxLength(64)}},
	{Name: "os_hash_value", Schema: js.Schema{js.Type("string"), js.MaxLength(128)}},
}

// checkLocationsValue is Glance's _validate_change for locations: the
// value checked as the image schema's locations, a list (one location
// when added at a position).
func checkLocationsValue(v any, one bool) error {
	if one {
		v = []any{v}
	}
	if f := (js.Schema{js.Type("array"), js.Items(locationItem)}).Validate(&js.Run{}, nil, v); f != nil {
		return errs.Invalid("Provided object does not match schema 'image': %s", f.Message)
	}
	return nil
}

func opAndPath(change map[string]any, draft4 bool) (op, path string, err error) {
	if draft4 {
		for _, name := range patchOps {
			if v, ok := change[name]; ok {
				if op != "" {
					return "", "", errs.Invalid("Operation objects must contain only one member named \"add\", \"remove\", or \"replace\".")
				}
				op, path = name, asString(v)
			}
		}
		if op == "" {
			return "", "", errs.Invalid("Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".")
		}
		return op, path, nil
	}
	rawOp, ok := change["op"]
	if !ok {
		return "", "", errs.Invalid("Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.")
	}
	op = asString(rawOp)
	if op != "add" && op != "remove" && op != "replace" {
		return "", "", errs.Invalid("Invalid operation: `%s`. It must be one of the following: add, remove, replace.", op)
	}
	rawPath, ok := change["path"]
	if !ok {
		return "", "", errs.Invalid("Unable to find 'path' in JSON Schema change")
	}
	return op, asString(rawPath), nil
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

var (
	adjacentSlashes = regexp.MustCompile(`/\s*?/`)
	badEscape       = regexp.MustCompile(`~[^01]`)
)

// decodePointer validates and splits a JSON pointer as Glance does.
func decodePointer(p string) ([]string, error) {
	switch {
	case !strings.HasPrefix(p, "/"):
		return nil, errs.Invalid("Pointer `%s` does not start with \"/\".", p)
	case adjacentSlashes.MatchString(p[1:]):
		return nil, errs.Invalid("Pointer `%s` contains adjacent \"/\".", p)
	case len(p) > 1 && strings.HasSuffix(p, "/"):
		return nil, errs.Invalid("Pointer `%s` end with \"/\".", p)
	case strings.TrimSpace(p[1:]) == "/":
		return nil, errs.Invalid("Pointer `%s` does not contains valid token.", p)
	case badEscape.MatchString(p) || strings.HasSuffix(p, "~"):
		return nil, errs.Invalid("Pointer `%s` contains \"~\" not part of a recognized escape sequence.", p)
	}
	var out []string
	for _, part := range strings.Split(strings.TrimLeft(p, "/"), "/") {
		out = append(out, strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")))
	}
	return out, nil
}
