package network

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/store"
)

// Network is a project's private network.
type Network struct {
	ID        string
	ProjectID string
	Name      string
	CIDR      string // IPv4
	CIDRv6    string // "" when IPv6 is off
	CreatedAt time.Time
}

const networkColumns = `id, project_id, name, cidr, cidr_v6, created_at`

func scanNetwork(row interface{ Scan(...any) error }) (Network, error) {
	var n Network
	var created int64
	if err := row.Scan(&n.ID, &n.ProjectID, &n.Name, &n.CIDR, &n.CIDRv6, &created); err != nil {
		return Network{}, err
	}
	n.CreatedAt = store.Time(created)
	return n, nil
}

// Networks lists projectID's networks, oldest first.
func (m *Manager) Networks(ctx context.Context, q store.Querier, projectID string) ([]Network, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+networkColumns+` FROM networks
		WHERE project_id = ? ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list networks of project %s: %w", projectID, err)
	}
	defer rows.Close()
	var out []Network
	for rows.Next() {
		n, err := scanNetwork(rows)
		if err != nil {
			return nil, fmt.Errorf("scan network: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list networks of project %s: %w", projectID, err)
	}
	return out, nil
}

// Network returns projectID's network id; another project's network is
// store.ErrNotFound like a missing one.
func (m *Manager) Network(ctx context.Context, q store.Querier, projectID, id string) (Network, error) {
	n, err := scanNetwork(q.QueryRowContext(ctx, `SELECT `+networkColumns+` FROM networks
		WHERE id = ? AND project_id = ?`, id, projectID))
	if errors.Is(err, sql.ErrNoRows) {
		return Network{}, store.ErrNotFound
	}
	if err != nil {
		return Network{}, fmt.Errorf("get network %s: %w", id, err)
	}
	return n, nil
}

// NetworksWithDefault lists projectID's networks after creating its
// default network the way its first server would (EnsureDefault), so the
// network proxy APIs show a project its network before it has a server,
// under the id that server's addresses will then use. A full pool leaves
// the list as it is: listing is no place to fail, and the server create
// reports it.
func (m *Manager) NetworksWithDefault(ctx context.Context, db *store.DB, projectID string) ([]Network, error) {
	nets, err := m.Networks(ctx, db, projectID)
	if err != nil || projectID == "" || slices.ContainsFunc(nets, func(n Network) bool { return n.Name == DefaultName }) {
		return nets, err
	}
	// Only the first listing of a project writes; later ones stop above.
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := m.EnsureDefault(ctx, tx, projectID)
		return err
	})
	if err != nil && !errors.Is(err, ErrNoMoreNetworks) {
		return nil, err
	}
	return m.Networks(ctx, db, projectID)
}

func (m *Manager) networkByName(ctx context.Context, q store.Querier, projectID, name string) (Network, error) {
	n, err := scanNetwork(q.QueryRowContext(ctx, `SELECT `+networkColumns+` FROM networks
		WHERE project_id = ? AND name = ?`, projectID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Network{}, store.ErrNotFound
	}
	if err != nil {
		return Network{}, fmt.Errorf("get network %s of project %s: %w", name, projectID, err)
	}
	return n, nil
}

// EnsureDefault returns projectID's default network ("private"),
// creating it with the lowest free subnet of the pools.
func (m *Manager) EnsureDefault(ctx context.Context, tx *store.Tx, projectID string) (Network, error) {
	n, err := m.networkByName(ctx, tx, projectID, DefaultName)
	if !errors.Is(err, store.ErrNotFound) {
		return n, err
	}
	// Each round either creates the network, finds the one a concurrent
	// transaction created, or loses a subnet to another project and
	// looks for the next free one.
	for range 8 {
		idx, err := m.firstFreePoolIndex(ctx, tx)
		if err != nil {
			return Network{}, err
		}
		if idx >= m.capacity {
			return Network{}, noMoreNetworks()
		}
		n := Network{
			ID: uuid.NewString(), ProjectID: projectID, Name: DefaultName,
			CIDR: m.subnet4(idx).String(), CreatedAt: store.Time(store.Now()),
		}
		if p := m.subnet6(idx); p.IsValid() {
			n.CIDRv6 = p.String()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO networks (id, project_id, name, pool_index, cidr, cidr_v6, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			n.ID, n.ProjectID, n.Name, idx, n.CIDR, n.CIDRv6, n.CreatedAt.UnixMicro())
		if err != nil {
			return Network{}, fmt.Errorf("create network of project %s: %w", projectID, err)
		}
		if inserted, err := res.RowsAffected(); err != nil {
			return Network{}, fmt.Errorf("create network of project %s: %w", projectID, err)
		} else if inserted == 1 {
			return n, nil
		}
		existing, err := m.networkByName(ctx, tx, projectID, DefaultName)
		if !errors.Is(err, store.ErrNotFound) {
			return existing, err
		}
	}
	return Network{}, fmt.Errorf("create network of project %s: no free subnet after retries", projectID)
}

// firstFreePoolIndex finds the lowest pool index no network uses, in one
// ordered pass over the pool_index index (see firstFreeOrdinal).
func (m *Manager) firstFreePoolIndex(ctx context.Context, q store.Querier) (int64, error) {
	var used int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM networks WHERE pool_index = 0`).Scan(&used); err != nil {
		return 0, fmt.Errorf("find a free subnet: %w", err)
	}
	if used == 0 {
		return 0, nil
	}
	var idx int64
	err := q.QueryRowContext(ctx, `SELECT pool_index + 1 FROM (
			SELECT pool_index, LEAD(pool_index) OVER (ORDER BY pool_index) AS next_index FROM networks) used
		WHERE next_index IS NULL OR next_index > pool_index + 1
		ORDER BY pool_index LIMIT 1`).Scan(&idx)
	if err != nil {
		return 0, fmt.Errorf("find a free subnet: %w", err)
	}
	return idx, nil
}

// prefixes parses a network's stored CIDRs.
func (n Network) prefixes() (v4, v6 netip.Prefix, err error) {
	if v4, err = netip.ParsePrefix(n.CIDR); err != nil {
		return v4, v6, fmt.Errorf("network %s has a bad CIDR %q: %w", n.ID, n.CIDR, err)
	}
	if n.CIDRv6 != "" {
		if v6, err = netip.ParsePrefix(n.CIDRv6); err != nil {
			return v4, v6, fmt.Errorf("network %s has a bad IPv6 CIDR %q: %w", n.ID, n.CIDRv6, err)
		}
	}
	return v4, v6, nil
}
