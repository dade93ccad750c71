package floatingip

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
)

// randomTries is how many random addresses allocation tries before
// walking the gaps in order; random picks keep concurrent allocations
// off each other's rows, the walk matters only when the pool is nearly
// full.
const randomTries = 16

// poolFor resolves the pool a request names by name or id; "" is the
// default (the configured) pool.
func (s *Service) poolFor(requested string) (*Pool, error) {
	if s.poolErr != nil {
		return nil, fmt.Errorf("floating IP pool: %w", s.poolErr)
	}
	if s.pool == nil || (requested != "" && requested != s.pool.Name && requested != s.pool.ID) {
		return nil, poolNotFound()
	}
	return s.pool, nil
}

// Allocate gives projectID a free address of the pool requested ("" for
// the default pool). limit is the project's floating_ips quota (-1:
// unlimited), checked against its count in the same transaction.
func (s *Service) Allocate(ctx context.Context, projectID, requested string, limit int) (*FloatingIP, error) {
	pool, err := s.poolFor(requested)
	if err != nil {
		return nil, err
	}
	f := &FloatingIP{ID: uuid.NewString(), Pool: pool.Name, ProjectID: projectID}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if limit >= 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM floating_ips WHERE project_id = ? AND gateway_of IS NULL`, projectID).Scan(&n); err != nil {
				return fmt.Errorf("count floating IPs of project %s: %w", projectID, err)
			}
			if quota.Exceeds(limit, n, 1) {
				return overQuota(requested)
			}
		}
		addr, err := claim(ctx, tx, pool, f, requested)
		f.Address = addr
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// claim inserts f with a free address of pool and returns the address.
func claim(ctx context.Context, tx *store.Tx, pool *Pool, f *FloatingIP, requested string) (string, error) {
	now := store.Now()
	try := func(o int64) (bool, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO floating_ips (id, pool, address, ordinal, project_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			f.ID, pool.Name, addrAt(o).String(), o, f.ProjectID, now, now)
		if err != nil {
			return false, fmt.Errorf("claim floating IP %s: %w", addrAt(o), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("claim floating IP %s: %w", addrAt(o), err)
		}
		return n == 1, nil
	}
	size := pool.last - pool.first + 1
	for range min(randomTries, size) {
		o := pool.first + rand.Int64N(size)
		if ok, err := try(o); err != nil || ok {
			return addrAt(o).String(), err
		}
	}
	// Nearly full: the first gap after a random point, else the lowest;
	// a gap a concurrent transaction takes first is tried again.
	for range 4 {
		o, err := firstFree(ctx, tx, pool.first+rand.Int64N(size))
		if err == nil && o > pool.last {
			o, err = firstFree(ctx, tx, pool.first)
		}
		if err != nil {
			return "", err
		}
		if o > pool.last {
			return "", noMoreFloatingIPs(requested)
		}
		if ok, err := try(o); err != nil || ok {
			return addrAt(o).String(), err
		}
	}
	return "", noMoreFloatingIPs(requested)
}

// firstFree is the lowest ordinal >= from not in use: from itself, or the
// successor of the first used ordinal whose successor is free.
func firstFree(ctx context.Context, tx *store.Tx, from int64) (int64, error) {
	var used int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM floating_ips WHERE ordinal = ?`, from).Scan(&used); err != nil {
		return 0, fmt.Errorf("find a free floating IP: %w", err)
	}
	if used == 0 {
		return from, nil
	}
	var o int64
	err := tx.QueryRowContext(ctx, `SELECT ordinal + 1 FROM (
			SELECT ordinal, LEAD(ordinal) OVER (ORDER BY ordinal) AS next_ordinal
			FROM floating_ips WHERE ordinal >= ?) used
		WHERE next_ordinal IS NULL OR next_ordinal > ordinal + 1
		ORDER BY ordinal LIMIT 1`, from).Scan(&o)
	if err != nil {
		return 0, fmt.Errorf("find a free floating IP: %w", err)
	}
	return o, nil
}

// Release deallocates the floating IP id, disassociating it first if
// bound (Nova's disassociate_and_release_floating_ip).
func (s *Service) Release(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		f, err := getByID(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM floating_ips WHERE id = ?`, f.ID); err != nil {
			return fmt.Errorf("release floating IP %s: %w", f.Address, err)
		}
		return network.DeleteTags(ctx, tx, KindFloatingIPs, f.ID)
	})
}
