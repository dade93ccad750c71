package identity

// Keystone's unified limits: registered limits (a service's default for a
// resource) and limits (a project's or domain's override of one), with
// Keystone's flat enforcement model. Services enforce them themselves
// (the image service reads EffectiveLimits in its own transactions, as
// Glance asks Keystone through oslo.limit).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Limit values are Keystone's: -1 (unlimited) up to a signed 32-bit int.
const (
	MinLimitValue = -1
	MaxLimitValue = 0x7FFFFFFF
)

// LimitModelName and LimitModelDescription describe the enforcement model
// (Keystone's flat model; kumo has no project hierarchy to enforce).
const (
	LimitModelName        = "flat"
	LimitModelDescription = "Limit enforcement and validation does not take project hierarchy into consideration."
)

// RegisteredLimit is a service's default limit for a resource.
type RegisteredLimit struct {
	ID           string
	ServiceID    string
	RegionID     string // "" when the limit has no region
	ResourceName string
	DefaultLimit int64
	Description  *string // nil is JSON null
}

// Limit is a project's (or a domain's) override of a registered limit.
type Limit struct {
	ID            string
	ProjectID     string // exactly one of ProjectID and DomainID is set
	DomainID      string
	ServiceID     string // service, region and resource of its registered limit
	RegionID      string
	ResourceName  string
	ResourceLimit int64
	Description   *string
}

// RegisteredLimitPatch is a PATCH of a registered limit; nil fields are
// left alone.
type RegisteredLimitPatch struct {
	ServiceID    *string
	ResourceName *string
	DefaultLimit *int64
	// RegionID, when SetRegion, replaces the region ("" clears it).
	SetRegion bool
	RegionID  string
	// Description, when SetDescription, replaces it (nil clears it).
	SetDescription bool
	Description    *string
}

// LimitPatch is a PATCH of a limit: only its value and description change.
type LimitPatch struct {
	ResourceLimit  *int64
	SetDescription bool
	Description    *string
}

// LimitFilter selects registered limits or limits; nil fields match all.
type LimitFilter struct {
	ServiceID    *string
	RegionID     *string
	ResourceName *string
	ProjectID    *string // limits only
	DomainID     *string // limits only
}

// limitValidationError is Keystone's ValidationError for a reference to
// a service, region, project or domain that does not exist.
func limitValidationError(attribute, target string) error { return validationError(attribute, target) }

func limitConflict(kind string) error {
	return errs.Conflict("Conflict occurred attempting to store %s - Duplicate entry.", kind)
}

func registeredLimitReferenced(id string) error {
	return errs.Forbidden("Unable to update or delete registered limit %s because there are project limits associated with it.", id)
}

// assertLimitTargets checks, as Keystone's _assert_resource_exist, that
// the service and region a limit names exist.
func assertLimitTargets(ctx context.Context, q store.Querier, serviceID, regionID, target string) error {
	if serviceID != "" {
		if ok, err := serviceExists(ctx, q, serviceID); err != nil {
			return err
		} else if !ok {
			return limitValidationError("service_id", target)
		}
	}
	if regionID != "" {
		if ok, err := regionExists(ctx, q, regionID); err != nil {
			return err
		} else if !ok {
			return limitValidationError("region_id", target)
		}
	}
	return nil
}

const registeredLimitColumns = `id, service_id, region_id, resource_name, default_limit, description`

func scanRegisteredLimit(row interface{ Scan(...any) error }) (*RegisteredLimit, error) {
	var r RegisteredLimit
	var desc sql.NullString
	if err := row.Scan(&r.ID, &r.ServiceID, &r.RegionID, &r.ResourceName, &r.DefaultLimit, &desc); err != nil {
		return nil, err
	}
	r.Description = store.StringPtr(desc)
	return &r, nil
}

