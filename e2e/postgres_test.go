package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// postgresSchema creates a private schema on the test server, dropped at
// test end, and returns a URL whose search_path selects it.
func postgresSchema(t *testing.T) (dsn, schema string) {
	t.Helper()
	ctx := context.Background()
	base := storetest.PostgresURL()
	admin, err := store.Open(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL is required for the e2e tests (set KUMO_TEST_POSTGRES or run scripts/test): %v", err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema = "kumo_e2e_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// TestPostgres runs kumo on PostgreSQL instead of the embedded SQLite.
func TestPostgres(t *testing.T) {
	t.Parallel()
	dsn, schema := postgresSchema(t)
	s, cli := startAdmin(t, "--database", dsn)

	var tok obj
	cli.JSON(t, &tok, "token", "issue")
	if tok.str(t, "id") == "" {
		t.Errorf("token issue printed %v", tok)
	}
	var rows []obj
	cli.JSON(t, &rows, "flavor", "list")
	if findBy(rows, "Name", "m1.tiny") == nil {
		t.Errorf("flavor list on PostgreSQL lacks m1.tiny: %v", rows)
	}

	// kumo's tables are in the schema, and no SQLite file was made.
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?", schema).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables == 0 {
		t.Errorf("schema %s has no tables: kumo did not use PostgreSQL", schema)
	}
	if files := globData(t, s.DataDir, "kumo.db*"); len(files) != 0 {
		t.Errorf("kumo on PostgreSQL created SQLite files %v", files)
	}
}
