package floatingip_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestAdoptPorts: floating IPs and gateway addresses from before ports
// (rows without network and port) get their port on the built-in
// external network; a gateway's row becomes its port only; an address a
// port holds already stays as it was; a second run changes nothing.
func TestAdoptPorts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db, floatingip.Options{Range: "203.0.113.0/24", Pool: "public"})
		taken, err := s.Allocate(ctx, "p1", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`INSERT INTO routers (id, project_id, created_at, updated_at) VALUES ('r1', 'p1', 1, 1)`,
			`INSERT INTO floating_ips (id, pool, address, project_id, created_at, updated_at) VALUES ('f1', 'public', '203.0.113.7', 'p1', 1, 1)`,
			`INSERT INTO floating_ips (id, pool, address, project_id, gateway_of, created_at, updated_at)
				VALUES ('g1', 'public', '203.0.113.8', '', 'r1', 1, 1)`,
			`INSERT INTO floating_ips (id, pool, address, project_id, created_at, updated_at) VALUES ('f2', 'public', '` + taken.Address + `', 'p2', 1, 1)`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for range 2 {
			if err := s.AdoptPorts(ctx); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			address, owner, device string
		}{
			{"203.0.113.7", "network:floatingip", "f1"},
			{"203.0.113.8", "network:router_gateway", "r1"},
			{taken.Address, "network:floatingip", taken.ID},
		}
		for _, tt := range tests {
			var owner, device, project string
			err := db.QueryRowContext(ctx, `SELECT p.device_owner, p.instance_id, p.project_id FROM fixed_ips f
				JOIN network_ports p ON p.id = f.port_id WHERE f.address = ?`, tt.address).Scan(&owner, &device, &project)
			if err != nil || owner != tt.owner || device != tt.device || project != "" {
				t.Errorf("port of %s: %q %q %q, %v; want %s of %s", tt.address, owner, device, project, err, tt.owner, tt.device)
			}
		}
		var port sql.NullString
		if err := db.QueryRowContext(ctx, `SELECT port_id FROM floating_ips WHERE id = 'f1'`).Scan(&port); err != nil || !port.Valid {
			t.Errorf("f1's port %v, %v", port, err)
		}
		if err := db.QueryRowContext(ctx, `SELECT port_id FROM floating_ips WHERE id = 'f2'`).Scan(&port); err != nil || port.Valid {
			t.Errorf("f2 (its address taken) got port %v, %v", port, err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM floating_ips WHERE gateway_of IS NOT NULL`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d gateway rows left, %v", n, err)
		}
	})
}
