package store_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestNeutronPortSecurityMigration: ports from before migration 28 keep
// port security (router interfaces lose it), have no address pairs and
// show their server's groups; bindings of ports that are gone are
// dropped, and a port's delete takes its bindings with it, on both
// engines.
func TestNeutronPortSecurityMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(qs ...string) { t.Helper(); execAll(t, db, qs...) }
		// Back to the schema before the migration.
		exec(`DELETE FROM schema_migrations WHERE name = 'neutron port security'`,
			`DROP TABLE security_group_port_bindings`,
			`CREATE TABLE security_group_port_bindings (
				port_id TEXT NOT NULL,
				group_id TEXT NOT NULL REFERENCES security_groups(id),
				PRIMARY KEY (port_id, group_id))`,
			`ALTER TABLE network_ports DROP COLUMN port_security_enabled`,
			`ALTER TABLE network_ports DROP COLUMN allowed_address_pairs`,
			// server_groups is gone since migration 30.
			`INSERT INTO networks (id, project_id, name, created_at, updated_at) VALUES ('n1', 'p1', 'net', 1, 1)`,
			`INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at, device_owner)
				VALUES ('vm-port', 'n1', 'server1', 'fa:16:3e:00:00:01', 0, 1, 'compute:nova')`,
			`INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at, device_owner)
				VALUES ('router-port', 'n1', 'router1', 'fa:16:3e:00:00:02', 0, 1, 'network:router_interface')`,
			`INSERT INTO security_groups (id, project_id, name, description, created_at, updated_at) VALUES ('g1', 'p1', 'web', '', 10, 20)`,
			`INSERT INTO security_group_port_bindings (port_id, group_id) VALUES ('vm-port', 'g1'), ('gone-port', 'g1')`)
		if n, err := db.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate = %d, %v; want the one migration applied", n, err)
		}
		for _, want := range []struct {
			port     string
			security bool
		}{{"vm-port", true}, {"router-port", false}} {
			var security, serverGroups bool
			var pairs string
			if err := db.QueryRowContext(ctx, `SELECT port_security_enabled, allowed_address_pairs, server_groups
				FROM network_ports WHERE id = ?`, want.port).Scan(&security, &pairs, &serverGroups); err != nil {
				t.Fatal(err)
			}
			if security != want.security || pairs != "[]" || !serverGroups {
				t.Errorf("%s: port_security_enabled %v, allowed_address_pairs %s, server_groups %v; want %v, [], true",
					want.port, security, pairs, serverGroups, want.security)
			}
		}
		bindings := func() int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM security_group_port_bindings`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := bindings(); n != 1 {
			t.Fatalf("%d bindings after the migration, want the one of the existing port", n)
		}
		exec(`DELETE FROM network_ports WHERE id = 'vm-port'`)
		if n := bindings(); n != 0 {
			t.Errorf("%d bindings after the port's delete, want none", n)
		}
	})
}
