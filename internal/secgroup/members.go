package secgroup

import (
	"context"
	"fmt"
	"sort"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// A server's groups are the groups of its ports, as in Nova with Neutron
// (security_group_api): nothing binds a group to a server itself. A
// server without ports (networks "none", or one that never got a host)
// has none.

// ResolveForCreate turns a create's security_groups (names or ids) into
// the ids of the groups to give the ports Nova makes, as Nova's
// _clean_security_groups and _process_security_groups do: none asked,
// or only "default", is none (Neutron gives a port made without groups
// its project's default group); otherwise "default" is the project's
// default group (made if missing) and any other name must match one
// group (Nova's 400 with neutronclient's message, or 409 when the name
// is ambiguous).
func ResolveForCreate(ctx context.Context, tx *store.Tx, p *auth.Principal, names []string) ([]string, error) {
	if len(names) == 0 || len(names) == 1 && names[0] == DefaultName {
		return nil, nil
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

// cannotBeApplied is Nova's SecurityGroupCannotBeApplied (400).
func cannotBeApplied() error {
	return errs.Invalid("Network requires port_security_enabled and subnet associated in order to apply security groups.")
}

// serverPort is one port of a server as the group calls need it.
type serverPort struct {
	id string
	// preserved marks a port the user made and booted the server on
	// (it keeps its own groups).
	preserved bool
	// security is the port's port_security_enabled, netSecurity its
	// network's.
	security, netSecurity bool
	fixedIPs              int
	groups                []string
}

// serverPorts are the ports of server id in NIC order, with their groups.
func serverPorts(ctx context.Context, q store.Querier, serverID string) ([]serverPort, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.preserve_on_delete, p.port_security_enabled, n.port_security_enabled,
			(SELECT COUNT(*) FROM fixed_ips f WHERE f.port_id = p.id)
		FROM network_ports p JOIN networks n ON n.id = p.network_id
		WHERE p.instance_id = ? ORDER BY p.position, p.created_at, p.id`, serverID)
	if err != nil {
		return nil, fmt.Errorf("list the ports of server %s: %w", serverID, err)
	}
	var ports []serverPort
	var ids []string
	for rows.Next() {
		var sp serverPort
		if err := rows.Scan(&sp.id, &sp.preserved, &sp.security, &sp.netSecurity, &sp.fixedIPs); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read a port of server %s: %w", serverID, err)
		}
		ports = append(ports, sp)
		ids = append(ids, sp.id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the ports of server %s: %w", serverID, err)
	}
	bound, err := PortGroups(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	for i := range ports {
		ports[i].groups = bound[ports[i].id]
	}
	return ports, nil
}

// ApplyToNewServer gives the ports Nova just made for a server the
// groups of its create, as allocate_for_instance does: groupIDs
// (ResolveForCreate's), or when none the project's default group, on
// each port with port security; the ports the user gave keep their own.
// Groups asked for a server with a port on a network without port
// security are SecurityGroupCannotBeApplied.
func ApplyToNewServer(ctx context.Context, tx *store.Tx, projectID, serverID string, groupIDs []string) error {
	ports, err := serverPorts(ctx, tx, serverID)
	if err != nil {
		return err
	}
	for _, sp := range ports {
		if len(groupIDs) > 0 && !sp.netSecurity {
			return cannotBeApplied()
		}
	}
	for _, sp := range ports {
		if sp.preserved {
			continue
		}
		if err := applyToNovaPort(ctx, tx, projectID, sp.id, sp.security, groupIDs); err != nil {
			return err
		}
	}
	return nil
}

// ApplyToNewPort gives a port Nova made for an interface attach its
// groups: Nova asks for none, so Neutron gives it its project's default
// group when it has port security.
func ApplyToNewPort(ctx context.Context, tx *store.Tx, projectID, portID string) error {
	var security bool
	if err := tx.QueryRowContext(ctx, `SELECT port_security_enabled FROM network_ports WHERE id = ?`, portID).
		Scan(&security); err != nil {
		return fmt.Errorf("look up port %s: %w", portID, err)
	}
	return applyToNovaPort(ctx, tx, projectID, portID, security, nil)
}

// applyToNovaPort binds a port Nova made to groupIDs, or to the
// project's default group when none, as Neutron's create does; a port
// without port security gets none.
func applyToNovaPort(ctx context.Context, tx *store.Tx, projectID, portID string, security bool, groupIDs []string) error {
	if !security {
		return nil
	}
	if len(groupIDs) == 0 {
		id, err := EnsureDefault(ctx, tx, projectID)
		if err != nil {
			return err
		}
		groupIDs = []string{id}
	}
	return BindPort(ctx, tx, portID, groupIDs)
}

// AddToServer is addSecurityGroup (security_group_api.add_to_instance):
// the group is found by name or id in the caller's project and added to
// every port of the server. A server without ports is Nova's 404, a
// port without port security or addresses SecurityGroupCannotBeApplied;
// adding a group a port has changes nothing (Neutron keeps a port's
// groups as a set). Nova updates the ports one by one; kumo checks them
// all first, so a refusal changes none. The caller has checked that it
// may see the server.
func (s *Service) AddToServer(ctx context.Context, p *auth.Principal, serverID, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		g, ports, err := s.groupForAction(ctx, tx, p, serverID, name)
		if err != nil {
			return err
		}
		for _, sp := range ports {
			if !sp.security || sp.fixedIPs == 0 {
				return cannotBeApplied()
			}
		}
		for _, sp := range ports {
			if contains(sp.groups, g.ID) {
				continue
			}
			if err := BindPort(ctx, tx, sp.id, append(sp.groups, g.ID)); err != nil {
				return err
			}
			if err := revisePort(ctx, tx, sp.id); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveFromServer is removeSecurityGroup (remove_from_instance): the
// group leaves every port of the server that has it; a group none of
// them has is Nova's 404.
func (s *Service) RemoveFromServer(ctx context.Context, p *auth.Principal, serverID, name string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		g, ports, err := s.groupForAction(ctx, tx, p, serverID, name)
		if err != nil {
			return err
		}
		found := false
		for _, sp := range ports {
			if !contains(sp.groups, g.ID) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM security_group_port_bindings WHERE port_id = ? AND group_id = ?`,
				sp.id, g.ID); err != nil {
				return fmt.Errorf("remove security group %s from port %s: %w", g.ID, sp.id, err)
			}
			if err := revisePort(ctx, tx, sp.id); err != nil {
				return err
			}
			found = true
		}
		if !found {
			return errs.NotFound("Security group %s not associated with the instance %s", name, serverID)
		}
		return nil
	})
}

