package volume

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Cinder's quota resources and their defaults (quota_volumes, ...).
var baseQuotaDefaults = map[string]int64{
	"volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000,
	"per_volume_gigabytes": -1, "groups": 10,
}

// perTypePrefixes are the resources Cinder adds for every volume type.
var perTypePrefixes = []string{"volumes_", "gigabytes_", "snapshots_"}

// usageDelta is what a change adds to a project's usage.
type usageDelta struct {
	volumes, gigabytes, snapshots int64
	backups, backupGigabytes      int64
}

// quotaKeys lists every resource of the quota set: the base ones and
// the per-type ones of every type.
func (s *Service) quotaKeys(ctx context.Context, q store.Querier) ([]string, error) {
	keys := make([]string, 0, len(baseQuotaDefaults))
	for k := range baseQuotaDefaults {
		keys = append(keys, k)
	}
	rows, err := q.QueryContext(ctx, `SELECT name FROM volume_types ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read volume types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		for _, p := range perTypePrefixes {
			keys = append(keys, p+n)
		}
	}
	sort.Strings(keys)
	return keys, rows.Err()
}

// defaultLimit is the configured default of resource (Cinder's quota_*
// options; -1 for the per-type ones).
func (s *Service) defaultLimit(resource string) int64 {
	if v, ok := s.cfg.Defaults[resource]; ok {
		return v
	}
	if v, ok := baseQuotaDefaults[resource]; ok {
		return v
	}
	return -1
}

// classLimits reads a quota class's rows.
func classLimits(ctx context.Context, q store.Querier, class string) (map[string]int64, error) {
	return readLimits(ctx, q, `SELECT resource, hard_limit FROM volume_quota_classes WHERE class_name = ?`, class)
}

func readLimits(ctx context.Context, q store.Querier, query, key string) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, query, key)
	if err != nil {
		return nil, fmt.Errorf("read quotas: %w", err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var r string
		var v int64
		if err := rows.Scan(&r, &v); err != nil {
			return nil, err
		}
		m[r] = v
	}
	return m, rows.Err()
}

// defaults is the default quota set: the "default" class over the
// configuration.
func (s *Service) defaults(ctx context.Context, q store.Querier) (map[string]int64, error) {
	keys, err := s.quotaKeys(ctx, q)
	if err != nil {
		return nil, err
	}
	class, err := classLimits(ctx, q, "default")
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(keys))
	for _, k := range keys {
		if v, ok := class[k]; ok {
			out[k] = v
		} else {
			out[k] = s.defaultLimit(k)
		}
	}
	return out, nil
}

// limits is projectID's quota set.
func (s *Service) limits(ctx context.Context, q store.Querier, projectID string) (map[string]int64, error) {
	out, err := s.defaults(ctx, q)
	if err != nil {
		return nil, err
	}
	own, err := readLimits(ctx, q, `SELECT resource, hard_limit FROM volume_quotas WHERE project_id = ?`, projectID)
	if err != nil {
		return nil, err
	}
	for k, v := range own {
		if _, ok := out[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// usage counts what projectID's volumes and snapshots consume, per
// resource of the quota set (in_use; kumo keeps no reservations).
func (s *Service) usage(ctx context.Context, q store.Querier, projectID string) (map[string]int64, error) {
	u := map[string]int64{}
	rows, err := q.QueryContext(ctx, `SELECT t.name, COUNT(*), COALESCE(SUM(v.size_gb), 0) FROM volumes v
		JOIN volume_types t ON t.id = v.volume_type_id WHERE v.project_id = ? AND v.consumes_quota = ? GROUP BY t.name`, projectID, true)
	if err != nil {
		return nil, fmt.Errorf("count volumes: %w", err)
	}
	for rows.Next() {
		var name string
		var n, gb int64
		if err := rows.Scan(&name, &n, &gb); err != nil {
			rows.Close()
			return nil, err
		}
		u["volumes"] += n
		u["gigabytes"] += gb
		u["volumes_"+name] += n
		u["gigabytes_"+name] += gb
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT COALESCE(t.name, ''), COUNT(*), COALESCE(SUM(s.size_gb), 0) FROM snapshots s
		LEFT JOIN volume_types t ON t.id = s.volume_type_id WHERE s.project_id = ? AND s.consumes_quota = ? GROUP BY t.name`, projectID, true)
	if err != nil {
		return nil, fmt.Errorf("count snapshots: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n, gb int64
		if err := rows.Scan(&name, &n, &gb); err != nil {
			return nil, err
		}
		u["snapshots"] += n
		u["gigabytes"] += gb
		if name != "" {
			u["snapshots_"+name] += n
			u["gigabytes_"+name] += gb
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Backups count whatever their status, as Cinder's reservations do
	// until a backup's row is deleted.
	if u["backups"], u["backup_gigabytes"], err = backupUsage(ctx, q, projectID); err != nil {
		return nil, err
	}
	return u, nil
}

// reserve checks, in tx, that adding d (of type typeName) keeps
// projectID within its quotas, with Cinder's errors (413 overLimit).
// size is the volume's size for per_volume_gigabytes (0: not a volume).
func (s *Service) reserve(ctx context.Context, tx *store.Tx, projectID, typeName string, d usageDelta, size int64) error {
	lim, err := s.limits(ctx, tx, projectID)
	if err != nil {
		return err
	}
	if l := lim["per_volume_gigabytes"]; size > 0 && l >= 0 && size > l {
		return sizeExceedsLimit(size, l)
	}
	use, err := s.usage(ctx, tx, projectID)
	if err != nil {
		return err
	}
	over := func(name string, delta int64) bool {
		l, ok := lim[name]
		return ok && delta > 0 && l >= 0 && use[name]+delta > l
	}
	for _, name := range []string{"gigabytes", "gigabytes_" + typeName} {
		if over(name, d.gigabytes) {
			return sizeExceedsQuota(name, d.gigabytes, lim[name], use[name])
		}
	}
	for _, name := range []string{"volumes", "volumes_" + typeName} {
		if over(name, d.volumes) {
			return volumeLimitExceeded(lim[name], name)
		}
	}
	for _, name := range []string{"snapshots", "snapshots_" + typeName} {
		if over(name, d.snapshots) {
			return snapshotLimitExceeded(lim[name])
		}
	}
	if over("backup_gigabytes", d.backupGigabytes) {
		return backupSizeExceedsQuota(d.backupGigabytes, lim["backup_gigabytes"], use["backup_gigabytes"])
	}
	if over("backups", d.backups) {
		return backupLimitExceeded(lim["backups"])
	}
	return nil
}

// Quotas is projectID's quota set (GET os-quota-sets/{project_id}).
func (s *Service) Quotas(ctx context.Context, projectID string) (map[string]int64, error) {
	if err := s.EnsureDefaultType(ctx); err != nil {
		return nil, err
	}
	return s.limits(ctx, s.db, projectID)
}

// QuotaUsage is projectID's quota set with usage (usage=True).
func (s *Service) QuotaUsage(ctx context.Context, projectID string) (map[string]QuotaUsage, error) {
	lim, err := s.Quotas(ctx, projectID)
	if err != nil {
		return nil, err
	}
	use, err := s.usage(ctx, s.db, projectID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]QuotaUsage, len(lim))
	for k, l := range lim {
		out[k] = QuotaUsage{Limit: l, InUse: use[k]}
	}
	return out, nil
}

// DefaultQuotas is the default quota set (os-quota-sets/{id}/defaults).
func (s *Service) DefaultQuotas(ctx context.Context) (map[string]int64, error) {
	if err := s.EnsureDefaultType(ctx); err != nil {
		return nil, err
	}
	return s.defaults(ctx, s.db)
}

// SetQuotas updates projectID's limits (admin) and returns its quota
// set. Unknown resources and limits below -1 are refused; a limit below
// what is in use is refused as Cinder's validate_quota_limit does.
func (s *Service) SetQuotas(ctx context.Context, projectID string, set map[string]int64) (map[string]int64, error) {
	var out map[string]int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.defaultType(ctx, tx); err != nil {
			return err
		}
		cur, err := s.limits(ctx, tx, projectID)
		if err != nil {
			return err
		}
		use, err := s.usage(ctx, tx, projectID)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(set))
		for k := range set {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v := set[k]
			if _, ok := cur[k]; !ok {
				return errs.Invalid("Bad key(s) in quota set: %s", k)
			}
			if v < -1 {
				return invalidInput("Quota limit %d for %s must be -1 or greater.", v, k)
			}
			if v != -1 && v < use[k] {
				return invalidInput("Quota limit %d for %s must be greater than or equal to already used and reserved %d.", v, k, use[k])
			}
		}
		now := s.ts()
		for _, k := range names {
			if _, err := tx.ExecContext(ctx, `DELETE FROM volume_quotas WHERE project_id = ? AND resource = ?`, projectID, k); err != nil {
				return fmt.Errorf("set quota %s: %w", k, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO volume_quotas (project_id, resource, hard_limit, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				projectID, k, set[k], now, now); err != nil {
				return fmt.Errorf("set quota %s: %w", k, err)
			}
			cur[k] = set[k]
		}
		out = cur
		return nil
	})
	return out, err
}

// DeleteQuotas resets projectID's limits to the defaults.
func (s *Service) DeleteQuotas(ctx context.Context, projectID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM volume_quotas WHERE project_id = ?`, projectID); err != nil {
		return fmt.Errorf("delete quotas of %s: %w", projectID, err)
	}
	return nil
}

// QuotaClass is a quota class's set (os-quota-class-sets/{class}): its
// rows over the configured defaults.
func (s *Service) QuotaClass(ctx context.Context, class string) (map[string]int64, error) {
	if err := s.EnsureDefaultType(ctx); err != nil {
		return nil, err
	}
	keys, err := s.quotaKeys(ctx, s.db)
	if err != nil {
		return nil, err
	}
	rows, err := classLimits(ctx, s.db, class)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(keys))
	for _, k := range keys {
		if v, ok := rows[k]; ok {
			out[k] = v
		} else {
			out[k] = s.defaultLimit(k)
		}
	}
	return out, nil
}

// SetQuotaClass updates a quota class (admin).
func (s *Service) SetQuotaClass(ctx context.Context, class string, set map[string]int64) (map[string]int64, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		keys, err := s.quotaKeys(ctx, tx)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, k := range keys {
			known[k] = true
		}
		now := s.ts()
		for k, v := range set {
			if !known[k] {
				continue // Cinder ignores keys outside the quota resources
			}
			if v < -1 {
				return invalidInput("Quota limit %d for %s must be -1 or greater.", v, k)
			}
			var old int64
			err := tx.QueryRowContext(ctx, `SELECT hard_limit FROM volume_quota_classes WHERE class_name = ? AND resource = ?`, class, k).Scan(&old)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				_, err = tx.ExecContext(ctx, `INSERT INTO volume_quota_classes (class_name, resource, hard_limit, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
					class, k, v, now, now)
			case err == nil:
				_, err = tx.ExecContext(ctx, `UPDATE volume_quota_classes SET hard_limit = ?, updated_at = ? WHERE class_name = ? AND resource = ?`,
					v, now, class, k)
			}
			if err != nil {
				return fmt.Errorf("set quota class %s %s: %w", class, k, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.QuotaClass(ctx, class)
}
