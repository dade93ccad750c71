// Package clock is a clock tests move by hand. Services take their clock
// as a func() time.Time (nil: time.Now), so a test passes Fake.Now and
// advances it instead of sleeping until a deadline passes.
package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a clock that stands still until it is advanced; safe for
// concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a clock showing start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now is the time the clock shows.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock d forward and returns the new time.
func (f *Fake) Advance(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	return f.now
}

// Every calls run every interval until ctx ends, passing its errors to
// report (errors after ctx ended are the stop itself, not reported). It
// is the one loop of kumo's periodic jobs: the agents' (Nova's periodic
// tasks), token purge, database upkeep.
func Every(ctx context.Context, interval time.Duration, run func(context.Context) error, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := run(ctx); err != nil && ctx.Err() == nil {
				report(err)
			}
		}
	}
}
