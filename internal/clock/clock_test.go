package clock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestFakeStandsStillUntilAdvanced(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewFake(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("new clock shows %v, want %v", got, start)
	}
	steps := []struct {
		advance time.Duration
		want    time.Time
	}{
		{time.Second, start.Add(time.Second)},
		{0, start.Add(time.Second)},
		{time.Hour, start.Add(time.Hour + time.Second)},
	}
	for _, s := range steps {
		if got := c.Advance(s.advance); !got.Equal(s.want) || !c.Now().Equal(s.want) {
			t.Fatalf("after Advance(%v): %v (Now %v), want %v", s.advance, got, c.Now(), s.want)
		}
	}
}

func TestFakeConcurrentAdvances(t *testing.T) {
	start := time.Unix(0, 0)
	c := NewFake(start)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Advance(time.Millisecond); _ = c.Now() }()
	}
	wg.Wait()
	if got := c.Now().Sub(start); got != 50*time.Millisecond {
		t.Fatalf("50 concurrent advances of 1ms moved the clock %v", got)
	}
}

func TestEveryRunsUntilCancelledAndReportsErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan struct{}, 10)
	var reported []error
	boom := errors.New("boom")
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, time.Millisecond, func(context.Context) error {
			runs <- struct{}{}
			if len(runs) == 3 {
				cancel() // the run that sees the stop: its error is not reported
				return errors.New("cancelled")
			}
			return boom
		}, func(err error) { reported = append(reported, err) })
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not return after its context ended")
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3 (it must stop once ctx ends)", len(runs))
	}
	if len(reported) != 2 || !errors.Is(reported[0], boom) || !errors.Is(reported[1], boom) {
		t.Fatalf("reported %v, want the two errors before the stop", reported)
	}
}
