package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestExecDeferred: a deferred statement is seen by the transaction's
// next statement and committed with it; one that fails fails its
// transaction with its own error, however the function went on, and
// nothing of that transaction stays; a rolled-back transaction leaves
// nothing of its deferred statements. The same on both engines.
func TestExecDeferred(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE deferred_t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deferred_t`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		errStop := errors.New("stop")
		cases := []struct {
			name    string
			fn      func(tx *store.Tx) error
			wantErr string // substring; "" for success
			rows    int    // rows in the table after
		}{
			{"seen by the next statement and committed", func(tx *store.Tx) error {
				if err := tx.ExecDeferred(ctx, `INSERT INTO deferred_t (id, n) VALUES (?, ?)`, "a", 1); err != nil {
					return err
				}
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT n FROM deferred_t WHERE id = ?`, "a").Scan(&n); err != nil {
					return err
				}
				if n != 1 {
					t.Errorf("read %d, want 1", n)
				}
				return tx.ExecDeferred(ctx, `INSERT INTO deferred_t (id, n) VALUES (?, ?)`, "b", 2)
			}, "", 2},
			{"a failing one fails the transaction with its error", func(tx *store.Tx) error {
				if err := tx.ExecDeferred(ctx, `INSERT INTO deferred_t (id, n) VALUES (?, ?)`, "c", 3); err != nil {
					return err
				}
				if err := tx.ExecDeferred(ctx, `INSERT INTO deferred_t (id, n) VALUES (?, ?)`, "a", 4); err != nil {
					return err
				}
				var n int
				return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deferred_t`).Scan(&n)
			}, "unique", 2},
			{"a failing one fails the commit", func(tx *store.Tx) error {
				return tx.ExecDeferred(ctx, `INSERT INTO deferred_t (id, n) VALUES (?, ?)`, "b", 5)
			}, "unique", 2},
			{"rolled back with the transaction", func(tx *store.Tx) error {
				if err := tx.ExecDeferred(ctx, `INSERT INTO deferred_t (id, n) VALUES (?, ?)`, "d", 6); err != nil {
					return err
				}
				return errStop
			}, "stop", 2},
		}
		for _, c := range cases {
			err := db.InTx(ctx, c.fn)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("%s: %v", c.name, err)
			case c.wantErr != "" && (err == nil || !strings.Contains(strings.ToLower(err.Error()), c.wantErr)):
				t.Errorf("%s: error %v, want one with %q", c.name, err, c.wantErr)
			case c.wantErr != "" && c.wantErr != "stop" && !store.IsUniqueViolation(err):
				t.Errorf("%s: %v is not a unique violation", c.name, err)
			}
			if got := count(); got != c.rows {
				t.Errorf("%s: %d rows after, want %d", c.name, got, c.rows)
			}
		}
		// The connection a failed transaction ran on serves the next.
		for range 20 {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return tx.ExecDeferred(ctx, `UPDATE deferred_t SET n = n + 1 WHERE id = ?`, "a")
			}); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT n FROM deferred_t WHERE id = ?`, "a").Scan(&n); err != nil || n != 21 {
			t.Fatalf("n = %d (%v), want 21", n, err)
		}
	})
}

// TestExecDeferredRetried: a deferred statement that loses a
// serialization race (SQLSTATE 40001, raised here on its first run by a
// function counting its runs in a sequence, which no rollback undoes)
// makes InTx run the transaction again, as a statement run at once does,
// although the function returned another statement's error.
func TestExecDeferredRetried(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE SEQUENCE deferred_runs`,
		`CREATE FUNCTION deferred_fail_first() RETURNS INTEGER AS $$
		BEGIN
			IF nextval('deferred_runs') = 1 THEN
				RAISE EXCEPTION 'injected' USING ERRCODE = '40001';
			END IF;
			RETURN 1;
		END $$ LANGUAGE plpgsql`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	err := db.InTx(ctx, func(tx *store.Tx) error {
		calls++
		if err := tx.ExecDeferred(ctx, `SELECT deferred_fail_first()`); err != nil {
			return err
		}
		var one int
		return tx.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
	})
	if err != nil || calls != 2 {
		t.Fatalf("InTx = %v after %d calls, want success on the 2nd", err, calls)
	}
}
