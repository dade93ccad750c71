// Package image serves the Glance v2 subset under /image.
package image

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/image"
)

// Mount is where the image API is served.
const Mount = "/image"

// NewService returns the image API service.
func NewService(svc *image.Service, o api.Options) *api.Service {
	return &api.Service{
		Name: "image", Mount: Mount, Router: api.NewRouter(nil), Auth: o.Auth,
		AuthURL: o.AuthURL, Errors: api.GlanceError, PublicURL: o.PublicURL, Log: o.Log,
	}
}
