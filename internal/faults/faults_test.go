package faults_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/faults"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func status(code int) faults.Action { return faults.Action{Type: faults.ActionStatus, Status: code} }

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rule faults.Rule
		want string // "" = valid; else a part of the 400's message
	}{
		{"status", faults.Rule{Name: "a", Service: "compute", Method: "get", Path: "^/servers", Action: status(503)}, ""},
		{"retry after", faults.Rule{Name: "a", Action: faults.Action{Type: "status", Status: 429, RetryAfter: ptr(3)}}, ""},
		{"latency", faults.Rule{Name: "a", Action: faults.Action{Type: "latency", DelayMS: 200}}, ""},
		{"reset", faults.Rule{Name: "a", Action: faults.Action{Type: "reset"}}, ""},
		{"driver error", faults.Rule{Name: "a", Operation: "build", Action: faults.Action{Type: "driver_error"}}, ""},
		{"driver hang", faults.Rule{Name: "a", Operation: "reboot", ServerID: "x", Action: faults.Action{Type: "driver_hang", DelayMS: 50}}, ""},
		{"count and probability", faults.Rule{Name: "a", Count: ptr(int64(2)), Probability: ptr(0.5), Action: status(500)}, ""},
		{"microversion", faults.Rule{Name: "a", Microversion: "2.79", Action: status(500)}, ""},
		{"no name", faults.Rule{Action: status(500)}, "name is required"},
		{"unknown service", faults.Rule{Name: "a", Service: "object-store", Action: status(500)}, "service"},
		{"bad method", faults.Rule{Name: "a", Method: "GE T", Action: status(500)}, "method"},
		{"bad path", faults.Rule{Name: "a", Path: "(", Action: status(500)}, "regular expression"},
		{"bad microversion", faults.Rule{Name: "a", Microversion: "latest", Action: status(500)}, "microversion"},
		{"probability over 1", faults.Rule{Name: "a", Probability: ptr(1.5), Action: status(500)}, "probability"},
		{"count 0", faults.Rule{Name: "a", Count: ptr(int64(0)), Action: status(500)}, "count"},
		{"no action", faults.Rule{Name: "a"}, "type is required"},
		{"unknown action", faults.Rule{Name: "a", Action: faults.Action{Type: "explode"}}, "not one of"},
		{"status 200", faults.Rule{Name: "a", Action: status(200)}, "400-599"},
		{"latency without delay", faults.Rule{Name: "a", Action: faults.Action{Type: "latency"}}, "delay_ms"},
		{"delay too long", faults.Rule{Name: "a", Action: faults.Action{Type: "latency", DelayMS: 3_600_000}}, "delay_ms"},
		{"retry after on latency", faults.Rule{Name: "a", Action: faults.Action{Type: "latency", DelayMS: 1, RetryAfter: ptr(1)}}, "retry_after"},
		{"driver fault without operation", faults.Rule{Name: "a", Action: faults.Action{Type: "driver_error"}}, "operation"},
		{"driver fault with a path", faults.Rule{Name: "a", Operation: "build", Path: "x", Action: faults.Action{Type: "driver_error"}}, "driver fault"},
		{"operation on a status fault", faults.Rule{Name: "a", Operation: "build", Action: status(500)}, "driver faults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rule
			err := faults.Normalize(&r)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error about %q", tc.want)
			case tc.want != "" && (!errs.Is(err, errs.KindInvalid) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want a 400 about %q", err, tc.want)
			}
		})
	}
}

