// Package storetest gives tests a fresh, migrated database on every
// backend kumo supports: a SQLite file in a temp dir and a database of
// its own on a real PostgreSQL server.
//
// On PostgreSQL the migrations run once, into a template database named
// by the schema's digest (shared by every test binary and run with the
// same migrations), and each test's database is a copy of it (CREATE
// DATABASE … TEMPLATE): about half the time of migrating, and work for
// the server rather than round trips of the test.
//
// PostgreSQL comes from KUMO_TEST_POSTGRES (a postgres:// URL), defaulting
// to the local test database at 127.0.0.1:5432. The tests create and drop
// databases next to the one it names, so its user needs CREATEDB. The
// test command (scripts/test) makes sure one is reachable; when none is,
// the tests fail rather than skip, so a green run always covered both
// engines.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver of the admin pool

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
// It migrates each time: on SQLite that takes milliseconds, no more than
// copying a migrated file.
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

// Postgres opens a migrated database of its own on the test server,
// dropped at test end.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), PostgresDSN(t))
	if err != nil {
		t.Fatalf("open postgres database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN creates a migrated database of its own on the test server,
// dropped at test end, and returns the URL that opens it (for tests that
// start a whole kumo on PostgreSQL: its migrations find nothing to do).
// Connections still open at test end are closed by the drop.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	srv, err := postgresServer()
	if err != nil {
		t.Fatalf("PostgreSQL is required for the store tests (set KUMO_TEST_POSTGRES or run scripts/test): %v", err)
	}
	ctx := context.Background()
	name := testDatabasePrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + randomHex(4)
	if _, err := srv.admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+srv.template); err != nil {
		t.Fatalf("create database %s from %s: %v", name, srv.template, err)
	}
	t.Cleanup(func() {
		if _, err := srv.admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return srv.url(name)
}

// Names of the databases the tests make: one per test, stamped with its
// creation time so that those a killed test binary left behind can be
// told from those of tests still running; one template per schema.
const (
	testDatabasePrefix = "kumo_t_"
	templatePrefix     = "kumo_tmpl_"
	// staleAfter is when a test database is surely abandoned: far beyond
	// the longest go test timeout.
	staleAfter = 24 * time.Hour
	// templateLock is the advisory lock (in the database of
	// KUMO_TEST_POSTGRES) held while one test binary builds a template,
	// so that the packages go test runs at once build it once.
	templateLock = 7262
)

// pgServer is the test server: an admin pool on the database the URL
// names, and the migrated template each test's database is copied from.
type pgServer struct {
	base     *url.URL
	admin    *sql.DB
	template string
}

// url is the URL of database name on the server.
func (s *pgServer) url(name string) string {
	u := *s.base
	u.Path = "/" + name
	return u.String()
}

// postgresServer connects once per test binary and makes sure the
// template for this binary's migrations exists.
var postgresServer = sync.OnceValues(func() (*pgServer, error) {
	ctx := context.Background()
	base := PostgresURL()
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", base, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	// Creating and dropping databases needs few connections, and the
	// server's are shared by every package testing at once.
	admin.SetMaxOpenConns(4)
	admin.SetMaxIdleConns(2)
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	s := &pgServer{base: u, admin: admin, template: templatePrefix + store.SchemaDigest()[:16]}
	if err := s.ensureTemplate(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("template database %s: %w", s.template, err)
	}
	return s, nil
})

// ensureTemplate builds the template unless another test binary did.
// It migrates under a temporary name and renames when done, so the
// template name only ever names a complete schema, and it forbids
// connections to it: CREATE DATABASE … TEMPLATE fails while anyone is
// connected to the template.
func (s *pgServer) ensureTemplate(ctx context.Context) error {
	conn, err := s.admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock)

	if err := s.dropStale(ctx, conn); err != nil {
		return err
	}
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	build := s.template + "_build"
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+build+" TEMPLATE template0"); err != nil {
		return fmt.Errorf("create %s: %w", build, err)
	}
	db, err := store.Open(ctx, s.url(build))
	if err != nil {
		return err
	}
	_, err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, q := range []string{
		"ALTER DATABASE " + build + " WITH ALLOW_CONNECTIONS false",
		// Ends the migration's sessions, which may still be exiting.
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + build + "'",
		"ALTER DATABASE " + build + " RENAME TO " + s.template,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// dropStale drops what dead test binaries left: a template half built
// (builders hold the lock the caller holds now) and test databases older
// than staleAfter.
func (s *pgServer) dropStale(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'kumo\\_t%'")
	if err != nil {
		return err
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		if isStale(name, time.Now()) {
			stale = append(stale, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range stale {
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				continue // another binary's sweep got there first, or it is busy: next time
			}
			return err
		}
	}
	return nil
}

// isStale reports whether a database the tests made was abandoned: a
// template build (only the lock holder builds) or a test database whose
// time stamp is older than staleAfter.
func isStale(name string, now time.Time) bool {
	if strings.HasPrefix(name, templatePrefix) {
		return strings.HasSuffix(name, "_build")
	}
	rest, ok := strings.CutPrefix(name, testDatabasePrefix)
	if !ok {
		return false
	}
	stamp, _, ok := strings.Cut(rest, "_")
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(stamp, 10, 64)
	return err == nil && now.Sub(time.Unix(sec, 0)) > staleAfter
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
