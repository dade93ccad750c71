package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// schemaCatalog stores Keystone's catalog (regions, services, endpoints),
// its endpoint filter (project endpoint associations, endpoint groups and
// their projects) and policies, and seeds the catalog with kumo's own
// services as it served them before they were stored: same ids, names
// and URLs. kumo's own endpoint URLs are kept as paths ("/v2.1"), which
// the identity service resolves against kumo's public URL when it shows
// them, so they follow the listen address across restarts; a URL an
// admin sets is absolute (Keystone's schema wants a scheme) and kept as
// given. credentials gains Keystone's extra attributes.
var schemaCatalog = migration{43, "catalog", append([]string{
	`CREATE TABLE catalog_regions (
		id TEXT PRIMARY KEY,
		description TEXT NOT NULL DEFAULT '',
		parent_region_id TEXT,
		extra TEXT NOT NULL DEFAULT '{}',
		created_at BIGINT NOT NULL)`,
	`CREATE INDEX catalog_regions_parent ON catalog_regions (parent_region_id)`,
	`CREATE TABLE catalog_services (
		id TEXT PRIMARY KEY,
		type TEXT NOT NULL,
		enabled BOOLEAN NOT NULL DEFAULT TRUE,
		extra TEXT NOT NULL DEFAULT '{}',
		created_at BIGINT NOT NULL)`,
	`CREATE TABLE catalog_endpoints (
		id TEXT PRIMARY KEY,
		service_id TEXT NOT NULL REFERENCES catalog_services(id),
		region_id TEXT REFERENCES catalog_regions(id),
		interface TEXT NOT NULL,
		url TEXT NOT NULL,
		enabled BOOLEAN NOT NULL DEFAULT TRUE,
		extra TEXT NOT NULL DEFAULT '{}',
		created_at BIGINT NOT NULL)`,
	`CREATE INDEX catalog_endpoints_service ON catalog_endpoints (service_id)`,
	`CREATE INDEX catalog_endpoints_region ON catalog_endpoints (region_id)`,
	`CREATE TABLE project_endpoints (
		endpoint_id TEXT NOT NULL,
		project_id TEXT NOT NULL,
		PRIMARY KEY (endpoint_id, project_id))`,
	`CREATE INDEX project_endpoints_project ON project_endpoints (project_id)`,
	`CREATE TABLE endpoint_groups (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		description TEXT,
		filters TEXT NOT NULL,
		created_at BIGINT NOT NULL)`,
	`CREATE TABLE project_endpoint_groups (
		endpoint_group_id TEXT NOT NULL,
		project_id TEXT NOT NULL,
		PRIMARY KEY (endpoint_group_id, project_id))`,
	`CREATE INDEX project_endpoint_groups_project ON project_endpoint_groups (project_id)`,
	`CREATE TABLE policies (
		id TEXT PRIMARY KEY,
		type TEXT NOT NULL,
		blob TEXT NOT NULL,
		extra TEXT NOT NULL DEFAULT '{}',
		created_at BIGINT NOT NULL)`,
	`ALTER TABLE credentials ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'`,
}, catalogSeed()...)}

// catalogSeed inserts kumo's own region, services and endpoints; ids are
// the ones kumo derived before the catalog was stored (identity's
// stableID), so tokens and registered limits keep naming the same ones.
func catalogSeed() []string {
	id := func(parts ...string) string {
		sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
		return hex.EncodeToString(sum[:16])
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	out := []string{`INSERT INTO catalog_regions (id, description, created_at) VALUES ('RegionOne', '', 0)`}
	// As DevStack's lib/cinder registers block storage: the official type
	// and the volumev3 alias older clients look up.
	services := []struct{ typ, name, description, path string }{
		{"compute", "nova", "Compute Service", "/v2.1"},
		{"identity", "keystone", "Identity Service", "/identity/v3"},
		{"image", "glance", "Image Service", "/image"},
		{"network", "neutron", "Neutron Service", "/networking"},
		{"block-storage", "cinder", "Cinder Volume Service", "/volume/v3/$(project_id)s"},
		{"volumev3", "cinderv3", "Cinder Volume Service V3", "/volume/v3/$(project_id)s"},
	}
	for i, s := range services {
		sid := id("service", s.typ)
		extra := fmt.Sprintf(`{"name": %q, "description": %q}`, s.name, s.description)
		out = append(out, fmt.Sprintf(`INSERT INTO catalog_services (id, type, enabled, extra, created_at) VALUES (%s, %s, TRUE, %s, %d)`,
			q(sid), q(s.typ), q(extra), i))
		for j, iface := range []string{"public", "internal", "admin"} {
			out = append(out, fmt.Sprintf(`INSERT INTO catalog_endpoints (id, service_id, region_id, interface, url, enabled, created_at)
				VALUES (%s, %s, 'RegionOne', %s, %s, TRUE, %d)`, q(id("endpoint", s.typ, iface)), q(sid), q(iface), q(s.path), i*3+j))
		}
	}
	return out
}
