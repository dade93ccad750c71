package apirate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// Limiter takes the requests of projects from their rules' counters.
// One without rules (rate limits off) limits nothing and shows nothing.
type Limiter struct {
	db    *store.DB
	rules []compiled
	now   func() time.Time
}

type compiled struct {
	Rule
	re  *regexp.Regexp
	key string
}

// New returns a limiter of rules over db (none: rate limits are off).
// now is the clock (time.Now when nil).
func New(db *store.DB, rules []Rule, now func() time.Time) (*Limiter, error) {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{db: db, now: now}
	for i, r := range rules {
		if err := Normalize(&r); err != nil {
			return nil, fmt.Errorf("rate limit %d: %w", i+1, err)
		}
		re, _ := compile(r.Regex) // checked by Normalize
		l.rules = append(l.rules, compiled{Rule: r, re: re, key: r.key()})
	}
	return l, nil
}

// On reports whether the limiter has rules (--rate-limits is set).
func (l *Limiter) On() bool { return len(l.rules) > 0 }

// Rules are the limiter's rules in their order.
func (l *Limiter) Rules() []Rule {
	out := make([]Rule, len(l.rules))
	for i, c := range l.rules {
		out[i] = c.Rule
	}
	return out
}

// Refusal is a request over a limit: the rule it broke and how long
// until that rule's window lets one more through.
type Refusal struct {
	Rule       Rule
	RetryAfter time.Duration
}

// RetryAfterSeconds is the Retry-After value: whole seconds, rounded up
// (Nova's RateLimitFault).
func (r *Refusal) RetryAfterSeconds() int64 {
	return int64((r.RetryAfter + time.Second - 1) / time.Second)
}

// window is the start (Unix seconds) and end of the fixed window of
// length period that holds now.
func window(now time.Time, period time.Duration) (int64, time.Time) {
	p := int64(period / time.Second)
	start := now.Unix() / p * p
	return start, time.Unix(start+p, 0).UTC()
}

var errRefused = errors.New("rate limited")

// takeSQL counts one request in a counter row: a new window starts at
// one, the current one counts up while under the rule's value. A
// window_start ahead of the caller's (another process's clock is ahead)
// is kept and counted in. No row comes back when the window is full.
const takeSQL = `INSERT INTO rate_limit_counters (project_id, rule, window_start, hits) VALUES (?, ?, ?, 1)
	ON CONFLICT (project_id, rule) DO UPDATE SET
		hits = CASE WHEN rate_limit_counters.window_start < excluded.window_start THEN 1 ELSE rate_limit_counters.hits + 1 END,
		window_start = CASE WHEN rate_limit_counters.window_start < excluded.window_start THEN excluded.window_start ELSE rate_limit_counters.window_start END
	WHERE rate_limit_counters.window_start < excluded.window_start OR rate_limit_counters.hits < ?
	RETURNING hits`

// Take counts a request of projectID (method, and path with its query
// as Rule.Regex says) against every rule that matches it, in one
// transaction: either all count it, or it is refused and none does.
// Requests no rule matches never reach the database.
func (l *Limiter) Take(ctx context.Context, projectID, method, path string) (*Refusal, error) {
	var matched []*compiled
	for i := range l.rules {
		if c := &l.rules[i]; c.Verb == method && c.re.MatchString(path) {
			matched = append(matched, c)
		}
	}
	if len(matched) == 0 {
		return nil, nil
	}
	now := l.now()
	var refusal *Refusal
	// READ COMMITTED: the upsert locks and re-checks its row, so
	// processes taking at once never overdraw a window.
	err := l.db.InTxReadCommitted(ctx, func(tx *store.Tx) error {
		refusal = nil
		for _, c := range matched {
			start, end := window(now, c.Period())
			var hits int64
			err := tx.QueryRowContext(ctx, takeSQL, projectID, c.key, start, c.Value).Scan(&hits)
			if errors.Is(err, sql.ErrNoRows) {
				// The full row's window may be a later one (another
				// process's clock is ahead): wait for its end.
				var rowStart int64
				if err := tx.QueryRowContext(ctx, `SELECT window_start FROM rate_limit_counters WHERE project_id = ? AND rule = ?`,
					projectID, c.key).Scan(&rowStart); err == nil && rowStart > start {
					end = time.Unix(rowStart, 0).UTC().Add(c.Period())
				}
				refusal = &Refusal{Rule: c.Rule, RetryAfter: end.Sub(now)}
				return errRefused
			}
			if err != nil {
				return fmt.Errorf("take rate limit %q: %w", c.key, err)
			}
		}
		return nil
	})
	if errors.Is(err, errRefused) {
		return refusal, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, nil
}

// Limit is a rule as a project stands against it.
type Limit struct {
	Rule
	// Remaining is how many more requests the current window allows.
	Remaining int
	// NextAvailable is when the next request is allowed: now, or the
	// end of a full window.
	NextAvailable time.Time
}

// Status returns every rule as projectID stands against it, in the
// rules' order.
func (l *Limiter) Status(ctx context.Context, projectID string) ([]Limit, error) {
	if !l.On() {
		return nil, nil
	}
	rows, err := l.db.QueryContext(ctx, `SELECT rule, window_start, hits FROM rate_limit_counters WHERE project_id = ?`, projectID)
	if err != nil {
		return nil, fmt.Errorf("read rate limits: %w", err)
	}
	defer rows.Close()
	type counter struct{ start, hits int64 }
	counters := map[string]counter{}
	for rows.Next() {
		var key string
		var c counter
		if err := rows.Scan(&key, &c.start, &c.hits); err != nil {
			return nil, fmt.Errorf("read rate limits: %w", err)
		}
		counters[key] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rate limits: %w", err)
	}
	now := l.now().UTC()
	out := make([]Limit, 0, len(l.rules))
	for _, c := range l.rules {
		lim := Limit{Rule: c.Rule, Remaining: c.Value, NextAvailable: now}
		start, _ := window(now, c.Period())
		if cnt, ok := counters[c.key]; ok && cnt.start >= start {
			lim.Remaining = max(c.Value-int(cnt.hits), 0)
			if lim.Remaining == 0 {
				// The row's window: a later one when another process's
				// clock is ahead.
				lim.NextAvailable = time.Unix(cnt.start, 0).UTC().Add(c.Period())
			}
		}
		out = append(out, lim)
	}
	return out, nil
}
