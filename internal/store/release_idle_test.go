package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

func TestReleaseIdleClosesIdleConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Hold several connections at once so the pool keeps them idle after.
	var conns []*sql.Conn
	for range 4 {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		conn.Close()
	}
	if idle := db.sql.Stats().Idle; idle != 4 {
		t.Fatalf("%d idle connections before the release, want 4", idle)
	}
	db.ReleaseIdle()
	if st := db.sql.Stats(); st.OpenConnections != 0 {
		t.Fatalf("%d connections open after the release", st.OpenConnections)
	}
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(new(int)); err != nil {
		t.Fatalf("query after the release: %v", err)
	}
}
