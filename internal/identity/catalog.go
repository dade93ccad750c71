package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Region is the one region kumo serves.
const Region = "RegionOne"

// Interfaces are the endpoint interfaces every service has.
var interfaces = [...]string{"public", "internal", "admin"}

// CatalogService is one service in the catalog with its endpoints.
type CatalogService struct {
	ID          string
	Type        string
	Name        string
	Description string
	Endpoints   []Endpoint
}

// Endpoint is one URL of a service.
type Endpoint struct {
	ID        string
	ServiceID string
	Interface string
	RegionID  string
	URL       string
}

// catalogEntry describes a built-in service: its type, name and the path
// it is served under.
type catalogEntry struct {
	typ, name, description, path string
}

func catalogEntries() []catalogEntry {
	return []catalogEntry{
		{"compute", "nova", "Compute Service", "/v2.1"},
		{"identity", "keystone", "Identity Service", "/identity/v3"},
		{"image", "glance", "Image Service", "/image"},
		{"network", "neutron", "Neutron Service", "/networking"},
		// As DevStack's lib/cinder registers block storage: the official
		// type and the volumev3 alias older clients look up, both at
		// /volume/v3/$(project_id)s.
		{"block-storage", "cinder", "Cinder Volume Service", "/volume/v3/$(project_id)s"},
		{"volumev3", "cinderv3", "Cinder Volume Service V3", "/volume/v3/$(project_id)s"},
	}
}

// ScopedURL is an endpoint URL as a token's catalog shows it: Keystone
// substitutes $(project_id)s and $(tenant_id)s with the token's project
// and leaves out an endpoint it cannot complete (ok false).
func ScopedURL(url, projectID string) (string, bool) {
	if !strings.Contains(url, "$(project_id)s") && !strings.Contains(url, "$(tenant_id)s") {
		return url, true
	}
	if projectID == "" {
		return "", false
	}
	return strings.NewReplacer("$(project_id)s", projectID, "$(tenant_id)s", projectID).Replace(url), true
}

// stableID derives a 32-hex id from a name, so catalog ids never change.
func stableID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:16])
}

// Catalog returns kumo's service catalog with URLs under origin
// (scheme://host[:port][/prefix]).
func Catalog(origin string) []CatalogService {
	origin = strings.TrimRight(origin, "/")
	var out []CatalogService
	for _, e := range catalogEntries() {
		svc := CatalogService{ID: stableID("service", e.typ), Type: e.typ, Name: e.name, Description: e.description}
		for _, iface := range interfaces {
			svc.Endpoints = append(svc.Endpoints, Endpoint{
				ID: stableID("endpoint", e.typ, iface), ServiceID: svc.ID,
				Interface: iface, RegionID: Region, URL: origin + e.path,
			})
		}
		out = append(out, svc)
	}
	return out
}

// ServiceID is the catalog id of the built-in service of a type
// ("compute", "identity", "image"); unified limits refer to it.
func ServiceID(typ string) string { return stableID("service", typ) }

// ServiceExists reports whether id is the id of a catalog service.
func ServiceExists(id string) bool {
	for _, e := range catalogEntries() {
		if ServiceID(e.typ) == id {
			return true
		}
	}
	return false
}
