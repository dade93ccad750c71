package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoListen is Listen's answer on SQLite: its database has one process,
// which wakes its own listeners directly.
var ErrNoListen = errors.New("store: this database does not notify other processes")

// Notify tells Listen's callers on channel, in every process sharing the
// database, payload once tx commits (PostgreSQL NOTIFY; nothing if it
// rolls back; sent with the commit, once per channel and payload). It
// does nothing on SQLite. Channels are scoped to the
// database schema, so databases sharing a server do not hear each other.
func (t *Tx) Notify(ctx context.Context, channel, payload string) error {
	if t.pg != nil {
		t.pg.notify(channel, payload)
	}
	return nil
}

// Listen calls fn with the payload of each Notify on channel until ctx
// ends (then nil) or its connection fails (the error; call it again).
// It holds a connection of its own, outside the pool; ready, when not
// nil, is called once it listens, so the caller can look for what was
// notified before. On SQLite it returns ErrNoListen at once.
func (db *DB) Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	if db.dialect != Postgres {
		return ErrNoListen
	}
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return fmt.Errorf("listen on %s: connect: %w", channel, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return listenErr(ctx, channel, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return listenErr(ctx, channel, err)
	}
	if ready != nil {
		ready()
	}
	prefix := schema + ":"
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return listenErr(ctx, channel, err)
		}
		if payload, ok := strings.CutPrefix(n.Payload, prefix); ok {
			fn(payload)
		}
	}
}

// listenErr is Listen's result for err: nil once ctx has ended.
func listenErr(ctx context.Context, channel string, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("listen on %s: %w", channel, err)
}

// NotifyNow is Notify outside a transaction: for a change already
// committed. It does nothing on SQLite.
func (db *DB) NotifyNow(ctx context.Context, channel, payload string) error {
	if db.dialect != Postgres {
		return nil
	}
	if _, err := db.ExecContext(ctx, `SELECT pg_notify(?, current_schema() || ':' || ?)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Subscribe is Listen kept up until ctx ends: a lost connection is logged
// and listened again after a pause, growing to a minute (the caller's
// polling covers the gap; ready runs again each time, for what was
// notified meanwhile). It returns at once on SQLite.
func (db *DB) Subscribe(ctx context.Context, channel string, log *slog.Logger, ready func(), fn func(payload string)) {
	pause := time.Second
	for {
		err := db.Listen(ctx, channel, ready, fn)
		if err == nil || errors.Is(err, ErrNoListen) || ctx.Err() != nil {
			return
		}
		log.Warn("notifications lost; polling until they are back", "channel", channel, "error", err, "retry_in", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Minute)
	}
}