func TestMatchRequest(t *testing.T) {
	t.Parallel()
	get := faults.Request{Service: "compute", Method: "GET", Path: "/servers/detail", ProjectID: "p1", Microversion: "2.79"}
	for _, tc := range []struct {
		name string
		rule faults.Rule
		req  faults.Request
		want bool
	}{
		{"any", faults.Rule{}, get, true},
		{"service", faults.Rule{Service: "compute"}, get, true},
		{"other service", faults.Rule{Service: "image"}, get, false},
		{"method", faults.Rule{Method: "get"}, get, true},
		{"other method", faults.Rule{Method: "POST"}, get, false},
		{"path", faults.Rule{Path: "^/servers"}, get, true},
		{"path unanchored", faults.Rule{Path: "detail"}, get, true},
		{"other path", faults.Rule{Path: "^/flavors"}, get, false},
		{"project", faults.Rule{ProjectID: "p1"}, get, true},
		{"other project", faults.Rule{ProjectID: "p2"}, get, false},
		{"microversion", faults.Rule{Microversion: "2.79"}, get, true},
		{"microversion as numbers", faults.Rule{Microversion: "2.079"}, get, true},
		{"other microversion", faults.Rule{Microversion: "2.1"}, get, false},
		{"microversion of no microversioned API", faults.Rule{Microversion: "2.1"}, faults.Request{Service: "image", Method: "GET", Path: "/v2/images"}, false},
		{"identity path", faults.Rule{Service: "identity", Path: "^/v3/auth/tokens$"}, faults.Request{Service: "identity", Method: "POST", Path: "/v3/auth/tokens"}, true},
		{"never (probability 0)", faults.Rule{Probability: ptr(0.0)}, get, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := faults.New(storetest.SQLite(t), faults.Options{})
			ctx := context.Background()
			r := tc.rule
			r.Name, r.Action = "rule", status(503)
			if _, err := s.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
			got, err := s.MatchRequest(ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if (got != nil) != tc.want {
				t.Fatalf("fired = %v, want %v", got != nil, tc.want)
			}
		})
	}
}

func TestProbability(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	roll := 0.7
	s := faults.New(storetest.SQLite(t), faults.Options{Random: func() float64 { return roll }})
	if _, err := s.Create(ctx, faults.Rule{Name: "half", Probability: ptr(0.5), Action: status(500)}); err != nil {
		t.Fatal(err)
	}
	q := faults.Request{Service: "image", Method: "GET", Path: "/v2/images"}
	if r, _ := s.MatchRequest(ctx, q); r != nil {
		t.Fatal("fired on a roll of 0.7 at probability 0.5")
	}
	roll = 0.2
	if r, _ := s.MatchRequest(ctx, q); r == nil {
		t.Fatal("did not fire on a roll of 0.2 at probability 0.5")
	}
}

func TestDriverMatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := faults.New(storetest.SQLite(t), faults.Options{})
	if _, err := s.Create(ctx, faults.Rule{Name: "b", Operation: "build", ProjectID: "p1",
		Action: faults.Action{Type: faults.ActionDriverError, Message: "boom"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, faults.Rule{Name: "status", Action: status(500)}); err != nil {
		t.Fatal(err)
	}
	asked := 0
	project := func(p string) func(context.Context) string {
		return func(context.Context) string { asked++; return p }
	}
	for _, tc := range []struct {
		op, project string
		want        bool
	}{{"build", "p1", true}, {"build", "p2", false}, {"reboot", "p1", false}} {
		r, err := s.MatchDriver(ctx, faults.DriverRequest{Operation: tc.op, ServerID: "s", Project: project(tc.project)})
		if err != nil {
			t.Fatal(err)
		}
		if (r != nil) != tc.want {
			t.Errorf("%s in %s: fired = %v, want %v", tc.op, tc.project, r != nil, tc.want)
		}
		if r != nil && r.Action.Message != "boom" {
			t.Errorf("fired %+v", r)
		}
	}
	if asked != 2 {
		t.Errorf("the project was asked %d times, want only for the build rule (2)", asked)
	}
	// A status rule never fires for a driver operation, nor a driver
	// rule for a request.
	if r, _ := s.MatchRequest(ctx, faults.Request{Service: "compute", Method: "POST", Path: "/servers"}); r == nil || r.Name != "status" {
		t.Fatalf("request fired %+v, want the status rule", r)
	}
}

// twoHandles opens the same database twice, as two kumo processes do.
func twoHandles(t *testing.T, engine string) (*store.DB, *store.DB) {
	t.Helper()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "kumo.db")
	if engine == "postgres" {
		dsn = storetest.PostgresDSN(t)
	}
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// TestCountSharedAcrossProcesses: a count is taken once across the
// processes of a cloud, however they race for it; a rule added through
// one is seen by the other within the reload interval; events are shared.
func TestCountSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db1, db2 := twoHandles(t, engine)
			a := faults.New(db1, faults.Options{Reload: 50 * time.Millisecond})
			b := faults.New(db2, faults.Options{Reload: 50 * time.Millisecond})
			q := faults.Request{Service: "network", Method: "GET", Path: "/v2.0/networks"}
			if r, _ := b.MatchRequest(ctx, q); r != nil {
				t.Fatal("fired before any rule")
			}
			rule, err := a.Create(ctx, faults.Rule{Name: "three", Count: ptr(int64(3)), Action: status(503)})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(60 * time.Millisecond) // b's cached rules expire
			var (
				mu    sync.Mutex
				fired int
				wg    sync.WaitGroup
			)
			for i := range 40 {
				s := a
				if i%2 == 1 {
					s = b
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := s.MatchRequest(ctx, q)
					if err != nil {
						t.Error(err)
					}
					if r != nil {
						mu.Lock()
						fired++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if fired != 3 {
				t.Fatalf("a count of 3 fired %d times across two processes", fired)
			}
			got, err := b.Get(ctx, rule.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Count == nil || *got.Count != 0 || got.Hits != 3 {
				t.Fatalf("after firing: count %v, hits %d; want 0 and 3", got.Count, got.Hits)
			}
			evs, err := a.Events(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 3 || evs[0].FaultName != "three" || evs[0].Action != "status" || evs[0].Path != "/v2.0/networks" {
				t.Fatalf("events %+v", evs)
			}
			if err := b.Delete(ctx, rule.ID); err != nil {
				t.Fatal(err)
			}
			if err := a.Delete(ctx, rule.ID); !errs.Is(err, errs.KindNotFound) {
				t.Fatalf("second delete: %v, want not found", err)
			}
		})
	}
}

func TestEventsAreBounded(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Unix(1_700_000_000, 0)
		s := faults.New(db, faults.Options{Now: func() time.Time { now = now.Add(time.Millisecond); return now }})
		if _, err := s.Create(ctx, faults.Rule{Name: "all", Action: faults.Action{Type: faults.ActionReset}}); err != nil {
			t.Fatal(err)
		}
		for i := range faults.EventsKept + 20 {
			if r, err := s.MatchRequest(ctx, faults.Request{Service: "volume", Method: "GET", Path: "/volumes", RequestID: "req-" + string(rune('a'+i%26))}); r == nil || err != nil {
				t.Fatalf("request %d: %v %v", i, r, err)
			}
		}
		evs, err := s.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM fault_events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if len(evs) != faults.EventsKept || n != faults.EventsKept {
			t.Fatalf("%d events listed, %d kept; want %d", len(evs), n, faults.EventsKept)
		}
		if !evs[0].At.After(evs[1].At) {
			t.Fatal("events are not newest first")
		}
	})
}

func TestParseAndLoadFile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := faults.New(db, faults.Options{})
		rules, err := faults.ParseFile([]byte(`
faults:
  - name: nova-503
    service: compute
    method: GET
    path: ^/servers
    probability: 0.5
    action: {type: status, status: 503, retry_after: 5}
  - name: build-fails
    operation: build
    count: 1
    action: {type: driver_error, message: No valid host was found.}
`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, faults.Rule{Name: "nova-503", Action: status(500)}); err != nil {
			t.Fatal(err)
		}
		if err := s.LoadFile(ctx, "/etc/kumo/faults.yaml", rules); err != nil {
			t.Fatal(err)
		}
		// Loaded again (a restart) with one rule left: the file's rules
		// are replaced, the API's stay.
		if err := s.LoadFile(ctx, "/etc/kumo/faults.yaml", rules[1:]); err != nil {
			t.Fatal(err)
		}
		got, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range got {
			names = append(names, r.Name+"/"+strings.SplitN(r.Source, ":", 2)[0])
		}
		if strings.Join(names, ",") != "nova-503/api,build-fails/file" {
			t.Fatalf("rules after two loads: %v", names)
		}
		if c := got[1].Count; c == nil || *c != 1 || got[1].Action.Message != "No valid host was found." {
			t.Fatalf("loaded rule %+v", got[1])
		}
	})
	for _, bad := range []string{
		"faults:\n  - name: a\n    action: {type: status}\n",
		"faults:\n  - name: a\n    action: {type: reset}\n  - name: a\n    action: {type: reset}\n",
		"faults:\n  - name: a\n    colour: red\n    action: {type: reset}\n",
	} {
		if _, err := faults.ParseFile([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
