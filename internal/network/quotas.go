package network

import (
	"context"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// QuotaResource is a resource the networking API's quotas limit: its
// name, Neutron's default limit and how a project's use is counted
// (in the caller's transaction, so a check and the create it guards
// are atomic).
type QuotaResource struct {
	Name    string
	Default int
	Count   func(ctx context.Context, q store.Querier, projectID string) (int, error)
}

// Unlimited is the limit of a resource without a quota.
const Unlimited = -1

// networkQuotaResources are the resources this domain counts, with
// Neutron's defaults (neutron/conf/quota.py).
func networkQuotaResources() []QuotaResource {
	count := func(table string) func(context.Context, store.Querier, string) (int, error) {
		return func(ctx context.Context, q store.Querier, projectID string) (int, error) {
			var n int
			err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE project_id = ?`, projectID).Scan(&n)
			return n, err
		}
	}
	return []QuotaResource{
		{"network", 100, count("networks")},
		{"subnet", 100, count("subnets")},
		{"port", 500, count("network_ports")},
	}
}

// QuotaUsage is one resource's limit and use.
type QuotaUsage struct {
	Limit, Used int
}

func (s *Service) quotaResource(name string) (QuotaResource, bool) {
	i := slices.IndexFunc(s.QuotaResources, func(r QuotaResource) bool { return r.Name == name })
	if i < 0 {
		return QuotaResource{}, false
	}
	return s.QuotaResources[i], true
}

// QuotaDefaults are the default limits by resource.
func (s *Service) QuotaDefaults() map[string]int {
	out := make(map[string]int, len(s.QuotaResources))
	for _, r := range s.QuotaResources {
		out[r.Name] = r.Default
	}
	return out
}

// Quotas are projectID's limits by resource.
func (s *Service) Quotas(ctx context.Context, projectID string) (map[string]int, error) {
	return s.quotasIn(ctx, s.db, projectID)
}

func (s *Service) quotasIn(ctx context.Context, q store.Querier, projectID string) (map[string]int, error) {
	out := s.QuotaDefaults()
	rows, err := q.QueryContext(ctx, `SELECT resource, hard_limit FROM network_quotas WHERE project_id = ?`, projectID)
	if err != nil {
		return nil, fmt.Errorf("quotas of project %s: %w", projectID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var limit int
		if err := rows.Scan(&name, &limit); err != nil {
			return nil, err
		}
		if _, known := out[name]; known {
			out[name] = limit
		}
	}
	return out, rows.Err()
}

// QuotaDetails are projectID's limits and use by resource.
func (s *Service) QuotaDetails(ctx context.Context, projectID string) (map[string]QuotaUsage, error) {
	limits, err := s.Quotas(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]QuotaUsage, len(limits))
	for _, r := range s.QuotaResources {
		used, err := r.Count(ctx, s.db, projectID)
		if err != nil {
			return nil, fmt.Errorf("count %s of project %s: %w", r.Name, projectID, err)
		}
		out[r.Name] = QuotaUsage{Limit: limits[r.Name], Used: used}
	}
	return out, nil
}

// ProjectQuotas are the limits of every project with a limit set.
func (s *Service) ProjectQuotas(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT project_id FROM network_quotas ORDER BY project_id`)
	if err != nil {
		return nil, fmt.Errorf("projects with quotas: %w", err)
	}
	var projects []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return nil, err
		}
		projects = append(projects, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]map[string]int, len(projects))
	for _, p := range projects {
		if out[p], err = s.Quotas(ctx, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetQuotas sets limits of projectID; a limit below what the project
// uses already is refused, as Neutron's quota engine checks.
func (s *Service) SetQuotas(ctx context.Context, projectID string, limits map[string]int) (map[string]int, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		names := make([]string, 0, len(limits))
		for name := range limits {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			limit := limits[name]
			r, ok := s.quotaResource(name)
			if !ok {
				return errs.Invalid("Unrecognized attribute(s) '%s'", name)
			}
			if limit != Unlimited {
				used, err := r.Count(ctx, tx, projectID)
				if err != nil {
					return fmt.Errorf("count %s of project %s: %w", name, projectID, err)
				}
				if used > limit {
					return errs.Invalid("Quota limit %d for %s must be greater than or equal to already used %d", limit, name, used)
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO network_quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)
				ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit`, projectID, name, limit); err != nil {
				return fmt.Errorf("set quota %s of project %s: %w", name, projectID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Quotas(ctx, projectID)
}

// ResetQuotas puts projectID's limits back to the defaults.
func (s *Service) ResetQuotas(ctx context.Context, projectID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM network_quotas WHERE project_id = ?`, projectID); err != nil {
		return fmt.Errorf("reset quotas of project %s: %w", projectID, err)
	}
	return nil
}

// CheckQuota refuses one more resource name of projectID beyond its
// limit (Neutron's OverQuota, a 409), in the caller's transaction that
// creates it (for other domains' resources registered in
// QuotaResources).
func (s *Service) CheckQuota(ctx context.Context, tx *store.Tx, projectID, name string) error {
	r, ok := s.quotaResource(name)
	if !ok {
		return nil
	}
	limits, err := s.quotasIn(ctx, tx, projectID)
	if err != nil {
		return err
	}
	limit := limits[name]
	if limit == Unlimited {
		return nil
	}
	used, err := r.Count(ctx, tx, projectID)
	if err != nil {
		return fmt.Errorf("count %s of project %s: %w", name, projectID, err)
	}
	if used+1 > limit {
		return errs.Named("OverQuota", errs.Conflict("Quota exceeded for resources: ['%s'].", name))
	}
	return nil
}
