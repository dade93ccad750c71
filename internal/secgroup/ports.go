package secgroup

import (
	"context"
	"fmt"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Ports hold groups as Neutron's ports do (securitygroupportbindings):
// the network domain's port calls keep a port's groups here, in their own
// transactions, and a group with ports is in use.

// BindPort sets the groups of port portID (replacing those it had).
func BindPort(ctx context.Context, tx *store.Tx, portID string, groupIDs []string) error {
	if err := UnbindPort(ctx, tx, portID); err != nil {
		return err
	}
	for _, id := range groupIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_group_port_bindings (port_id, group_id) VALUES (?, ?)
			ON CONFLICT DO NOTHING`, portID, id); err != nil {
			return fmt.Errorf("bind port %s to security group %s: %w", portID, id, err)
		}
	}
	return nil
}

// UnbindPort drops the groups of a port (being deleted, or leaving them).
func UnbindPort(ctx context.Context, tx *store.Tx, portID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM security_group_port_bindings WHERE port_id = ?`, portID); err != nil {
		return fmt.Errorf("unbind port %s: %w", portID, err)
	}
	return nil
}

// PortGroups returns the group ids of each of the ports, sorted (ports
// without groups are absent).
func PortGroups(ctx context.Context, q store.Querier, portIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(portIDs) == 0 {
		return out, nil
	}
	from, arg := store.StringsTable(q, "i", portIDs)
	rows, err := q.QueryContext(ctx, `SELECT b.port_id, b.group_id FROM `+from+`
		JOIN security_group_port_bindings b ON b.port_id = i.value ORDER BY b.port_id, b.group_id`, arg)
	if err != nil {
		return nil, fmt.Errorf("list security groups of ports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var port, group string
		if err := rows.Scan(&port, &group); err != nil {
			return nil, fmt.Errorf("read security group of port: %w", err)
		}
		out[port] = append(out[port], group)
	}
	return out, rows.Err()
}

// GroupPorts returns the ids of the ports holding group id.
func GroupPorts(ctx context.Context, q store.Querier, groupID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT port_id FROM security_group_port_bindings WHERE group_id = ? ORDER BY port_id`, groupID)
	if err != nil {
		return nil, fmt.Errorf("list ports of security group %s: %w", groupID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read port of security group: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// The Service keeps ports' groups for the network domain
// (network.PortGroups), in its port calls' transactions.

// EnsureDefaultGroup returns the project's default group, made on first
// need.
func (s *Service) EnsureDefaultGroup(ctx context.Context, tx *store.Tx, projectID string) (string, error) {
	return EnsureDefault(ctx, tx, projectID)
}

// CheckPortGroups is Neutron's _get_security_groups_on_port: every id
// must be a group of projectID (any project's when anyProject, for
// admins), else SecurityGroupNotFound naming the others.
func (s *Service) CheckPortGroups(ctx context.Context, q store.Querier, projectID string, ids []string, anyProject bool) error {
	var missing []string
	for _, id := range ids {
		g, err := getGroup(ctx, q, id)
		if errs.Is(err, errs.KindNotFound) || (err == nil && !anyProject && g.ProjectID != projectID) {
			missing = append(missing, id)
			continue
		}
		if err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return GroupNotFound(strings.Join(missing, ", "))
	}
	return nil
}

// BindPortGroups sets the groups of a port (BindPort).
func (s *Service) BindPortGroups(ctx context.Context, tx *store.Tx, portID string, ids []string) error {
	return BindPort(ctx, tx, portID, ids)
}

// PortGroupIDs returns the groups bound to each port (PortGroups).
func (s *Service) PortGroupIDs(ctx context.Context, q store.Querier, portIDs []string) (map[string][]string, error) {
	return PortGroups(ctx, q, portIDs)
}
