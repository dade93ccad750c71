package flavor

import (
	"context"
	"fmt"
	"maps"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// SetExtraSpecs adds or replaces extra specs of a flavor.
func (s *Service) SetExtraSpecs(ctx context.Context, flavorID string, specs map[string]string) (map[string]string, error) {
	var out map[string]string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		f, err := getFlavor(ctx, tx, flavorID)
		if err != nil {
			return err
		}
		for k, v := range specs {
			if _, ok := f.ExtraSpecs[k]; ok {
				_, err = tx.ExecContext(ctx, `UPDATE flavor_extra_specs SET value = ? WHERE flavor_id = ? AND key = ?`, v, flavorID, k)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO flavor_extra_specs (flavor_id, key, value) VALUES (?, ?, ?)`, flavorID, k, v)
			}
			if store.IsUniqueViolation(err) {
				// A concurrent writer added the key first.
				return errs.Conflict("Flavor %s extra spec cannot be updated or created after 1 retries.", flavorID)
			}
			if err != nil {
				return fmt.Errorf("set extra spec %s of flavor %s: %w", k, flavorID, err)
			}
		}
		out = maps.Clone(f.ExtraSpecs)
		maps.Copy(out, specs)
		return touch(ctx, tx, flavorID)
	})
	return out, err
}

// DeleteExtraSpec removes one extra spec.
func (s *Service) DeleteExtraSpec(ctx context.Context, flavorID, key string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getFlavor(ctx, tx, flavorID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND key = ?`, flavorID, key)
		if err != nil {
			return fmt.Errorf("delete extra spec %s of flavor %s: %w", key, flavorID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete extra spec %s of flavor %s: %w", key, flavorID, err)
		} else if n == 0 {
			return errs.NotFound("Flavor %s has no extra specs with key %s.", flavorID, key)
		}
		return nil
	})
}

// touch records that a flavor changed.
func touch(ctx context.Context, q store.Querier, flavorID string) error {
	if _, err := q.ExecContext(ctx, `UPDATE flavors SET updated_at = ? WHERE id = ?`, store.Now(), flavorID); err != nil {
		return fmt.Errorf("touch flavor %s: %w", flavorID, err)
	}
	return nil
}
