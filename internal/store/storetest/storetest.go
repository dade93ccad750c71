// Package storetest gives tests a fresh, migrated database on every
// backend kumo supports: a SQLite file in a temp dir and a private schema
// on a real PostgreSQL server.
//
// PostgreSQL comes from KUMO_TEST_POSTGRES (a postgres:// URL), defaulting
// to the local test database at 127.0.0.1:5432. The test command
// (scripts/test) makes sure one is reachable; when none is, the tests fail
// rather than skip, so a green run always covered both engines.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
)

// DefaultPostgres is used when KUMO_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the server tests use.
func PostgresURL() string {
	if u := os.Getenv("KUMO_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultPostgres
}

// Each runs fn as a subtest once per backend, each with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a migrated database in a temp dir, closed at test end.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// Postgres opens a migrated, private schema on the test server, dropped at
// test end.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, PostgresSchemaURL(t))
	if err != nil {
		t.Fatalf("open postgres schema: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// PostgresSchemaURL creates an empty private schema on the test server,
// dropped at test end (after the cleanups registered later, which close
// what uses it), and returns a URL whose search_path selects it: for
// tests that hand kumo a database URL.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := PostgresURL()
	admin, err := store.Open(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL is required for the store tests (set KUMO_TEST_POSTGRES or run scripts/test): %v", err)
	}
	defer admin.Close()
	schema := "kumo_test_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if a, err := store.Open(context.Background(), base); err == nil {
			_, _ = a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// SQLitePlan is SQLite's EXPLAIN QUERY PLAN of q, its steps joined by
// "; ", for tests that a query reads an index and not the whole table.
// It explains in a transaction that has read the schema first: EXPLAIN
// reads no table, so on a connection opened before the migrations it
// would plan with the indexes of then (real statements notice the schema
// change and plan again).
func SQLitePlan(t testing.TB, db *store.DB, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	var plan []string
	err := db.InTx(ctx, func(tx *store.Tx) error {
		plan = nil
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master`).Scan(&n); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return err
			}
			plan = append(plan, detail)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	return strings.Join(plan, "; ")
}
