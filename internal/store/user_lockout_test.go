package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestUserLockoutMigration: the user lockout migration gives users that
// existed before it no failures and no time of a last one, and applies
// on both engines.
func TestUserLockoutMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Back to the schema before the migration, with a user in it.
		for _, q := range []string{
			`DELETE FROM schema_migrations WHERE name = 'user lockout'`,
			`ALTER TABLE users DROP COLUMN failed_auth_count`,
			`ALTER TABLE users DROP COLUMN failed_auth_at`,
			`INSERT INTO domains (id, name, enabled, created_at) VALUES ('d', 'D', TRUE, 1)`,
			`INSERT INTO users (id, name, domain_id, password_hash, enabled, created_at) VALUES ('old', 'old', 'd', 'h', TRUE, 1)`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if n, err := db.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate = %d, %v; want the one migration applied", n, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO users (id, name, domain_id, enabled, created_at) VALUES ('new', 'new', 'd', TRUE, 2)`); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"old", "new"} {
			var n int
			var at sql.NullInt64
			if err := db.QueryRowContext(ctx, `SELECT failed_auth_count, failed_auth_at FROM users WHERE id = ?`, id).Scan(&n, &at); err != nil {
				t.Fatal(err)
			}
			if n != 0 || at.Valid {
				t.Errorf("user %s: failed_auth_count %d, failed_auth_at %v; want 0 and NULL", id, n, at)
			}
		}
	})
}
