// Package store is kumo's persistence layer: one SQL schema, applied by
// migrations, on SQLite (embedded default) or PostgreSQL. Queries are
// written once with "?" placeholders; the DB rebinds them for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned by lookups that match no row.
var ErrNotFound = errors.New("not found")

// DB is an open database with its dialect.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	stmts   *stmtCache // SQLite only
	// txGate lets one transaction of this process run at a time on
	// PostgreSQL, as SQLite's write lock does (PostgreSQL only). Under
	// SERIALIZABLE, concurrent creates all read the quota usage and the
	// host's capacity the others write: with 16 clients nearly every
	// attempt failed with a serialization error until the retries ran
	// out. Transactions of other kumo processes on the same database
	// still conflict and are retried.
	txGate  chan struct{}
	maxIdle int // idle connections the pool keeps
	// maxHold bounds each transaction of InTx (see MaxTxHold).
	maxHold time.Duration
	dsn     string // PostgreSQL: for the connections Listen dedicates
}

// MaxTxHold is how long one transaction may hold the database: SQLite's
// single write lock, or on PostgreSQL the process's transaction gate.
// Every other writer waits meanwhile, so a transaction still running
// then is rolled back (its statements interrupted) and InTx fails with
// ErrTxTooLong. kumo's transactions take milliseconds (a create of one
// server about 2 ms on SQLite; of 100 with addresses, the most one
// request makes in one transaction, 0.07 s, 0.2 s on PostgreSQL); only a
// runaway one comes near it. Migrations are exempt.
const MaxTxHold = 5 * time.Second

// ErrTxTooLong is the error of a transaction rolled back for holding the
// database longer than its bound.
var ErrTxTooLong = errors.New("transaction rolled back: it held the database too long")

// SetMaxTxHold changes the bound on transactions (tests); 0 removes it.
func (db *DB) SetMaxTxHold(d time.Duration) { db.maxHold = d }

// txGateWait bounds the wait for txGate, as SQLite's busy timeout does.
const txGateWait = 30 * time.Second

// Dialect reports which engine the DB runs on.
func (db *DB) Dialect() Dialect { return db.dialect }

// Open connects to dsn: a postgres:// or postgresql:// URL selects
// PostgreSQL, anything else is a SQLite file path (created if missing).
// It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		dsn, maxConns, err := poolSize(dsn)
		if err != nil {
			return nil, err
		}
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		// kumo's statements each read a few rows by an index: compiling
		// one with JIT (PostgreSQL's default above a plan cost of
		// 100,000, which a listing of a large project can reach) costs
		// more than it runs. A dsn's own options=-c jit=on still wins.
		if _, set := cfg.RuntimeParams["jit"]; !set && !strings.Contains(cfg.RuntimeParams["options"], "jit") {
			cfg.RuntimeParams["jit"] = "off"
		}
		sqldb := stdlib.OpenDB(*cfg)
		sqldb.SetMaxOpenConns(maxConns)
		idle := min(postgresIdleConns, maxConns)
		sqldb.SetMaxIdleConns(idle)
		if err := sqldb.PingContext(ctx); err != nil {
			sqldb.Close()
			return nil, fmt.Errorf("connect postgres: %w", err)
		}
		return &DB{sql: sqldb, dialect: Postgres, txGate: make(chan struct{}, 1), maxIdle: idle, maxHold: MaxTxHold, dsn: dsn}, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	// Write transactions take the lock up front (BEGIN IMMEDIATE) so two
	// read-then-write transactions never deadlock on lock upgrade. Each
	// connection's page cache is 512 KiB, not 2 MiB: the database file is
	// in the OS page cache anyway, and listings ran no slower with 10,000
	// servers while kumo's RSS fell by 5 MB.
	q := "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-512)&_txlock=immediate"
	connector, err := sqlite.NewConnector("file:" + path + q)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqldb := sql.OpenDB(keepWAL{connector})
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(sqliteIdleConns)
	// Each connection holds SQLite's page cache; after 15 s idle they go,
	// so an idle kumo keeps little memory.
	sqldb.SetConnMaxIdleTime(15 * time.Second)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{sql: sqldb, dialect: SQLite, stmts: newStmtCache(sqldb), maxIdle: sqliteIdleConns, maxHold: MaxTxHold}, nil
}

// postgresMaxConns is the most connections a process's pool opens to
// PostgreSQL unless its URL's pool_max_conns says otherwise.
const postgresMaxConns = 16

