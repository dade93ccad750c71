package compute

// Migration records (Nova's migrations table): one per resize or cold
// migration, read by GET /os-migrations and GET /servers/{id}/migrations.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// Migration types and statuses, as Nova names them.
const (
	MigrationTypeResize     = "resize"
	MigrationTypeMigration  = "migration"
	MigrationTypeLive       = "live-migration"
	MigrationTypeEvacuation = "evacuation"

	MigrationPreMigrating  = "pre-migrating"
	MigrationMigrating     = "migrating"
	MigrationPostMigrating = "post-migrating"
	MigrationFinished      = "finished"
	MigrationConfirming    = "confirming"
	MigrationConfirmed     = "confirmed"
	MigrationReverting     = "reverting"
	MigrationReverted      = "reverted"
	MigrationError         = "error"

	// Live migration (Nova's compute manager) and evacuation statuses.
	MigrationQueued    = "queued"
	MigrationPreparing = "preparing"
	MigrationRunning   = "running"
	MigrationCompleted = "completed"
	MigrationFailed    = "failed"
	MigrationCancelled = "cancelled"
	MigrationAccepted  = "accepted"
	MigrationDone      = "done"
)

// LiveMigrationInProgress are the statuses Nova counts as an in-progress
// live migration (the only migrations GET /servers/{id}/migrations shows).
var LiveMigrationInProgress = []string{MigrationQueued, MigrationPreparing, MigrationRunning, MigrationPostMigrating}

// MigrationProgress is how far a live migration has copied the guest's
// memory and disks, in bytes (Nova's memory_* and disk_* counters).
type MigrationProgress struct {
	MemoryTotal, MemoryProcessed, MemoryRemaining int64
	DiskTotal, DiskProcessed, DiskRemaining       int64
}

// Migration is one resize, cold migration, live migration or evacuation
// of a server.
type Migration struct {
	ID            int64
	UUID          string
	InstanceUUID  string
	Type          string
	Status        string
	SourceCompute string
	SourceNode    string
	DestCompute   string // "" until a destination is chosen
	DestNode      string
	DestHost      string
	// OldTypeID and NewTypeID are Nova's integer flavor ids; kumo's flavor
	// ids are strings, so they are the ids that are integers, else nil.
	OldTypeID, NewTypeID *int64
	OldFlavor, NewFlavor FlavorSnapshot
	UserID, ProjectID    string
	Hidden               bool
	// Progress is a live migration's, nil until it first reports.
	Progress  *MigrationProgress
	CreatedAt time.Time
	UpdatedAt *time.Time
}

// MigrationFilter selects migrations for GET /os-migrations; empty fields
// do not filter. Host matches the source or the destination compute.
type MigrationFilter struct {
	Status        []string
	Host          string
	SourceCompute string
	Node          string // the source or the destination node
	InstanceUUID  string
	Type          string
	Hidden        *bool
	UserID        string
	ProjectID     string
	ChangesSince  *time.Time
	ChangesBefore *time.Time
	// Sorted pages newest first by (created_at, id), from 2.59; without
	// it the records come in id order.
	Sorted bool
	Limit  *int
	Marker string
}

const migrationColumns = `id, uuid, instance_uuid, migration_type, status, source_compute, source_node,
	dest_compute, dest_node, dest_host, old_instance_type_id, new_instance_type_id, old_flavor, new_flavor,
	user_id, project_id, hidden, created_at, updated_at, memory_total, memory_processed, memory_remaining,
	disk_total, disk_processed, disk_remaining`

