package network

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// floatingAddressesOf appends the floating IPs bound to the instances'
// fixed IPs (package floatingip keeps them) to out, after each instance's
// fixed addresses: Nova's addresses view lists a network's fixed IPs,
// then its floating ones, each floating IP on its fixed IP's network
// with that port's MAC.
func (m *Manager) floatingAddressesOf(ctx context.Context, q store.Querier, ids []string, out map[string][]Address) error {
	from, arg := store.StringsTable(q, "i", ids)
	rows, err := q.QueryContext(ctx, `SELECT f.instance_id, f.network_id, n.name, f.port_id, fl.address, p.mac
		FROM `+from+`
		JOIN fixed_ips f ON f.instance_id = i.value
		JOIN floating_ips fl ON f.network_id = fl.fixed_network_id AND f.address = fl.fixed_address
		JOIN network_ports p ON p.id = f.port_id
		JOIN networks n ON n.id = f.network_id
		ORDER BY f.instance_id, p.created_at, p.position, f.version, f.address`, arg)
	if err != nil {
		return fmt.Errorf("list floating addresses of %d instances: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var instanceID string
		a := Address{Version: 4, Type: "floating"}
		if err := rows.Scan(&instanceID, &a.NetworkID, &a.Network, &a.PortID, &a.Addr, &a.MAC); err != nil {
			return fmt.Errorf("scan floating address: %w", err)
		}
		out[instanceID] = append(out[instanceID], a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list floating addresses of %d instances: %w", len(ids), err)
	}
	return nil
}
