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

// TestTxHoldIsBounded: a transaction that runs past its bound is rolled
// back, its running statement interrupted, and InTx fails with
// ErrTxTooLong; the writer waiting behind it then goes ahead. Bounds are
// generous (ten times the hold) so a loaded machine does not fail them.
func TestTxHoldIsBounded(t *testing.T) {
	const hold = 300 * time.Millisecond
	insert := `INSERT INTO domains (id, name, enabled, created_at) VALUES (?, ?, ?, ?)`
	count := func(t *testing.T, db *store.DB, prefix string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM domains WHERE id LIKE ?`, prefix+"%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	runaways := []struct {
		name string
		fn   func(ctx context.Context, tx *store.Tx, id string) error
	}{
		{"statements without end", func(ctx context.Context, tx *store.Tx, id string) error {
			for i := 0; ; i++ {
				if _, err := tx.ExecContext(ctx, insert, fmt.Sprintf("%s-%d", id, i), fmt.Sprintf("%s-%d", id, i), true, store.Now()); err != nil {
					return err
				}
			}
		}},
		{"one endless statement", func(ctx context.Context, tx *store.Tx, id string) error {
			if _, err := tx.ExecContext(ctx, insert, id, id, true, store.Now()); err != nil {
				return err
			}
			var n int64
			return tx.QueryRowContext(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c`).Scan(&n)
		}},
		{"endless statement on another context", func(_ context.Context, tx *store.Tx, id string) error {
			ctx := context.WithValue(context.Background(), struct{}{}, id) // not the one InTx got
			if _, err := tx.ExecContext(ctx, insert, id, id, true, store.Now()); err != nil {
				return err
			}
			var n int64
			return tx.QueryRowContext(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c`).Scan(&n)
		}},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		db.SetMaxTxHold(hold)
		for i, r := range runaways {
			t.Run(r.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				id := fmt.Sprintf("runaway%d", i)
				began := make(chan struct{})
				done := make(chan error, 1)
				start := time.Now()
				go func() {
					done <- db.InTx(ctx, func(tx *store.Tx) error {
						select {
						case <-began:
						default:
							close(began)
						}
						return r.fn(ctx, tx, id)
					})
				}()
				<-began
				// A writer that waits for the runaway's lock.
				waiterStart := time.Now()
				waiterID := fmt.Sprintf("waiter%d", i)
				werr := db.InTx(context.Background(), func(tx *store.Tx) error {
					_, err := tx.ExecContext(context.Background(), insert, waiterID, waiterID, true, store.Now())
					return err
				})
				waited := time.Since(waiterStart)
				err := <-done
				took := time.Since(start)
				t.Logf("runaway ended after %v with %v; the waiting writer took %v", took, err, waited)
				if !errors.Is(err, store.ErrTxTooLong) {
					t.Fatalf("runaway transaction: %v, want ErrTxTooLong", err)
				}
				if took > 10*hold {
					t.Errorf("runaway ran %v with a bound of %v", took, hold)
				}
				if werr != nil || waited > 10*hold {
					t.Errorf("waiting writer: %v after %v", werr, waited)
				}
				if n := count(t, db, id); n != 0 {
					t.Errorf("%d rows of the rolled-back runaway are visible", n)
				}
				if n := count(t, db, waiterID); n != 1 {
					t.Errorf("the waiting writer's row: %d", n)
				}
			})
		}
		// Work under the bound commits; without a bound, slow work does.
		for _, c := range []struct {
			hold, sleep time.Duration
		}{{hold, 10 * time.Millisecond}, {0, hold + 100*time.Millisecond}} {
			db.SetMaxTxHold(c.hold)
			id := fmt.Sprintf("slow-%d", c.hold)
			err := db.InTx(context.Background(), func(tx *store.Tx) error {
				time.Sleep(c.sleep)
				_, err := tx.ExecContext(context.Background(), insert, id, id, true, store.Now())
				return err
			})
			if err != nil || count(t, db, id) != 1 {
				t.Errorf("bound %v, work %v: %v", c.hold, c.sleep, err)
			}
		}
	})
}
