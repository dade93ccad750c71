package image

import (
	"mime"
	"net/http"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
)

func (h *handlers) dataRoutes() []api.Route {
	return []api.Route{
		{Method: "PUT", Path: "/v2/images/{image_id}/file", Rule: "upload_image", Handler: h.upload},
		{Method: "GET", Path: "/v2/images/{image_id}/file", Rule: "download_image", Handler: h.download},
	}
}

// upload answers PUT /v2/images/{image_id}/file: the body streams to the
// image service, never buffered whole.
func (h *handlers) upload(c *api.Call) (*api.Reply, error) {
	if err := checkOctetStream(c); err != nil {
		return nil, err
	}
	expected, err := declaredSize(c)
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.Upload(c.Ctx, c.Principal, c.Param("image_id"), c.Req.Body, expected); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// download answers GET /v2/images/{image_id}/file: 200 with the data, or
// 204 when the image has none yet.
func (h *handlers) download(c *api.Call) (*api.Reply, error) {
	d, err := h.svc.Open(c.Ctx, c.Principal, c.Param("image_id"))
	if err != nil {
		return nil, err
	}
	if d == nil {
		return api.NoContent(http.StatusNoContent), nil
	}
	r := &api.Reply{Status: http.StatusOK, Stream: d, ContentType: "application/octet-stream"}
	r.WithHeader("Content-Length", strconv.FormatInt(d.Size, 10))
	if d.Checksum != "" {
		// Glance sends the hex md5, the value clients compare with
		// the image's checksum.
		r.WithHeader("Content-MD5", d.Checksum)
	}
	return r, nil
}

// checkOctetStream refuses image data sent as anything but
// application/octet-stream (415).
func checkOctetStream(c *api.Call) error {
	if mt, _, _ := mime.ParseMediaType(c.Req.Header.Get("Content-Type")); mt != "application/octet-stream" {
		return errs.UnsupportedMedia("Content-Type must be application/octet-stream")
	}
	return nil
}

// declaredSize is the data's declared size, -1 when chunked. It lets
// the quota and the disk reserve refuse an upload before its data is
// read, as Glance does with the request's length; a chunked upload is
// cut off where it goes over.
func declaredSize(c *api.Call) (int64, error) {
	expected := c.Req.ContentLength
	if v := c.Req.Header.Get("x-openstack-image-size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, errs.Invalid("Invalid x-openstack-image-size header: %s", v)
		}
		expected = n
	}
	return expected, nil
}
