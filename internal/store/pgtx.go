package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgTx is a transaction on PostgreSQL, begun by kumo on a connection of
// its own rather than through database/sql's Tx, so that it costs fewer
// round trips: each statement is one, and most of kumo's transactions
// are a few writes whose results nobody reads. BEGIN and the shared
// txLock go as one query; statements queued with Tx.ExecDeferred and
// the notifications of Tx.Notify go together with the next statement or
// with COMMIT, in one pipeline (pgx's batch). A build's outcome (four
// writes) took seven round trips this way before, two now.
type pgTx struct {
	conn  *sql.Conn
	db    *DB
	alone bool // conn holds txLock exclusively, at session level
	later []pgStmt
	notes []pgStmt
	noted map[[2]string]bool
	// err is the first failure of a queued statement: the transaction
	// is aborted from then on, and what fails after it says only that.
	err  error
	done bool
}

type pgStmt struct {
	q    string
	args []any
}

// beginPG begins a transaction at iso on a connection of the pool (one
// holding txLock exclusively when alone). The wait for the shared txLock
// is bounded by txGateWait and ends with ctx; statements run with txCtx.
func (db *DB) beginPG(ctx, txCtx context.Context, iso sql.IsolationLevel, alone bool) (*pgTx, error) {
	begin := "BEGIN ISOLATION LEVEL SERIALIZABLE"
	if iso == sql.LevelReadCommitted {
		begin = "BEGIN ISOLATION LEVEL READ COMMITTED"
	}
	var conn *sql.Conn
	var err error
	if alone {
		conn, err = db.aloneConn(ctx)
	} else {
		conn, err = db.sql.Conn(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	t := &pgTx{conn: conn, db: db, alone: alone}
	if alone {
		_, err = conn.ExecContext(txCtx, begin)
	} else {
		// Waiting for txLock is waiting for a transaction running alone,
		// which may take its own bound: like the wait for txGate it is
		// bounded by txGateWait, not counted in the transaction's hold
		// (counted, every transaction waiting meanwhile overran it and
		// failed, the agents' commits of finished tasks among them). A
		// query without arguments goes by the simple protocol, which
		// takes both statements at once.
		lockCtx, stop := context.WithTimeout(txCtx, txGateWait)
		_, err = conn.ExecContext(lockCtx, begin+"; SELECT pg_advisory_xact_lock_shared("+strconv.Itoa(txLock)+")")
		stop()
		if err != nil && lockCtx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			err = fmt.Errorf("database busy (waited for a transaction running alone): %w", err)
		}
	}
	if err != nil {
		t.done = true
		t.release(true)
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return t, nil
}

// exec runs a statement after the queued ones.
func (t *pgTx) exec(ctx context.Context, q string, args []any) (sql.Result, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.conn.ExecContext(ctx, q, args...)
}

// query runs a query after the queued statements.
func (t *pgTx) query(ctx context.Context, q string, args []any) (*sql.Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.conn.QueryContext(ctx, q, args...)
}

// queryRow runs a single-row query after the queued statements; when one
// of those failed, so does the query (the transaction is aborted), and
// the transaction's error is the queued statement's (see Tx.failure).
func (t *pgTx) queryRow(ctx context.Context, q string, args []any) *sql.Row {
	_ = t.flush(ctx)
	return t.conn.QueryRowContext(ctx, q, args...)
}

// defer queues a statement to go with the next one or the commit.
func (t *pgTx) queue(q string, args []any) {
	t.later = append(t.later, pgStmt{q: q, args: args})
}

// notify queues a notification, once per channel and payload, to go
// with the commit.
func (t *pgTx) notify(channel, payload string) {
	key := [2]string{channel, payload}
	if t.noted[key] {
		return
	}
	if t.noted == nil {
		t.noted = map[[2]string]bool{}
	}
	t.noted[key] = true
	t.notes = append(t.notes, pgStmt{q: `SELECT pg_notify($1, current_schema() || ':' || $2)`, args: []any{channel, payload}})
}

// flush sends the queued statements, in one round trip.
func (t *pgTx) flush(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	if len(t.later) == 0 {
		return nil
	}
	stmts := t.later
	t.later = nil
	_, err := t.pipeline(ctx, stmts, "")
	return err
}

// pipeline sends stmts and then last (when not empty) in one round trip
// and returns last's command tag. The first failure is kept in t.err.
func (t *pgTx) pipeline(ctx context.Context, stmts []pgStmt, last string) (string, error) {
	var tag string
	err := t.conn.Raw(func(dc any) error {
		conn, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: a PostgreSQL connection of type %T", dc)
		}
		b := &pgx.Batch{}
		for _, st := range stmts {
			b.Queue(st.q, st.args...)
		}
		if last != "" {
			b.Queue(last)
		}
		br := conn.Conn().SendBatch(ctx, b)
		for _, st := range stmts {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("%.60s: %w", st.q, err)
			}
		}
		if last != "" {
			ct, err := br.Exec()
			if err != nil {
				br.Close()
				return err
			}
			tag = ct.String()
		}
		return br.Close()
	})
	if err != nil && t.err == nil {
		t.err = err
	}
	return tag, err
}

// commit sends the queued statements, the notifications and COMMIT in
// one round trip. PostgreSQL answers COMMIT with ROLLBACK when the
// transaction had failed; that is an error here too.
func (t *pgTx) commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.err != nil {
		return t.err
	}
	stmts := append(t.later, t.notes...)
	t.later, t.notes = nil, nil
	tag, err := t.pipeline(ctx, stmts, "COMMIT")
	if err != nil {
		return err
	}
	t.done = true
	if tag != "COMMIT" {
		return errors.New("the server rolled the transaction back")
	}
	return nil
}

// rollback ends the transaction without its changes; a connection that
// cannot is closed, which does.
func (t *pgTx) rollback() {
	if t.done {
		return
	}
	t.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := t.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.release(true)
	}
}

// close gives the connection back once the transaction ended (rolling
// it back if it had not).
func (t *pgTx) close() {
	t.rollback()
	t.release(false)
}

// release gives the connection back once, closing it when broken.
func (t *pgTx) release(broken bool) {
	if t.conn == nil {
		return
	}
	conn := t.conn
	t.conn = nil
	switch {
	case broken:
		t.db.discard(conn)
	case t.alone:
		t.db.releaseAlone(conn)
	default:
		conn.Close()
	}
}
