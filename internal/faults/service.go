package faults

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// EventsKept is how many injections the database keeps (the newest).
const EventsKept = 100

// DefaultReload is how long a process uses the rules it read before it
// reads them again: a rule added through any process takes effect
// everywhere within it.
const DefaultReload = time.Second

// Event is one injection.
type Event struct {
	FaultID   string `json:"fault_id"`
	FaultName string `json:"fault_name"`
	RequestID string `json:"request_id"`
	Service   string `json:"service"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	ProjectID string `json:"project_id"`
	Action    string `json:"action"`
	// Operation and ServerID are a driver fault's.
	Operation string    `json:"operation"`
	ServerID  string    `json:"server_id"`
	At        time.Time `json:"at"`
}

// Options tune a Service.
type Options struct {
	// Reload is how long read rules are used (DefaultReload when 0).
	Reload time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Random returns a number in [0, 1) for probabilities (rand.Float64
	// when nil).
	Random func() float64
	// Observe, when set, is told of every injection after it is
	// recorded: the process's log line and metric.
	Observe func(ctx context.Context, ev Event)
}

// Service keeps the rules in the database and decides which fire.
type Service struct {
	db   *store.DB
	opts Options

	mu     sync.Mutex
	rules  []*compiled // the rules read last, oldest first
	loaded time.Time   // when; zero: read them on next use
}

// compiled is a rule as matching uses it.
type compiled struct {
	Rule
	path *regexp.Regexp
}

// New returns the fault service over db.
func New(db *store.DB, o Options) *Service {
	if o.Reload <= 0 {
		o.Reload = DefaultReload
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Random == nil {
		o.Random = rand.Float64
	}
	return &Service{db: db, opts: o}
}

func notFound(id string) error { return errs.NotFound("Fault %s could not be found.", id) }

const ruleColumns = `id, name, source, spec, remaining, hits, created_at`

// spec is what a rule's spec column holds: everything but the columns.
type spec struct {
	Service      string   `json:"service,omitempty"`
	Method       string   `json:"method,omitempty"`
	Path         string   `json:"path,omitempty"`
	ProjectID    string   `json:"project_id,omitempty"`
	Microversion string   `json:"microversion,omitempty"`
	Probability  *float64 `json:"probability,omitempty"`
	Action       Action   `json:"action"`
	Operation    string   `json:"operation"`
	ServerID     string   `json:"server_id"`
}

func scanRule(rows interface{ Scan(...any) error }) (*Rule, error) {
	var (
		r         Rule
		specJSON  string
		remaining sql.NullInt64
		created   int64
	)
	if err := rows.Scan(&r.ID, &r.Name, &r.Source, &specJSON, &remaining, &r.Hits, &created); err != nil {
		return nil, err
	}
	var sp spec
	if err := json.Unmarshal([]byte(specJSON), &sp); err != nil {
		return nil, fmt.Errorf("fault %s: %w", r.ID, err)
	}
	r.Service, r.Method, r.Path, r.ProjectID, r.Microversion = sp.Service, sp.Method, sp.Path, sp.ProjectID, sp.Microversion
	r.Probability, r.Action, r.Operation, r.ServerID = sp.Probability, sp.Action, sp.Operation, sp.ServerID
	if remaining.Valid {
		r.Count = &remaining.Int64
	}
	r.CreatedAt = store.Time(created)
	return &r, nil
}

// List returns every rule, oldest first.
func (s *Service) List(ctx context.Context) ([]Rule, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+ruleColumns+` FROM fault_rules ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list faults: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// Get returns one rule.
func (s *Service) Get(ctx context.Context, id string) (*Rule, error) {
	r, err := scanRule(s.db.QueryRowContext(ctx, `SELECT `+ruleColumns+` FROM fault_rules WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get fault: %w", err)
	}
	return r, nil
}

// Create checks r and stores it as a rule made through the API.
func (s *Service) Create(ctx context.Context, r Rule) (*Rule, error) {
	if err := Normalize(&r); err != nil {
		return nil, err
	}
	r.ID, r.Source, r.Hits, r.CreatedAt = uuid.NewString(), SourceAPI, 0, s.opts.Now().UTC()
	err := s.db.InTx(ctx, func(tx *store.Tx) error { return insertRule(ctx, tx, &r) })
	if err != nil {
		return nil, err
	}
	s.invalidate()
	return &r, nil
}

func insertRule(ctx context.Context, q store.Querier, r *Rule) error {
	b, err := json.Marshal(spec{Service: r.Service, Method: r.Method, Path: r.Path, ProjectID: r.ProjectID,
		Microversion: r.Microversion, Probability: r.Probability, Action: r.Action, Operation: r.Operation, ServerID: r.ServerID})
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO fault_rules (`+ruleColumns+`) VALUES (?, ?, ?, ?, ?, 0, ?)`,
		r.ID, r.Name, r.Source, string(b), r.Count, r.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("store fault %s: %w", r.Name, err)
	}
	return nil
}

// Delete removes a rule.
func (s *Service) Delete(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM fault_rules WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete fault: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(id)
	}
	s.invalidate()
	return nil
}

// LoadFile stores the rules of a --faults file (path names it) in place
// of the ones an earlier start loaded from it and of the file-loaded
// rules of the same names, in one transaction. Rules made through the API
// stay.
func (s *Service) LoadFile(ctx context.Context, path string, rules []Rule) error {
	source := "file:" + path
	now := s.opts.Now().UTC()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM fault_rules WHERE source = ?`, source); err != nil {
			return fmt.Errorf("replace the faults of %s: %w", path, err)
		}
		for i := range rules {
			r := rules[i]
			if _, err := tx.ExecContext(ctx, `DELETE FROM fault_rules WHERE name = ? AND source LIKE 'file:%'`, r.Name); err != nil {
				return fmt.Errorf("replace fault %s: %w", r.Name, err)
			}
			// One microsecond apart: the file's order is the match order.
			r.ID, r.Source, r.CreatedAt = uuid.NewString(), source, now.Add(time.Duration(i)*time.Microsecond)
			if err := insertRule(ctx, tx, &r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.invalidate()
	return nil
}

// Events returns the last injections, newest first.
func (s *Service) Events(ctx context.Context) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT fault_id, fault_name, request_id, service, method, path, project_id,
		action, operation, server_id, at FROM fault_events ORDER BY at DESC, id DESC LIMIT ?`, EventsKept)
	if err != nil {
		return nil, fmt.Errorf("list fault events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var ev Event
		var at int64
		if err := rows.Scan(&ev.FaultID, &ev.FaultName, &ev.RequestID, &ev.Service, &ev.Method, &ev.Path,
			&ev.ProjectID, &ev.Action, &ev.Operation, &ev.ServerID, &at); err != nil {
			return nil, err
		}
		ev.At = store.Time(at)
		out = append(out, ev)
	}
	return out, rows.Err()
}

func (s *Service) invalidate() {
	s.mu.Lock()
	s.loaded = time.Time{}
	s.mu.Unlock()
}

// current returns the rules, read again once they are older than the
// reload interval.
func (s *Service) current(ctx context.Context) ([]*compiled, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if !s.loaded.IsZero() && now.Sub(s.loaded) < s.opts.Reload {
		return s.rules, nil
	}
	rules, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*compiled, 0, len(rules))
	for _, r := range rules {
		re, err := regexp.Compile(r.Path)
		if err != nil {
			continue // checked when stored; a row edited by hand is skipped
		}
		out = append(out, &compiled{Rule: r, path: re})
	}
	s.rules, s.loaded = out, now
	return out, nil
}