// poolSize takes pgxpool's pool_max_conns parameter out of a PostgreSQL
// URL (pgx would send it to the server as a setting) and returns the URL
// without it and the pool size: every kumo process on one database opens
// up to this many connections, and ten of them at the default fill
// PostgreSQL's default max_connections of 100 ("too many clients").
func poolSize(dsn string) (string, int, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", 0, fmt.Errorf("open postgres: %w", err)
	}
	q := u.Query()
	v := q.Get("pool_max_conns")
	if v == "" {
		return dsn, postgresMaxConns, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("open postgres: pool_max_conns %q: want a positive number", v)
	}
	// The other parameters stay as written: re-encoded, the spaces of
	// options=-c%20name%3Dvalue would come back as '+', which pgx keeps.
	var keep []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k != "pool_max_conns" {
			keep = append(keep, kv)
		}
	}
	u.RawQuery = strings.Join(keep, "&")
	return u.String(), n, nil
}

// Idle connections each pool keeps between requests.
const (
	sqliteIdleConns   = 8
	postgresIdleConns = 16
)

// ReleaseIdle closes the pool's idle connections now, with the memory
// each holds (SQLite's page cache, prepared statements), as the idle
// timeout would later; the pool opens new ones when work comes.
func (db *DB) ReleaseIdle() {
	db.sql.SetMaxIdleConns(0)
	db.sql.SetMaxIdleConns(db.maxIdle)
}

// Close closes the connection pool.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts.close()
	}
	return db.sql.Close()
}

// rebind turns "?" placeholders into "$1", "$2", ... for PostgreSQL.
func (db *DB) rebind(q string) string {
	if db.dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Querier is what both a DB and a Tx offer for running statements.
type Querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	Dialect() Dialect
}

// ExecContext runs a statement outside a transaction.
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := db.stmt(q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.sql.ExecContext(ctx, db.rebind(q), args...)
}

// QueryContext runs a query outside a transaction.
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := db.stmt(q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, db.rebind(q), args...)
}

// QueryRowContext runs a single-row query outside a transaction.
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.stmt(q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, db.rebind(q), args...)
}

// Tx is a transaction that rebinds placeholders like its DB.
type Tx struct {
	tx *sql.Tx // SQLite: database/sql's transaction
	// pg is the transaction on PostgreSQL (pgtx.go): a connection kumo
	// began it on itself, with the statements it holds back.
	pg *pgTx
	db *DB
	// ctx is the context the transaction began with, cancelled when the
	// transaction overruns its bound; parentDone is the Done channel of
	// the context InTx was called with.
	ctx        context.Context
	parentDone <-chan struct{}
	mu         sync.Mutex
	stops      []func() // unlink contexts joined to ctx (joined)
}

// stmtContext is the context a statement runs with: ctx, cancelled too
// when the transaction overruns its bound, so a long statement is
// interrupted rather than waited for. A statement given the context InTx
// was called with (nearly all) runs with the transaction's own.
func (t *Tx) stmtContext(ctx context.Context) context.Context {
	if ctx.Done() == t.parentDone {
		return t.ctx
	}
	joined, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(t.ctx, cancel)
	t.mu.Lock()
	t.stops = append(t.stops, func() { stop(); cancel() })
	t.mu.Unlock()
	return joined
}

// end releases the contexts joined by stmtContext.
func (t *Tx) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, stop := range t.stops {
		stop()
	}
	t.stops = nil
}

// ExecContext runs a statement in the transaction.
func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.stmtContext(ctx)
	if t.pg != nil {
		return t.pg.exec(ctx, t.db.rebind(q), args)
	}
	if st := t.db.stmt(q); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.db.rebind(q), args...)
}

// QueryContext runs a query in the transaction.
func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.stmtContext(ctx)
	if t.pg != nil {
		return t.pg.query(ctx, t.db.rebind(q), args)
	}
	if st := t.db.stmt(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.db.rebind(q), args...)
}

// QueryRowContext runs a single-row query in the transaction.
func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.stmtContext(ctx)
	if t.pg != nil {
		return t.pg.queryRow(ctx, t.db.rebind(q), args)
	}
	if st := t.db.stmt(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.db.rebind(q), args...)
}

// ExecDeferred runs a statement whose result the caller does not read
// and which fails only when the transaction does (an UPDATE or INSERT by
// a key the transaction chose or holds): on PostgreSQL it goes with the
// transaction's next statement or its commit, in one round trip, and its
// failure is theirs; on SQLite it runs at once.
func (t *Tx) ExecDeferred(ctx context.Context, q string, args ...any) error {
	if t.pg != nil {
		t.pg.queue(t.db.rebind(q), args)
		return nil
	}
	_, err := t.ExecContext(ctx, q, args...)
	return err
}

