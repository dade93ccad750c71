package apirate_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apirate"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestParseFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		want       string // "" = valid; else a part of the error
	}{
		{"one rule", "rate_limits:\n- {verb: post, uri: '*/servers', regex: '^/servers', value: 3, unit: minute}\n", ""},
		{"every unit", "rate_limits:\n- {verb: GET, uri: '*', regex: '.*', value: 1, unit: SECOND}\n- {verb: GET, uri: '*', regex: '.*', value: 1, unit: HOUR}\n- {verb: GET, uri: '*', regex: '.*', value: 1, unit: DAY}\n", ""},
		{"empty", "", "no rules"},
		{"unknown field", "rate_limits:\n- {verb: GET, uri: '*', regex: '.*', value: 1, unit: SECOND, burst: 2}\n", "burst"},
		{"bad verb", "rate_limits:\n- {verb: FETCH, uri: '*', regex: '.*', value: 1, unit: SECOND}\n", "verb"},
		{"no uri", "rate_limits:\n- {verb: GET, regex: '.*', value: 1, unit: SECOND}\n", "uri is required"},
		{"zero value", "rate_limits:\n- {verb: GET, uri: '*', regex: '.*', value: 0, unit: SECOND}\n", "value"},
		{"bad unit", "rate_limits:\n- {verb: GET, uri: '*', regex: '.*', value: 1, unit: WEEK}\n", "unit"},
		{"bad regex", "rate_limits:\n- {verb: GET, uri: '*', regex: '(', value: 1, unit: SECOND}\n", "regex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := apirate.ParseFile([]byte(tc.file))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted %+v, want an error about %q", rules, tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want one about %q", err, tc.want)
			}
			for _, r := range rules {
				if r.Verb != strings.ToUpper(r.Verb) || r.Unit != strings.ToUpper(r.Unit) {
					t.Errorf("rule %+v not upper-cased", r)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	if rules, err := apirate.Load(""); err != nil || rules != nil {
		t.Fatalf("Load(\"\") = %v, %v; want off", rules, err)
	}
	rules, err := apirate.Load("default")
	if err != nil || len(rules) != 5 {
		t.Fatalf("Load(default) = %v, %v", rules, err)
	}
	if got := rules[0].Details(); got != "Only 120 POST request(s) can be made to * every minute." {
		t.Errorf("details %q", got)
	}
	off, err := apirate.New(nil, nil, nil)
	if err != nil || off.On() {
		t.Fatalf("New without rules = %v, %v; want a limiter that is off", off, err)
	}
	if r, err := off.Take(context.Background(), "p", "POST", "/servers"); r != nil || err != nil {
		t.Fatalf("off Take = %v, %v", r, err)
	}
	if _, err := apirate.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("a missing file was accepted")
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestMatch: which requests the default table counts, and against which
// rules, told by the remaining counts Status shows afterwards.
func TestMatch(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	for _, tc := range []struct {
		method, path string
		want         [5]int // remaining of POST *, PUT *, DELETE *, POST /servers, GET changes-since
	}{
		{"GET", "/servers/detail", [5]int{120, 120, 120, 120, 120}},
		{"POST", "/servers", [5]int{119, 120, 120, 119, 120}},
		{"POST", "/servers/abc/action", [5]int{119, 120, 120, 119, 120}},
		{"POST", "/os-keypairs", [5]int{119, 120, 120, 120, 120}},
		{"POST", "/flavors/1/os-extra_specs", [5]int{119, 120, 120, 120, 120}},
		{"PUT", "/servers/abc", [5]int{120, 119, 120, 120, 120}},
		{"DELETE", "/servers/abc", [5]int{120, 120, 119, 120, 120}},
		{"GET", "/servers/detail?changes-since=2012-01-01", [5]int{120, 120, 120, 120, 119}},
		{"GET", "/servers?name=changes-since", [5]int{120, 120, 120, 120, 119}},
		{"PATCH", "/servers/abc", [5]int{120, 120, 120, 120, 120}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			l, err := apirate.New(db, apirate.Default(), nil)
			if err != nil {
				t.Fatal(err)
			}
			project := tc.method + tc.path // a fresh project per case
			if r, err := l.Take(context.Background(), project, tc.method, tc.path); r != nil || err != nil {
				t.Fatalf("Take = %+v, %v", r, err)
			}
			st, err := l.Status(context.Background(), project)
			if err != nil {
				t.Fatal(err)
			}
			var got [5]int
			for i, lim := range st {
				got[i] = lim.Remaining
			}
			if got != tc.want {
				t.Errorf("remaining %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCounters: two handles on one database (two API processes) share
// a project's counter; the window ends and a new one starts; projects
// count apart; a refused request counts in none of its rules.
func TestCounters(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, a, b *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 12, 7, 12, 0, 10, 0, time.UTC)}
		rules := []apirate.Rule{
			{Verb: "POST", URI: "*", Regex: ".*", Value: 5, Unit: "MINUTE"},
			{Verb: "POST", URI: "*/servers", Regex: "^/servers", Value: 3, Unit: "MINUTE"},
		}
		la, err := apirate.New(a, rules, clk.now)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := apirate.New(b, rules, clk.now)
		if err != nil {
			t.Fatal(err)
		}
		allowed := 0
		for i := range 6 {
			l := la
			if i%2 == 1 {
				l = lb
			}
			r, err := l.Take(ctx, "p1", "POST", "/servers")
			if err != nil {
				t.Fatal(err)
			}
			if r == nil {
				allowed++
				continue
			}
			if r.Rule.URI != "*/servers" || r.RetryAfter != 50*time.Second || r.RetryAfterSeconds() != 50 {
				t.Errorf("refusal %+v, want */servers in 50s", r)
			}
		}
		if allowed != 3 {
			t.Fatalf("%d of 6 allowed across two handles, want 3", allowed)
		}
		// The refused ones took nothing from POST *: 2 more pass there.
		for i, want := range []bool{true, true, false} {
			r, err := lb.Take(ctx, "p1", "POST", "/os-keypairs")
			if err != nil || (r == nil) != want {
				t.Fatalf("keypair POST %d: refusal %+v, %v; want allowed %v", i, r, err, want)
			}
		}
		st, err := la.Status(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		end := time.Date(2026, 12, 7, 12, 1, 0, 0, time.UTC)
		for _, lim := range st {
			if lim.Remaining != 0 || !lim.NextAvailable.Equal(end) {
				t.Errorf("%s %s: remaining %d next %v, want 0 at %v", lim.Verb, lim.URI, lim.Remaining, lim.NextAvailable, end)
			}
		}
		// Another project is not limited by p1's use.
		if r, err := la.Take(ctx, "p2", "POST", "/servers"); r != nil || err != nil {
			t.Fatalf("p2: %+v, %v", r, err)
		}
		// Next window.
		clk.add(50 * time.Second)
		if r, err := lb.Take(ctx, "p1", "POST", "/servers"); r != nil || err != nil {
			t.Fatalf("after the window: %+v, %v", r, err)
		}
		st, err = lb.Status(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		if st[0].Remaining != 4 || st[1].Remaining != 2 || !st[0].NextAvailable.Equal(clk.now()) {
			t.Errorf("after the window: %+v", st)
		}
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			a, b := twoHandles(t, backend)
			run(t, a, b)
		})
	}
}

// twoHandles opens one new database twice, as two API processes would.
func twoHandles(t *testing.T, backend string) (*store.DB, *store.DB) {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "kumo.db")
	if backend == "postgres" {
		dsn = storetest.PostgresDSN(t)
	}
	open := func() *store.DB {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	return open(), open()
}

// TestClockAhead: a process whose clock is a window ahead starts the
// next window; one still in the current window counts in that one and
// waits for its end, never setting the row back.
func TestClockAhead(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rules := []apirate.Rule{{Verb: "DELETE", URI: "*", Regex: ".*", Value: 2, Unit: "MINUTE"}}
		behind := &clock{t: time.Date(2026, 12, 7, 12, 0, 50, 0, time.UTC)}
		ahead := &clock{t: behind.t.Add(time.Minute)}
		la, err := apirate.New(db, rules, ahead.now)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := apirate.New(db, rules, behind.now)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range []*apirate.Limiter{la, lb} {
			if r, err := l.Take(ctx, "p", "DELETE", "/servers/x"); r != nil || err != nil {
				t.Fatalf("take %d: %+v, %v", i+1, r, err)
			}
		}
		r, err := lb.Take(ctx, "p", "DELETE", "/servers/x")
		if err != nil || r == nil || r.RetryAfter != 70*time.Second {
			t.Fatalf("third take: %+v, %v; want refused for 70 s (the end of the later window)", r, err)
		}
		st, err := lb.Status(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 12, 7, 12, 2, 0, 0, time.UTC); st[0].Remaining != 0 || !st[0].NextAvailable.Equal(want) {
			t.Errorf("status %+v, want none left until %v", st[0], want)
		}
	})
}

// TestConcurrent: takes at once from two handles never overdraw.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			a, b := twoHandles(t, backend)
			rules := []apirate.Rule{{Verb: "POST", URI: "*", Regex: ".*", Value: 7, Unit: "HOUR"}}
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for i := range 20 {
				db := a
				if i%2 == 1 {
					db = b
				}
				l, err := apirate.New(db, rules, nil)
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					if r, err := l.Take(context.Background(), "p", "POST", "/x"); err != nil {
						t.Error(err)
					} else if r == nil {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			if n := allowed.Load(); n != 7 {
				t.Fatalf("%d of 20 allowed across two handles, want 7", n)
			}
		})
	}
}

// BenchmarkTake is the cost a request a rule matches pays (one
// transaction with one upsert).
func BenchmarkTake(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var db *store.DB
			if backend == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			l, err := apirate.New(db, []apirate.Rule{{Verb: "POST", URI: "*", Regex: ".*", Value: 1 << 30, Unit: "DAY"}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if r, err := l.Take(context.Background(), "p", "POST", "/servers"); r != nil || err != nil {
					b.Fatal(r, err)
				}
			}
		})
	}
}