func scanMigration(r rowScanner) (*Migration, error) {
	var m Migration
	var src, srcNode, dst, dstNode, dstHost sql.NullString
	var oldID, newID, updated sql.NullInt64
	var oldFlavor, newFlavor string
	var created int64
	var progress [6]sql.NullInt64
	if err := r.Scan(&m.ID, &m.UUID, &m.InstanceUUID, &m.Type, &m.Status, &src, &srcNode, &dst, &dstNode, &dstHost,
		&oldID, &newID, &oldFlavor, &newFlavor, &m.UserID, &m.ProjectID, &m.Hidden, &created, &updated,
		&progress[0], &progress[1], &progress[2], &progress[3], &progress[4], &progress[5]); err != nil {
		return nil, err
	}
	if progress[0].Valid {
		m.Progress = &MigrationProgress{MemoryTotal: progress[0].Int64, MemoryProcessed: progress[1].Int64,
			MemoryRemaining: progress[2].Int64, DiskTotal: progress[3].Int64, DiskProcessed: progress[4].Int64,
			DiskRemaining: progress[5].Int64}
	}
	m.SourceCompute, m.SourceNode, m.DestCompute, m.DestNode, m.DestHost = src.String, srcNode.String, dst.String, dstNode.String, dstHost.String
	if oldID.Valid {
		m.OldTypeID = &oldID.Int64
	}
	if newID.Valid {
		m.NewTypeID = &newID.Int64
	}
	if err := json.Unmarshal([]byte(oldFlavor), &m.OldFlavor); err != nil {
		return nil, fmt.Errorf("decode old flavor of migration %d: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(newFlavor), &m.NewFlavor); err != nil {
		return nil, fmt.Errorf("decode new flavor of migration %d: %w", m.ID, err)
	}
	m.CreatedAt = time.UnixMicro(created).UTC()
	m.UpdatedAt = optTime(updated)
	return &m, nil
}

// flavorTypeID is Nova's integer instance type id of a flavor snapshot.
func flavorTypeID(f FlavorSnapshot) *int64 {
	n, err := strconv.ParseInt(f.ID, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

// insertMigration numbers and stores m, in tx (Nova's
// MigrationTask._preallocate_migration).
func insertMigration(ctx context.Context, tx *store.Tx, m *Migration) error {
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM migrations`).Scan(&m.ID); err != nil {
		return fmt.Errorf("number migration: %w", err)
	}
	if m.UUID == "" {
		m.UUID = uuid.NewString()
	}
	oldFlavor, _ := json.Marshal(m.OldFlavor)
	newFlavor, _ := json.Marshal(m.NewFlavor)
	var updated *int64
	if m.UpdatedAt != nil {
		u := m.UpdatedAt.UnixMicro()
		updated = &u
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO migrations (id, uuid, instance_uuid, migration_type, status,
		source_compute, source_node, dest_compute, dest_node, dest_host, old_instance_type_id, new_instance_type_id,
		old_flavor, new_flavor, user_id, project_id, hidden, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.UUID, m.InstanceUUID, m.Type, m.Status, nullStr(m.SourceCompute), nullStr(m.SourceNode),
		nullStr(m.DestCompute), nullStr(m.DestNode), nullStr(m.DestHost), m.OldTypeID, m.NewTypeID,
		string(oldFlavor), string(newFlavor), m.UserID, m.ProjectID, m.Hidden, m.CreatedAt.UnixMicro(), updated)
	if err != nil {
		return fmt.Errorf("record migration: %w", err)
	}
	return nil
}

// setMigrationStatus moves migration id from one of the statuses in from
// to status, in tx; it reports whether the record was in such a status.
func setMigrationStatus(ctx context.Context, tx *store.Tx, id int64, status string, now time.Time, from ...string) (bool, error) {
	q := `UPDATE migrations SET status = ?, updated_at = ? WHERE id = ?`
	args := []any{status, now.UnixMicro(), id}
	if len(from) > 0 {
		q += ` AND status IN (` + placeholders(len(from)) + `)`
		for _, f := range from {
			args = append(args, f)
		}
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("set migration %d %s: %w", id, status, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// migrationByStatus is the newest migration of a server in status, in tx
// (Nova's Migration.get_by_instance_and_status); nil when there is none.
func migrationByStatus(ctx context.Context, q store.Querier, instanceID, status string) (*Migration, error) {
	m, err := scanMigration(q.QueryRowContext(ctx, `SELECT `+migrationColumns+` FROM migrations
		WHERE instance_uuid = ? AND status = ? ORDER BY created_at DESC, id DESC LIMIT 1`, instanceID, status))
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load migration of %s: %w", instanceID, err)
	}
	return m, nil
}

// migrationByID loads one migration, in tx.
func migrationByID(ctx context.Context, q store.Querier, id int64) (*Migration, error) {
	m, err := scanMigration(q.QueryRowContext(ctx, `SELECT `+migrationColumns+` FROM migrations WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("load migration %d: %w", id, err)
	}
	return m, nil
}

// ListMigrations returns the migrations f selects (admins only; the API
// checks). A marker that is no migration's uuid is Nova's MarkerNotFound.
func (s *Service) ListMigrations(ctx context.Context, f MigrationFilter) ([]*Migration, error) {
	if f.Limit != nil && *f.Limit == 0 {
		return []*Migration{}, nil
	}
	var where []string
	var args []any
	add := func(cond string, vs ...any) { where = append(where, cond); args = append(args, vs...) }
	if f.ChangesSince != nil {
		add("updated_at >= ?", f.ChangesSince.UnixMicro())
	}
	if f.ChangesBefore != nil {
		add("updated_at <= ?", f.ChangesBefore.UnixMicro())
	}
	if len(f.Status) > 0 {
		vs := make([]any, len(f.Status))
		for i, st := range f.Status {
			vs[i] = st
		}
		add("status IN ("+placeholders(len(vs))+")", vs...)
	}
	if f.Host != "" {
		add("(source_compute = ? OR dest_compute = ?)", f.Host, f.Host)
	} else if f.SourceCompute != "" {
		add("source_compute = ?", f.SourceCompute)
	}
	if f.Node != "" {
		add("(source_node = ? OR dest_node = ?)", f.Node, f.Node)
	}
	if f.Type != "" {
		add("migration_type = ?", f.Type)
	}
	if f.Hidden != nil {
		add("hidden = ?", *f.Hidden)
	}
	if f.InstanceUUID != "" {
		add("instance_uuid = ?", f.InstanceUUID)
	}
	if f.UserID != "" {
		add("user_id = ?", f.UserID)
	}
	if f.ProjectID != "" {
		add("project_id = ?", f.ProjectID)
	}
	order := "id"
	if f.Sorted || f.Marker != "" || f.Limit != nil {
		order = "created_at DESC, id DESC"
	}
	if f.Marker != "" {
		var created, id int64
		err := s.DB.QueryRowContext(ctx, `SELECT created_at, id FROM migrations WHERE uuid = ?`, f.Marker).Scan(&created, &id)
		if isNoRows(err) {
			return nil, errs.Invalid("Marker %s could not be found.", f.Marker)
		}
		if err != nil {
			return nil, fmt.Errorf("load marker migration: %w", err)
		}
		add("(created_at < ? OR (created_at = ? AND id < ?))", created, created, id)
	}
	q := `SELECT ` + migrationColumns + ` FROM migrations`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY ` + order
	if f.Limit != nil {
		q += ` LIMIT ` + strconv.Itoa(*f.Limit)
	}
	out, err := queryMigrations(ctx, s.DB, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	return out, nil
}

// queryMigrations runs query, a SELECT of migrationColumns, on q.
func queryMigrations(ctx context.Context, q store.Querier, query string, args ...any) ([]*Migration, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Migration{}
	for rows.Next() {
		m, err := scanMigration(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// InProgressLiveMigrations are the live migrations of a server p may see
// that are under way (Nova's get_migrations_in_progress_by_instance with
// type live-migration).
func (s *Service) InProgressLiveMigrations(ctx context.Context, instanceID string) ([]*Migration, error) {
	out, err := queryMigrations(ctx, s.DB, `SELECT `+migrationColumns+` FROM migrations
		WHERE instance_uuid = ? AND migration_type = ? AND status IN (`+placeholders(len(LiveMigrationInProgress))+`)
		ORDER BY id`, append([]any{instanceID, MigrationTypeLive}, stringsAsAny(LiveMigrationInProgress)...)...)
	if err != nil {
		return nil, fmt.Errorf("list live migrations of %s: %w", instanceID, err)
	}
	return out, nil
}

// MigrationOf loads migration id of a server (Nova's
// get_migration_by_id_and_instance); nil when the server has no such one.
func (s *Service) MigrationOf(ctx context.Context, instanceID string, id int64) (*Migration, error) {
	m, err := scanMigration(s.DB.QueryRowContext(ctx, `SELECT `+migrationColumns+` FROM migrations
		WHERE id = ? AND instance_uuid = ?`, id, instanceID))
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load migration %d: %w", id, err)
	}
	return m, nil
}

func stringsAsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// moveClaimHeld is the claim a server's unfinished migration holds on its
// host beside the server's own flavor: the new flavor until the resize
// finishes (the server row still has the old one), then the old flavor
// until it is confirmed or reverted. nil when it holds none (live
// migrations and evacuations claim on their destination, see
// RestoreMoveClaims).
func moveClaimHeld(m *Migration) *FlavorSnapshot {
	if m.Type != MigrationTypeResize && m.Type != MigrationTypeMigration {
		return nil
	}
	switch m.Status {
	case MigrationPreMigrating, MigrationMigrating, MigrationPostMigrating:
		return &m.NewFlavor
	case MigrationFinished, MigrationConfirming, MigrationReverting:
		return &m.OldFlavor
	}
	return nil
}

// claimOf is what flavor f takes on a host. The root disk of a
// volume-backed server is a volume, not the host's disk: it claims only
// the flavor's ephemeral disk, as Nova's request spec with is_bfv asks
// placement for no root_gb (and its resource tracker counts none).
func claimOf(f FlavorSnapshot, volumeBacked bool) scheduler.Request {
	disk := f.Disk + f.Ephemeral
	if volumeBacked {
		disk = f.Ephemeral
	}
	return scheduler.Request{VCPUs: f.VCPUs, MemoryMB: f.RAM, DiskGB: disk}
}

// claimFor is claimOf for server id, read in q: whether it boots from a
// volume is its block device mappings'.
func claimFor(ctx context.Context, q store.Querier, id string, f FlavorSnapshot) (scheduler.Request, error) {
	bfv, err := volumeBacked(ctx, q, id)
	if err != nil {
		return scheduler.Request{}, err
	}
	return claimOf(f, bfv), nil
}

// releaseClaim gives back what flavor f of server id holds on host.
func releaseClaim(ctx context.Context, tx *store.Tx, host, id string, f FlavorSnapshot, now time.Time) error {
	c, err := claimFor(ctx, tx, id, f)
	if err != nil {
		return err
	}
	return scheduler.Release(ctx, tx, host, c.VCPUs, c.MemoryMB, c.DiskGB, now)
}

// openMigrations are a server's migrations that still hold a claim or
// wait for a confirm or revert, in tx.
func openMigrations(ctx context.Context, tx *store.Tx, instanceID string, statuses ...string) ([]*Migration, error) {
	args := []any{instanceID}
	for _, st := range statuses {
		args = append(args, st)
	}
	open, err := queryMigrations(ctx, tx, `SELECT `+migrationColumns+` FROM migrations WHERE instance_uuid = ?
		AND status IN (`+placeholders(len(statuses))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("load migrations of %s: %w", instanceID, err)
	}
	return open, nil
}

// endMigration ends m in status, in tx, freeing what it holds on its host.
func endMigration(ctx context.Context, tx *store.Tx, m *Migration, status string, now time.Time) error {
	if err := releaseMoveClaim(ctx, tx, m, now); err != nil {
		return err
	}
	_, err := setMigrationStatus(ctx, tx, m.ID, status, now)
	return err
}

// releaseMigrationClaims frees what a deleted server's unfinished
// migrations hold on its host, in tx; a resize waiting for confirmation is
// confirmed, as Nova's delete confirms it (_confirm_resize_on_deleting),
// and one still under way ends in error, as does a live migration (whose
// destination's claim goes).
func releaseMigrationClaims(ctx context.Context, tx *store.Tx, srv *Server, now time.Time) error {
	open, err := openMigrations(ctx, tx, srv.ID, MigrationPreMigrating, MigrationMigrating, MigrationPostMigrating,
		MigrationFinished, MigrationConfirming, MigrationReverting)
	if err != nil {
		return err
	}
	live, err := openMigrations(ctx, tx, srv.ID, LiveMigrationInProgress...)
	if err != nil {
		return err
	}
	for _, m := range live {
		if m.Type == MigrationTypeLive {
			if err := abandonLiveMigration(ctx, tx, m, now); err != nil {
				return err
			}
		}
	}
	for _, m := range open {
		if m.Type == MigrationTypeLive {
			continue
		}
		status := MigrationError
		if m.Status == MigrationFinished || m.Status == MigrationConfirming {
			status = MigrationConfirmed
		}
		if err := endMigration(ctx, tx, m, status, now); err != nil {
			return err
		}
		if err := queueMoveCleanup(ctx, tx, m, srv.Host, now); err != nil {
			return err
		}
	}
	return nil
}

// confirmResizeOnDelete confirms the resize a server being (soft) deleted
// waits in VERIFY_RESIZE with, in tx, as Nova's _delete does
// (_confirm_resize_on_deleting): the old flavor is freed.
func confirmResizeOnDelete(ctx context.Context, tx *store.Tx, srv *Server, now time.Time) error {
	if srv.VMState != state.VMResized {
		return nil
	}
	open, err := openMigrations(ctx, tx, srv.ID, MigrationFinished)
	if err != nil {
		return err
	}
	for _, m := range open {
		if err := endMigration(ctx, tx, m, MigrationConfirmed, now); err != nil {
			return err
		}
		if err := queueMoveCleanup(ctx, tx, m, srv.Host, now); err != nil {
			return err
		}
	}
	return nil
}

// RestoreMoveClaims adds back what host's unfinished migrations hold
// beside their servers' flavors (as source or, for a move to another
// host not yet finished, as destination). The agent calls it right after
// registering the host, whose usage is then recounted from the servers
// alone.
func (s *Service) RestoreMoveClaims(ctx context.Context, host string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		open, err := queryMigrations(ctx, tx, `SELECT `+migrationColumns+` FROM migrations m WHERE (source_compute = ? OR dest_compute = ?)
			AND status IN (?, ?, ?, ?, ?, ?) AND EXISTS (SELECT 1 FROM instances i WHERE i.id = m.instance_uuid AND i.deleted = FALSE)`,
			host, host, MigrationPreMigrating, MigrationMigrating, MigrationPostMigrating, MigrationFinished, MigrationConfirming, MigrationReverting)
		if err != nil {
			return fmt.Errorf("load migrations of %s: %w", host, err)
		}
		incoming, err := s.incomingLiveMigrations(ctx, tx, host)
		if err != nil {
			return err
		}
		now := s.now()
		for _, m := range incoming { // the destination's claim of a live migration under way
			c, err := claimFor(ctx, tx, m.InstanceUUID, m.NewFlavor)
			if err != nil {
				return err
			}
			if err := scheduler.HoldMove(ctx, tx, host, c, now); err != nil {
				return err
			}
		}
		for _, m := range open {
			if held := moveClaimHeld(m); held != nil && moveClaimHost(m) == host {
				c, err := claimFor(ctx, tx, m.InstanceUUID, *held)
				if err != nil {
					return err
				}
				if err := scheduler.HoldMove(ctx, tx, host, c, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// incomingLiveMigrations are the live migrations under way to host, in tx.
func (s *Service) incomingLiveMigrations(ctx context.Context, tx *store.Tx, host string) ([]*Migration, error) {
	out, err := queryMigrations(ctx, tx, `SELECT `+migrationColumns+` FROM migrations m WHERE dest_compute = ?
		AND migration_type = ? AND status IN (`+placeholders(len(LiveMigrationInProgress))+`)
		AND EXISTS (SELECT 1 FROM instances i WHERE i.id = m.instance_uuid AND i.deleted = FALSE)`,
		append([]any{host, MigrationTypeLive}, stringsAsAny(LiveMigrationInProgress)...)...)
	if err != nil {
		return nil, fmt.Errorf("load live migrations to %s: %w", host, err)
	}
	return out, nil
}