// Request is an API request as rules match it.
type Request struct {
	Service, Method, Path, ProjectID, Microversion, RequestID string
}

func (c *compiled) matchesRequest(q Request) bool {
	return !c.Action.Driver() &&
		(c.Service == "" || c.Service == q.Service) &&
		(c.Method == "" || c.Method == q.Method) &&
		c.path.MatchString(q.Path) &&
		(c.ProjectID == "" || c.ProjectID == q.ProjectID) &&
		(c.Microversion == "" || sameVersion(c.Microversion, q.Microversion))
}

// sameVersion compares two MAJOR.MINOR versions as numbers (2.079 is 2.79).
func sameVersion(a, b string) bool {
	am, an, ok1 := strings.Cut(a, ".")
	bm, bn, ok2 := strings.Cut(b, ".")
	if !ok1 || !ok2 {
		return false
	}
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	return num(am) == num(bm) && num(an) == num(bn)
}

// MatchRequest returns the rule that fires for q (nil for none): the
// oldest that matches, passes its probability and still has a count.
// Its firing is counted and recorded before it is returned.
func (s *Service) MatchRequest(ctx context.Context, q Request) (*Rule, error) {
	rules, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range rules {
		if !c.matchesRequest(q) {
			continue
		}
		ev := Event{FaultID: c.ID, FaultName: c.Name, RequestID: q.RequestID, Service: q.Service, Method: q.Method,
			Path: q.Path, ProjectID: q.ProjectID, Action: c.Action.Type}
		if r, err := s.fire(ctx, c, ev); r != nil || err != nil {
			return r, err
		}
	}
	return nil, nil
}

