// Package aggregate is Nova's host aggregates (os-aggregates): named
// groups of compute hosts with metadata. The availability_zone key makes
// an aggregate an availability zone: its hosts move into that zone.
package aggregate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/store"
)

// ZoneKey is the metadata key that names an aggregate's availability zone.
const ZoneKey = "availability_zone"

// DefaultZone is the zone of hosts in no zone aggregate (Nova's
// default_availability_zone).
const DefaultZone = "nova"

// Aggregate is a host aggregate.
type Aggregate struct {
	ID        int64
	UUID      string
	Name      string
	Hosts     []string
	Metadata  map[string]string
	CreatedAt time.Time
	UpdatedAt *time.Time
}

// Zone is the aggregate's availability zone, nil when it has none.
func (a *Aggregate) Zone() *string {
	if z, ok := a.Metadata[ZoneKey]; ok {
		return &z
	}
	return nil
}

// Servers is what aggregates need to know about servers; the compute
// package answers it (compute.Inventory), so SQL on the instances table
// stays there.
type Servers interface {
	// CountHostedServers counts the servers on hostname that are not
	// deleted, in the caller's transaction q.
	CountHostedServers(ctx context.Context, q store.Querier, hostname string) (int64, error)
}

// Service manages aggregates.
type Service struct {
	db      *store.DB
	servers Servers
	now     func() time.Time
}

// New returns the aggregate service on db, asking servers about the
// servers on a host.
func New(db *store.DB, servers Servers) *Service {
	return &Service{db: db, servers: servers, now: time.Now}
}

func notFound(id int64) error { return errs.NotFound("Aggregate %d could not be found.", id) }

// List returns every aggregate by id; one deleted while the list is read
// is left out rather than failing the list.
func (s *Service) List(ctx context.Context) ([]*Aggregate, error) {
	var out []*Aggregate
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM aggregates WHERE deleted = FALSE ORDER BY id`)
		if err != nil {
			return fmt.Errorf("list aggregates: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("list aggregates: %w", err)
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("list aggregates: %w", err)
		}
		out = make([]*Aggregate, 0, len(ids))
		for _, id := range ids {
			a, err := load(ctx, tx, id)
			if errs.Is(err, errs.KindNotFound) {
				continue // deleted since the ids were read (PostgreSQL reads committed rows)
			}
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// Get returns one aggregate.
func (s *Service) Get(ctx context.Context, id int64) (*Aggregate, error) {
	return load(ctx, s.db, id)
}

func load(ctx context.Context, q store.Querier, id int64) (*Aggregate, error) {
	a := &Aggregate{ID: id, Hosts: []string{}, Metadata: map[string]string{}}
	var created int64
	var updated sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT uuid, name, created_at, updated_at FROM aggregates WHERE id = ? AND deleted = FALSE`, id).
		Scan(&a.UUID, &a.Name, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load aggregate %d: %w", id, err)
	}
	a.CreatedAt = time.UnixMicro(created).UTC()
	if updated.Valid {
		t := time.UnixMicro(updated.Int64).UTC()
		a.UpdatedAt = &t
	}
	hostRows, err := q.QueryContext(ctx, `SELECT host FROM aggregate_hosts WHERE aggregate_id = ? ORDER BY host`, id)
	if err != nil {
		return nil, fmt.Errorf("load hosts of aggregate %d: %w", id, err)
	}
	for hostRows.Next() {
		var h string
		if err := hostRows.Scan(&h); err != nil {
			hostRows.Close()
			return nil, fmt.Errorf("load hosts of aggregate %d: %w", id, err)
		}
		a.Hosts = append(a.Hosts, h)
	}
	if err := hostRows.Close(); err != nil {
		return nil, fmt.Errorf("load hosts of aggregate %d: %w", id, err)
	}
	metaRows, err := q.QueryContext(ctx, `SELECT key, value FROM aggregate_metadata WHERE aggregate_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("load metadata of aggregate %d: %w", id, err)
	}
	defer metaRows.Close()
	for metaRows.Next() {
		var k, v string
		if err := metaRows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("load metadata of aggregate %d: %w", id, err)
		}
		a.Metadata[k] = v
	}
	return a, metaRows.Err()
}

func (s *Service) nameTaken(ctx context.Context, tx *store.Tx, name string, except int64) error {
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM aggregates WHERE name = ? AND id <> ? AND deleted = FALSE`, name, except).Scan(&n); err != nil {
		return fmt.Errorf("check aggregate name: %w", err)
	}
	if n > 0 {
		return errs.Conflict("Aggregate %s already exists.", name)
	}
	return nil
}

