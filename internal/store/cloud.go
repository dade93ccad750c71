package store

import (
	"context"
	"fmt"
)

// SettingOrSet returns the cloud setting name, storing value first when
// the setting is missing: the first process to ask decides it for every
// process sharing the database.
func (db *DB) SettingOrSet(ctx context.Context, name, value string) (string, error) {
	var stored string
	err := db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cloud_settings (name, value, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, value, Now()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM cloud_settings WHERE name = ?`, name).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("cloud setting %s: %w", name, err)
	}
	return stored, nil
}

// SchemaError is a database whose schema this build cannot serve.
type SchemaError struct {
	Have, Want int // the database's version and this build's
}

func (e *SchemaError) Error() string {
	if e.Have > e.Want {
		return fmt.Sprintf("the database's schema is version %d, newer than this kumo knows (%d): "+
			"run the kumo that migrated it, or a newer one", e.Have, e.Want)
	}
	return fmt.Sprintf("the database's schema is version %d and this kumo needs %d: "+
		"run `kumo migrate` with this kumo's --database first", e.Have, e.Want)
}

// LatestVersion is the schema version this build migrates to.
func LatestVersion() int {
	v := 0
	for _, m := range migrations {
		v = max(v, m.version)
	}
	return v
}

// CheckSchema refuses a database migrated past this build (always) and,
// unless older is allowed (kumo serve migrates it), one not yet migrated
// to it.
func (db *DB) CheckSchema(ctx context.Context, allowOlder bool) error {
	var have int
	// schema_migrations is missing on a database never migrated.
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	if err != nil {
		if allowOlder {
			return nil
		}
		return fmt.Errorf("read the schema version (has `kumo migrate` run?): %w", err)
	}
	want := LatestVersion()
	if have > want || (have < want && !allowOlder) {
		return &SchemaError{Have: have, Want: want}
	}
	return nil
}
