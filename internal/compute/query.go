package compute

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// serverColumns is the column list scanServer reads, in order.
const serverColumns = `id, number, project_id, user_id, name, hostname, description, reservation_id,
	launch_index, image_ref, flavor, vm_state, task_state, power_state, host, node, availability_zone,
	key_name, key_data, user_data, config_drive, access_ip_v4, access_ip_v6, disk_config, locked,
	locked_by, locked_reason, progress, fault, system_metadata, security_groups, scheduler_hints,
	launched_at, terminated_at, created_at, updated_at, deleted_at, deleted`

type rowScanner interface{ Scan(dest ...any) error }

// jsonColumns decodes the JSON columns of server rows. The rows of one
// listing repeat a few values (a flavor, an image's properties, the
// default security group), so each distinct text is parsed once and the
// servers get copies of the result. A nil *jsonColumns (one server)
// parses every text.
type jsonColumns struct {
	flavors map[string]FlavorSnapshot
	maps    map[string]map[string]string
	lists   map[string][]string
}

func newJSONColumns() *jsonColumns {
	return &jsonColumns{flavors: map[string]FlavorSnapshot{}, maps: map[string]map[string]string{}, lists: map[string][]string{}}
}

func (j *jsonColumns) flavor(raw string) (FlavorSnapshot, error) {
	if j == nil {
		var f FlavorSnapshot
		return f, json.Unmarshal([]byte(raw), &f)
	}
	f, ok := j.flavors[raw]
	if !ok {
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			return f, err
		}
		j.flavors[raw] = f
	}
	f.ExtraSpecs = maps.Clone(f.ExtraSpecs)
	return f, nil
}

// stringMap decodes a JSON object of strings; what does not decode is
// empty, as a server without it.
func (j *jsonColumns) stringMap(raw string) map[string]string {
	if j == nil {
		var m map[string]string
		_ = json.Unmarshal([]byte(raw), &m)
		return m
	}
	m, ok := j.maps[raw]
	if !ok {
		_ = json.Unmarshal([]byte(raw), &m)
		j.maps[raw] = m
	}
	return maps.Clone(m)
}

// list decodes a JSON array of strings, like stringMap.
func (j *jsonColumns) list(raw string) []string {
	if j == nil {
		var l []string
		_ = json.Unmarshal([]byte(raw), &l)
		return l
	}
	l, ok := j.lists[raw]
	if !ok {
		_ = json.Unmarshal([]byte(raw), &l)
		j.lists[raw] = l
	}
	return slices.Clone(l)
}

func scanServer(r rowScanner, j *jsonColumns) (*Server, error) {
	var (
		s                                          Server
		description, task, host, node, az, keyName sql.NullString
		keyData, userData, lockedBy, lockedReason  sql.NullString
		fault                                      sql.NullString
		flavorJSON, sysmeta, groups, hints, vm     string
		launched, terminated, deletedAt            sql.NullInt64
		created, updated                           int64
		power                                      int
	)
	err := r.Scan(&s.ID, &s.Number, &s.ProjectID, &s.UserID, &s.Name, &s.Hostname, &description,
		&s.ReservationID, &s.LaunchIndex, &s.ImageRef, &flavorJSON, &vm, &task, &power, &host, &node, &az,
		&keyName, &keyData, &userData, &s.ConfigDrive, &s.AccessIPv4, &s.AccessIPv6, &s.DiskConfig,
		&s.Locked, &lockedBy, &lockedReason, &s.Progress, &fault, &sysmeta, &groups, &hints,
		&launched, &terminated, &created, &updated, &deletedAt, &s.Deleted)
	if err != nil {
		return nil, err
	}
	if description.Valid {
		s.Description = &description.String
	}
	if lockedReason.Valid {
		s.LockedReason = &lockedReason.String
	}
	s.VMState, s.TaskState, s.PowerState = state.VMState(vm), state.TaskState(task.String), state.PowerState(power)
	s.Host, s.Node, s.AZ, s.KeyName = host.String, node.String, az.String, keyName.String
	s.KeyData, s.UserData, s.LockedBy = keyData.String, userData.String, lockedBy.String
	if s.Flavor, err = j.flavor(flavorJSON); err != nil {
		return nil, fmt.Errorf("server %s flavor: %w", s.ID, err)
	}
	if fault.Valid {
		s.Fault = &Fault{}
		if err := json.Unmarshal([]byte(fault.String), s.Fault); err != nil {
			return nil, fmt.Errorf("server %s fault: %w", s.ID, err)
		}
	}
	s.SystemMetadata, s.SecurityGroups = j.stringMap(sysmeta), j.list(groups)
	if hints != "{}" {
		_ = json.Unmarshal([]byte(hints), &s.SchedulerHints)
	}
	s.LaunchedAt, s.TerminatedAt, s.DeletedAt = optTime(launched), optTime(terminated), optTime(deletedAt)
	s.CreatedAt, s.UpdatedAt = store.Time(created), store.Time(updated)
	return &s, nil
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
	srv, err := s.get(ctx, s.DB, id, false)
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
	srv, err := scanServer(q.QueryRowContext(ctx, query, id), nil)
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

// loadDetails fills metadata and tags of servers with one query each.
func loadDetails(ctx context.Context, q store.Querier, servers []*Server) error {
	if len(servers) == 0 {
		return nil
	}
	byID := make(map[string]*Server, len(servers))
	ids := make([]any, 0, len(servers))
	for _, srv := range servers {
		srv.Metadata, srv.Tags = map[string]string{}, []string{}
		byID[srv.ID] = srv
		ids = append(ids, srv.ID)
	}
	// One round trip for both: metadata rows carry their value, tag rows
	// a NULL one.
	in := placeholders(len(ids))
	rows, err := q.QueryContext(ctx, `SELECT instance_id, key, value FROM instance_metadata WHERE instance_id IN (`+in+`)
		UNION ALL SELECT instance_id, tag, NULL FROM instance_tags WHERE instance_id IN (`+in+`) ORDER BY 3, 2`,
		append(ids, ids...)...)
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
