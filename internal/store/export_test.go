package store

import "context"

// MigrateThrough applies the migrations up to version through: a cloud
// made by an older kumo, for the tests of the later migrations.
func (db *DB) MigrateThrough(ctx context.Context, through int) (int, error) {
	return db.migrate(ctx, through)
}

// NewestVersion is the version of the last migration this build knows.
func NewestVersion() int { return migrations[len(migrations)-1].version }
