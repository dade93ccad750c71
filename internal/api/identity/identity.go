// Package identity serves the Keystone v3 subset under /identity.
package identity

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/identity"
)

// Mount is where the identity API is served.
const Mount = "/identity"

// NewService returns the identity API service.
func NewService(svc *identity.Service, o api.Options) *api.Service {
	return &api.Service{
		Name: "identity", Mount: Mount, Router: api.NewRouter(nil), Auth: o.Auth,
		AuthURL: o.AuthURL, Errors: api.KeystoneError, PublicURL: o.PublicURL, Log: o.Log,
	}
}
