package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestPortSecurityGroupsMigration: migration 30 gives the ports Nova made
// their server's groups (not those without port security), leaves the
// groups of a port made through the networking API as they were, and
// drops the server-level rows, on both engines.
func TestPortSecurityGroupsMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(qs ...string) { t.Helper(); execAll(t, db, qs...) }
		// Back to the schema before the migration.
		exec(`DELETE FROM schema_migrations WHERE name = 'port security groups'`,
			`CREATE TABLE security_group_members (
				instance_id TEXT NOT NULL,
				group_id TEXT NOT NULL REFERENCES security_groups(id),
				created_at BIGINT NOT NULL,
				PRIMARY KEY (instance_id, group_id))`,
			`ALTER TABLE network_ports ADD COLUMN server_groups BOOLEAN NOT NULL DEFAULT TRUE`,
			`ALTER TABLE instances ADD COLUMN security_groups TEXT NOT NULL DEFAULT '[]'`,
			`INSERT INTO networks (id, project_id, name, created_at, updated_at) VALUES ('n1', 'p1', 'net', 1, 1)`,
			`INSERT INTO security_groups (id, project_id, name, description, created_at, updated_at)
				VALUES ('web', 'p1', 'web', '', 1, 1), ('db', 'p1', 'db', '', 1, 1), ('own', 'p1', 'own', '', 1, 1)`,
			// vm1 has two ports Nova made, one without port security, and
			// one the user made with its own group; vm2 has no port.
			`INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at, device_owner, server_groups, port_security_enabled)
				VALUES ('nova-a', 'n1', 'vm1', 'fa:16:3e:00:00:01', 0, 1, 'compute:nova', TRUE, TRUE),
				('nova-b', 'n1', 'vm1', 'fa:16:3e:00:00:02', 1, 1, 'compute:nova', TRUE, TRUE),
				('insecure', 'n1', 'vm1', 'fa:16:3e:00:00:03', 2, 1, 'compute:nova', TRUE, FALSE),
				('given', 'n1', 'vm1', 'fa:16:3e:00:00:04', 3, 1, 'compute:nova', FALSE, TRUE),
				('free', 'n1', '', 'fa:16:3e:00:00:05', 0, 1, '', TRUE, TRUE)`,
			`INSERT INTO security_group_port_bindings (port_id, group_id) VALUES ('given', 'own')`,
			`INSERT INTO security_group_members (instance_id, group_id, created_at)
				VALUES ('vm1', 'web', 1), ('vm1', 'db', 1), ('vm2', 'web', 1)`)
		if n, err := db.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate = %d, %v; want the one migration applied", n, err)
		}
		groups := map[string][]string{}
		rows, err := db.QueryContext(ctx, `SELECT port_id, group_id FROM security_group_port_bindings ORDER BY port_id, group_id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var port, group string
			if err := rows.Scan(&port, &group); err != nil {
				t.Fatal(err)
			}
			groups[port] = append(groups[port], group)
		}
		rows.Close()
		for _, c := range []struct {
			port string
			want []string
		}{
			{"nova-a", []string{"db", "web"}}, {"nova-b", []string{"db", "web"}},
			{"insecure", nil}, {"given", []string{"own"}}, {"free", nil},
		} {
			if !slices.Equal(groups[c.port], c.want) {
				t.Errorf("port %s has groups %v, want %v", c.port, groups[c.port], c.want)
			}
		}
		for _, q := range []string{`SELECT COUNT(*) FROM security_group_members`, `SELECT COUNT(server_groups) FROM network_ports`,
			`SELECT COUNT(security_groups) FROM instances`} {
			var n int
			if err := db.QueryRowContext(ctx, q).Scan(&n); err == nil {
				t.Errorf("%s still answers after migration 30", q)
			}
		}
	})
}
