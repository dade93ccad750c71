package store_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestNeutronSecurityGroupsMigration: a group and its rule from before
// migration 25 come out stateful at revision 1, the rule in its group's
// project with updated_at its created_at, on both engines.
func TestNeutronSecurityGroupsMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(qs ...string) { t.Helper(); execAll(t, db, qs...) }
		// Back to the schema before the migration.
		exec(`DELETE FROM schema_migrations WHERE name = 'neutron security groups'`,
			`DROP TABLE security_group_port_bindings`,
			`ALTER TABLE security_groups DROP COLUMN stateful`, `ALTER TABLE security_groups DROP COLUMN revision_number`,
			`ALTER TABLE security_group_rules DROP COLUMN project_id`, `ALTER TABLE security_group_rules DROP COLUMN description`,
			`ALTER TABLE security_group_rules DROP COLUMN revision_number`, `ALTER TABLE security_group_rules DROP COLUMN updated_at`,
			`INSERT INTO security_groups (id, project_id, name, description, created_at, updated_at) VALUES ('g1', 'p1', 'web', '', 10, 20)`,
			`INSERT INTO security_group_rules (id, group_id, direction, ethertype, protocol, port_min, port_max, remote_cidr, created_at)
				VALUES ('r1', 'g1', 'ingress', 'IPv4', 'tcp', 22, 22, '0.0.0.0/0', 30)`)
		if n, err := db.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate = %d, %v; want the one migration applied", n, err)
		}
		var stateful bool
		var groupRev int
		if err := db.QueryRowContext(ctx, `SELECT stateful, revision_number FROM security_groups WHERE id = 'g1'`).Scan(&stateful, &groupRev); err != nil {
			t.Fatal(err)
		}
		if !stateful || groupRev != 1 {
			t.Errorf("group: stateful %v, revision %d", stateful, groupRev)
		}
		var project, description string
		var rev int
		var updated int64
		if err := db.QueryRowContext(ctx, `SELECT project_id, description, revision_number, updated_at FROM security_group_rules
			WHERE id = 'r1'`).Scan(&project, &description, &rev, &updated); err != nil {
			t.Fatal(err)
		}
		if project != "p1" || description != "" || rev != 1 || updated != 30 {
			t.Errorf("rule: project %q, description %q, revision %d, updated_at %d", project, description, rev, updated)
		}
		exec(`INSERT INTO security_group_port_bindings (port_id, group_id) VALUES ('port1', 'g1')`)
	})
}
