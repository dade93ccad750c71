package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// emptyDatabases open an empty database of each engine: a kumo that has
// not migrated yet.
var emptyDatabases = []struct {
	name string
	open func(t *testing.T) *store.DB
}{
	{"sqlite", func(t *testing.T) *store.DB {
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kumo.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	{"postgres", func(t *testing.T) *store.DB {
		db, err := store.Open(context.Background(), storetest.PostgresDSN(t))
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		// The test database is a migrated template's copy: empty it.
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
			t.Fatalf("empty the database: %v", err)
		}
		return db
	}},
}

// TestUpgradeToTheNetworkingAPI: a cloud made before the networking API
// (schema 22) or with its networks only (23) migrates through ports (24),
// security group attributes (25), network quotas (26), routers (27) and
// port security (28), preserved ports (29), the port security groups
// (30), port bindings (31) and L3 ports (32), its network, server port,
// security group and floating IP carried over (the server's group
// becomes its port's), on both engines.
func TestUpgradeToTheNetworkingAPI(t *testing.T) {
	t.Parallel()
	// A project network of each schema, the same network.
	networkAt := map[int]string{
		22: `INSERT INTO networks (id, project_id, name, pool_index, cidr, cidr_v6, created_at)
			VALUES ('n1', 'p1', 'private', 3, '10.0.3.0/24', 'fd00:0:0:3::/64', 100)`,
		23: `INSERT INTO networks (id, project_id, name, created_at, updated_at) VALUES ('n1', 'p1', 'private', 100, 100)`,
	}
	for from, network := range networkAt {
		for _, engine := range emptyDatabases {
			t.Run(fmt.Sprintf("from %d on %s", from, engine.name), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				db := engine.open(t)
				if n, err := db.MigrateThrough(ctx, from); err != nil || n != from {
					t.Fatalf("MigrateThrough(%d) = %d, %v", from, n, err)
				}
				for _, q := range []string{
					`INSERT INTO instances (id, number, project_id, user_id, name, hostname, reservation_id, flavor_id, flavor, vcpus,
						memory_mb, root_gb, ephemeral_gb, vm_state, created_at, updated_at)
						VALUES ('i1', 1, 'p1', 'u', 's', 's', 'r', 'f', '{}', 1, 512, 1, 0, 'active', 1, 1)`,
					network,
					`INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at)
						VALUES ('port1', 'n1', 'i1', 'fa:16:3e:00:00:01', 0, 50)`,
					`INSERT INTO security_groups (id, project_id, name, description, created_at, updated_at)
						VALUES ('g1', 'p1', 'web', '', 10, 20)`,
					`INSERT INTO security_group_rules (id, group_id, direction, ethertype, protocol, port_min, port_max, remote_cidr, created_at)
						VALUES ('r1', 'g1', 'ingress', 'IPv4', 'tcp', 22, 22, '0.0.0.0/0', 30)`,
					`INSERT INTO security_group_members (instance_id, group_id, created_at) VALUES ('i1', 'g1', 40)`,
					`INSERT INTO floating_ips (id, pool, address, ordinal, project_id, created_at, updated_at)
						VALUES ('f1', 'public', '203.0.113.5', 3405803781, 'p1', 40, 40)`,
				} {
					if _, err := db.ExecContext(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				if _, err := db.Migrate(ctx); err != nil {
					t.Fatalf("Migrate from %d: %v", from, err)
				}
				if v, err := db.SchemaVersion(ctx); err != nil || v != store.NewestVersion() {
					t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, store.NewestVersion())
				}
				// The floating IP waits for its network and port (kumo's
				// start gives them); addresses are unique per network now.
				var pool, address string
				var netID, portID sql.NullString
				if err := db.QueryRowContext(ctx, `SELECT pool, address, network_id, port_id FROM floating_ips WHERE id = 'f1'`).
					Scan(&pool, &address, &netID, &portID); err != nil || pool != "public" || address != "203.0.113.5" || netID.Valid || portID.Valid {
					t.Errorf("floating IP f1: %q %q %v %v, %v", pool, address, netID, portID, err)
				}

				var hints string
				if err := db.QueryRowContext(ctx, `SELECT availability_zone_hints FROM networks WHERE id = 'n1'`).Scan(&hints); err != nil || hints != "[]" {
					t.Errorf("network n1's zone hints %q, %v", hints, err)
				}
				// Migration 23 gives a network of the address manager its
				// IPv4 and IPv6 subnets; a network made at 23 has none yet.
				wantSubnets := map[int]int{22: 2, 23: 0}[from]
				var subnets int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subnets WHERE network_id = 'n1'`).Scan(&subnets); err != nil || subnets != wantSubnets {
					t.Errorf("network n1 has %d subnets, %v; want %d", subnets, err, wantSubnets)
				}
				var project, owner string
				var security, preserved bool
				if err := db.QueryRowContext(ctx, `SELECT project_id, device_owner, port_security_enabled, preserve_on_delete
					FROM network_ports WHERE id = 'port1'`).Scan(&project, &owner, &security, &preserved); err != nil ||
					project != "p1" || owner != "compute:nova" || !security || preserved {
					t.Errorf("port1: project %q, device owner %q, port security %v, preserved %v, %v (Nova made it: it goes with its server)",
						project, owner, security, preserved, err)
				}
				var bound string
				if err := db.QueryRowContext(ctx, `SELECT group_id FROM security_group_port_bindings WHERE port_id = 'port1'`).Scan(&bound); err != nil || bound != "g1" {
					t.Errorf("port1's groups: %q, %v; want its server's g1", bound, err)
				}
				for _, q := range []string{`SELECT COUNT(*) FROM security_group_members`, `SELECT COUNT(server_groups) FROM network_ports`,
					`SELECT COUNT(security_groups) FROM instances`} {
					var n int
					if err := db.QueryRowContext(ctx, q).Scan(&n); err == nil {
						t.Errorf("%s: the server-level groups outlived migration 30", q)
					}
				}
				var host, profile, vnic string
				if err := db.QueryRowContext(ctx, `SELECT binding_host, binding_profile, vnic_type FROM network_ports WHERE id = 'port1'`).
					Scan(&host, &profile, &vnic); err != nil || host != "" || profile != "{}" || vnic != "normal" {
					t.Errorf("port1: binding host %q, profile %s, vnic type %q, %v; want none, {}, normal", host, profile, vnic, err)
				}
				var stateful bool
				if err := db.QueryRowContext(ctx, `SELECT stateful FROM security_groups WHERE id = 'g1'`).Scan(&stateful); err != nil || !stateful {
					t.Errorf("group g1: stateful %v, %v", stateful, err)
				}
				if err := db.QueryRowContext(ctx, `SELECT project_id FROM security_group_rules WHERE id = 'r1'`).Scan(&project); err != nil || project != "p1" {
					t.Errorf("rule r1: project %q, %v", project, err)
				}
				for _, q := range []string{
					`INSERT INTO network_quotas (project_id, resource, hard_limit, created_at, updated_at) VALUES ('p1', 'port', 5, 1, 1)`,
					`INSERT INTO routers (id, project_id, created_at, updated_at) VALUES ('router1', 'p1', 1, 1)`,
					`INSERT INTO floating_ips (id, network_id, port_id, pool, address, project_id, created_at, updated_at)
						VALUES ('f2', 'n1', 'port2', 'other', '203.0.113.5', 'p1', 50, 50)`,
				} {
					if _, err := db.ExecContext(ctx, q); err != nil {
						t.Errorf("%s: %v", q, err)
					}
				}
			})
		}
	}
}
