package compute

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// serverColumns is the column list serverScanner reads, in order.
var serverColumns = strings.Join(serverColumnNames, ", ")

var serverColumnNames = []string{"id", "number", "project_id", "user_id", "name", "hostname", "description", "reservation_id",
	"launch_index", "image_ref", "flavor", "vm_state", "task_state", "power_state", "host", "node", "availability_zone",
	"key_name", "key_data", "user_data", "config_drive", "access_ip_v4", "access_ip_v6", "disk_config", "locked",
	"locked_by", "locked_reason", "progress", "fault", "system_metadata", "scheduler_hints",
	"launched_at", "terminated_at", "created_at", "updated_at", "deleted_at", "deleted"}

// instanceColumns is serverColumns qualified by their table, for queries
// that join instances to another.
var instanceColumns = qualifiedServerColumns("instances")

func qualifiedServerColumns(table string) string {
	cols := make([]string, len(serverColumnNames))
	for i, c := range serverColumnNames {
		cols[i] = table + "." + c
	}
	return strings.Join(cols, ", ")
}

type rowScanner interface{ Scan(dest ...any) error }

// serverScanner reads server rows. Rows repeat a few JSON values (a
// flavor, an image's properties), so each
// distinct text is parsed once and the servers share the result: within
// a listing through the scanner's own maps, across requests through the
// service's parsedTexts. (A server's maps are read-only: code
// that changes them builds new ones, as writeRebuild does.) The columns
// that need converting are scanned into one reused row, not into a dozen
// new variables per server.
type serverScanner struct {
	shared  *parsedTexts
	flavors map[string]FlavorSnapshot // nil for a single row
	maps    map[string]map[string]string
	row     serverRow
	dest    []any
}

// serverRow is what scanServer converts after the scan.
type serverRow struct {
	description, task, host, node, az, keyName sql.NullString
	keyData, userData, lockedBy, lockedReason  sql.NullString
	fault                                      sql.NullString
	flavorJSON, sysmeta, hints, vm             string
	launched, terminated, deletedAt            sql.NullInt64
	created, updated                           int64
	power                                      int
}

// scanner is a scanner for one server row.
func (s *Service) scanner() *serverScanner { return &serverScanner{shared: s.parsed} }

// listScanner is a scanner for the rows of one listing.
func (s *Service) listScanner() *serverScanner {
	return &serverScanner{shared: s.parsed,
		flavors: map[string]FlavorSnapshot{}, maps: map[string]map[string]string{}}
}

func (j *serverScanner) flavor(raw string) (FlavorSnapshot, error) {
	if f, ok := j.flavors[raw]; ok {
		return f, nil
	}
	f, err := cachedParse(j.shared, j.shared.flavors, raw, func(f *FlavorSnapshot) error { return json.Unmarshal([]byte(raw), f) })
	if err == nil && j.flavors != nil {
		j.flavors[raw] = f
	}
	return f, err
}

// stringMap decodes a JSON object of strings; what does not decode is
// empty, as a server without it.
func (j *serverScanner) stringMap(raw string) map[string]string {
	if m, ok := j.maps[raw]; ok {
		return m
	}
	m, _ := cachedParse(j.shared, j.shared.maps, raw, func(m *map[string]string) error {
		_ = json.Unmarshal([]byte(raw), m)
		return nil
	})
	if j.maps != nil {
		j.maps[raw] = m
	}
	return m
}

// scan reads one row of serverColumns, followed by the columns of extra.
func (j *serverScanner) scan(r rowScanner, extra ...any) (*Server, error) {
	s, w := &Server{}, &j.row
	j.dest = append(j.dest[:0], &s.ID, &s.Number, &s.ProjectID, &s.UserID, &s.Name, &s.Hostname, &w.description,
		&s.ReservationID, &s.LaunchIndex, &s.ImageRef, &w.flavorJSON, &w.vm, &w.task, &w.power, &w.host, &w.node, &w.az,
		&w.keyName, &w.keyData, &w.userData, &s.ConfigDrive, &s.AccessIPv4, &s.AccessIPv6, &s.DiskConfig,
		&s.Locked, &w.lockedBy, &w.lockedReason, &s.Progress, &w.fault, &w.sysmeta, &w.hints,
		&w.launched, &w.terminated, &w.created, &w.updated, &w.deletedAt, &s.Deleted)
	j.dest = append(j.dest, extra...)
	if err := r.Scan(j.dest...); err != nil {
		return nil, err
	}
	// The row is reused: pointers go to copies.
	if w.description.Valid {
		s.Description = new(w.description.String)
	}
	if w.lockedReason.Valid {
		s.LockedReason = new(w.lockedReason.String)
	}
	s.VMState, s.TaskState, s.PowerState = state.VMState(w.vm), state.TaskState(w.task.String), state.PowerState(w.power)
	s.Host, s.Node, s.AZ, s.KeyName = w.host.String, w.node.String, w.az.String, w.keyName.String
	s.KeyData, s.UserData, s.LockedBy = w.keyData.String, w.userData.String, w.lockedBy.String
	var err error
	if s.Flavor, err = j.flavor(w.flavorJSON); err != nil {
		return nil, fmt.Errorf("server %s flavor: %w", s.ID, err)
	}
	if w.fault.Valid {
		s.Fault = &Fault{}
		if err := json.Unmarshal([]byte(w.fault.String), s.Fault); err != nil {
			return nil, fmt.Errorf("server %s fault: %w", s.ID, err)
		}
	}
	s.SystemMetadata = j.stringMap(w.sysmeta)
	if w.hints != "{}" {
		_ = json.Unmarshal([]byte(w.hints), &s.SchedulerHints)
	}
	s.LaunchedAt, s.TerminatedAt, s.DeletedAt = optTime(w.launched), optTime(w.terminated), optTime(w.deletedAt)
	s.CreatedAt, s.UpdatedAt = store.Time(w.created), store.Time(w.updated)
	return s, nil
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := store.Time(v.Int64)
	return &t
}