// creationStamp is the created_at a new row of table gets: now, or just
// after the newest row, so listings keep creation order (Keystone lists
// by its autoincrement key) even within one clock tick.
func creationStamp(ctx context.Context, tx *store.Tx, table string, now int64) (int64, error) {
	var newest int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(created_at), 0) FROM `+table).Scan(&newest); err != nil {
		return 0, fmt.Errorf("read newest %s: %w", table, err)
	}
	return max(now, newest+1), nil
}

func getRegisteredLimit(ctx context.Context, q store.Querier, id string) (*RegisteredLimit, error) {
	r, err := scanRegisteredLimit(q.QueryRowContext(ctx, `SELECT `+registeredLimitColumns+` FROM registered_limits WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("Could not find registered limit for %s.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get registered limit %s: %w", id, err)
	}
	return r, nil
}

// findRegisteredLimit returns the registered limit of a service, region
// ("" for none) and resource; nil when there is none.
func findRegisteredLimit(ctx context.Context, q store.Querier, serviceID, regionID, resource string) (*RegisteredLimit, error) {
	r, err := scanRegisteredLimit(q.QueryRowContext(ctx, `SELECT `+registeredLimitColumns+` FROM registered_limits
		WHERE service_id = ? AND region_id = ? AND resource_name = ?`, serviceID, regionID, resource))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find registered limit %s: %w", resource, err)
	}
	return r, nil
}

