package secgroup

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// A server's groups are Neutron's groups of its ports: a server without
// ports (networks "none", or one that never got a host) has none, and
// the membership rows exist only for servers with ports.

// ResolveForCreate turns a create's security_groups (names or ids) into
// group ids of the project, as Nova's _check_requested_secgroups does:
// "default" is the project's default group (made if missing); any other
// name must match one group (Nova's 400 with neutronclient's message, or
// 409 when the name is ambiguous).
func ResolveForCreate(ctx context.Context, tx *store.Tx, p *auth.Principal, names []string) ([]string, error) {
	if len(names) == 0 {
		names = []string{DefaultName}
	}
	var ids []string
	for _, name := range names {
		var id string
		if name == DefaultName {
			var err error
			if id, err = EnsureDefault(ctx, tx, p.ProjectID); err != nil {
				return nil, err
			}
		} else {
			g, err := findByNameOrID(ctx, tx, p, p.ProjectID, name)
			if errs.Is(err, errs.KindNotFound) {
				return nil, errs.Invalid("%s", errs.Message(err))
			}
			if err != nil {
				return nil, err
			}
			id = g.ID
		}
		if !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Attach makes a new server a member of the groups if it has ports, and
// returns the names to mirror in the server's security_groups (compute
// writes them). A server without ports keeps the names it asked for
// there (no view shows them) and joins nothing.
func Attach(ctx context.Context, tx *store.Tx, serverID string, groupIDs []string) ([]string, error) {
	ported, err := hasPorts(ctx, tx, serverID)
	if err != nil {
		return nil, err
	}
	if !ported {
		return namesOf(ctx, tx, groupIDs)
	}
	now := time.Now().UnixMicro()
	for _, id := range groupIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_group_members (instance_id, group_id, created_at)
			VALUES (?, ?, ?)`, serverID, id, now); err != nil {
			return nil, fmt.Errorf("add security group member: %w", err)
		}
	}
	return memberNames(ctx, tx, serverID)
}

// namesOf are the names of the groups, in order.
func namesOf(ctx context.Context, tx *store.Tx, groupIDs []string) ([]string, error) {
	names := []string{}
	for _, id := range groupIDs {
		var n string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM security_groups WHERE id = ?`, id).Scan(&n); err != nil {
			return nil, fmt.Errorf("read security group name: %w", err)
		}
		names = append(names, n)
	}
	return names, nil
}

// Forget drops a deleted server's memberships.
func Forget(ctx context.Context, tx *store.Tx, serverID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM security_group_members WHERE instance_id = ?`, serverID); err != nil {
		return fmt.Errorf("remove security group members: %w", err)
	}
	return nil
}

// AddToServer is addSecurityGroup (security_group_api.add_to_instance):
// the group is found by name or id in the caller's project; a server
// without ports is Nova's 404; adding a group twice changes nothing
// (Neutron keeps a port's groups as a set). The caller has checked that
// it may see the server.
func (s *Service) AddToServer(ctx context.Context, p *auth.Principal, serverID, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		g, err := s.groupForAction(ctx, tx, p, serverID, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_group_members (instance_id, group_id, created_at)
			VALUES (?, ?, ?) ON CONFLICT (instance_id, group_id) DO NOTHING`, serverID, g.ID, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("add security group member: %w", err)
		}
		return s.syncServer(ctx, tx, serverID)
	})
}

