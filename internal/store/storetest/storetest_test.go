package storetest

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestIsStale(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	stamp := func(age time.Duration) string { return strconv.FormatInt(now.Add(-age).Unix(), 10) }
	for _, c := range []struct {
		name string
		want bool
	}{
		{testDatabasePrefix + stamp(time.Minute) + "_0a1b2c3d", false},
		{testDatabasePrefix + stamp(staleAfter+time.Minute) + "_0a1b2c3d", true},
		{testDatabasePrefix + "garbage_0a1b2c3d", false},
		{testDatabasePrefix + "nostamp", false},
		{templatePrefix + "0123456789abcdef", false},
		{templatePrefix + "0123456789abcdef_build", true},
		{"test", false},
		{"kumo_tenant", false},
	} {
		if got := isStale(c.name, now); got != c.want {
			t.Errorf("isStale(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPostgresDatabasesAreFreshAndPrivate: each test database is
// migrated, starts empty of the other tests' rows, and is gone after the
// test.
func TestPostgresDatabasesAreFreshAndPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var first string // the database of the first subtest
	t.Run("writes", func(t *testing.T) {
		db := Postgres(t)
		if err := db.QueryRowContext(ctx, `SELECT current_database()`).Scan(&first); err != nil {
			t.Fatal(err)
		}
		if v, err := db.SchemaVersion(ctx); err != nil || v == 0 {
			t.Fatalf("schema version = %d, %v; want migrated", v, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO domains (id, name, enabled, created_at) VALUES ('d1', 'one', TRUE, 1)`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("reads", func(t *testing.T) {
		db := Postgres(t)
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE id = 'd1'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("another test's row visible: n=%d err=%v", n, err)
		}
	})
	srv, err := postgresServer()
	if err != nil {
		t.Fatal(err)
	}
	var left int
	if err := srv.admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_database WHERE datname = $1`, first).Scan(&left); err != nil || left != 0 {
		t.Fatalf("database %q of the first subtest: %d left after it, %v; want dropped", first, left, err)
	}
}
