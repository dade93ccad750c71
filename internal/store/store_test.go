package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v, err := db.SchemaVersion(ctx)
		if err != nil || v == 0 {
			t.Fatalf("schema version = %d, %v; want > 0", v, err)
		}
		n, err := db.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d, %v; want 0, nil", n, err)
		}
	})
}

func TestTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO domains (id, name, enabled, created_at) VALUES (?, ?, ?, ?)`, "d1", "one", true, store.Now()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v, want boom", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains WHERE id = ?`, "d1").Scan(&n); err != nil || n != 0 {
			t.Fatalf("rolled-back row visible: n=%d err=%v", n, err)
		}
	})
}

func TestUniqueViolationIsRecognised(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ins := `INSERT INTO domains (id, name, enabled, created_at) VALUES (?, ?, ?, ?)`
		if _, err := db.ExecContext(ctx, ins, "d1", "one", true, store.Now()); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, ins, "d2", "one", true, store.Now())
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate name error %v not recognised as unique violation", err)
		}
	})
}

// TestConcurrentCheckThenInsert: many transactions that each read what
// the others write (a quota check: count, then insert under the limit)
// all commit on both engines, and the limit holds.
func TestConcurrentCheckThenInsert(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const writers, each, limit = 16, 20, 250
		errc := make(chan error, writers)
		for w := range writers {
			go func() {
				var err error
				for i := 0; i < each && err == nil; i++ {
					err = db.InTx(ctx, func(tx *store.Tx) error {
						var n int
						if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains`).Scan(&n); err != nil {
							return err
						}
						if n >= limit {
							return nil
						}
						time.Sleep(2 * time.Millisecond) // a create does more work here
						_, err := tx.ExecContext(ctx, `INSERT INTO domains (id, name, enabled, created_at) VALUES (?, ?, ?, ?)`,
							fmt.Sprintf("d-%d-%d", w, i), fmt.Sprintf("n-%d-%d", w, i), true, store.Now())
						return err
					})
				}
				errc <- err
			}()
		}
		for range writers {
			if err := <-errc; err != nil {
				t.Fatalf("transaction failed: %v", err)
			}
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM domains`).Scan(&n); err != nil || n != limit {
			t.Fatalf("%d domains (%v), want exactly %d", n, err, limit)
		}
	})
}
