package compute

// Nova's image metadata proxy (/images/{image_id}/metadata), removed from
// microversion 2.39 on: image properties as Nova metadata, with Nova's
// schema and its metadata_items quota.

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

// imageMetadataQuota is Nova's default metadata_items quota.
const imageMetadataQuota = 128

var (
	imageMetaKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9\-_:. ]{1,255}$`)
	imageMetaKeyShown   = "^[a-zA-Z0-9-_:. ]{1,255}$"
)

func (h *handlers) imageMetadataRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/images/{image_id}/metadata", Rule: "kumo:compute:images:show", Handler: h.listImageMetadata, MaxVer: maxImageMetaProxy},
		{Method: "POST", Path: "/images/{image_id}/metadata", Rule: "kumo:compute:images:modify", Handler: h.mergeImageMetadata, MaxVer: maxImageMetaProxy},
		{Method: "PUT", Path: "/images/{image_id}/metadata", Rule: "kumo:compute:images:modify", Handler: h.replaceImageMetadata, MaxVer: maxImageMetaProxy},
		{Method: "GET", Path: "/images/{image_id}/metadata/{key}", Rule: "kumo:compute:images:show", Handler: h.showImageMetadataItem, MaxVer: maxImageMetaProxy},
		{Method: "PUT", Path: "/images/{image_id}/metadata/{key}", Rule: "kumo:compute:images:modify", Handler: h.setImageMetadataItem, MaxVer: maxImageMetaProxy},
		{Method: "DELETE", Path: "/images/{image_id}/metadata/{key}", Rule: "kumo:compute:images:modify", Handler: h.deleteImageMetadataItem, MaxVer: maxImageMetaProxy},
	}
}

// imageProperties reads an image's properties for the caller.
func (h *handlers) imageProperties(c *api.Call) (map[string]string, error) {
	img, err := h.Images.Get(c.Ctx, c.Principal, c.Param("image_id"))
	if err != nil {
		return nil, novaImageError(err)
	}
	return img.Properties, nil
}

// saveImageProperties replaces the image's properties after Nova's quota
// check, translating the image service's refusals as Nova's proxy does.
func (h *handlers) saveImageProperties(c *api.Call, props map[string]string) (map[string]string, error) {
	if len(props) > imageMetadataQuota {
		return nil, errs.Forbidden("Image metadata limit exceeded")
	}
	img, err := h.Images.SetProperties(c.Ctx, c.Principal, c.Param("image_id"), props)
	if err != nil {
		if errs.Is(err, errs.KindTooLarge) {
			return nil, errs.Forbidden("Image metadata limit exceeded")
		}
		return nil, novaImageError(err)
	}
	return img.Properties, nil
}

// decodeImageMetadata validates a {"<wrapper>": {key: value}} body with
// Nova's metadata schema (string values of at most 255 characters, keys
// of [a-zA-Z0-9-_:. ]); single requires exactly one item.
func decodeImageMetadata(c *api.Call, wrapper string, single bool) (map[string]string, error) {
	body, err := decodeAny(c)
	if err != nil {
		return nil, err
	}
	var e schemaErrors
	obj := e.checkObject(nil, body, []string{wrapper}, []string{wrapper})
	if err := e.err(); err != nil || obj == nil {
		return nil, err
	}
	raw := obj[wrapper]
	path := []string{wrapper}
	meta, ok := raw.(map[string]any)
	if !ok {
		e.add(path, raw, fmt.Sprintf("%s is not of type 'object'", api.PyRepr(raw)))
		return nil, e.err()
	}
	if single && len(meta) < 1 {
		e.add(path, raw, fmt.Sprintf("%s does not have enough properties", api.PyRepr(raw)))
	}
	if single && len(meta) > 1 {
		e.add(path, raw, fmt.Sprintf("%s has too many properties", api.PyRepr(raw)))
	}
	out := map[string]string{}
	var bad []string
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		v := meta[k]
		if !imageMetaKeyPattern.MatchString(k) {
			bad = append(bad, api.PyRepr(k))
			continue
		}
		vp := []string{wrapper, k}
		if e.checkType(vp, v, "string") {
			e.checkLength(vp, v, 0, 255)
			out[k] = v.(string)
		}
	}
	if len(bad) > 0 {
		verb := "does"
		if len(bad) > 1 {
			verb = "do"
		}
		e.add(path, raw, fmt.Sprintf("%s %s not match any of the regexes: %s", strings.Join(bad, ", "), verb, api.PyRepr(imageMetaKeyShown)))
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (h *handlers) listImageMetadata(c *api.Call) (*api.Reply, error) {
	props, err := h.imageProperties(c)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"metadata": props}), nil
}

// mergeImageMetadata answers POST: the given items are added to (or
// replace) the existing ones.
func (h *handlers) mergeImageMetadata(c *api.Call) (*api.Reply, error) {
	meta, err := decodeImageMetadata(c, "metadata", false)
	if err != nil {
		return nil, err
	}
	props, err := h.imageProperties(c)
	if err != nil {
		return nil, err
	}
	merged := maps.Clone(props)
	maps.Copy(merged, meta)
	saved, err := h.saveImageProperties(c, merged)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"metadata": saved}), nil
}

// replaceImageMetadata answers PUT: the given items become all of them.
func (h *handlers) replaceImageMetadata(c *api.Call) (*api.Reply, error) {
	meta, err := decodeImageMetadata(c, "metadata", false)
	if err != nil {
		return nil, err
	}
	if _, err := h.imageProperties(c); err != nil {
		return nil, err
	}
	if _, err := h.saveImageProperties(c, meta); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"metadata": meta}), nil
}

func (h *handlers) showImageMetadataItem(c *api.Call) (*api.Reply, error) {
	props, err := h.imageProperties(c)
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	v, ok := props[key]
	if !ok {
		return nil, errs.NotFound("The resource could not be found.")
	}
	return api.JSON(http.StatusOK, map[string]any{"meta": map[string]string{key: v}}), nil
}

// setImageMetadataItem answers PUT on a key; the body's one key must be
// the URL's.
func (h *handlers) setImageMetadataItem(c *api.Call) (*api.Reply, error) {
	meta, err := decodeImageMetadata(c, "meta", true)
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	v, ok := meta[key]
	if !ok {
		return nil, errs.Invalid("Request body and URI mismatch")
	}
	props, err := h.imageProperties(c)
	if err != nil {
		return nil, err
	}
	updated := maps.Clone(props)
	updated[key] = v
	if _, err := h.saveImageProperties(c, updated); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"meta": meta}), nil
}

func (h *handlers) deleteImageMetadataItem(c *api.Call) (*api.Reply, error) {
	props, err := h.imageProperties(c)
	if err != nil {
		return nil, err
	}
	key := c.Param("key")
	if _, ok := props[key]; !ok {
		return nil, errs.NotFound("Invalid metadata key")
	}
	rest := maps.Clone(props)
	delete(rest, key)
	if _, err := h.saveImageProperties(c, rest); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}
