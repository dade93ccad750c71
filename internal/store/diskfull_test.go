package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestSQLiteOnAFullDisk: once the disk holding the database is full,
// reads still work after every connection has closed (the -shm and -wal
// stay), a write that needs new space fails with an error IsDiskFull
// recognises, and writes work again once space is freed.
func TestSQLiteOnAFullDisk(t *testing.T) {
	dir := storetest.SmallDisk(t, 8<<20)
	ctx := context.Background()
	path := filepath.Join(dir, "kumo.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO domains (id, name, enabled, created_at) VALUES ('d1', 'd1', TRUE, 1)`); err != nil {
		t.Fatal(err)
	}
	// Every connection closes, as idle ones do after 15 s.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fill := storetest.FillDisk(t, dir, "fill")

	db, err = store.Open(ctx, path)
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	defer db.Close()
	var name string
	if err := db.QueryRowContext(ctx, `SELECT name FROM domains WHERE id = 'd1'`).Scan(&name); err != nil || name != "d1" {
		t.Fatalf("read on a full disk: %q, %v", name, err)
	}
	big := strings.Repeat("x", 1<<20)
	var writeErr error
	for i := 0; i < 64 && writeErr == nil; i++ {
		id := fmt.Sprintf("big%d", i)
		_, writeErr = db.ExecContext(ctx, `INSERT INTO domains (id, name, description, enabled, created_at) VALUES (?, ?, ?, TRUE, 1)`, id, id, big)
	}
	if writeErr == nil || !store.IsDiskFull(writeErr) {
		t.Fatalf("writing 64 MiB on a full 8 MiB disk: %v, want a disk-full error", writeErr)
	}
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO domains (id, name, enabled, created_at) VALUES ('d2', 'd2', TRUE, 1)`); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
}

func TestIsDiskFull(t *testing.T) {
	t.Parallel()
	if store.IsDiskFull(nil) || store.IsDiskFull(os.ErrNotExist) {
		t.Fatal("IsDiskFull of an unrelated error")
	}
}
