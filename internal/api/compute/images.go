package compute

// Nova's image proxy (GET/DELETE /images): a view of the built-in image
// service in Nova's shapes, removed from microversion 2.36 on. The image
// metadata calls live in imagemetadata.go.

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/api"
	imageapi "github.com/kumocloud/kumo/internal/api/image"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/mv"
)

// Last microversions of the proxies (MAX_PROXY_API_SUPPORT_VERSION and
// MAX_IMAGE_META_PROXY_API_VERSION in Nova).
var (
	maxImageProxy     = mv.V2_35
	maxImageMetaProxy = mv.V2_38
)

// novaMaxLimit is Nova's [api] max_limit.
const novaMaxLimit = 1000

func (h *handlers) imageRoutes() []api.Route {
	return append([]api.Route{
		{Method: "GET", Path: "/images", Rule: "kumo:compute:images:list", Handler: h.listImages, MaxVer: maxImageProxy},
		{Method: "GET", Path: "/images/detail", Rule: "kumo:compute:images:list", Handler: h.listImagesDetail, MaxVer: maxImageProxy},
		{Method: "GET", Path: "/images/{image_id}", Rule: "kumo:compute:images:show", Handler: h.showImage, MaxVer: maxImageProxy},
		{Method: "DELETE", Path: "/images/{image_id}", Rule: "kumo:compute:images:delete", Handler: h.deleteImage, MaxVer: maxImageProxy},
	}, h.imageMetadataRoutes()...)
}

// novaImageError turns image service errors into the messages Nova's
// proxy answers with.
func novaImageError(err error) error {
	switch errs.KindOf(err) {
	case errs.KindNotFound:
		return errs.NotFound("Image not found.")
	case errs.KindInvalid:
		return errs.Invalid("%s", errs.Message(err))
	}
	return err
}

func (h *handlers) showImage(c *api.Call) (*api.Reply, error) {
	img, err := h.Images.Get(c.Ctx, c.Principal, c.Param("image_id"))
	if err != nil {
		return nil, novaImageError(err)
	}
	return api.JSON(http.StatusOK, map[string]any{"image": imageDetail(c, img)}), nil
}

func (h *handlers) deleteImage(c *api.Call) (*api.Reply, error) {
	err := h.Images.Delete(c.Ctx, c.Principal, c.Param("image_id"))
	if errs.Is(err, errs.KindForbidden) {
		return nil, errs.Forbidden("You are not allowed to delete the image.")
	}
	if err != nil {
		return nil, novaImageError(err)
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h *handlers) listImages(c *api.Call) (*api.Reply, error) {
	return h.imageList(c, "/images", imageBrief)
}

func (h *handlers) listImagesDetail(c *api.Call) (*api.Reply, error) {
	return h.imageList(c, "/images/detail", imageDetail)
}

func (h *handlers) imageList(c *api.Call, coll string, view func(*api.Call, *image.Image) map[string]any) (*api.Reply, error) {
	q := c.Query()
	o, limit, err := novaImageListOptions(q)
	if err != nil {
		return nil, err
	}
	page, err := h.Images.List(c.Ctx, c.Principal, o)
	if err != nil {
		return nil, novaImageError(err)
	}
	views := make([]map[string]any, 0, len(page.Images))
	for _, img := range page.Images {
		views = append(views, view(c, img))
	}
	body := map[string]any{"images": views}
	if n := len(page.Images); n > 0 && n == limit {
		body["images_links"] = []api.Link{{Rel: "next", Href: nextLink(c, coll, q, page.Images[n-1].ID)}}
	}
	return api.JSON(http.StatusOK, body), nil
}

var positiveInteger = regexp.MustCompile(`^[0-9]*$`)

// novaImageListOptions maps Nova's image filters onto the image service's
// (as Nova's glance client does) and returns the page size Nova compares
// with to decide on a next link.
func novaImageListOptions(q url.Values) (image.ListOptions, int, error) {
	o := image.ListOptions{NoLimit: true}
	limit := novaMaxLimit
	for _, key := range []string{"limit", "page_size"} {
		for _, v := range q[key] {
			if !positiveInteger.MatchString(v) || v == "" {
				return o, 0, errs.Invalid("Invalid input for query parameters %s. Value: %s. %s does not match '^[0-9]*$'", key, v, api.PyRepr(v))
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return o, 0, errs.Invalid("Invalid input for query parameters %s. Value: %s. %s is less than the minimum of 1", key, v, api.PyRepr(v))
			}
			if key == "limit" {
				o.NoLimit, o.Limit, limit = false, min(n, novaMaxLimit), min(n, novaMaxLimit)
			}
		}
	}
	o.Marker = lastValue(q, "marker")
	if v := lastValue(q, "name"); v != "" {
		o.Names = []string{v}
	}
	if v := lastValue(q, "status"); v != "" {
		o.Statuses = []string{strings.ToLower(v)}
	}
	if v := lastValue(q, "changes-since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return o, 0, errs.Invalid("Bad \"updated_at\" query filter format. Use ISO 8601 DateTime notation.")
		}
		o.UpdatedAt = []image.TimeFilter{{Op: "gte", At: t}}
	}
	for _, f := range []struct {
		key string
		dst **int
	}{{"minRam", &o.MinRAM}, {"minDisk", &o.MinDisk}} {
		if v := lastValue(q, f.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, 0, errs.Invalid("Invalid value '%s' for '%s' filter", v, f.key)
			}
			*f.dst = &n
		}
	}
	props := map[string]string{}
	if v := lastValue(q, "server"); v != "" {
		props["instance_uuid"] = v[strings.LastIndexByte(v, '/')+1:]
	}
	if v := lastValue(q, "type"); v != "" {
		props["image_type"] = v
	}
	for k := range q {
		if name, ok := strings.CutPrefix(k, "property-"); ok {
			props[name] = lastValue(q, k)
		}
	}
	if len(props) > 0 {
		o.Properties = props
	}
	return o, limit, nil
}

