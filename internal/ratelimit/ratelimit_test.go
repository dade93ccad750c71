package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLimiter(t *testing.T) {
	t.Parallel()
	type step struct {
		advance time.Duration
		key     string
		ret     bool // Return instead of Take
		ok      bool
		retry   time.Duration
	}
	a := func(advance time.Duration, ok bool, retry time.Duration) step {
		return step{advance: advance, key: "a", ok: ok, retry: retry}
	}
	// Burst 3 over 30 s: a token comes back every 10 s.
	tests := []struct {
		name  string
		steps []step
	}{
		{"burst then refused", []step{a(0, true, 0), a(0, true, 0), a(0, true, 0), a(0, false, 10*time.Second), a(4*time.Second, false, 6*time.Second)}},
		{"one token back per interval", []step{a(0, true, 0), a(0, true, 0), a(0, true, 0), a(10*time.Second, true, 0), a(0, false, 10*time.Second)}},
		{"keys are apart", []step{a(0, true, 0), a(0, true, 0), a(0, true, 0), a(0, false, 10*time.Second), {key: "b", ok: true}}},
		{"return gives the token back", []step{a(0, true, 0), a(0, true, 0), a(0, true, 0), {key: "a", ret: true}, a(0, true, 0), a(0, false, 10*time.Second)}},
		{"never more than the burst", []step{a(0, true, 0), a(time.Hour, true, 0), a(0, true, 0), a(0, true, 0), a(0, false, 10*time.Second)}},
		{"return of an unknown key is nothing", []step{{key: "x", ret: true}, a(0, true, 0), a(0, true, 0), a(0, true, 0), a(0, false, 10*time.Second)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1000, 0)}
			l := New(Options{Burst: 3, Window: 30 * time.Second, Now: c.now})
			for i, s := range tc.steps {
				c.t = c.t.Add(s.advance)
				if s.ret {
					l.Return(s.key)
					continue
				}
				ok, retry := l.Take(s.key)
				if ok != s.ok || retry != s.retry {
					t.Fatalf("step %d: Take(%q) = %v, %v; want %v, %v", i, s.key, ok, retry, s.ok, s.retry)
				}
			}
		})
	}
}

func TestLimiterOff(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{}, {Burst: 5}, {Window: time.Minute}, {Burst: -1, Window: time.Minute}} {
		l := New(o)
		if l != nil {
			t.Errorf("New(%+v) = %v, want nil (no limit)", o, l)
		}
		for range 100 {
			if ok, _ := l.Take("k"); !ok {
				t.Fatalf("nil limiter refused")
			}
		}
		l.Return("k")
		if l.Len() != 0 {
			t.Errorf("nil limiter Len %d", l.Len())
		}
	}
}

// TestLimiterMemory: buckets that filled up again go, and past MaxKeys
// the least recently used go first.
func TestLimiterMemory(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Options{Burst: 2, Window: 20 * time.Second, MaxKeys: 3, Now: c.now})
	for i := range 10 {
		l.Take(fmt.Sprint("k", i))
		if l.Len() > 3 {
			t.Fatalf("after %d keys: %d buckets, want at most 3", i+1, l.Len())
		}
	}
	// k9 was used last and is still held; k0 went.
	l.Take("k9")
	if ok, _ := l.Take("k9"); ok {
		t.Errorf("k9 had a third token")
	}
	if ok, _ := l.Take("k0"); !ok {
		t.Errorf("k0 was not forgotten")
	}
	// Once every bucket has filled up, a take leaves only its own.
	c.t = c.t.Add(time.Minute)
	l.Take("new")
	if l.Len() != 1 {
		t.Errorf("%d buckets after the others filled up, want 1", l.Len())
	}
	// A returned token that fills the bucket drops it.
	l.Return("new")
	if l.Len() != 0 {
		t.Errorf("%d buckets after the return, want 0", l.Len())
	}
}

func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	l := New(Options{Burst: 50, Window: time.Hour})
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if ok, _ := l.Take("k"); ok {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if passed != 50 {
		t.Errorf("%d takes passed, want the burst of 50", passed)
	}
}
