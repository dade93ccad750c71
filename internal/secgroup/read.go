package secgroup

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/store"
)

const groupColumns = `id, project_id, name, description, default_of, stateful, revision_number, created_at, updated_at`

// loadGroups reads the groups matching where (over security_groups'
// columns), ordered by project and name as Nova lists them, with their
// rules.
func loadGroups(ctx context.Context, q store.Querier, where string, args ...any) ([]Group, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+groupColumns+` FROM security_groups WHERE `+where+
		` ORDER BY project_id, name, created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list security groups: %w", err)
	}
	var groups []Group
	index := map[string]int{}
	for rows.Next() {
		var g Group
		var defaultOf sql.NullString
		var created, updated int64
		if err := rows.Scan(&g.ID, &g.ProjectID, &g.Name, &g.Description, &defaultOf, &g.Stateful, &g.Revision,
			&created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read security group: %w", err)
		}
		g.Default = defaultOf.Valid
		g.CreatedAt, g.UpdatedAt = store.Time(created), store.Time(updated)
		index[g.ID] = len(groups)
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list security groups: %w", err)
	}
	if len(groups) == 0 {
		return groups, nil
	}
	rules, err := loadRules(ctx, q, `r.group_id IN (SELECT id FROM security_groups WHERE `+where+`)`, args...)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if i, ok := index[r.GroupID]; ok {
			groups[i].Rules = append(groups[i].Rules, r)
		}
	}
	return groups, nil
}

// loadRules reads the rules matching where (over r, the rules table),
// with their remote groups' names.
func loadRules(ctx context.Context, q store.Querier, where string, args ...any) ([]Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.group_id, r.direction, r.ethertype, r.protocol,
		r.port_min, r.port_max, r.remote_cidr, r.remote_group_id, rg.name, rg.project_id,
		r.project_id, r.description, r.revision_number, r.created_at, r.updated_at, g.default_of, g.project_id
		FROM security_group_rules r JOIN security_groups g ON g.id = r.group_id
		LEFT JOIN security_groups rg ON rg.id = r.remote_group_id
		WHERE `+where+` ORDER BY r.created_at, r.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list security group rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		var proto, cidr, remote, rname, rproject, defaultOf sql.NullString
		var lo, hi sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&r.ID, &r.GroupID, &r.Direction, &r.Ethertype, &proto, &lo, &hi, &cidr, &remote,
			&rname, &rproject, &r.ProjectID, &r.Description, &r.Revision, &created, &updated, &defaultOf,
			&r.GroupProjectID); err != nil {
			return nil, fmt.Errorf("read security group rule: %w", err)
		}
		r.InDefault = defaultOf.Valid
		r.CreatedAt, r.UpdatedAt = store.Time(created), store.Time(updated)
		r.Protocol, r.RemoteCIDR, r.RemoteGroupID = store.StringPtr(proto), store.StringPtr(cidr), store.StringPtr(remote)
		r.PortMin, r.PortMax = intPtr(lo), intPtr(hi)
		if remote.Valid && rname.Valid {
			r.RemoteGroup = &GroupRef{Name: rname.String, ProjectID: rproject.String}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list security group rules: %w", err)
	}
	return out, nil
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// visibleGroup is the group id names if the caller may see it (its
// project's, or any for an admin, as Neutron shows them), else nil.
func visibleGroup(ctx context.Context, q store.Querier, p *auth.Principal, id string) (*Group, error) {
	var groups []Group
	var err error
	if p.IsAdmin() {
		groups, err = loadGroups(ctx, q, `id = ?`, id)
	} else {
		groups, err = loadGroups(ctx, q, `id = ? AND project_id = ?`, id, p.ProjectID)
	}
	if err != nil || len(groups) == 0 {
		return nil, err
	}
	return &groups[0], nil
}

// List returns the caller's project's groups (every project's for an
// admin asking for all), creating the project's default group first as
// Neutron does on a listing.
func (s *Service) List(ctx context.Context, p *auth.Principal, allProjects bool) ([]Group, error) {
	var out []Group
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if p.ProjectID != "" {
			if _, err := EnsureDefault(ctx, tx, p.ProjectID); err != nil {
				return err
			}
		}
		var err error
		if allProjects && p.IsAdmin() {
			out, err = loadGroups(ctx, tx, `1 = 1`)
		} else {
			out, err = loadGroups(ctx, tx, `project_id = ?`, p.ProjectID)
		}
		return err
	})
	return out, err
}

// Get returns a group the caller may see; a malformed id is Nova's 400.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*Group, error) {
	if !isUUID(id) {
		return nil, invalidID()
	}
	g, err := visibleGroup(ctx, s.db, p, id)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, groupNotFound(id)
	}
	return g, nil
}

// findByNameOrID is neutronclient's find_resourceid_by_name_or_id: a
// group the caller may see by id, else the one group of that name in
// the project.
func findByNameOrID(ctx context.Context, q store.Querier, p *auth.Principal, projectID, nameOrID string) (*Group, error) {
	if isUUID(nameOrID) {
		g, err := visibleGroup(ctx, q, p, strings.ToLower(nameOrID))
		if err != nil || g != nil {
			return g, err
		}
	}
	groups, err := loadGroups(ctx, q, `project_id = ? AND name = ?`, projectID, nameOrID)
	switch {
	case err != nil:
		return nil, err
	case len(groups) > 1:
		return nil, notUnique(nameOrID)
	case len(groups) == 0:
		return nil, notFoundByName(nameOrID)
	}
	return &groups[0], nil
}