// RemoveFromServer is removeSecurityGroup (remove_from_instance); a
// group the server is not in is Nova's 404.
func (s *Service) RemoveFromServer(ctx context.Context, p *auth.Principal, serverID, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		g, err := s.groupForAction(ctx, tx, p, serverID, name)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM security_group_members WHERE instance_id = ? AND group_id = ?`, serverID, g.ID)
		if err != nil {
			return fmt.Errorf("remove security group member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("Security group %s not associated with the instance %s", name, serverID)
		}
		return s.syncServer(ctx, tx, serverID)
	})
}

// groupForAction resolves an action's group name and checks the server
// has ports to apply it to.
func (s *Service) groupForAction(ctx context.Context, tx *store.Tx, p *auth.Principal, serverID, name string) (*Group, error) {
	if name == DefaultName {
		if _, err := EnsureDefault(ctx, tx, p.ProjectID); err != nil {
			return nil, err
		}
	}
	g, err := findByNameOrID(ctx, tx, p, p.ProjectID, name)
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.NotFound("Security group %s is not found for project %s", name, p.ProjectID)
	}
	if err != nil {
		return nil, err
	}
	ported, err := hasPorts(ctx, tx, serverID)
	if err != nil {
		return nil, err
	}
	if !ported {
		return nil, errs.NotFound("instance_id %s could not be found as device id on any ports", serverID)
	}
	return g, nil
}

// ServerGroups are the groups of a server, with their rules
// (GET /servers/{id}/os-security-groups).
func (s *Service) ServerGroups(ctx context.Context, serverID string) ([]Group, error) {
	groups, err := loadGroups(ctx, s.db, `id IN (SELECT group_id FROM security_group_members WHERE instance_id = ?)`, serverID)
	if err != nil {
		return nil, err
	}
	return groups, nil
}

// GroupIDsOfServers returns the ids of each server's groups, sorted:
// the security_groups of its ports (kumo binds groups to the server,
// whose ports all share them).
func (s *Service) GroupIDsOfServers(ctx context.Context, serverIDs []string) (map[string][]string, error) {
	return s.ServerGroupIDs(ctx, s.db, serverIDs)
}

// ServerGroupIDs is GroupIDsOfServers in q (the caller's transaction).
func (s *Service) ServerGroupIDs(ctx context.Context, q store.Querier, serverIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(serverIDs) == 0 {
		return out, nil
	}
	from, arg := store.StringsTable(q, "i", serverIDs)
	rows, err := q.QueryContext(ctx, `SELECT m.instance_id, m.group_id FROM `+from+`
		JOIN security_group_members m ON m.instance_id = i.value ORDER BY m.instance_id, m.group_id`, arg)
	if err != nil {
		return nil, fmt.Errorf("list the groups of %d servers: %w", len(serverIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var server, group string
		if err := rows.Scan(&server, &group); err != nil {
			return nil, fmt.Errorf("list the groups of %d servers: %w", len(serverIDs), err)
		}
		out[server] = append(out[server], group)
	}
	return out, rows.Err()
}

// hasPorts reports whether the address manager gave the server a port.
func hasPorts(ctx context.Context, q store.Querier, serverID string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM network_ports WHERE instance_id = ?`, serverID).Scan(&n); err != nil {
		return false, fmt.Errorf("count ports: %w", err)
	}
	return n > 0, nil
}

// syncServer rewrites instances.security_groups with the names of the
// server's groups, which the server views show.
func (s *Service) syncServer(ctx context.Context, tx *store.Tx, serverID string) error {
	names, err := memberNames(ctx, tx, serverID)
	if err != nil {
		return err
	}
	return s.servers.SetSecurityGroupNames(ctx, tx, serverID, names)
}

// memberNames are the names of the server's groups, sorted.
func memberNames(ctx context.Context, tx *store.Tx, serverID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT g.name FROM security_group_members m
		JOIN security_groups g ON g.id = m.group_id WHERE m.instance_id = ?`, serverID)
	if err != nil {
		return nil, fmt.Errorf("list server security groups: %w", err)
	}
	names := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read server security group: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list server security groups: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// syncMembersOfGroup rewrites the names on every server of a renamed group.
func (s *Service) syncMembersOfGroup(ctx context.Context, tx *store.Tx, groupID string) error {
	servers, err := groupMembers(ctx, tx, groupID)
	if err != nil {
		return err
	}
	for _, id := range servers {
		if err := s.syncServer(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// groupMembers are the ids of the servers in a group, deleted ones
// included.
func groupMembers(ctx context.Context, q store.Querier, groupID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT instance_id FROM security_group_members WHERE group_id = ?`, groupID)
	if err != nil {
		return nil, fmt.Errorf("list security group members: %w", err)
	}
	var servers []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read security group member: %w", err)
		}
		servers = append(servers, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list security group members: %w", err)
	}
	return servers, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
