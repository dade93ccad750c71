package identity

// The service catalog, stored as Keystone's catalog SQL backend keeps it:
// regions, services and endpoints admins may create, update and delete,
// seeded by migration 41 with kumo's own services. kumo's own endpoint
// URLs are stored as paths and resolved against kumo's public URL when
// shown (ResolveURL), so they follow the listen address across restarts.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Region is the region kumo seeds its own endpoints in.
const Region = "RegionOne"

// CatalogRegion is a region of the catalog.
type CatalogRegion struct {
	ID             string
	Description    string
	ParentRegionID string // "" when none
	Extra          map[string]any
}

// CatalogService is one service in the catalog with, in a token's
// catalog, its endpoints. Name, description and any other attribute
// Keystone does not define live in Extra, as in Keystone's service table.
type CatalogService struct {
	ID        string
	Type      string
	Enabled   bool
	Extra     map[string]any
	Endpoints []Endpoint
}

// Name is the service's name ("" when it has none).
func (s *CatalogService) Name() string {
	n, _ := s.Extra["name"].(string)
	return n
}

// Endpoint is one URL of a service.
type Endpoint struct {
	ID        string
	ServiceID string
	Interface string
	RegionID  string // "" when none
	URL       string // a path ("/v2.1") for kumo's own: see ResolveURL
	Enabled   bool
	Extra     map[string]any
}

// ResolveURL is an endpoint URL as clients see it: kumo's own endpoints
// store a path, which is relative to origin (kumo's public URL); other
// URLs are absolute and returned as stored.
func ResolveURL(origin, url string) string {
	if strings.HasPrefix(url, "/") {
		return strings.TrimRight(origin, "/") + url
	}
	return url
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

// stableID derives a 32-hex id from a name: the ids of kumo's seeded
// services and endpoints.
func stableID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:16])
}

// ServiceID is the catalog id of kumo's seeded service of a type
// ("compute", "identity", "image"); unified limits refer to it.
func ServiceID(typ string) string { return stableID("service", typ) }

func catalogValidation(attribute, target string) error { return validationError(attribute, target) }

// --- regions ---

const regionColumns = `id, description, parent_region_id, extra`

func scanRegion(row interface{ Scan(...any) error }) (*CatalogRegion, error) {
	var r CatalogRegion
	var parent sql.NullString
	var extra string
	if err := row.Scan(&r.ID, &r.Description, &parent, &extra); err != nil {
		return nil, err
	}
	r.ParentRegionID = parent.String
	var err error
	if r.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("region %s: %w", r.ID, err)
	}
	return &r, nil
}

