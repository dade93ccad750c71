// Package blockstorage serves a Cinder v3 subset under /volume, from the
// block storage domain (internal/volume).
//
// Two services share the prefix, as Cinder's paste pipeline does: the
// version list at /volume/ and the v3 API at /volume/v3, where every
// path may start with the caller's project id (Cinder's routes are
// connected with and without it; 3.67 only documents the shorter form).
// Both negotiate Cinder's microversions (OpenStack-API-Version: volume
// 3.x) and answer errors with Cinder's fault bodies.
package blockstorage

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/volume"
)

// Mount is where the block storage API is served; the catalog's
// endpoints point at Mount/v3/$(project_id)s.
const Mount = "/volume"

// V3Mount is the v3 API's prefix.
const V3Mount = Mount + "/v3"

// Deps are the domain services the API serves from.
type Deps struct {
	Volumes *volume.Service
}

// NewServices returns the v3 API service and the version list served at
// Mount.
func NewServices(d Deps, o api.Options) (v3, root *api.Service) {
	supported := mv.VolumeSupported()
	scheme := mv.Volume(supported)
	base := api.Service{
		Auth: o.Auth, AuthURL: o.AuthURL, PublicURL: o.PublicURL, Log: o.Log,
		Errors: api.NovaFault, ErrorBody: faultBody, ErrorHeaders: faultHeaders, StatusOf: statusOf,
		Versions: &supported, Scheme: scheme, Policy: policy.Volume(), Target: api.CallerTarget, Denied: denied,
	}
	h := &handlers{vols: d.Volumes}
	v3s, rootSvc := base, base
	v3s.Name, v3s.Mount, v3s.Router = "volume", V3Mount, api.NewRouter(h.routes())
	v3s.ProjectInPath = true
	// Cinder's router, like Nova's, has no route for a path ending in a
	// slash: DELETE /volumes/ is a missing volume.
	v3s.NoTrailingSlash = true
	v3s.ProjectMismatch = func(string, string) error { return errs.Invalid("Malformed request url") }
	rootSvc.Name, rootSvc.Mount, rootSvc.Router = "volume-versions", Mount, api.NewRouter(rootRoutes())
	return &v3s, &rootSvc
}

// Handler routes Mount: the v3 API below V3Mount, the version list at
// the root.
func Handler(v3, root *api.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == V3Mount || strings.HasPrefix(r.URL.Path, V3Mount+"/") {
			v3.ServeHTTP(w, r)
			return
		}
		root.ServeHTTP(w, r)
	})
}

// Routes is the v3 route table (for documentation and tests).
func Routes(d Deps) []api.Route { return (&handlers{vols: d.Volumes}).routes() }

// handlers serve the v3 API from the domain.
type handlers struct {
	vols *volume.Service
}

// routes is the v3 route table, relative to V3Mount.
func (h *handlers) routes() []api.Route {
	var rs []api.Route
	rs = append(rs, versionRoutes()...)
	rs = append(rs, h.volumeRoutes()...)
	rs = append(rs, h.attachmentRoutes()...)
	rs = append(rs, h.snapshotRoutes()...)
	rs = append(rs, h.backupRoutes()...)
	rs = append(rs, h.transferRoutes()...)
	rs = append(rs, h.typeRoutes()...)
	rs = append(rs, h.encryptionRoutes()...)
	rs = append(rs, h.qosRoutes()...)
	rs = append(rs, h.quotaRoutes()...)
	rs = append(rs, h.miscRoutes()...)
	rs = append(rs, h.poolRoutes()...)
	rs = append(rs, h.serviceRoutes()...)
	rs = append(rs, h.manageRoutes()...)
	return rs
}
