package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestNotifyReachesOtherDB: a Notify committed through one DB (one
// process) reaches a Listen on another over the same database, and one
// rolled back does not.
func TestNotifyReachesOtherDB(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	listenCtx, stop := context.WithCancel(ctx)
	ready, got, done := make(chan struct{}), make(chan string, 4), make(chan error, 1)
	go func() {
		done <- dbs[0].Listen(listenCtx, "kumo_test", func() { close(ready) }, func(p string) { got <- p })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("listen: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}
	errRollback := errors.New("roll back")
	if err := dbs[1].InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Notify(ctx, "kumo_test", "rolled back"); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if err := dbs[1].InTx(ctx, func(tx *store.Tx) error { return tx.Notify(ctx, "kumo_test", "host-1") }); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "host-1" {
			t.Fatalf("heard %q, want host-1", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification after 10s")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("listen ended with %v, want nil", err)
	}
}

// TestNotifySQLite: on SQLite, Notify does nothing and Listen says it
// cannot.
func TestNotifySQLite(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Notify(ctx, "kumo_test", "x") }); err != nil {
		t.Fatal(err)
	}
	if err := db.Listen(ctx, "kumo_test", nil, func(string) {}); !errors.Is(err, store.ErrNoListen) {
		t.Fatalf("listen on SQLite: %v, want ErrNoListen", err)
	}
}