func getRegion(ctx context.Context, q store.Querier, id string) (*CatalogRegion, error) {
	r, err := scanRegion(q.QueryRowContext(ctx, `SELECT `+regionColumns+` FROM catalog_regions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("region", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get region %s: %w", id, err)
	}
	return r, nil
}

// GetRegion returns a region.
func (s *Service) GetRegion(ctx context.Context, id string) (*CatalogRegion, error) {
	return getRegion(ctx, s.db, id)
}

// ListRegions lists regions, oldest first, optionally those with a parent.
func (s *Service) ListRegions(ctx context.Context, parentID *string) ([]CatalogRegion, error) {
	q, args := `SELECT `+regionColumns+` FROM catalog_regions`, []any{}
	if parentID != nil {
		q, args = q+` WHERE parent_region_id = ?`, append(args, *parentID)
	}
	return listRows(ctx, s.db, "regions", q+` ORDER BY created_at, id`, args, scanRegion)
}

// CreateRegion creates a region; an empty id gets a generated one. A
// taken id is Keystone's 409, a missing parent its 404.
func (s *Service) CreateRegion(ctx context.Context, r CatalogRegion) (*CatalogRegion, error) {
	if r.ID == "" {
		r.ID = newID()
	}
	extra, err := encodeExtra(r.Extra)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getRegion(ctx, tx, r.ID); err == nil {
			return errs.Conflict("Conflict occurred attempting to store region - Duplicate ID, %s.", r.ID)
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		if r.ParentRegionID != "" {
			if _, err := getRegion(ctx, tx, r.ParentRegionID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO catalog_regions (id, description, parent_region_id, extra, created_at)
			VALUES (?, ?, ?, ?, ?)`, r.ID, r.Description, nullString(r.ParentRegionID), extra, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create region %s: %w", r.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetRegion(ctx, r.ID)
}

// RegionPatch is an update of a region; nil fields are left alone.
type RegionPatch struct {
	Description *string
	// SetParent: ParentRegionID replaces the parent ("" clears it).
	SetParent      bool
	ParentRegionID string
	Extra          map[string]any
}

// UpdateRegion updates a region. A missing parent is a 404; a parent that
// would make a cycle Keystone's 400.
func (s *Service) UpdateRegion(ctx context.Context, id string, p RegionPatch) (*CatalogRegion, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if p.SetParent && p.ParentRegionID != "" {
			if _, err := getRegion(ctx, tx, p.ParentRegionID); err != nil {
				return err
			}
		}
		r, err := getRegion(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Description != nil {
			r.Description = *p.Description
		}
		if p.SetParent {
			r.ParentRegionID = p.ParentRegionID
			// Walk up from the new parent: meeting id is a cycle.
			for cur, seen := r.ParentRegionID, map[string]bool{}; cur != "" && !seen[cur]; {
				if cur == id {
					return errs.Invalid("The specified parent region %s would create a circular region hierarchy.", r.ParentRegionID)
				}
				seen[cur] = true
				up, err := getRegion(ctx, tx, cur)
				if err != nil {
					return err
				}
				cur = up.ParentRegionID
			}
		}
		r.Extra = mergeExtra(r.Extra, p.Extra)
		extra, err := encodeExtra(r.Extra)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE catalog_regions SET description = ?, parent_region_id = ?, extra = ? WHERE id = ?`,
			r.Description, nullString(r.ParentRegionID), extra, id)
		if err != nil {
			return fmt.Errorf("update region %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetRegion(ctx, id)
}

// DeleteRegion deletes a region and, as Keystone does, its child regions;
// if it or any of them has endpoints that is Keystone's 403.
func (s *Service) DeleteRegion(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getRegion(ctx, tx, id); err != nil {
			return err
		}
		tree, seen := []string{id}, map[string]bool{id: true}
		for i := 0; i < len(tree); i++ {
			kids, err := listRows(ctx, tx, "regions", `SELECT `+regionColumns+` FROM catalog_regions WHERE parent_region_id = ?`,
				[]any{tree[i]}, scanRegion)
			if err != nil {
				return err
			}
			for _, k := range kids {
				if !seen[k.ID] {
					seen[k.ID] = true
					tree = append(tree, k.ID)
				}
			}
		}
		for _, r := range tree {
			used, err := exists(ctx, tx, `SELECT 1 FROM catalog_endpoints WHERE region_id = ?`, r)
			if err != nil {
				return err
			}
			if used {
				return errs.Forbidden("Unable to delete region %s because it or its child regions have associated endpoints.", id)
			}
		}
		for i := len(tree) - 1; i >= 0; i-- {
			if _, err := tx.ExecContext(ctx, `DELETE FROM catalog_regions WHERE id = ?`, tree[i]); err != nil {
				return fmt.Errorf("delete region %s: %w", tree[i], err)
			}
		}
		return nil
	})
}

// --- services ---

const catalogServiceColumns = `id, type, enabled, extra`

func scanCatalogService(row interface{ Scan(...any) error }) (*CatalogService, error) {
	var c CatalogService
	var extra string
	if err := row.Scan(&c.ID, &c.Type, &c.Enabled, &extra); err != nil {
		return nil, err
	}
	var err error
	if c.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("service %s: %w", c.ID, err)
	}
	return &c, nil
}

func getCatalogService(ctx context.Context, q store.Querier, id string) (*CatalogService, error) {
	c, err := scanCatalogService(q.QueryRowContext(ctx, `SELECT `+catalogServiceColumns+` FROM catalog_services WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("service", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get service %s: %w", id, err)
	}
	return c, nil
}

// GetCatalogService returns a service (without its endpoints).
func (s *Service) GetCatalogService(ctx context.Context, id string) (*CatalogService, error) {
	return getCatalogService(ctx, s.db, id)
}

// ListCatalogServices lists services, oldest first, with the given type
// and name when not empty, passing Keystone's inexact filters on them.
func (s *Service) ListCatalogServices(ctx context.Context, typ, name string, inexact ...Inexact) ([]CatalogService, error) {
	q, args := `SELECT `+catalogServiceColumns+` FROM catalog_services`, []any{}
	if typ != "" {
		q, args = q+` WHERE type = ?`, append(args, typ)
	}
	all, err := listRows(ctx, s.db, "services", q+` ORDER BY created_at, id`, args, scanCatalogService)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if name == "" || c.Name() == name {
			out = append(out, c)
		}
	}
	return keepInexact(out, inexact, func(c *CatalogService, attr string) (string, bool) {
		if attr == "type" {
			return c.Type, true
		}
		return c.Name(), attr == "name"
	}), nil
}

// CreateCatalogService creates a service; like Keystone it is enabled and
// named "" unless told otherwise.
func (s *Service) CreateCatalogService(ctx context.Context, c CatalogService) (*CatalogService, error) {
	if c.ID == "" {
		c.ID = newID()
	}
	if c.Extra == nil {
		c.Extra = map[string]any{}
	}
	if _, ok := c.Extra["name"]; !ok {
		c.Extra["name"] = ""
	}
	extra, err := encodeExtra(c.Extra)
	if err != nil {
		return nil, err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO catalog_services (id, type, enabled, extra, created_at) VALUES (?, ?, ?, ?, ?)`,
		c.ID, c.Type, c.Enabled, extra, s.nowMicros())
	if err != nil {
		return nil, fmt.Errorf("create service %s: %w", c.ID, err)
	}
	return s.GetCatalogService(ctx, c.ID)
}

// CatalogServicePatch is an update of a service; nil fields are left alone.
type CatalogServicePatch struct {
	Type    *string
	Enabled *bool
	Extra   map[string]any
}

// UpdateCatalogService updates a service.
func (s *Service) UpdateCatalogService(ctx context.Context, id string, p CatalogServicePatch) (*CatalogService, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := getCatalogService(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Type != nil {
			c.Type = *p.Type
		}
		if p.Enabled != nil {
			c.Enabled = *p.Enabled
		}
		extra, err := encodeExtra(mergeExtra(c.Extra, p.Extra))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_services SET type = ?, enabled = ?, extra = ? WHERE id = ?`,
			c.Type, c.Enabled, extra, id); err != nil {
			return fmt.Errorf("update service %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetCatalogService(ctx, id)
}

// DeleteCatalogService deletes a service and, as Keystone does, its
// endpoints (and their project associations).
func (s *Service) DeleteCatalogService(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getCatalogService(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM project_endpoints WHERE endpoint_id IN (SELECT id FROM catalog_endpoints WHERE service_id = ?)`,
			`DELETE FROM catalog_endpoints WHERE service_id = ?`,
			`DELETE FROM catalog_services WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete service %s: %w", id, err)
			}
		}
		return nil
	})
}

// serviceExists reports whether id names a catalog service.
func serviceExists(ctx context.Context, q store.Querier, id string) (bool, error) {
	return exists(ctx, q, `SELECT 1 FROM catalog_services WHERE id = ?`, id)
}

// regionExists reports whether id names a region.
func regionExists(ctx context.Context, q store.Querier, id string) (bool, error) {
	return exists(ctx, q, `SELECT 1 FROM catalog_regions WHERE id = ?`, id)
}

// --- endpoints ---

const endpointColumns = `id, service_id, region_id, interface, url, enabled, extra`

func scanEndpoint(row interface{ Scan(...any) error }) (*Endpoint, error) {
	var e Endpoint
	var region sql.NullString
	var extra string
	if err := row.Scan(&e.ID, &e.ServiceID, &region, &e.Interface, &e.URL, &e.Enabled, &extra); err != nil {
		return nil, err
	}
	e.RegionID = region.String
	var err error
	if e.Extra, err = decodeExtra(extra); err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", e.ID, err)
	}
	return &e, nil
}

