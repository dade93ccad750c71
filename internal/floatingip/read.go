package floatingip

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/store"
)

// selectFloating reads floating IPs (not the router gateways' addresses
// kept with them) with the server their fixed IP belongs to.
const selectFloating = `SELECT fl.id, COALESCE(fl.network_id, ''), COALESCE(fl.port_id, ''), fl.pool, fl.address, fl.project_id,
	COALESCE(fl.fixed_network_id, ''), COALESCE(fl.fixed_address, ''), COALESCE(f.instance_id, '')
	FROM floating_ips fl
	LEFT JOIN fixed_ips f ON f.network_id = fl.fixed_network_id AND f.address = fl.fixed_address
	WHERE fl.gateway_of IS NULL`

func scanFloating(row interface{ Scan(...any) error }) (*FloatingIP, error) {
	var f FloatingIP
	if err := row.Scan(&f.ID, &f.NetworkID, &f.port, &f.Pool, &f.Address, &f.ProjectID, &f.FixedNetworkID, &f.FixedAddress, &f.InstanceID); err != nil {
		return nil, err
	}
	return &f, nil
}

// List returns projectID's floating IPs in allocation order (Nova lists
// the caller's project only, admins included).
func (s *Service) List(ctx context.Context, projectID string) ([]FloatingIP, error) {
	rows, err := s.db.QueryContext(ctx, selectFloating+` AND fl.project_id = ? ORDER BY fl.created_at, fl.id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list floating IPs of project %s: %w", projectID, err)
	}
	defer rows.Close()
	out := []FloatingIP{}
	for rows.Next() {
		f, err := scanFloating(rows)
		if err != nil {
			return nil, fmt.Errorf("scan floating IP: %w", err)
		}
		out = append(out, *f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list floating IPs of project %s: %w", projectID, err)
	}
	return out, nil
}

// Get returns the floating IP with id if p may see it.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*FloatingIP, error) {
	return getByID(ctx, s.db, p, id)
}

// ByAddress returns the floating IP with address if p may see it.
func (s *Service) ByAddress(ctx context.Context, p *auth.Principal, address string) (*FloatingIP, error) {
	return getByAddress(ctx, s.db, p, canonical(address))
}

func getByID(ctx context.Context, q store.Querier, p *auth.Principal, id string) (*FloatingIP, error) {
	f, err := getOne(ctx, q, p, `fl.id = ?`, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundForID(id)
	}
	return f, err
}

func getByAddress(ctx context.Context, q store.Querier, p *auth.Principal, address string) (*FloatingIP, error) {
	f, err := getOne(ctx, q, p, `fl.address = ?`, address)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundForAddress(address)
	}
	return f, err
}

// getOne reads one floating IP; one p may not see is store.ErrNotFound,
// so that other projects' addresses are never revealed.
func getOne(ctx context.Context, q store.Querier, p *auth.Principal, where string, arg string) (*FloatingIP, error) {
	f, err := scanFloating(q.QueryRowContext(ctx, selectFloating+` AND `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read floating IP %s: %w", arg, err)
	}
	if !visible(p, f.ProjectID) {
		return nil, store.ErrNotFound
	}
	return f, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
