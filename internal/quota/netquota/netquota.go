// Package netquota keeps the networking API's quotas as Neutron's
// DbQuotaNoLockDriver does: one limit per project and resource (a
// missing one is the default), usage counted from the objects in the
// caller's transaction, never stored, and no reservations.
//
// The domains that own the counted objects register a Counter for each
// resource once, in the app's wiring; their create transactions call
// Check before inserting.
package netquota

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
)

// Resource names, as Neutron's quota engine registers them.
const (
	Network           = "network"
	Subnet            = "subnet"
	Port              = "port"
	Router            = "router"
	FloatingIP        = "floatingip"
	SecurityGroup     = "security_group"
	SecurityGroupRule = "security_group_rule"
)

// Unlimited is the limit that means "no limit".
const Unlimited = quota.Unlimited

// MaxLimit is the largest limit Neutron takes (its database integer).
const MaxLimit = quota.MaxLimit

// defaults are Neutron's [QUOTAS] option defaults.
var defaults = map[string]int{
	Network: 100, Subnet: 100, Port: 500, Router: 10, FloatingIP: 50,
	SecurityGroup: 10, SecurityGroupRule: 100,
}

// Limits maps resource names to limits.
type Limits map[string]int

// Resources lists every quota resource, sorted by name.
func Resources() []string { return slices.Sorted(maps.Keys(defaults)) }

// Known reports whether name is a quota resource.
func Known(name string) bool {
	_, ok := defaults[name]
	return ok
}

// Defaults are the limits of a project without limits of its own.
func Defaults() Limits { return maps.Clone(defaults) }

// Counter counts a project's objects of one resource, reading through
// q (the caller's transaction, when there is one).
type Counter func(ctx context.Context, q store.Querier, projectID string) (int, error)

// Counters are the counters of the resources whose objects exist.
type Counters map[string]Counter

// Checker is the check a domain's create runs in its transaction before
// it inserts (Service.Check); domains take it at construction.
type Checker interface {
	Check(ctx context.Context, tx *store.Tx, projectID, resource string, delta int) error
}

// Service reads and sets the networking quotas and checks creates
// against them.
type Service struct {
	db       *store.DB
	counters Counters
}

// New returns the quota service on db, counting with counters; it
// panics on a counter for an unknown resource, a wiring error.
func New(db *store.DB, counters Counters) *Service {
	for res := range counters {
		if !Known(res) {
			panic(fmt.Sprintf("netquota.New: counter for unknown resource %q", res))
		}
	}
	return &Service{db: db, counters: maps.Clone(counters)}
}

// Get returns a project's limits: its own over the defaults.
func (s *Service) Get(ctx context.Context, projectID string) (Limits, error) {
	return projectLimits(ctx, s.db, projectID)
}

// ProjectLimits are the limits of one project that has limits of its own.
type ProjectLimits struct {
	ProjectID string
	Limits    Limits
}

// List returns the limits of every project with limits of its own,
// by project id.
func (s *Service) List(ctx context.Context) ([]ProjectLimits, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT project_id, resource, hard_limit FROM network_quotas ORDER BY project_id`)
	if err != nil {
		return nil, fmt.Errorf("list network quotas: %w", err)
	}
	defer rows.Close()
	var out []ProjectLimits
	for rows.Next() {
		var project, res string
		var limit int64
		if err := rows.Scan(&project, &res, &limit); err != nil {
			return nil, fmt.Errorf("scan network quota: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ProjectID != project {
			out = append(out, ProjectLimits{ProjectID: project, Limits: Defaults()})
		}
		if Known(res) {
			out[len(out)-1].Limits[res] = int(limit)
		}
	}
	return out, rows.Err()
}

// Change is one requested limit, in request order.
type Change struct {
	Resource string
	Limit    int
}

// Set stores limits of a project and returns its limits. Unless force is
// set, a limit other than Unlimited must not be below what the project
// already uses (Neutron's check since 2025.1); the first change that is
// fails with Neutron's 400.
func (s *Service) Set(ctx context.Context, projectID string, changes []Change, force bool) (Limits, error) {
	var out Limits
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if !force {
			if err := s.checkUsage(ctx, tx, projectID, changes); err != nil {
				return err
			}
		}
		now := store.Now()
		for _, c := range changes {
			_, err := tx.ExecContext(ctx, `INSERT INTO network_quotas (project_id, resource, hard_limit, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit, updated_at = excluded.updated_at`,
				projectID, c.Resource, c.Limit, now, now)
			if err != nil {
				return fmt.Errorf("set network quota %s of project %s: %w", c.Resource, projectID, err)
			}
		}
		var err error
		out, err = projectLimits(ctx, tx, projectID)
		return err
	})
	return out, err
}

// checkUsage refuses limits below the current usage. Resources nothing
// counts yet (no domain registered a counter) have no usage to protect.
func (s *Service) checkUsage(ctx context.Context, q store.Querier, projectID string, changes []Change) error {
	for _, c := range changes {
		count, ok := s.counters[c.Resource]
		if c.Limit == Unlimited || !ok {
			continue
		}
		used, err := count(ctx, q, projectID)
		if err != nil {
			return fmt.Errorf("count %s of project %s: %w", c.Resource, projectID, err)
		}
		if used > c.Limit {
			return errs.Invalid("Quota limit %d for %s must be greater than or equal to already used %d", c.Limit, c.Resource, used)
		}
	}
	return nil
}

// Delete removes a project's own limits, so the defaults apply again; a
// project without any is Neutron's TenantQuotaNotFound.
func (s *Service) Delete(ctx context.Context, projectID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM network_quotas WHERE project_id = ?`, projectID)
		if err != nil {
			return fmt.Errorf("delete network quotas of project %s: %w", projectID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.Named("TenantQuotaNotFound", errs.NotFound("Quota for project %s could not be found.", projectID))
		}
		return nil
	})
}

