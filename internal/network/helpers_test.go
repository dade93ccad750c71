package network

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

func newManager(t *testing.T, opts Options) *Manager {
	t.Helper()
	m, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// allocate runs one Allocate in its own transaction.
func allocate(t *testing.T, db *store.DB, m *Manager, project, instance string, req Request) ([]Address, error) {
	t.Helper()
	var out []Address
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = m.Allocate(context.Background(), tx, project, instance, req)
		return err
	})
	return out, err
}

func mustAllocate(t *testing.T, db *store.DB, m *Manager, project, instance string, req Request) []Address {
	t.Helper()
	out, err := allocate(t, db, m, project, instance, req)
	if err != nil {
		t.Fatalf("Allocate(%s, %s): %v", project, instance, err)
	}
	return out
}

func ensureDefault(t *testing.T, db *store.DB, m *Manager, project string) Network {
	t.Helper()
	var n Network
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		n, err = m.EnsureDefault(context.Background(), tx, project)
		return err
	})
	if err != nil {
		t.Fatalf("EnsureDefault(%s): %v", project, err)
	}
	return n
}

func release(t *testing.T, db *store.DB, m *Manager, instance string) {
	t.Helper()
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		return m.Release(context.Background(), tx, instance)
	})
	if err != nil {
		t.Fatalf("Release(%s): %v", instance, err)
	}
}

func addressesOf(t *testing.T, db *store.DB, m *Manager, instance string) []Address {
	t.Helper()
	got, err := m.ForInstances(context.Background(), db, []string{instance})
	if err != nil {
		t.Fatalf("ForInstances: %v", err)
	}
	return got[instance]
}

// expectError checks a domain error's kind and user-facing message.
func expectError(t *testing.T, err error, kind errs.Kind, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %q", message)
	}
	if got := errs.KindOf(err); got != kind {
		t.Errorf("error kind = %v (%v), want %v", got, err, kind)
	}
	if got := errs.Message(err); got != message {
		t.Errorf("error message = %q, want %q", got, message)
	}
}
