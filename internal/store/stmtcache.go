package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"time"
)

// maxCachedStmts bounds the statement cache: kumo's statements are
// fixed strings, but a few are built per request (IN lists, filters).
const maxCachedStmts = 1024

// stmtCache keeps SQLite statements prepared, by SQL text. Parsing and
// planning a statement costs SQLite more than running most of kumo's
// queries (a profile of GET /servers/{id} spent over a third of its CPU
// in the parser). PostgreSQL needs none: pgx caches its own.
//
// A statement missing from the cache is prepared in the background and
// the caller runs its query unprepared this once: preparing needs a pool
// connection, and a transaction waiting for one while holding its own
// could deadlock the pool.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
	// preparing counts background prepares, which close waits for: one
	// that finished after the database closed would open a connection
	// again and leave SQLite's files behind.
	preparing sync.WaitGroup
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement for q, or nil after scheduling its
// preparation.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st
	}
	if c.closed || c.pending[q] || len(c.stmts)+len(c.pending) >= maxCachedStmts {
		return nil
	}
	c.pending[q] = true
	c.preparing.Go(func() { c.prepare(q) })
	return nil
}

// prepare prepares q and adds it to the cache; a statement that does not
// prepare (bad SQL) is simply never cached, so its error surfaces from
// the unprepared path.
func (c *stmtCache) prepare(q string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.db.PrepareContext(ctx, q)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, q)
	if err != nil {
		return
	}
	if c.closed {
		st.Close()
		return
	}
	c.stmts[q] = st
}

// close waits for the prepares under way and closes every cached
// statement; later gets return nil.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.preparing.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// stmt is the cached statement for q, or nil (no cache, not yet
// prepared, or a PRAGMA).
func (db *DB) stmt(q string) *sql.Stmt {
	if db.stmts == nil || isPragma(q) {
		return nil
	}
	return db.stmts.get(q)
}

// isPragma reports whether q is a PRAGMA. SQLite applies a flag pragma
// (defer_foreign_keys) and reads one when it compiles the statement, not
// when it steps it: one prepared before would set nothing in the
// transaction that runs it (and preparing it in the background would set
// it on some idle connection).
func isPragma(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n")
	return len(q) >= len("PRAGMA") && strings.EqualFold(q[:len("PRAGMA")], "PRAGMA")
}
