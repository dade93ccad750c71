package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kumocloud/kumo/internal/clock"
)

// Statistics keep PostgreSQL's planner right as tables grow. Without
// them it guesses a few dozen rows for a project and sorts every server
// of it for a listing page (11.5 ms at 10,000 servers) instead of
// walking the index backwards (0.1 ms), and without a vacuum the index
// alone cannot answer (a heap fetch per row). Autovacuum does both, but
// only once a minute at best, and it may be off: kumo does them itself,
// with autovacuum's thresholds, on the tables that need them.

// MaintainInterval is how often Maintain looks for stale tables.
const MaintainInterval = 15 * time.Second

// staleTables selects the tables of kumo's schema whose statistics or
// visibility map are out of date by autovacuum's default thresholds
// (analyze after 50 + 10% changed rows, vacuum after 1000 + 20% inserted
// or 50 + 20% dead rows).
const staleTables = `SELECT relname FROM pg_stat_user_tables
	WHERE schemaname = current_schema() AND (
		n_mod_since_analyze > 50 + 0.1 * n_live_tup OR
		n_ins_since_vacuum > 1000 + 0.2 * n_live_tup OR
		n_dead_tup > 50 + 0.2 * n_live_tup)
	ORDER BY relname`

// Maintain vacuums and analyzes the tables whose statistics are stale
// (PostgreSQL; SQLite plans without them) and returns their names. A
// table another process is vacuuming is skipped.
func (db *DB) Maintain(ctx context.Context) ([]string, error) {
	if db.dialect != Postgres {
		return nil, nil
	}
	rows, err := db.sql.QueryContext(ctx, staleTables)
	if err != nil {
		return nil, fmt.Errorf("find stale tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find stale tables: %w", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find stale tables: %w", err)
	}
	for _, t := range tables {
		if _, err := db.sql.ExecContext(ctx, "VACUUM (ANALYZE, SKIP_LOCKED) "+pgx.Identifier{t}.Sanitize()); err != nil {
			return tables, fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	return tables, nil
}

// RunMaintenance calls Maintain every interval until ctx ends, passing
// its errors to report.
func (db *DB) RunMaintenance(ctx context.Context, interval time.Duration, report func(error)) {
	if db.dialect != Postgres {
		return
	}
	clock.Every(ctx, interval, func(ctx context.Context) error {
		_, err := db.Maintain(ctx)
		return err
	}, report)
}