// CreateRegisteredLimits registers limits, all or none: a service or
// region that does not exist is a 400, a service, region and resource
// already registered a 409.
func (s *Service) CreateRegisteredLimits(ctx context.Context, in []RegisteredLimit) ([]RegisteredLimit, error) {
	for _, r := range in {
		if err := assertLimitTargets(ctx, s.db, r.ServiceID, r.RegionID, "registered_limit"); err != nil {
			return nil, err
		}
	}
	var out []RegisteredLimit
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		out = out[:0]
		for _, r := range in {
			if dup, err := findRegisteredLimit(ctx, tx, r.ServiceID, r.RegionID, r.ResourceName); err != nil {
				return err
			} else if dup != nil {
				return limitConflict("registered_limit")
			}
			at, err := creationStamp(ctx, tx, "registered_limits", s.nowMicros())
			if err != nil {
				return err
			}
			r.ID = newID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO registered_limits (`+registeredLimitColumns+`, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, r.ServiceID, r.RegionID, r.ResourceName, r.DefaultLimit,
				r.Description, at); err != nil {
				if store.IsUniqueViolation(err) {
					return limitConflict("registered_limit")
				}
				return fmt.Errorf("create registered limit %s: %w", r.ResourceName, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListRegisteredLimits lists registered limits in creation order.
func (s *Service) ListRegisteredLimits(ctx context.Context, f LimitFilter) ([]RegisteredLimit, error) {
	var c conds
	if f.ServiceID != nil {
		c.add("service_id = ?", *f.ServiceID)
	}
	if f.RegionID != nil {
		c.add("region_id = ?", *f.RegionID)
	}
	if f.ResourceName != nil {
		c.add("resource_name = ?", *f.ResourceName)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+registeredLimitColumns+` FROM registered_limits`+c.where()+
		` ORDER BY created_at, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list registered limits: %w", err)
	}
	defer rows.Close()
	out := []RegisteredLimit{}
	for rows.Next() {
		r, err := scanRegisteredLimit(rows)
		if err != nil {
			return nil, fmt.Errorf("scan registered limit: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// GetRegisteredLimit returns one registered limit.
func (s *Service) GetRegisteredLimit(ctx context.Context, id string) (*RegisteredLimit, error) {
	return getRegisteredLimit(ctx, s.db, id)
}

// limitsReference reports whether any limit overrides a registered limit.
func limitsReference(ctx context.Context, q store.Querier, registeredID string) (bool, error) {
	return exists(ctx, q, `SELECT 1 FROM limits WHERE registered_limit_id = ?`, registeredID)
}

// UpdateRegisteredLimit changes a registered limit. As in Keystone, a
// registered limit that limits override cannot change at all (403), and
// a new service, region or resource must not be registered already (409).
func (s *Service) UpdateRegisteredLimit(ctx context.Context, id string, p RegisteredLimitPatch) (*RegisteredLimit, error) {
	svc, region := "", ""
	if p.ServiceID != nil {
		svc = *p.ServiceID
	}
	if p.SetRegion {
		region = p.RegionID
	}
	if err := assertLimitTargets(ctx, s.db, svc, region, "registered_limit"); err != nil {
		return nil, err
	}
	var out *RegisteredLimit
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := getRegisteredLimit(ctx, tx, id)
		if err != nil {
			return err
		}
		if ref, err := limitsReference(ctx, tx, id); err != nil {
			return err
		} else if ref {
			return registeredLimitReferenced(id)
		}
		moved := false
		if p.ServiceID != nil {
			moved = moved || *p.ServiceID != ""
			r.ServiceID = *p.ServiceID
		}
		if p.ResourceName != nil {
			moved = moved || *p.ResourceName != ""
			r.ResourceName = *p.ResourceName
		}
		if p.SetRegion {
			moved = true
			r.RegionID = p.RegionID
		}
		if p.DefaultLimit != nil {
			r.DefaultLimit = *p.DefaultLimit
		}
		if p.SetDescription {
			r.Description = p.Description
		}
		if moved {
			if dup, err := findRegisteredLimit(ctx, tx, r.ServiceID, r.RegionID, r.ResourceName); err != nil {
				return err
			} else if dup != nil && dup.ID != id {
				return limitConflict("registered_limit")
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registered_limits SET service_id = ?, region_id = ?, resource_name = ?,
			default_limit = ?, description = ? WHERE id = ?`, r.ServiceID, r.RegionID, r.ResourceName, r.DefaultLimit,
			r.Description, id); err != nil {
			if store.IsUniqueViolation(err) {
				return limitConflict("registered_limit")
			}
			return fmt.Errorf("update registered limit %s: %w", id, err)
		}
		out = r
		return nil
	})
	return out, err
}

// DeleteRegisteredLimit deletes a registered limit no limit overrides.
func (s *Service) DeleteRegisteredLimit(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getRegisteredLimit(ctx, tx, id); err != nil {
			return err
		}
		if ref, err := limitsReference(ctx, tx, id); err != nil {
			return err
		} else if ref {
			return registeredLimitReferenced(id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM registered_limits WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete registered limit %s: %w", id, err)
		}
		return nil
	})
}

// EnsureRegisteredLimits registers defaults[resource] for each resource
// of a service that has no registered limit in any region, so a restart
// keeps whatever an admin set; it reports the resources it registered.
func (s *Service) EnsureRegisteredLimits(ctx context.Context, serviceID string, defaults map[string]int64) ([]string, error) {
	names := make([]string, 0, len(defaults))
	for name := range defaults {
		names = append(names, name)
	}
	sort.Strings(names)
	var added []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		added = added[:0]
		for _, name := range names {
			ok, err := exists(ctx, tx, `SELECT 1 FROM registered_limits WHERE service_id = ? AND resource_name = ?`, serviceID, name)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
			at, err := creationStamp(ctx, tx, "registered_limits", s.nowMicros())
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO registered_limits (`+registeredLimitColumns+`, created_at)
				VALUES (?, ?, '', ?, ?, NULL, ?)`, newID(), serviceID, name, defaults[name], at); err != nil {
				return fmt.Errorf("register default limit %s: %w", name, err)
			}
			added = append(added, name)
		}
		return nil
	})
	return added, err
}

const limitColumns = `l.id, l.project_id, l.domain_id, r.service_id, r.region_id, r.resource_name, l.resource_limit, l.description`

const limitFrom = ` FROM limits l JOIN registered_limits r ON r.id = l.registered_limit_id`

func scanLimit(row interface{ Scan(...any) error }) (*Limit, error) {
	var l Limit
	var desc sql.NullString
	if err := row.Scan(&l.ID, &l.ProjectID, &l.DomainID, &l.ServiceID, &l.RegionID, &l.ResourceName, &l.ResourceLimit, &desc); err != nil {
		return nil, err
	}
	l.Description = store.StringPtr(desc)
	return &l, nil
}

func getLimit(ctx context.Context, q store.Querier, id string) (*Limit, error) {
	l, err := scanLimit(q.QueryRowContext(ctx, `SELECT `+limitColumns+limitFrom+` WHERE l.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("Could not find limit for %s.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get limit %s: %w", id, err)
	}
	return l, nil
}

// CreateLimits creates limits, all or none. Each names a project or a
// domain (a project id that is a domain's makes a domain limit, as in
// Keystone) and must override a registered limit of the same service,
// region and resource (403 otherwise).
func (s *Service) CreateLimits(ctx context.Context, in []Limit) ([]Limit, error) {
	for _, l := range in {
		if err := assertLimitTargets(ctx, s.db, l.ServiceID, l.RegionID, "limit"); err != nil {
			return nil, err
		}
	}
	var out []Limit
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		out = out[:0]
		for _, l := range in {
			if err := resolveLimitScope(ctx, tx, &l); err != nil {
				return err
			}
			reg, err := findRegisteredLimit(ctx, tx, l.ServiceID, l.RegionID, l.ResourceName)
			if err != nil {
				return err
			}
			if reg == nil {
				return errs.Forbidden("Unable to create a limit that has no corresponding registered limit.")
			}
			if dup, err := exists(ctx, tx, `SELECT 1 FROM limits WHERE registered_limit_id = ? AND project_id = ? AND domain_id = ?`,
				reg.ID, l.ProjectID, l.DomainID); err != nil {
				return err
			} else if dup {
				return limitConflict("limit")
			}
			at, err := creationStamp(ctx, tx, "limits", s.nowMicros())
			if err != nil {
				return err
			}
			l.ID = newID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO limits (id, registered_limit_id, project_id, domain_id,
				resource_limit, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				l.ID, reg.ID, l.ProjectID, l.DomainID, l.ResourceLimit, l.Description, at); err != nil {
				if store.IsUniqueViolation(err) {
					return limitConflict("limit")
				}
				return fmt.Errorf("create limit %s: %w", l.ResourceName, err)
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolveLimitScope checks that a limit's project or domain exists; a
// project id that names a domain makes it a domain limit.
func resolveLimitScope(ctx context.Context, q store.Querier, l *Limit) error {
	if l.ProjectID != "" {
		_, err := getProject(ctx, q, l.ProjectID)
		if err == nil {
			return nil
		}
		if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		if _, derr := getDomain(ctx, q, l.ProjectID); derr != nil {
			return limitValidationError("project_id", "limit")
		}
		l.DomainID, l.ProjectID = l.ProjectID, ""
	}
	_, err := getDomain(ctx, q, l.DomainID)
	if errs.Is(err, errs.KindNotFound) {
		return limitValidationError("domain_id", "limit")
	}
	return err
}

// ListLimits lists the limits viewer may see, in creation order: all of
// them for admins (and the service role), those of the viewer's domain
// and its projects for a domain-scoped token, the project's own for a
// project-scoped one, none otherwise (Keystone's list_limits).
func (s *Service) ListLimits(ctx context.Context, viewer *auth.Principal, f LimitFilter) ([]Limit, error) {
	var c conds
	if f.ServiceID != nil {
		c.add("r.service_id = ?", *f.ServiceID)
	}
	if f.RegionID != nil {
		c.add("r.region_id = ?", *f.RegionID)
	}
	if f.ResourceName != nil {
		c.add("r.resource_name = ?", *f.ResourceName)
	}
	if f.ProjectID != nil {
		c.add("l.project_id = ?", *f.ProjectID)
	}
	if f.DomainID != nil {
		c.add("l.domain_id = ?", *f.DomainID)
	}
	switch {
	case viewer.IsAdmin() || viewer.HasRole("service"):
	case viewer != nil && viewer.DomainID != "":
		c.add("(l.domain_id = ? OR l.project_id IN (SELECT id FROM projects WHERE domain_id = ?))", viewer.DomainID, viewer.DomainID)
	case viewer != nil && viewer.ProjectID != "":
		c.add("l.project_id = ?", viewer.ProjectID)
	default:
		return []Limit{}, nil
	}
	return s.queryLimits(ctx, c)
}

// ProjectLimits lists a project's limits whoever asks, as Keystone's
// include_limits adds them to the projects of a parents or subtree list.
func (s *Service) ProjectLimits(ctx context.Context, projectID string) ([]Limit, error) {
	var c conds
	c.add("l.project_id = ?", projectID)
	return s.queryLimits(ctx, c)
}

func (s *Service) queryLimits(ctx context.Context, c conds) ([]Limit, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+limitColumns+limitFrom+c.where()+` ORDER BY l.created_at, l.id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list limits: %w", err)
	}
	defer rows.Close()
	out := []Limit{}
	for rows.Next() {
		l, err := scanLimit(rows)
		if err != nil {
			return nil, fmt.Errorf("scan limit: %w", err)
		}
		out = append(out, *l)
	}
	return out, rows.Err()
}

// GetLimit returns one limit.
func (s *Service) GetLimit(ctx context.Context, id string) (*Limit, error) {
	return getLimit(ctx, s.db, id)
}

// UpdateLimit changes a limit's value or description.
func (s *Service) UpdateLimit(ctx context.Context, id string, p LimitPatch) (*Limit, error) {
	var out *Limit
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		l, err := getLimit(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.ResourceLimit != nil {
			l.ResourceLimit = *p.ResourceLimit
		}
		if p.SetDescription {
			l.Description = p.Description
		}
		if _, err := tx.ExecContext(ctx, `UPDATE limits SET resource_limit = ?, description = ? WHERE id = ?`,
			l.ResourceLimit, l.Description, id); err != nil {
			return fmt.Errorf("update limit %s: %w", id, err)
		}
		out = l
		return nil
	})
	return out, err
}

// DeleteLimit deletes a limit.
func (s *Service) DeleteLimit(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getLimit(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM limits WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete limit %s: %w", id, err)
		}
		return nil
	})
}

// EffectiveLimits returns the limits of a project for resources of a
// service, read in q (a service's own transaction): the project's limit,
// else the registered limit, else 0, as oslo.limit's flat enforcer
// decides (a resource nobody registered allows nothing). kumo's one
// region serves every service, so limits of region RegionOne and limits
// without a region apply, RegionOne's first. -1 is unlimited.
func EffectiveLimits(ctx context.Context, q store.Querier, serviceID, projectID string, resources []string) (map[string]int64, error) {
	out := make(map[string]int64, len(resources))
	if len(resources) == 0 {
		return out, nil
	}
	args := []any{projectID, serviceID, Region}
	for _, r := range resources {
		out[r] = 0
		args = append(args, r)
	}
	rows, err := q.QueryContext(ctx, `SELECT r.resource_name, r.region_id, r.default_limit, l.resource_limit
		FROM registered_limits r LEFT JOIN limits l ON l.registered_limit_id = r.id AND l.project_id = ?
		WHERE r.service_id = ? AND r.region_id IN ('', ?) AND r.resource_name IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(resources)), ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read limits of project %s: %w", projectID, err)
	}
	defer rows.Close()
	type candidates struct{ project, registered [2]*int64 } // [0] no region, [1] RegionOne
	found := map[string]*candidates{}
	for rows.Next() {
		var name, region string
		var def int64
		var override sql.NullInt64
		if err := rows.Scan(&name, &region, &def, &override); err != nil {
			return nil, fmt.Errorf("scan limit: %w", err)
		}
		c := found[name]
		if c == nil {
			c = &candidates{}
			found[name] = c
		}
		i := 0
		if region != "" {
			i = 1
		}
		c.registered[i] = &def
		if override.Valid {
			v := override.Int64
			c.project[i] = &v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read limits of project %s: %w", projectID, err)
	}
	for name, c := range found {
		for _, v := range []*int64{c.project[1], c.project[0], c.registered[1], c.registered[0]} {
			if v != nil {
				out[name] = *v
				break
			}
		}
	}
	return out, nil
}
