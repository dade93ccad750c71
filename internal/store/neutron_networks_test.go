package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestNeutronNetworksMigration: a project network of the address
// manager, with a port, fixed IPs and a floating IP bound to one, comes
// out of the migration as a Neutron network with the same id, an IPv4
// subnet holding its pool slot and an IPv6 SLAAC subnet, its port and
// bindings intact, on both engines.
func TestNeutronNetworksMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(qs ...string) { t.Helper(); execAll(t, db, qs...) }
		// Back to the schema before the migration, with a network in use.
		exec(`DELETE FROM schema_migrations WHERE name = 'neutron networks'`, `DROP TABLE resource_tags`, `DROP TABLE subnets`)
		if db.Dialect() == store.Postgres {
			// The ports' foreign key stays on the table as it was.
			exec(`DROP INDEX networks_default_for`, `DROP INDEX networks_project`,
				`ALTER TABLE networks DROP COLUMN description, DROP COLUMN default_for, DROP COLUMN admin_state_up,
					DROP COLUMN shared, DROP COLUMN external, DROP COLUMN mtu, DROP COLUMN port_security_enabled,
					DROP COLUMN network_type, DROP COLUMN physical_network, DROP COLUMN segmentation_id,
					DROP COLUMN revision_number, DROP COLUMN updated_at,
					ADD COLUMN pool_index INTEGER NOT NULL UNIQUE, ADD COLUMN cidr TEXT NOT NULL UNIQUE,
					ADD COLUMN cidr_v6 TEXT NOT NULL DEFAULT '', ADD CONSTRAINT networks_project_id_name_key UNIQUE (project_id, name)`)
		} else {
			exec(`DROP TABLE networks`, `CREATE TABLE networks (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL,
				pool_index INTEGER NOT NULL UNIQUE, cidr TEXT NOT NULL UNIQUE, cidr_v6 TEXT NOT NULL DEFAULT '',
				created_at BIGINT NOT NULL, UNIQUE (project_id, name))`)
		}
		exec(
			`INSERT INTO networks (id, project_id, name, pool_index, cidr, cidr_v6, created_at) VALUES ('n1', 'p1', 'private', 3, '10.0.3.0/24', 'fd00:0:0:3::/64', 100)`,
			`INSERT INTO networks (id, project_id, name, pool_index, cidr, cidr_v6, created_at) VALUES ('n2', 'p2', 'private', 0, '10.0.0.0/28', '', 200)`,
			`INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at) VALUES ('port1', 'n1', 'i1', 'fa:16:3e:00:00:01', 0, 100)`,
			`INSERT INTO fixed_ips (network_id, address, version, ordinal, port_id, instance_id) VALUES ('n1', '10.0.3.2', 4, 2, 'port1', 'i1')`,
			`INSERT INTO floating_ips (id, pool, address, project_id, fixed_network_id, fixed_address, created_at, updated_at)
				VALUES ('f1', 'public', '203.0.113.5', 'p1', 'n1', '10.0.3.2', 1, 1)`)
		if n, err := db.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate = %d, %v; want the one migration applied", n, err)
		}

		var name, defaultFor string
		var shared, external, adminUp bool
		var mtu, rev int
		var updated int64
		if err := db.QueryRowContext(ctx, `SELECT name, default_for, shared, external, admin_state_up, mtu, revision_number, updated_at
			FROM networks WHERE id = 'n1'`).Scan(&name, &defaultFor, &shared, &external, &adminUp, &mtu, &rev, &updated); err != nil {
			t.Fatal(err)
		}
		if name != "private" || defaultFor != "p1" || shared || external || !adminUp || mtu != 1500 || rev != 1 || updated != 100 {
			t.Errorf("network n1: %s %s shared=%v external=%v up=%v mtu=%d rev=%d updated=%d", name, defaultFor, shared, external, adminUp, mtu, rev, updated)
		}

		type subnet struct {
			version     int
			cidr, pools string
			gateway     sql.NullString
			pool        sql.NullInt64
			mode        sql.NullString
		}
		rows, err := db.QueryContext(ctx, `SELECT ip_version, cidr, gateway_ip, allocation_pools, pool_index, ipv6_address_mode
			FROM subnets ORDER BY network_id, ip_version`)
		if err != nil {
			t.Fatal(err)
		}
		var got []subnet
		for rows.Next() {
			var s subnet
			if err := rows.Scan(&s.version, &s.cidr, &s.gateway, &s.pools, &s.pool, &s.mode); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		rows.Close()
		want := []subnet{
			{4, "10.0.3.0/24", `[{"end":"10.0.3.254","start":"10.0.3.2"}]`, sql.NullString{String: "10.0.3.1", Valid: true}, sql.NullInt64{Int64: 3, Valid: true}, sql.NullString{}},
			{6, "fd00:0:0:3::/64", `[{"end":"fd00::3:ffff:ffff:ffff:ffff","start":"fd00:0:0:3::2"}]`, sql.NullString{String: "fd00:0:0:3::1", Valid: true}, sql.NullInt64{}, sql.NullString{String: "slaac", Valid: true}},
			{4, "10.0.0.0/28", `[{"end":"10.0.0.14","start":"10.0.0.2"}]`, sql.NullString{String: "10.0.0.1", Valid: true}, sql.NullInt64{Int64: 0, Valid: true}, sql.NullString{}},
		}
		if len(got) != len(want) {
			t.Fatalf("subnets %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("subnet %d: %+v, want %+v", i, got[i], want[i])
			}
		}

		// The port's network and the floating IP's binding survive; a
		// second network of the same name is Neutron's to allow.
		var addr string
		if err := db.QueryRowContext(ctx, `SELECT f.address FROM fixed_ips f JOIN network_ports p ON p.id = f.port_id
			JOIN networks n ON n.id = p.network_id WHERE n.id = 'n1'`).Scan(&addr); err != nil || addr != "10.0.3.2" {
			t.Errorf("fixed IP of port1: %q, %v", addr, err)
		}
		exec(`INSERT INTO networks (id, project_id, name, created_at, updated_at) VALUES ('n3', 'p1', 'private', 300, 300)`,
			`DELETE FROM fixed_ips WHERE address = '10.0.3.2'`)
		var bound sql.NullString
		if err := db.QueryRowContext(ctx, `SELECT fixed_address FROM floating_ips WHERE id = 'f1'`).Scan(&bound); err != nil || bound.Valid {
			t.Errorf("floating IP binding after its fixed IP went: %v, %v", bound, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO networks (id, project_id, name, default_for, created_at, updated_at)
			VALUES ('n4', 'p1', 'x', 'p1', 1, 1)`); err == nil {
			t.Errorf("a second default network of p1 was accepted")
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at)
			VALUES ('port2', 'nope', 'i1', 'fa:16:3e:00:00:02', 0, 1)`); err == nil {
			t.Errorf("a port on a missing network was accepted: the foreign key is gone")
		}
	})
}

