package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
)

// migration is one step of the schema. Statements are portable SQL: TEXT,
// BIGINT (timestamps are Unix microseconds), INTEGER, BOOLEAN, DOUBLE
// PRECISION; JSON documents are stored as TEXT.
type migration struct {
	version int
	name    string
	stmts   []string
}

// conversion is a migration step in Go, run after the migration's
// statements in the same transaction: data conversions SQL cannot write
// portably. Its name is part of the schema digest; changing what it does
// means a new migration.
type conversion struct {
	name string
	run  func(ctx context.Context, tx *Tx) error
}

// conversionOf is the Go step of a migration version, nil for most.
func conversionOf(version int) *conversion {
	switch version {
	case schemaNeutronNetworks.version:
		return &conversion{"subnets of the pool networks", convertPoolSubnets}
	}
	return nil
}

// Migrate applies every migration newer than the database's version, each
// in its own transaction, and reports how many ran. On PostgreSQL an
// advisory lock keeps concurrent kumo processes from migrating twice.
func (db *DB) Migrate(ctx context.Context) (int, error) { return db.migrate(ctx, 0) }

// migrate applies the migrations up to version through (0: all of them).
func (db *DB) migrate(ctx context.Context, through int) (int, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := 0
	for _, m := range migrations {
		if through > 0 && m.version > through {
			break
		}
		ran := false
		// Unbounded: a migration rewrites whole tables before kumo serves.
		err := db.inTx(ctx, 0, sql.LevelSerializable, func(tx *Tx) error {
			ran = false
			if tx.Dialect() == Postgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7261)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, s := range m.stmts {
				s, only := dialectStmt(s)
				if only != "" && only != tx.Dialect() {
					continue
				}
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return fmt.Errorf("%s: %w", firstLine(s), err)
				}
			}
			if cv := conversionOf(m.version); cv != nil {
				if err := cv.run(ctx, tx); err != nil {
					return fmt.Errorf("%s: %w", cv.name, err)
				}
			}
			ran = true
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, Now())
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if ran {
			applied++
		}
	}
	return applied, nil
}

// SchemaVersion reports the newest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// SchemaDigest names the schema Migrate builds: a hash of every
// migration, so a database migrated once can be copied for as long as the
// migrations stay the same (test databases cloned from a template).
func SchemaDigest() string {
	h := sha256.New()
	for _, m := range migrations {
		fmt.Fprintf(h, "%d\x00%s\x00%d\x00", m.version, m.name, len(m.stmts))
		for _, s := range m.stmts {
			fmt.Fprintf(h, "%d\x00%s", len(s), s)
		}
		if cv := conversionOf(m.version); cv != nil {
			fmt.Fprintf(h, "convert\x00%s\x00", cv.name)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// dialectOnlyPrefix starts a statement that only one engine runs: a
// trigger's body, say, which SQLite and PostgreSQL write differently.
const dialectOnlyPrefix = "-- only on "

// dialectOnly marks stmt as run on d alone, with a leading SQL comment.
func dialectOnly(d Dialect, stmt string) string { return dialectOnlyPrefix + string(d) + "\n" + stmt }

// dialectStmt splits a dialectOnly statement into its SQL and its
// engine; other statements have no engine.
func dialectStmt(stmt string) (string, Dialect) {
	rest, ok := strings.CutPrefix(stmt, dialectOnlyPrefix)
	if !ok {
		return stmt, ""
	}
	d, sql, _ := strings.Cut(rest, "\n")
	return sql, Dialect(d)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
