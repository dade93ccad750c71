// Package image serves the Glance v2 subset under /image.
package image

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/policy"
)

// Mount is where the image API is served.
const Mount = "/image"

// NewService returns the image API service.
func NewService(svc *image.Service, o api.Options) *api.Service {
	return &api.Service{
		Name: "image", Mount: Mount, Router: api.NewRouter(Routes(svc)), Auth: o.Auth,
		AuthURL: o.AuthURL, Errors: api.GlanceError, PublicURL: o.PublicURL, Log: o.Log,
		Policy: policy.Image(), Denied: denied, Target: api.CallerTarget,
		Conceal: func(c *api.Call) error { return conceal(c, svc) },
		Text:    api.TextRules{QueryNotUTF8: undecodable, QueryNUL: func(string, string) string { return undecodable }, BadBody: undecodable},
	}
}

// undecodable is glance/common/wsgi.py's 400 for a UnicodeDecodeError
// from the query or the body; kumo gives it for a NUL too, which no
// database column can hold.
const undecodable = "Error decoding your request. Either the URL or the request body contained characters that could not be decoded by Glance"

// denied is Glance's 403 for a failed rule.
func denied(rule string) error {
	return errs.Forbidden("You are not authorized to complete %s action.", rule)
}

// conceal answers a refused call about an image the caller may not get
// with Glance's 404: Glance turns a refusal into NotFound unless the
// caller passes get_image.
func conceal(c *api.Call, svc *image.Service) error {
	if id := c.Param("image_id"); id != "" {
		if _, err := svc.Get(c.Ctx, c.Principal, id); errs.Is(err, errs.KindNotFound) {
			return err
		}
	}
	// Glance looks a namespace up before its policy check: one the
	// caller does not see is "not found".
	if ns := c.Param("namespace_name"); ns != "" {
		visible, err := svc.NamespaceVisible(c.Ctx, c.Principal, ns)
		if err != nil {
			return err
		}
		if !visible {
			return image.NamespaceNotFound(ns)
		}
	}
	return nil
}

// Routes is the image route table, relative to Mount.
func Routes(svc *image.Service) []api.Route {
	h := &handlers{svc: svc}
	var rs []api.Route
	rs = append(rs, versionRoutes()...)
	rs = append(rs, h.imageRoutes()...)
	rs = append(rs, h.dataRoutes()...)
	rs = append(rs, h.memberRoutes()...)
	rs = append(rs, schemaRoutes()...)
	rs = append(rs, h.metadefRoutes()...)
	rs = append(rs, metadefSchemaRoutes()...)
	rs = append(rs, h.infoRoutes()...)
	rs = append(rs, h.importRoutes()...)
	rs = append(rs, h.locationRoutes()...)
	return rs
}