// Create makes an aggregate, in zone when zone is not nil.
func (s *Service) Create(ctx context.Context, name string, zone *string) (*Aggregate, error) {
	var out *Aggregate
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.nameTaken(ctx, tx, name, 0); err != nil {
			return err
		}
		var id int64
		// Deleted aggregates keep their rows, so an id is never given
		// twice (as Nova's auto-increment ids): a client deleting an id
		// it deleted before must not hit a newer aggregate.
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM aggregates`).Scan(&id); err != nil {
			return fmt.Errorf("number aggregate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO aggregates (id, uuid, name, created_at) VALUES (?, ?, ?, ?)`,
			id, uuid.NewString(), name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("create aggregate: %w", err)
		}
		if zone != nil {
			if err := setMeta(ctx, tx, id, ZoneKey, zone); err != nil {
				return err
			}
		}
		var err error
		out, err = load(ctx, tx, id)
		return err
	})
	return out, err
}

func setMeta(ctx context.Context, tx *store.Tx, id int64, key string, value *string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM aggregate_metadata WHERE aggregate_id = ? AND key = ?`, id, key); err != nil {
		return fmt.Errorf("set aggregate metadata: %w", err)
	}
	if value == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, ?, ?)`, id, key, *value); err != nil {
		return fmt.Errorf("set aggregate metadata: %w", err)
	}
	return nil
}

// Update renames an aggregate and/or moves it to another zone.
func (s *Service) Update(ctx context.Context, id int64, name *string, zone *string, zoneGiven bool) (*Aggregate, error) {
	var out *Aggregate
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if name != nil {
			if err := s.nameTaken(ctx, tx, *name, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE aggregates SET name = ? WHERE id = ?`, *name, id); err != nil {
				return fmt.Errorf("rename aggregate: %w", err)
			}
		}
		meta := map[string]*string{}
		if zoneGiven {
			meta[ZoneKey] = zone
		}
		out, err = s.writeMeta(ctx, tx, a, meta, "update")
		return err
	})
	return out, err
}

// SetMetadata merges metadata into an aggregate; a nil value removes
// the key.
func (s *Service) SetMetadata(ctx context.Context, id int64, meta map[string]*string) (*Aggregate, error) {
	var out *Aggregate
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		out, err = s.writeMeta(ctx, tx, a, meta, "update metadata of")
		return err
	})
	return out, err
}

// writeMeta applies meta (a nil value removes the key) to a in tx once
// the zone rules allow it, marks a updated and returns it reloaded; what
// names the operation in Nova's refusal ("Cannot <what> aggregate 1").
func (s *Service) writeMeta(ctx context.Context, tx *store.Tx, a *Aggregate, meta map[string]*string, what string) (*Aggregate, error) {
	if len(meta) > 0 {
		why, err := s.zoneRefusal(ctx, tx, a, meta, a.Hosts, true)
		if err != nil {
			return nil, err
		}
		if why != "" {
			return nil, errs.Invalid("Cannot %s aggregate %d. Reason: %s.", what, a.ID, why)
		}
		if err := s.applyMeta(ctx, tx, a, meta); err != nil {
			return nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE aggregates SET updated_at = ? WHERE id = ?`, s.now().UnixMicro(), a.ID); err != nil {
		return nil, fmt.Errorf("update aggregate: %w", err)
	}
	return load(ctx, tx, a.ID)
}

func (s *Service) applyMeta(ctx context.Context, tx *store.Tx, a *Aggregate, meta map[string]*string) error {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := setMeta(ctx, tx, a.ID, k, meta[k]); err != nil {
			return err
		}
	}
	if _, ok := meta[ZoneKey]; ok {
		for _, h := range a.Hosts {
			if err := hosts.SyncZone(ctx, tx, h, DefaultZone); err != nil {
				return err
			}
		}
	}
	return nil
}