// novaImageStatus is Nova's view of a Glance status.
func novaImageStatus(status string) string {
	switch status {
	case image.StatusActive:
		return "ACTIVE"
	case image.StatusQueued, image.StatusSaving:
		return "SAVING"
	case image.StatusDeleted, "pending_delete":
		return "DELETED"
	case image.StatusKilled:
		return "ERROR"
	}
	return "UNKNOWN"
}

func novaImageProgress(status string) int {
	switch status {
	case image.StatusQueued:
		return 25
	case image.StatusSaving:
		return 50
	case image.StatusActive:
		return 100
	}
	return 0
}

// imageLinks are the self, bookmark and alternate (image service) links.
func imageLinks(c *api.Call, id string) []api.Link {
	path := "/images/" + id
	return []api.Link{
		{Href: c.Link(path), Rel: "self"},
		{Href: bookmarkLink(c, path), Rel: "bookmark"},
		{Href: imageServiceOrigin(c) + imageapi.Mount + path, Rel: "alternate", Type: "application/vnd.openstack.image"},
	}
}

// imageServiceOrigin is the compute endpoint without its version
// segment: kumo serves the image API beside it.
func imageServiceOrigin(c *api.Call) string {
	base := c.BaseURL
	if i := strings.LastIndexByte(base, '/'); i >= 0 && strings.HasPrefix(base[i+1:], "v") {
		base = base[:i]
	}
	return base
}

func imageBrief(c *api.Call, img *image.Image) map[string]any {
	return map[string]any{"id": img.ID, "name": img.Name, "links": imageLinks(c, img.ID)}
}

func imageDetail(c *api.Call, img *image.Image) map[string]any {
	size := int64(0)
	if img.Size != nil {
		size = *img.Size
	}
	d := map[string]any{
		"id": img.ID, "name": img.Name, "minRam": img.MinRAM, "minDisk": img.MinDisk,
		"metadata": img.Properties, "created": novaTime(img.CreatedAt), "updated": novaTime(img.UpdatedAt),
		"status": novaImageStatus(img.Status), "progress": novaImageProgress(img.Status),
		"OS-EXT-IMG-SIZE:size": size, "links": imageLinks(c, img.ID),
	}
	if server, ok := img.Properties["instance_uuid"]; ok {
		path := "/servers/" + server
		d["server"] = map[string]any{"id": server, "links": []api.Link{
			{Href: c.Link(path), Rel: "self"},
			{Href: bookmarkLink(c, path), Rel: "bookmark"},
		}}
	}
	if v, ok := img.Properties["auto_disk_config"]; ok {
		d["OS-DCF:diskConfig"] = "MANUAL"
		if pyBool(v) {
			d["OS-DCF:diskConfig"] = "AUTO"
		}
	}
	return d
}

// pyBool is oslo's bool_from_string for the values Nova accepts as true.
func pyBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

func novaTime(us int64) string { return time.UnixMicro(us).UTC().Format(time.RFC3339) }
