package flavor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

const flavorColumns = `id, name, vcpus, ram, disk, ephemeral, swap, rxtx_factor, is_public, disabled, description, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanFlavor(r scanner) (*Flavor, error) {
	var f Flavor
	var desc sql.NullString
	var created, updated int64
	if err := r.Scan(&f.ID, &f.Name, &f.VCPUs, &f.RAM, &f.Disk, &f.Ephemeral, &f.Swap, &f.RxTxFactor,
		&f.IsPublic, &f.Disabled, &desc, &created, &updated); err != nil {
		return nil, err
	}
	if desc.Valid {
		d := desc.String
		f.Description = &d
	}
	f.CreatedAt, f.UpdatedAt = store.Time(created), store.Time(updated)
	f.ExtraSpecs = map[string]string{}
	return &f, nil
}

// getFlavor loads one flavor and its extra specs.
func getFlavor(ctx context.Context, q store.Querier, id string) (*Flavor, error) {
	f, err := scanFlavor(q.QueryRowContext(ctx, `SELECT `+flavorColumns+` FROM flavors WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get flavor %s: %w", id, err)
	}
	specs, err := loadSpecs(ctx, q, `WHERE flavor_id = ?`, id)
	if err != nil {
		return nil, err
	}
	if s, ok := specs[id]; ok {
		f.ExtraSpecs = s
	}
	return f, nil
}

// allFlavors loads every flavor with its extra specs.
func allFlavors(ctx context.Context, q store.Querier) ([]*Flavor, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+flavorColumns+` FROM flavors`)
	if err != nil {
		return nil, fmt.Errorf("list flavors: %w", err)
	}
	defer rows.Close()
	var out []*Flavor
	for rows.Next() {
		f, err := scanFlavor(rows)
		if err != nil {
			return nil, fmt.Errorf("scan flavor: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list flavors: %w", err)
	}
	specs, err := loadSpecs(ctx, q, "")
	if err != nil {
		return nil, err
	}
	for _, f := range out {
		if s, ok := specs[f.ID]; ok {
			f.ExtraSpecs = s
		}
	}
	return out, nil
}

// loadSpecs returns extra specs by flavor id for the rows where selects.
func loadSpecs(ctx context.Context, q store.Querier, where string, args ...any) (map[string]map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT flavor_id, key, value FROM flavor_extra_specs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("load extra specs: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return nil, fmt.Errorf("scan extra spec: %w", err)
		}
		if out[id] == nil {
			out[id] = map[string]string{}
		}
		out[id][k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load extra specs: %w", err)
	}
	return out, nil
}

// accessibleIDs returns the ids of flavors project was given access to.
func accessibleIDs(ctx context.Context, q store.Querier, project string) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT flavor_id FROM flavor_projects WHERE project_id = ?`, project)
	if err != nil {
		return nil, fmt.Errorf("load flavor access: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan flavor access: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

func hasAccess(ctx context.Context, q store.Querier, flavorID, project string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM flavor_projects WHERE flavor_id = ? AND project_id = ?`,
		flavorID, project).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check flavor access: %w", err)
	}
	return n > 0, nil
}
