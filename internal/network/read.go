package network

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// ForInstances returns the addresses of each instance, in allocation
// order (ports in creation order, IPv4 before IPv6) followed by the
// floating IPs bound to its fixed IPs (package floatingip keeps them),
// with one query: Nova's addresses view lists a network's fixed IPs, then
// its floating ones, each floating IP on its fixed IP's network with that
// port's MAC. Instances without addresses are absent.
func (m *Manager) ForInstances(ctx context.Context, q store.Querier, instanceIDs []string) (map[string][]Address, error) {
	out := make(map[string][]Address, len(instanceIDs))
	from, arg := store.StringsTable(q, "i", instanceIDs)
	rows, err := q.QueryContext(ctx, `SELECT instance_id, network_id, name, port_id, address, version, mac, type, tag FROM (
		SELECT f.instance_id AS instance_id, 0 AS floating, f.network_id AS network_id, n.name AS name, f.port_id AS port_id,
			f.address AS address, f.version AS version, p.mac AS mac, f.type AS type, p.tag AS tag,
			p.created_at AS created_at, p.position AS position, f.address AS fixed_address
		FROM `+from+`
		JOIN fixed_ips f ON f.instance_id = i.value
		JOIN network_ports p ON p.id = f.port_id
		JOIN networks n ON n.id = f.network_id
		UNION ALL
		SELECT f.instance_id, 1, f.network_id, n.name, f.port_id, fl.address, 4, p.mac, 'floating', NULL,
			p.created_at, p.position, f.address
		FROM `+from+`
		JOIN fixed_ips f ON f.instance_id = i.value
		JOIN floating_ips fl ON f.network_id = fl.fixed_network_id AND f.address = fl.fixed_address
		JOIN network_ports p ON p.id = f.port_id
		JOIN networks n ON n.id = f.network_id
	) a ORDER BY instance_id, floating, created_at, position, version, fixed_address`, arg, arg)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %d instances: %w", len(instanceIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var instanceID string
		var a Address
		var tag sql.NullString
		if err := rows.Scan(&instanceID, &a.NetworkID, &a.Network, &a.PortID, &a.Addr, &a.Version, &a.MAC, &a.Type, &tag); err != nil {
			return nil, fmt.Errorf("scan address: %w", err)
		}
		a.Tag = tag.String
		out[instanceID] = append(out[instanceID], a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list addresses of %d instances: %w", len(instanceIDs), err)
	}
	return out, nil
}

// InstancesWithIP returns the ids (sorted, distinct) of projectID's
// instances (every project's when projectID is "") with an IPv4 address
// (IPv6 when v6) that pattern matches from its start, as Nova's "ip" and
// "ip6" list filters do with Python's re.match. A server list with both
// filters wants the union of the two calls, as in Nova.
func (m *Manager) InstancesWithIP(ctx context.Context, q store.Querier, projectID, pattern string, v6 bool) ([]string, error) {
	re, err := regexp.Compile(`^(?:` + pattern + `)`)
	if err != nil {
		return nil, errs.Invalid("Invalid filter %q: %s", pattern, err.Error())
	}
	ver := 4
	if v6 {
		ver = 6
	}
	query := `SELECT f.instance_id, f.address FROM fixed_ips f JOIN networks n ON n.id = f.network_id WHERE f.version = ?`
	args := []any{ver}
	if projectID != "" {
		query += ` AND n.project_id = ?`
		args = append(args, projectID)
	}
	// The pattern's literal prefix narrows the rows in SQL; addresses hold
	// only hex digits, dots and colons, so LIKE needs no escaping then.
	if prefix, _ := re.LiteralPrefix(); prefix != "" && !strings.ContainsAny(prefix, `%_\`) {
		query += ` AND f.address LIKE ?`
		args = append(args, prefix+"%")
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("filter instances by address: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var ids []string
	for rows.Next() {
		var id, addr string
		if err := rows.Scan(&id, &addr); err != nil {
			return nil, fmt.Errorf("scan address: %w", err)
		}
		if !seen[id] && re.MatchString(addr) {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("filter instances by address: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}