// Detail is one resource's limit and usage; Reserved is always 0, as
// kumo checks and creates in one transaction and reserves nothing.
type Detail struct {
	Limit, Used, Reserved int
}

// Details returns the limit and usage of each counted resource of a
// project. As Neutron skips the resources no plugin counts, resources
// without a counter are left out.
func (s *Service) Details(ctx context.Context, projectID string) (map[string]Detail, error) {
	limits, err := projectLimits(ctx, s.db, projectID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Detail, len(s.counters))
	for res, count := range s.counters {
		used, err := count(ctx, s.db, projectID)
		if err != nil {
			return nil, fmt.Errorf("count %s of project %s: %w", res, projectID, err)
		}
		out[res] = Detail{Limit: limits[res], Used: used}
	}
	return out, nil
}

// Check is Neutron's quota check of a create: delta more objects of
// resource must fit projectID's limit. It counts inside tx, the create's
// own transaction, so the insert that follows cannot race another
// create. The error is Neutron's OverQuota, a 409: "Quota exceeded for
// resources: ['network']."
func (s *Service) Check(ctx context.Context, tx *store.Tx, projectID, resource string, delta int) error {
	limit, used, err := s.Usage(ctx, tx, projectID, resource)
	if err != nil {
		return err
	}
	if limit > Unlimited && quota.Exceeds(limit, used, delta) {
		return OverQuota(resource)
	}
	return nil
}

// Usage is projectID's limit of resource (Unlimited or below for none)
// and how many it has, read in q (the caller's transaction); used is not
// counted when there is no limit.
func (s *Service) Usage(ctx context.Context, q store.Querier, projectID, resource string) (limit, used int, err error) {
	count, ok := s.counters[resource]
	if !ok {
		return 0, 0, fmt.Errorf("network quota: no counter registered for %q", resource)
	}
	limits, err := projectLimits(ctx, q, projectID)
	if err != nil {
		return 0, 0, err
	}
	limit = limits[resource]
	if limit <= Unlimited {
		return limit, 0, nil
	}
	used, err = count(ctx, q, projectID)
	if err != nil {
		return 0, 0, fmt.Errorf("count %s of project %s: %w", resource, projectID, err)
	}
	return limit, used, nil
}

// OverQuota is Neutron's OverQuota for resources, sorted as Neutron
// sorts them.
func OverQuota(resources ...string) error {
	sorted := slices.Sorted(slices.Values(resources))
	quoted := make([]string, len(sorted))
	for i, r := range sorted {
		quoted[i] = "'" + r + "'"
	}
	return errs.Named("OverQuota", errs.Conflict("Quota exceeded for resources: [%s].", strings.Join(quoted, ", ")))
}

// projectLimits reads a project's own limits over the defaults.
func projectLimits(ctx context.Context, q store.Querier, projectID string) (Limits, error) {
	rows, err := q.QueryContext(ctx, `SELECT resource, hard_limit FROM network_quotas WHERE project_id = ?`, projectID)
	if err != nil {
		return nil, fmt.Errorf("read network quotas of project %s: %w", projectID, err)
	}
	defer rows.Close()
	out := Defaults()
	for rows.Next() {
		var res string
		var limit int64
		if err := rows.Scan(&res, &limit); err != nil {
			return nil, fmt.Errorf("scan network quota: %w", err)
		}
		if Known(res) {
			out[res] = int(limit)
		}
	}
	return out, rows.Err()
}