// DriverRequest is a driver operation as rules match it. Project is
// asked only when a rule names a project.
type DriverRequest struct {
	Operation, ServerID, RequestID string
	Project                        func(ctx context.Context) string
}

// MatchDriver returns the driver fault that fires for q, as MatchRequest.
func (s *Service) MatchDriver(ctx context.Context, q DriverRequest) (*Rule, error) {
	rules, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	project, asked := "", false
	for _, c := range rules {
		if !c.Action.Driver() || c.Operation != q.Operation || (c.ServerID != "" && c.ServerID != q.ServerID) {
			continue
		}
		if c.ProjectID != "" {
			if !asked && q.Project != nil {
				project, asked = q.Project(ctx), true
			}
			if c.ProjectID != project {
				continue
			}
		}
		ev := Event{FaultID: c.ID, FaultName: c.Name, RequestID: q.RequestID, Service: "compute",
			ProjectID: project, Action: c.Action.Type, Operation: q.Operation, ServerID: q.ServerID}
		if r, err := s.fire(ctx, c, ev); r != nil || err != nil {
			return r, err
		}
	}
	return nil, nil
}

// fire decides c's probability, then takes one of its count and records
// the event in one transaction: a count is shared by every process. It
// returns the rule as fired, nil when it did not.
func (s *Service) fire(ctx context.Context, c *compiled, ev Event) (*Rule, error) {
	if p := c.chance(); p < 1 && s.opts.Random() >= p {
		return nil, nil
	}
	s.mu.Lock()
	spent := c.Count != nil && *c.Count <= 0
	s.mu.Unlock()
	if spent {
		return nil, nil
	}
	ev.At = s.opts.Now().UTC()
	var remaining sql.NullInt64
	fired := false
	// READ COMMITTED: the conditional UPDATE re-checks the row it locks,
	// so a count is never overdrawn, and busy rules firing in many
	// processes do not fail each other's serializable transactions.
	err := s.db.InTxReadCommitted(ctx, func(tx *store.Tx) error {
		fired = false
		err := tx.QueryRowContext(ctx, `UPDATE fault_rules SET hits = hits + 1, remaining = remaining - 1
			WHERE id = ? AND (remaining IS NULL OR remaining > 0) RETURNING remaining`, c.ID).Scan(&remaining)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fire fault %s: %w", c.Name, err)
		}
		fired = true
		return recordEvent(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if !fired {
		zero := int64(0)
		c.Count = &zero
	} else if remaining.Valid {
		c.Count = &remaining.Int64
	}
	r := c.Rule
	s.mu.Unlock()
	if !fired {
		return nil, nil
	}
	if s.opts.Observe != nil {
		s.opts.Observe(ctx, ev)
	}
	return &r, nil
}

// recordEvent inserts ev and drops what is older than the newest
// EventsKept events.
func recordEvent(ctx context.Context, tx *store.Tx, ev Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO fault_events (id, fault_id, fault_name, request_id, service, method, path,
		project_id, action, operation, server_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, uuid.NewString(),
		ev.FaultID, ev.FaultName, ev.RequestID, ev.Service, ev.Method, ev.Path, ev.ProjectID, ev.Action, ev.Operation,
		ev.ServerID, ev.At.UnixMicro())
	if err != nil {
		return fmt.Errorf("record fault event: %w", err)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM fault_events WHERE at < (SELECT at FROM fault_events ORDER BY at DESC
		LIMIT 1 OFFSET ?)`, EventsKept-1)
	if err != nil {
		return fmt.Errorf("trim fault events: %w", err)
	}
	return nil
}
