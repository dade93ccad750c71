// Package flavor manages compute flavors, their extra specs and the
// projects allowed to use private flavors.
package flavor

import (
	"context"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// MaxInt is the largest value Nova stores in a flavor's integer columns.
const MaxInt = 0x7FFFFFFF

// MaxRxTxFactor is Nova's SQL_SP_FLOAT_MAX, the rxtx_factor ceiling.
const MaxRxTxFactor = 3.40282e+38

// Flavor is a compute flavor.
type Flavor struct {
	ID          string // Nova's flavorid
	Name        string
	VCPUs       int
	RAM         int // MiB
	Disk        int // GiB
	Ephemeral   int // GiB
	Swap        int // MiB
	RxTxFactor  float64
	IsPublic    bool
	Disabled    bool
	Description *string
	ExtraSpecs  map[string]string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Viewer is who looks at flavors: admins see every flavor, others see
// public flavors and private ones their project was given access to.
type Viewer struct {
	ProjectID string
	Admin     bool
}

// ViewerOf returns the viewer for an authenticated principal.
func ViewerOf(p *auth.Principal) Viewer {
	if p == nil {
		return Viewer{}
	}
	return Viewer{ProjectID: p.ProjectID, Admin: p.IsAdmin()}
}

// Service implements flavor management.
type Service struct{ db *store.DB }

// New returns a flavor service.
func New(db *store.DB) *Service { return &Service{db: db} }

func notFound(id string) error { return errs.NotFound("Flavor %s could not be found.", id) }

// Get returns the flavor with its extra specs when v may see it; private
// flavors of other projects are reported as not found.
func (s *Service) Get(ctx context.Context, v Viewer, id string) (*Flavor, error) {
	f, err := getFlavor(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !v.Admin && !f.IsPublic {
		ok, err := hasAccess(ctx, s.db, id, v.ProjectID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notFound(id)
		}
	}
	return f, nil
}

// GetAny returns the flavor whatever its visibility, for admin callers
// and in-process users such as servers resolving an instance's flavor.
func (s *Service) GetAny(ctx context.Context, id string) (*Flavor, error) {
	return getFlavor(ctx, s.db, id)
}

// Delete removes a flavor with its extra specs and access list.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		// Children first: SQLite does not enforce ON DELETE CASCADE
		// unless foreign keys are switched on.
		for _, q := range []string{
			`DELETE FROM flavor_extra_specs WHERE flavor_id = ?`,
			`DELETE FROM flavor_projects WHERE flavor_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete flavor %s children: %w", id, err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM flavors WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete flavor %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete flavor %s: %w", id, err)
		} else if n == 0 {
			return notFound(id)
		}
		return nil
	})
}

// UpdateDescription sets (or with nil clears) a flavor's description.
func (s *Service) UpdateDescription(ctx context.Context, id string, description *string) (*Flavor, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE flavors SET description = ?, updated_at = ? WHERE id = ?`,
			description, store.Now(), id)
		if err != nil {
			return fmt.Errorf("update flavor %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update flavor %s: %w", id, err)
		} else if n == 0 {
			return notFound(id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return getFlavor(ctx, s.db, id)
}
