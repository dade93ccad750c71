package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestCheckSchema(t *testing.T) {
	t.Parallel()
	for _, engine := range emptyDatabases {
		t.Run(engine.name, func(t *testing.T) {
			ctx := context.Background()
			db := engine.open(t)
			// Never migrated: kumo serve goes on (it migrates), the others
			// are told to run kumo migrate.
			if err := db.CheckSchema(ctx, true); err != nil {
				t.Fatalf("serve on an empty database: %v", err)
			}
			if err := db.CheckSchema(ctx, false); err == nil {
				t.Fatal("api on an empty database: no error")
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for _, allowOlder := range []bool{true, false} {
				if err := db.CheckSchema(ctx, allowOlder); err != nil {
					t.Fatalf("migrated database (allowOlder %v): %v", allowOlder, err)
				}
			}
			// A migration this build does not know: a newer kumo ran.
			if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				store.LatestVersion()+1, "from the future", store.Now()); err != nil {
				t.Fatal(err)
			}
			for _, allowOlder := range []bool{true, false} {
				var se *store.SchemaError
				if err := db.CheckSchema(ctx, allowOlder); !errors.As(err, &se) || se.Have != store.LatestVersion()+1 || se.Want != store.LatestVersion() {
					t.Fatalf("newer schema (allowOlder %v): %v", allowOlder, err)
				}
			}
		})
	}
}

func TestSettingOrSetFirstWriterWins(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, c := range []struct{ value, want string }{{"first", "first"}, {"second", "first"}} {
			got, err := db.SettingOrSet(ctx, "fingerprint", c.value)
			if err != nil || got != c.want {
				t.Fatalf("SettingOrSet(%q) = %q, %v; want %q", c.value, got, err, c.want)
			}
		}
	})
}
