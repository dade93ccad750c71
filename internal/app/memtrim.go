package app

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// idleTrimmer hands the memory a burst of work freed back to the
// operating system once the API has been quiet for a while. Go's
// scavenger returns it only gradually, so a kumo at rest after listing
// thousands of servers would otherwise keep tens of megabytes it no
// longer uses.
type idleTrimmer struct {
	requests atomic.Uint64
	// trim frees the memory (debug.FreeOSMemory when nil; Serve also
	// drops the listings' row cache and closes the database's idle
	// connections first).
	trim func()
}

// count wraps h to count the requests it serves.
func (t *idleTrimmer) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.requests.Add(1)
		h.ServeHTTP(w, r)
	})
}

// run frees unused memory once after every stretch of activity followed
// by a full quiet period without requests, until ctx ends.
func (t *idleTrimmer) run(ctx context.Context, quiet time.Duration) {
	ticker := time.NewTicker(quiet)
	defer ticker.Stop()
	trim := t.trim
	if trim == nil {
		trim = debug.FreeOSMemory
	}
	last, trimmed := t.requests.Load(), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		n := t.requests.Load()
		switch {
		case n != last:
			last, trimmed = n, false
		case !trimmed:
			trim()
			trimmed = true
		}
	}
}