func getEndpoint(ctx context.Context, q store.Querier, id string) (*Endpoint, error) {
	e, err := scanEndpoint(q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM catalog_endpoints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("endpoint", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get endpoint %s: %w", id, err)
	}
	return e, nil
}

// GetEndpoint returns an endpoint.
func (s *Service) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	return getEndpoint(ctx, s.db, id)
}

// EndpointFilter selects endpoints; empty fields match all.
type EndpointFilter struct {
	ServiceID, Interface, RegionID string
}

// ListEndpoints lists endpoints, oldest first.
func (s *Service) ListEndpoints(ctx context.Context, f EndpointFilter) ([]Endpoint, error) {
	q, args := `SELECT `+endpointColumns+` FROM catalog_endpoints WHERE 1 = 1`, []any{}
	for _, c := range []struct{ col, v string }{{"service_id", f.ServiceID}, {"interface", f.Interface}, {"region_id", f.RegionID}} {
		if c.v != "" {
			q, args = q+` AND `+c.col+` = ?`, append(args, c.v)
		}
	}
	return listRows(ctx, s.db, "endpoints", q+` ORDER BY created_at, id`, args, scanEndpoint)
}

// assertEndpointRefs checks, as Keystone's _assert_region_exists and
// _assert_service_exists, what an endpoint names (400 otherwise).
func assertEndpointRefs(ctx context.Context, q store.Querier, serviceID, regionID string) error {
	if regionID != "" {
		if ok, err := regionExists(ctx, q, regionID); err != nil {
			return err
		} else if !ok {
			return catalogValidation("endpoint region_id", "region table")
		}
	}
	if serviceID != "" {
		if ok, err := serviceExists(ctx, q, serviceID); err != nil {
			return err
		} else if !ok {
			return catalogValidation("endpoint service_id", "service table")
		}
	}
	return nil
}