// zoneRefusal applies Nova's is_safe_to_update_az: a zone must have a
// name, the hosts may not be in another zone already, and (for updates)
// hosts with servers may not change zone. It returns the reason of a
// refusal, "" when the change is safe.
func (s *Service) zoneRefusal(ctx context.Context, tx *store.Tx, a *Aggregate, meta map[string]*string, hostNames []string, checkServers bool) (string, error) {
	z, ok := meta[ZoneKey]
	if !ok {
		return "", nil
	}
	if z == nil || *z == "" {
		return fmt.Sprintf("Aggregate %s does not support empty named availability zone", a.Name), nil
	}
	var conflicting []string
	for _, h := range hostNames {
		rows, err := tx.QueryContext(ctx, `SELECT m.value FROM aggregate_metadata m JOIN aggregate_hosts h ON h.aggregate_id = m.aggregate_id
			WHERE h.host = ? AND m.key = ? AND m.aggregate_id <> ? AND m.value <> ?`, h, ZoneKey, a.ID, *z)
		if err != nil {
			return "", fmt.Errorf("check aggregate zones: %w", err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return "", fmt.Errorf("check aggregate zones: %w", err)
			}
			conflicting = append(conflicting, v)
		}
		if err := rows.Close(); err != nil {
			return "", fmt.Errorf("check aggregate zones: %w", err)
		}
	}
	if len(conflicting) > 0 {
		return "One or more hosts already in availability zone(s) " + pyList(conflicting), nil
	}
	if cur := a.Zone(); checkServers && (cur == nil || *cur != *z) && len(hostNames) > 0 {
		var n int64
		for _, h := range hostNames {
			c, err := s.servers.CountHostedServers(ctx, tx, h)
			if err != nil {
				return "", err
			}
			n += c
		}
		if n > 0 {
			return "One or more hosts contain instances in this zone", nil
		}
	}
	return "", nil
}

// pyList prints names as Python prints a list of str.
func pyList(items []string) string {
	out := "["
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += "'" + s + "'"
	}
	return out + "]"
}

// AddHost adds a compute host.
func (s *Service) AddHost(ctx context.Context, id int64, host string) (*Aggregate, error) {
	var out *Aggregate
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, found, err := hosts.ZoneOf(ctx, tx, host); err != nil {
			return err
		} else if !found {
			return errs.NotFound("Compute host %s could not be found.", host)
		}
		for _, h := range a.Hosts {
			if h == host {
				return errs.Conflict("Aggregate %d already has host %s.", id, host)
			}
		}
		if z := a.Zone(); z != nil {
			meta := map[string]*string{ZoneKey: z}
			if why, err := s.zoneRefusal(ctx, tx, a, meta, []string{host}, false); err != nil {
				return err
			} else if why != "" {
				return errs.Conflict("Cannot add host to aggregate %d. Reason: %s.", id, why)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)`, id, host); err != nil {
			return fmt.Errorf("add host to aggregate: %w", err)
		}
		if err := hosts.SyncZone(ctx, tx, host, DefaultZone); err != nil {
			return err
		}
		out, err = load(ctx, tx, id)
		return err
	})
	return out, err
}

// RemoveHost removes a host; a host not in the aggregate is Nova's 404.
func (s *Service) RemoveHost(ctx context.Context, id int64, host string) (*Aggregate, error) {
	var out *Aggregate
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM aggregate_hosts WHERE aggregate_id = ? AND host = ?`, id, host)
		if err != nil {
			return fmt.Errorf("remove host from aggregate: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("remove host from aggregate: %w", err)
		} else if n == 0 {
			return errs.NotFound("Cannot remove host %s in aggregate %d", host, id)
		}
		if err := hosts.SyncZone(ctx, tx, host, DefaultZone); err != nil {
			return err
		}
		out, err = load(ctx, tx, id)
		return err
	})
	return out, err
}

// Delete removes an aggregate without hosts.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(a.Hosts) > 0 {
			return errs.Invalid("Cannot remove host from aggregate %d. Reason: Host aggregate is not empty.", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM aggregate_metadata WHERE aggregate_id = ?`, id); err != nil {
			return fmt.Errorf("delete aggregate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE aggregates SET deleted = TRUE, deleted_at = ? WHERE id = ?`, s.now().UnixMicro(), id); err != nil {
			return fmt.Errorf("delete aggregate: %w", err)
		}
		return nil
	})
}

// OfHost returns the aggregates a host is in.
func (s *Service) OfHost(ctx context.Context, host string) ([]*Aggregate, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Aggregate
	for _, a := range all {
		for _, h := range a.Hosts {
			if h == host {
				out = append(out, a)
			}
		}
	}
	return out, nil
}
