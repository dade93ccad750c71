package store_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// A table filled in bulk gets statistics and a vacuum from Maintain on
// PostgreSQL, without waiting for autovacuum; then it is no longer stale.
func TestMaintainAnalyzesGrownTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE maintain_probe (n BIGINT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		for lo := 0; lo < 3000; lo += 500 {
			if _, err := db.ExecContext(ctx, `INSERT INTO maintain_probe (n) `+series(500, "? + x"), lo); err != nil {
				t.Fatal(err)
			}
		}
		if db.Dialect() != store.Postgres {
			tables, err := db.Maintain(ctx)
			if err != nil || tables != nil {
				t.Fatalf("Maintain on SQLite = %v, %v; want nothing to do", tables, err)
			}
			return
		}
		// The statistics of the inserts reach pg_stat_user_tables
		// within a second or so.
		var tables []string
		for deadline := time.Now().Add(10 * time.Second); !slices.Contains(tables, "maintain_probe"); {
			var err error
			if tables, err = db.Maintain(ctx); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("Maintain never vacuumed maintain_probe (last: %v)", tables)
			}
			time.Sleep(100 * time.Millisecond)
		}
		var analyzed bool
		if err := db.QueryRowContext(ctx, `SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'maintain_probe'`).Scan(&analyzed); err != nil {
			t.Fatal(err)
		}
		if !analyzed {
			t.Error("maintain_probe has no statistics after Maintain")
		}
		tables, err := db.Maintain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(tables, "maintain_probe") {
			t.Errorf("maintain_probe still stale after its vacuum: %v", tables)
		}
	})
}

// series is a query selecting expr over x in 0..n-1.
func series(n int, expr string) string {
	return `WITH RECURSIVE r(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM r WHERE x < ` + strconv.Itoa(n-1) + `) SELECT ` + expr + ` FROM r`
}

// kumo's PostgreSQL sessions run without JIT compilation unless the dsn
// asks for it.
func TestPostgresSessionsRunWithoutJIT(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if db.Dialect() != store.Postgres {
			return
		}
		var jit string
		if err := db.QueryRowContext(context.Background(), `SHOW jit`).Scan(&jit); err != nil {
			t.Fatal(err)
		}
		if jit != "off" {
			t.Errorf("jit = %q, want off", jit)
		}
	})
}
