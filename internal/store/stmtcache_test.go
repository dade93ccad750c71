package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestStatementCache checks that SQLite statements are prepared once and
// then serve queries in and out of transactions, concurrently, with the
// same results as unprepared ones, and that a bad statement still reports
// its error.
func TestStatementCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const insert, sum = `INSERT INTO kv (k, v) VALUES (?, ?)`, `SELECT COALESCE(SUM(v), 0) FROM kv WHERE k <> ?`
	for i, k := range []string{"a", "b", "c"} {
		if _, err := db.ExecContext(ctx, insert, k, i+1); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.stmt(sum) == nil || db.stmt(insert) == nil {
		var n int
		if err := db.QueryRowContext(ctx, sum, "").Scan(&n); err != nil || n != 6 {
			t.Fatalf("unprepared sum = %d, %v; want 6", n, err)
		}
		if time.Now().After(deadline) {
			t.Fatal("statements never got prepared")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errc <- db.InTx(ctx, func(tx *Tx) error {
				if _, err := tx.ExecContext(ctx, insert, "w"+string(rune('0'+w)), 10); err != nil {
					return err
				}
				var n int
				return tx.QueryRowContext(ctx, sum, "").Scan(&n)
			})
		}(w)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("transaction with cached statements: %v", err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, sum, "a").Scan(&n); err != nil || n != 5+80 {
		t.Fatalf("prepared sum = %d, %v; want 85", n, err)
	}
	for i := 0; i < 3; i++ { // a bad statement fails every time, cached or not
		if _, err := db.ExecContext(ctx, `INSERT INTO missing (x) VALUES (?)`, 1); err == nil {
			t.Fatal("insert into a missing table succeeded")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStatementCachePragma: a PRAGMA takes effect in the transaction
// that runs it, however often it ran before. SQLite applies a flag pragma
// (defer_foreign_keys) when it compiles the statement, not when it steps
// it, so a cached one set nothing: migration 23's table rebuild then
// failed its DROP TABLE on the foreign key now and then.
func TestStatementCachePragma(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "pragma.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// One connection: what the cache prepares in the background is
	// prepared on the connection the next transaction gets.
	db.sql.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE parent (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE child (parent_id TEXT NOT NULL REFERENCES parent(id))`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO parent (id) VALUES ('p')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO child (parent_id) VALUES ('p')`); err != nil {
		t.Fatal(err)
	}
	// The rebuild of a parent table, as a migration does it.
	for i := 0; i < 4; i++ {
		err := db.InTx(ctx, func(tx *Tx) error {
			for _, q := range []string{
				`CREATE TABLE parent_old AS SELECT id FROM parent`,
				`PRAGMA defer_foreign_keys = ON`,
				`DROP TABLE parent`,
				`CREATE TABLE parent (id TEXT PRIMARY KEY)`,
				`INSERT INTO parent (id) SELECT id FROM parent_old`,
				`DROP TABLE parent_old`,
			} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("%s: %w", q, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("rebuild %d: %v", i, err)
		}
		// What the cache prepares meanwhile is prepared on the one
		// connection, and a statement outside a transaction commits
		// there, ending any pragma's effect.
		db.stmts.preparing.Wait()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM child`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("children after rebuild %d: %d, %v", i, n, err)
		}
	}
}
