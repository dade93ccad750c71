// Package servergroup is Nova's server groups (os-server-groups): named
// sets of servers with an affinity policy the scheduler honours.
package servergroup

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/store"
)

// Policies Nova accepts; the soft ones from 2.15.
const (
	Affinity         = "affinity"
	AntiAffinity     = "anti-affinity"
	SoftAffinity     = "soft-affinity"
	SoftAntiAffinity = "soft-anti-affinity"
)

// Group is a server group with its live members.
type Group struct {
	ID        string
	Name      string
	ProjectID string
	UserID    string
	Policy    string
	// Rules holds max_server_per_host when given (anti-affinity, 2.64).
	Rules     map[string]int
	Members   []string
	CreatedAt time.Time
}

// Service manages server groups.
type Service struct {
	db      *store.DB
	servers Servers
}

// New returns the server group service.
func New(db *store.DB, servers Servers) *Service { return &Service{db: db, servers: servers} }

// Servers is what server groups need of servers; the compute package
// answers it (compute.Inventory), so SQL on the instances table stays
// there.
type Servers interface {
	// LiveServers returns which of ids are servers not deleted, in the
	// caller's transaction q.
	LiveServers(ctx context.Context, q store.Querier, ids []string) (map[string]bool, error)
}

// LimitFunc returns the server_groups quota of a user in a project (-1:
// unlimited).
type LimitFunc func(ctx context.Context, projectID, userID string) (int, error)

// Create makes a group owned by the caller, within its quota.
func (s *Service) Create(ctx context.Context, p *auth.Principal, name, policy string, rules map[string]int, limit LimitFunc) (*Group, error) {
	if rules == nil {
		rules = map[string]int{}
	}
	rulesJSON, err := json.Marshal(rules)
	if err != nil {
		return nil, fmt.Errorf("encode server group rules: %w", err)
	}
	g := &Group{ID: uuid.NewString(), Name: name, ProjectID: p.ProjectID, UserID: p.UserID,
		Policy: policy, Rules: rules, Members: []string{}, CreatedAt: time.Now().UTC()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if limit != nil {
			n, err := limit(ctx, p.ProjectID, p.UserID)
			if err != nil {
				return err
			}
			var used int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM server_groups WHERE project_id = ?`, p.ProjectID).Scan(&used); err != nil {
				return fmt.Errorf("count server groups: %w", err)
			}
			if quota.Exceeds(n, int(used), 1) {
				return errs.Forbidden("Quota exceeded, too many server groups.")
			}
		}
		now := g.CreatedAt.UnixMicro()
		_, err := tx.ExecContext(ctx, `INSERT INTO server_groups (id, name, project_id, user_id, policy, rules, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, g.ID, g.Name, g.ProjectID, g.UserID, g.Policy, string(rulesJSON), now, now)
		if err != nil {
			return fmt.Errorf("create server group: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func notFound(id string) error {
	return errs.NotFound("Instance group %s could not be found.", id)
}

// Get returns a group the caller may see (its project's, or any for admins).
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*Group, error) {
	g, err := get(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() && g.ProjectID != p.ProjectID {
		return nil, notFound(id)
	}
	if err := s.loadMembers(ctx, s.db, []*Group{g}); err != nil {
		return nil, err
	}
	return g, nil
}

// Lookup returns a group by id for a project's server create hint: nil
// when there is none the project may use. Its Members are not loaded:
// the create's placement reads the members' hosts itself.
func Lookup(ctx context.Context, q store.Querier, projectID, id string) (*Group, error) {
	g, err := get(ctx, q, id)
	if errs.Is(err, errs.KindNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if g.ProjectID != projectID {
		return nil, nil
	}
	return g, nil
}

const columns = `id, name, project_id, user_id, policy, rules, created_at`

func get(ctx context.Context, q store.Querier, id string) (*Group, error) {
	g, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM server_groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load server group %s: %w", id, err)
	}
	return g, nil
}

type scanner interface{ Scan(dest ...any) error }

func scan(row scanner) (*Group, error) {
	var g Group
	var rules string
	var created int64
	if err := row.Scan(&g.ID, &g.Name, &g.ProjectID, &g.UserID, &g.Policy, &rules, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rules), &g.Rules); err != nil {
		return nil, fmt.Errorf("decode rules of server group %s: %w", g.ID, err)
	}
	g.CreatedAt = time.UnixMicro(created).UTC()
	g.Members = []string{}
	return &g, nil
}

// loadMembers fills in the live (not deleted) members of groups.
func (s *Service) loadMembers(ctx context.Context, q store.Querier, groups []*Group) error {
	for _, g := range groups {
		all, err := members(ctx, q, g.ID)
		if err != nil {
			return err
		}
		live, err := s.servers.LiveServers(ctx, q, all)
		if err != nil {
			return fmt.Errorf("load members of server group %s: %w", g.ID, err)
		}
		for _, id := range all {
			if live[id] {
				g.Members = append(g.Members, id)
			}
		}
	}
	return nil
}

// members are the ids of a group's servers, deleted ones included, in
// the order they joined.
func members(ctx context.Context, q store.Querier, groupID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT instance_id FROM server_group_members
		WHERE group_id = ? ORDER BY created_at, instance_id`, groupID)
	if err != nil {
		return nil, fmt.Errorf("load members of server group %s: %w", groupID, err)
	}
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load members of server group %s: %w", groupID, err)
		}
		out = append(out, id)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("load members of server group %s: %w", groupID, err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load members of server group %s: %w", groupID, err)
	}
	return out, nil
}

// List returns the caller's project's groups, or every project's for an
// admin asking for all_projects, oldest first.
func (s *Service) List(ctx context.Context, p *auth.Principal, allProjects bool) ([]*Group, error) {
	query, args := `SELECT `+columns+` FROM server_groups`, []any{}
	if !(allProjects && p.IsAdmin()) {
		query += ` WHERE project_id = ?`
		args = append(args, p.ProjectID)
	}
	query += ` ORDER BY created_at, id`
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list server groups: %w", err)
	}
	var out []*Group
	for rows.Next() {
		g, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list server groups: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("list server groups: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list server groups: %w", err)
	}
	if err := s.loadMembers(ctx, s.db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes a group the caller may see; its servers stay.
func (s *Service) Delete(ctx context.Context, p *auth.Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		g, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.IsAdmin() && g.ProjectID != p.ProjectID {
			return notFound(id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM server_group_members WHERE group_id = ?`, id); err != nil {
			return fmt.Errorf("delete server group %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM server_groups WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete server group %s: %w", id, err)
		}
		return nil
	})
}

// AddMember records a new server in a group (the create call's "group"
// scheduler hint), in the create's transaction.
func AddMember(ctx context.Context, tx *store.Tx, groupID, instanceID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO server_group_members (group_id, instance_id, created_at) VALUES (?, ?, ?)`,
		groupID, instanceID, now.UnixMicro()); err != nil {
		return fmt.Errorf("add server %s to group %s: %w", instanceID, groupID, err)
	}
	return nil
}

// GroupsOf returns the ids of the groups a server belongs to (the server
// view's server_groups, 2.71).
func (s *Service) GroupsOf(ctx context.Context, instanceID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT group_id FROM server_group_members WHERE instance_id = ? ORDER BY group_id`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("server groups of %s: %w", instanceID, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("server groups of %s: %w", instanceID, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