// revisePort bumps the revision of a port whose groups changed, as
// Neutron's port update does.
func revisePort(ctx context.Context, tx *store.Tx, portID string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE network_ports SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
		store.Now(), portID); err != nil {
		return fmt.Errorf("revise port %s: %w", portID, err)
	}
	return nil
}

// groupForAction resolves an action's group name, then the server's
// ports, which it must have (Nova's order).
func (s *Service) groupForAction(ctx context.Context, tx *store.Tx, p *auth.Principal, serverID, name string) (*Group, []serverPort, error) {
	if name == DefaultName {
		if _, err := EnsureDefault(ctx, tx, p.ProjectID); err != nil {
			return nil, nil, err
		}
	}
	g, err := findByNameOrID(ctx, tx, p, p.ProjectID, name)
	if errs.Is(err, errs.KindNotFound) {
		return nil, nil, errs.NotFound("Security group %s is not found for project %s", name, p.ProjectID)
	}
	if err != nil {
		return nil, nil, err
	}
	ports, err := serverPorts(ctx, tx, serverID)
	if err != nil {
		return nil, nil, err
	}
	if len(ports) == 0 {
		return nil, nil, errs.NotFound("instance_id %s could not be found as device id on any ports", serverID)
	}
	return g, ports, nil
}

// serverBinding is one group of one port of a server.
type serverBinding struct {
	server, group string
}