// CreateEndpoint creates an endpoint. legacyRegion, when set and no
// region id is, is Keystone's deprecated "region": it names the region,
// which is created if missing.
func (s *Service) CreateEndpoint(ctx context.Context, e Endpoint, legacyRegion string) (*Endpoint, error) {
	if e.ID == "" {
		e.ID = newID()
	}
	extra, err := encodeExtra(e.Extra)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if e.RegionID == "" && legacyRegion != "" {
			e.RegionID = legacyRegion
			if err := s.ensureRegion(ctx, tx, legacyRegion); err != nil {
				return err
			}
		}
		if err := assertEndpointRefs(ctx, tx, e.ServiceID, e.RegionID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO catalog_endpoints (id, service_id, region_id, interface, url, enabled, extra, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.ServiceID, nullString(e.RegionID), e.Interface, e.URL, e.Enabled, extra, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create endpoint %s: %w", e.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetEndpoint(ctx, e.ID)
}

// ensureRegion creates the region id if it does not exist.
func (s *Service) ensureRegion(ctx context.Context, tx *store.Tx, id string) error {
	ok, err := regionExists(ctx, tx, id)
	if err != nil || ok {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_regions (id, description, extra, created_at) VALUES (?, '', '{}', ?)`,
		id, s.nowMicros()); err != nil {
		return fmt.Errorf("create region %s: %w", id, err)
	}
	return nil
}

// EndpointPatch is an update of an endpoint; nil fields are left alone.
type EndpointPatch struct {
	ServiceID, Interface, URL *string
	Enabled                   *bool
	// SetRegion: RegionID replaces the region ("" clears it).
	SetRegion    bool
	RegionID     string
	LegacyRegion string
	Extra        map[string]any
}

// UpdateEndpoint updates an endpoint.
func (s *Service) UpdateEndpoint(ctx context.Context, id string, p EndpointPatch) (*Endpoint, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if !p.SetRegion && p.LegacyRegion != "" {
			p.SetRegion, p.RegionID = true, p.LegacyRegion
			if err := s.ensureRegion(ctx, tx, p.LegacyRegion); err != nil {
				return err
			}
		}
		svc, region := "", ""
		if p.ServiceID != nil {
			svc = *p.ServiceID
		}
		if p.SetRegion {
			region = p.RegionID
		}
		if err := assertEndpointRefs(ctx, tx, svc, region); err != nil {
			return err
		}
		e, err := getEndpoint(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, f := range []struct {
			dst *string
			src *string
		}{{&e.ServiceID, p.ServiceID}, {&e.Interface, p.Interface}, {&e.URL, p.URL}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if p.Enabled != nil {
			e.Enabled = *p.Enabled
		}
		if p.SetRegion {
			e.RegionID = p.RegionID
		}
		extra, err := encodeExtra(mergeExtra(e.Extra, p.Extra))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_endpoints SET service_id = ?, region_id = ?, interface = ?, url = ?,
			enabled = ?, extra = ? WHERE id = ?`, e.ServiceID, nullString(e.RegionID), e.Interface, e.URL, e.Enabled, extra, id); err != nil {
			return fmt.Errorf("update endpoint %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetEndpoint(ctx, id)
}

// DeleteEndpoint deletes an endpoint and its project associations.
func (s *Service) DeleteEndpoint(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getEndpoint(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM project_endpoints WHERE endpoint_id = ?`, `DELETE FROM catalog_endpoints WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete endpoint %s: %w", id, err)
			}
		}
		return nil
	})
}

// Catalog is the catalog of a token scoped to projectID ("" for a domain
// or system scope): enabled services with their enabled endpoints, as
// Keystone's get_v3_catalog. When the project has endpoint filter
// associations only those endpoints are shown, and services left without
// endpoints are left out.
func (s *Service) Catalog(ctx context.Context, projectID string) ([]CatalogService, error) {
	svcs, err := listRows(ctx, s.db, "services", `SELECT `+catalogServiceColumns+` FROM catalog_services
		WHERE enabled = ? ORDER BY created_at, id`, []any{true}, scanCatalogService)
	if err != nil {
		return nil, err
	}
	eps, err := listRows(ctx, s.db, "endpoints", `SELECT `+endpointColumns+` FROM catalog_endpoints
		WHERE enabled = ? ORDER BY created_at, id`, []any{true}, scanEndpoint)
	if err != nil {
		return nil, err
	}
	var allowed map[string]bool
	if projectID != "" {
		ids, err := s.projectEndpointIDs(ctx, projectID)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			allowed = map[string]bool{}
			for _, id := range ids {
				allowed[id] = true
			}
		}
	}
	byService := map[string][]Endpoint{}
	for _, e := range eps {
		if allowed == nil || allowed[e.ID] {
			byService[e.ServiceID] = append(byService[e.ServiceID], e)
		}
	}
	out := make([]CatalogService, 0, len(svcs))
	for _, c := range svcs {
		c.Endpoints = byService[c.ID]
		if allowed != nil && len(c.Endpoints) == 0 {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// listRows runs a query and scans every row.
func listRows[T any](ctx context.Context, q store.Querier, what, query string, args []any, scan func(interface{ Scan(...any) error }) (*T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}