// TestNeutronPortsMigration: ports made before it belong to their
// server's project and keep their creation time as update time.
func TestNeutronPortsMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, q := range []string{
			`DELETE FROM schema_migrations WHERE name = 'neutron ports'`,
			`DROP INDEX network_ports_project`, `DROP INDEX network_ports_network`,
			`ALTER TABLE network_ports DROP COLUMN project_id`, `ALTER TABLE network_ports DROP COLUMN name`,
			`ALTER TABLE network_ports DROP COLUMN description`, `ALTER TABLE network_ports DROP COLUMN admin_state_up`,
			`ALTER TABLE network_ports DROP COLUMN device_owner`, `ALTER TABLE network_ports DROP COLUMN revision_number`,
			`ALTER TABLE network_ports DROP COLUMN updated_at`,
			`INSERT INTO instances (id, number, project_id, user_id, name, hostname, reservation_id, flavor_id, flavor, vcpus,
				memory_mb, root_gb, ephemeral_gb, vm_state, created_at, updated_at)
				VALUES ('i1', 1, 'p1', 'u', 's', 's', 'r', 'f', '{}', 1, 512, 1, 0, 'active', 1, 1)`,
			`INSERT INTO networks (id, project_id, name, created_at, updated_at) VALUES ('n1', 'p0', 'shared', 1, 1)`,
			`INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at) VALUES ('port1', 'n1', 'i1', 'fa:16:3e:00:00:01', 0, 50)`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if n, err := db.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate = %d, %v; want the one migration applied", n, err)
		}
		var project, owner string
		var updated int64
		var rev int
		var up bool
		if err := db.QueryRowContext(ctx, `SELECT project_id, device_owner, updated_at, revision_number, admin_state_up
			FROM network_ports WHERE id = 'port1'`).Scan(&project, &owner, &updated, &rev, &up); err != nil {
			t.Fatal(err)
		}
		if project != "p1" || owner != "compute:nova" || updated != 50 || rev != 1 || !up {
			t.Errorf("port1: project %s owner %s updated %d rev %d up %v", project, owner, updated, rev, up)
		}
	})
}