// failure is err, the error the transaction's function returned, led by
// the failure of a deferred statement when there was one: what failed
// after it did because the transaction was aborted, and whether to retry
// is the deferred statement's to say.
func (t *Tx) failure(err error) error {
	if t.pg == nil || t.pg.err == nil || errors.Is(err, t.pg.err) {
		return err
	}
	return fmt.Errorf("%w; then: %v", t.pg.err, err)
}

// Dialect reports which engine the transaction runs on.
func (t *Tx) Dialect() Dialect { return t.db.dialect }

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise. Transactions that fail transiently (a lost serialization
// race, a busy database, PostgreSQL briefly out of lock space or
// connections: see retryable) are retried with jittered backoff, at most
// 40 times and about 2.2 s of waiting in all, so fn must be safe to re-run;
// on PostgreSQL an attempt after escalateAfter lost races runs alone (see
// txLock). Each attempt may hold the database for MaxTxHold (see
// SetMaxTxHold); one that runs longer is rolled back and InTx returns
// ErrTxTooLong.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, db.maxHold, sql.LevelSerializable, fn)
}

// InTxHold is InTx with hold, not MaxTxHold, as the bound of each attempt:
// for the few transactions whose size the caller bounds otherwise and
// knows to be larger than usual (a create of many servers at once).
func (db *DB) InTxHold(ctx context.Context, hold time.Duration, fn func(tx *Tx) error) error {
	return db.inTx(ctx, max(hold, db.maxHold), sql.LevelSerializable, fn)
}

// InTxReadCommitted is InTx at READ COMMITTED on PostgreSQL (the same as
// InTx on SQLite, whose one writer at a time is serializable): the
// transaction takes no part in SERIALIZABLE's conflict tracking, so it
// neither loses races to the others nor makes them lose. Only for a
// transaction that is correct by row locks alone: its writes are
// conditional UPDATEs that re-check their rows, and what it must hold
// still while it runs it reads with Dialect.ForShare. The agents' task
// claims are (compute.ClaimTasks): at SERIALIZABLE they were the
// statement that failed most with ten compute hosts, every claim
// reading the tasks table's index pages the others write.
func (db *DB) InTxReadCommitted(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, db.maxHold, sql.LevelReadCommitted, fn)
}

// ForShare is the clause that locks the rows a SELECT reads until the
// transaction ends (PostgreSQL; SQLite's write transaction already holds
// the whole database).
func (d Dialect) ForShare() string {
	if d == Postgres {
		return " FOR SHARE"
	}
	return ""
}

// txLock is the advisory lock every transaction on PostgreSQL takes: in
// shared mode, so transactions still run side by side, and in exclusive
// mode once one has lost escalateAfter serialization races, so it then
// runs alone in the whole cloud. txGate serializes the transactions of
// one process only; those of other kumo processes on the database run
// concurrently, and SERIALIZABLE aborts the one that would close a
// conflict cycle, which is nearly always the longer: a create of 100
// servers reads the project's instances for its quota and the hosts for
// their capacity while the agents of other processes claim tasks and
// update instances in transactions of a few milliseconds, so it lost
// every one of its 40 attempts ("could not serialize access"). Running
// alone, only a statement outside any transaction (a heartbeat, say) can
// still make it lose, rarely. A transaction running alone holds up every
// other in the cloud for as long as it runs (at most its bound; the
// others' wait is bounded like txGate's and not counted in theirs).
// PostgreSQL queues a lock request behind a
// waiting one that conflicts with it, so new transactions wait for the
// escalated one rather than starving it in turn. It costs each
// transaction one statement; SQLite's single write lock already does it.
const txLock = 7262 // 7261 is the migrations' lock

// escalateAfter is how many transient failures a transaction suffers
// before its next attempt takes txLock exclusively.
const escalateAfter = 3

