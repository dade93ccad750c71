package flavor

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// CreateInput describes a new flavor. An empty ID asks for a generated
// UUID, as Nova does.
type CreateInput struct {
	ID          string
	Name        string
	VCPUs       int
	RAM         int
	Disk        int
	Ephemeral   int
	Swap        int
	RxTxFactor  float64 // 0 means the default of 1.0
	IsPublic    bool
	Description *string
}

func (in *CreateInput) normalize() error {
	if in.ID == "" {
		in.ID = uuid.NewString()
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return errs.Invalid("An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.")
	}
	if in.RxTxFactor == 0 {
		in.RxTxFactor = 1.0
	}
	for _, c := range []struct {
		name     string
		val, min int
	}{
		{"ram", in.RAM, 1}, {"vcpus", in.VCPUs, 1}, {"disk", in.Disk, 0},
		{"ephemeral", in.Ephemeral, 0}, {"swap", in.Swap, 0},
	} {
		if c.val < c.min {
			return errs.Invalid("Invalid input received: %s must be >= %d", c.name, c.min)
		}
		if c.val > MaxInt {
			return errs.Invalid("Invalid input received: %s must be <= %d", c.name, MaxInt)
		}
	}
	if in.RxTxFactor <= 0 || in.RxTxFactor > MaxRxTxFactor {
		return errs.Invalid("Invalid input received: 'rxtx_factor' argument must be a float between 0 and %g", MaxRxTxFactor)
	}
	return nil
}

// Create stores a new flavor. A name or id already in use is a conflict.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Flavor, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkUnique(ctx, tx, in.ID, in.Name); err != nil {
			return err
		}
		now := store.Now()
		_, err := tx.ExecContext(ctx, `INSERT INTO flavors
			(id, name, vcpus, ram, disk, ephemeral, swap, rxtx_factor, is_public, disabled, description, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.Name, in.VCPUs, in.RAM, in.Disk, in.Ephemeral, in.Swap, in.RxTxFactor,
			in.IsPublic, false, in.Description, now, now)
		if store.IsUniqueViolation(err) {
			// A concurrent create won the race; report it the same way.
			return errs.Conflict("Flavor with name %s already exists.", in.Name)
		}
		if err != nil {
			return fmt.Errorf("insert flavor %s: %w", in.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return getFlavor(ctx, s.db, in.ID)
}

func checkUnique(ctx context.Context, q store.Querier, id, name string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM flavors WHERE id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("check flavor id: %w", err)
	}
	if n > 0 {
		return errs.Conflict("Flavor with ID %s already exists.", id)
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM flavors WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("check flavor name: %w", err)
	}
	if n > 0 {
		return errs.Conflict("Flavor with name %s already exists.", name)
	}
	return nil
}