// notFound is Nova's 404 for a server; also what another project's server
// looks like, so existence never leaks.
func notFound(id string) error { return errs.NotFound("Instance %s could not be found.", id) }

// Get returns a live server the caller may see, with metadata and tags.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*Server, error) {
	srv, err := s.getShown(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(p, srv) {
		return nil, notFound(id)
	}
	return srv, nil
}

// GetAny returns a server, deleted or not, without access checks (agent,
// instance actions of deleted servers).
func (s *Service) GetAny(ctx context.Context, id string) (*Server, error) {
	return s.get(ctx, s.DB, id, true)
}

func canSee(p *auth.Principal, srv *Server) bool {
	return p.IsAdmin() || p.ProjectID == srv.ProjectID
}

func (s *Service) get(ctx context.Context, q store.Querier, id string, withDeleted bool) (*Server, error) {
	query := `SELECT ` + serverColumns + ` FROM instances WHERE id = ?`
	if !withDeleted {
		query += ` AND deleted = FALSE`
	}
	return s.loadOne(ctx, q, query, id)
}

// getShown is get of a live server outside any transaction, for showing
// it. The first query reads the server's number and revision, with its
// host's row, since the view needs its host_status and a second query
// for it cost a tenth of GET /servers/{id}; the whole row is read only
// with its metadata and tags when the rowCache does not hold it at that
// revision (reading and converting every column was a third of the
// request). Inside action transactions reading the host would only add
// conflicts.
func (s *Service) getShown(ctx context.Context, id string) (*Server, error) {
	var host hostRow
	var at pageRow
	err := s.DB.QueryRowContext(ctx, `SELECT instances.number, instances.rev, h.disabled, h.forced_down, h.heartbeat_at
		FROM instances LEFT JOIN compute_hosts h ON h.hostname = instances.host
		WHERE instances.id = ? AND instances.deleted = FALSE`, id).
		Scan(&at.number, &at.rev, &host.disabled, &host.forcedDown, &host.heartbeat)
	if isNoRows(err) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load server %s: %w", id, err)
	}
	found, sameRow := make([]*Server, 1), true
	if missing := s.rows.fill([]pageRow{at}, found); len(missing) > 0 {
		var e cachedRow
		e.srv, err = s.scanner().scan(s.DB.QueryRowContext(ctx, `SELECT `+serverColumns+`, rev FROM instances
			WHERE number = ? AND deleted = FALSE`, at.number), &e.rev)
		if isNoRows(err) {
			return nil, notFound(id)
		}
		if err != nil {
			return nil, fmt.Errorf("load server %s: %w", id, err)
		}
		if err := s.loadCachedDetails(ctx, []cachedRow{e}); err != nil {
			return nil, err
		}
		found[0], sameRow = copyServer(e.srv), e.rev == at.rev
	}
	srv := found[0]
	// A row changed between the two reads may be on another host now;
	// then the view reads the status itself.
	if sameRow {
		srv.hostStatus, srv.hostStatusRead = host.status(srv.Host, s.liveSince()), true
	}
	return srv, nil
}

// loadCachedDetails reads the metadata and tags of servers just read
// outside a transaction, then hands them to the rowCache. The revision
// of a server covers its metadata and tags (migration 18), and they are
// read after the row, so they are never older than the revision.
func (s *Service) loadCachedDetails(ctx context.Context, read []cachedRow) error {
	servers := make([]*Server, len(read))
	for i, e := range read {
		servers[i] = e.srv
	}
	if err := loadDetails(ctx, s.DB, servers); err != nil {
		return err
	}
	for _, e := range read {
		s.rows.put(e.rev, e.srv)
	}
	return nil
}

// loadOne reads the server query (selecting serverColumns, then the
// columns of extra) finds by id, with its metadata and tags.
func (s *Service) loadOne(ctx context.Context, q store.Querier, query, id string, extra ...any) (*Server, error) {
	srv, err := s.scanner().scan(q.QueryRowContext(ctx, query, id), extra...)
	if isNoRows(err) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load server %s: %w", id, err)
	}
	if err := loadDetails(ctx, q, []*Server{srv}); err != nil {
		return nil, err
	}
	return srv, nil
}

// loadDetails fills metadata and tags of servers with one query.
func loadDetails(ctx context.Context, q store.Querier, servers []*Server) error {
	if len(servers) == 0 {
		return nil
	}
	byID := make(map[string]*Server, len(servers))
	ids := make([]string, 0, len(servers))
	for _, srv := range servers {
		srv.Metadata, srv.Tags = map[string]string{}, []string{}
		byID[srv.ID] = srv
		ids = append(ids, srv.ID)
	}
	// One round trip for both: metadata rows carry their value, tag rows
	// a NULL one.
	from, arg := store.StringsTable(q, "s", ids)
	rows, err := q.QueryContext(ctx, `SELECT m.instance_id, m.key, m.value FROM `+from+` JOIN instance_metadata m ON m.instance_id = s.value
		UNION ALL SELECT t.instance_id, t.tag, NULL FROM `+from+` JOIN instance_tags t ON t.instance_id = s.value ORDER BY 3, 2`,
		arg, arg)
	if err != nil {
		return fmt.Errorf("load metadata and tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, k string
		var v sql.NullString
		if err := rows.Scan(&id, &k, &v); err != nil {
			return fmt.Errorf("load metadata and tags: %w", err)
		}
		if v.Valid {
			byID[id].Metadata[k] = v.String
		} else {
			byID[id].Tags = append(byID[id].Tags, k)
		}
	}
	return rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