// serverBindings lists the groups of the ports of each server that p
// may see (its project's, any for an admin), as Nova reads them from
// Neutron with the caller's token: one entry per group of each port,
// ports in NIC order and a port's groups by id.
func serverBindings(ctx context.Context, q store.Querier, p *auth.Principal, serverIDs []string) ([]serverBinding, error) {
	if len(serverIDs) == 0 {
		return nil, nil
	}
	from, arg := store.StringsTable(q, "i", serverIDs)
	query := `SELECT pt.instance_id, b.group_id FROM ` + from + `
		JOIN network_ports pt ON pt.instance_id = i.value
		JOIN security_group_port_bindings b ON b.port_id = pt.id
		JOIN security_groups g ON g.id = b.group_id`
	args := []any{arg}
	if !p.IsAdmin() {
		query += ` WHERE g.project_id = ?`
		args = append(args, p.ProjectID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY pt.instance_id, pt.position, pt.created_at, pt.id, b.group_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list the groups of %d servers: %w", len(serverIDs), err)
	}
	defer rows.Close()
	var out []serverBinding
	for rows.Next() {
		var b serverBinding
		if err := rows.Scan(&b.server, &b.group); err != nil {
			return nil, fmt.Errorf("list the groups of %d servers: %w", len(serverIDs), err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// ServerGroups are the groups of a server's ports that p may see, with
// their rules (GET /servers/{id}/os-security-groups,
// get_instance_security_groups): one entry per group of each port, so a
// group on two ports is there twice, ordered by project and name.
func (s *Service) ServerGroups(ctx context.Context, p *auth.Principal, serverID string) ([]Group, error) {
	bindings, err := serverBindings(ctx, s.db, p, []string{serverID})
	if err != nil || len(bindings) == 0 {
		return []Group{}, err
	}
	ids := make([]string, 0, len(bindings))
	for _, b := range bindings {
		if !contains(ids, b.group) {
			ids = append(ids, b.group)
		}
	}
	from, arg := store.StringsTable(s.db, "i", ids)
	groups, err := loadGroups(ctx, s.db, `id IN (SELECT i.value FROM `+from+`)`, arg)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Group, len(groups))
	for _, g := range groups {
		byID[g.ID] = g
	}
	out := make([]Group, 0, len(bindings))
	for _, b := range bindings {
		if g, ok := byID[b.group]; ok {
			out = append(out, g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ProjectID != out[j].ProjectID {
			return out[i].ProjectID < out[j].ProjectID
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// ServerGroupNames returns what the server views show as each server's
// security_groups (get_instances_security_groups_bindings): the name of
// each group of each of its ports that p may see (its id when it has no
// name), a group on two ports twice; servers without any are absent.
func (s *Service) ServerGroupNames(ctx context.Context, p *auth.Principal, serverIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	bindings, err := serverBindings(ctx, s.db, p, serverIDs)
	if err != nil || len(bindings) == 0 {
		return out, err
	}
	var ids []string
	for _, b := range bindings {
		if !contains(ids, b.group) {
			ids = append(ids, b.group)
		}
	}
	names, err := groupNames(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	for _, b := range bindings {
		out[b.server] = append(out[b.server], names[b.group])
	}
	return out, nil
}

// groupNames are the names of groups by id (a group without a name
// shows its id, as Nova's view does).
func groupNames(ctx context.Context, q store.Querier, ids []string) (map[string]string, error) {
	from, arg := store.StringsTable(q, "i", ids)
	rows, err := q.QueryContext(ctx, `SELECT g.id, g.name FROM `+from+` JOIN security_groups g ON g.id = i.value`, arg)
	if err != nil {
		return nil, fmt.Errorf("names of %d security groups: %w", len(ids), err)
	}
	defer rows.Close()
	out := make(map[string]string, len(ids))
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("names of %d security groups: %w", len(ids), err)
		}
		if name == "" {
			name = id
		}
		out[id] = name
	}
	return out, rows.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
