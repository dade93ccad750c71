package store_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
)

// execAll runs each statement on db, failing the test at the first error
// (the migration tests' set-up of an older schema).
func execAll(t *testing.T, db *store.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