// inTx is InTx with hold as the bound of each attempt (0: none) and iso
// as PostgreSQL's isolation level.
func (db *DB) inTx(ctx context.Context, hold time.Duration, iso sql.IsolationLevel, fn func(tx *Tx) error) error {
	const attempts = 40
	var err error
	for i := 0; i < attempts; i++ {
		err = db.runTx(ctx, hold, iso, i >= escalateAfter, fn)
		if err == nil || !retryable(err) {
			return err
		}
		// Up to 1, 2, 4 ... 64 ms, randomised so racing writers spread out.
		backoff := time.Duration(rand.Int64N(int64(time.Millisecond) << min(i, 6)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
	return fmt.Errorf("gave up after %d attempts: %w", attempts, err)
}

// runTx runs one attempt of a transaction; alone makes it take txLock
// exclusively (PostgreSQL).
func (db *DB) runTx(ctx context.Context, hold time.Duration, iso sql.IsolationLevel, alone bool, fn func(tx *Tx) error) error {
	if db.txGate != nil {
		wait := time.NewTimer(txGateWait)
		select {
		case db.txGate <- struct{}{}:
			wait.Stop()
		case <-wait.C:
			return errors.New("begin transaction: database busy (waited for other transactions)")
		case <-ctx.Done():
			wait.Stop()
			return fmt.Errorf("begin transaction: %w", ctx.Err())
		}
		defer func() { <-db.txGate }()
	}
	// Cancelling txCtx ends the transaction (database/sql rolls it back;
	// on PostgreSQL its statements fail, and so does the commit) and
	// interrupts its statements.
	txCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	tx := &Tx{db: db, ctx: txCtx, parentDone: ctx.Done()}
	defer tx.end()
	var err error
	if db.dialect == Postgres {
		tx.pg, err = db.beginPG(ctx, txCtx, iso, alone)
		if err != nil {
			return err
		}
		defer tx.pg.close()
	} else if tx.tx, err = db.sql.BeginTx(txCtx, &sql.TxOptions{}); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// The bound starts once the lock is held: BEGIN IMMEDIATE on SQLite
	// waits for the writer before it, the gate and txLock on PostgreSQL
	// too.
	var overran atomic.Bool
	if hold > 0 {
		timer := time.AfterFunc(hold, func() {
			overran.Store(true)
			cancel()
		})
		defer timer.Stop()
	}
	err = fn(tx)
	if err == nil {
		err = tx.commit()
		if err == nil {
			return nil
		}
		err = fmt.Errorf("commit: %w", err)
	} else {
		err = tx.failure(err)
		tx.rollback()
	}
	if overran.Load() {
		// What failed did because the bound cancelled the transaction.
		return fmt.Errorf("%w (%s): %v", ErrTxTooLong, hold, err)
	}
	return err
}

// commit commits the transaction.
func (t *Tx) commit() error {
	if t.pg != nil {
		return t.pg.commit(t.ctx)
	}
	return t.tx.Commit()
}

// rollback ends the transaction without its changes.
func (t *Tx) rollback() {
	if t.pg != nil {
		t.pg.rollback()
		return
	}
	_ = t.tx.Rollback()
}

// aloneConn is a connection holding txLock exclusively, for a
// transaction to begin on. The lock is taken at session level, before
// BEGIN: a SERIALIZABLE transaction's snapshot is taken by its first
// statement, and one taken while waiting for the lock would make the
// transactions that committed meanwhile concurrent with it, to lose
// against again.
func (db *DB) aloneConn(ctx context.Context) (*sql.Conn, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, txLock); err != nil {
		db.discard(conn)
		return nil, fmt.Errorf("begin transaction: take the cloud's transaction lock: %w", err)
	}
	return conn, nil
}

// releaseAlone gives txLock and conn back once its transaction ended; a
// connection that cannot unlock is closed, which unlocks.
func (db *DB) releaseAlone(conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, txLock); err != nil {
		db.discard(conn)
		return
	}
	conn.Close()
}

// discard closes conn's connection rather than keep it in the pool.
func (db *DB) discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// retryable reports whether err is a transient failure worth running the
// transaction again for: it lost a race with another transaction, or the
// server was briefly short of something other transactions hold.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgTransient(pgErr.Code)
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// pgTransient reports whether a PostgreSQL SQLSTATE names a failure that
// running the transaction again can get past. Connection failures (class
// 08) are not among them: a commit cut off that way may have happened.
func pgTransient(code string) bool {
	switch code {
	case "40001", // serialization_failure: SERIALIZABLE lost a race
		"40P01", // deadlock_detected
		"55P03", // lock_not_available
		"53200", // out_of_memory: "out of shared memory", the lock table (SERIALIZABLE's predicate locks included) is full while other transactions hold it
		"53300", // too_many_connections: other processes fill max_connections
		"57P03": // cannot_connect_now: the server is starting up
		return true
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint failure.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Now is the timestamp format kumo stores: Unix microseconds, UTC.
func Now() int64 { return time.Now().UnixMicro() }

// Time converts a stored timestamp back to a time.Time in UTC.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }

// StringPtr is a nullable text column as a pointer: nil for NULL.
func StringPtr(ns sql.NullString) *string {
	if !ns.Valid {
		return nil
	}
	v := ns.String
	return &v
}
