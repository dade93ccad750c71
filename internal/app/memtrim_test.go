package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdleTrimmer: memory is freed once per quiet stretch that follows
// activity, never again while nothing happens.
func TestIdleTrimmer(t *testing.T) {
	var trims atomic.Int32
	tr := &idleTrimmer{trim: func() { trims.Add(1) }}
	h := tr.count(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const quiet = 20 * time.Millisecond
	go tr.run(ctx, quiet)
	waitTrims := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for trims.Load() < want && time.Now().Before(deadline) {
			time.Sleep(quiet)
		}
		time.Sleep(5 * quiet) // and no more than that
		if got := trims.Load(); got != want {
			t.Fatalf("%d trims, want %d", got, want)
		}
	}
	waitTrims(1) // the start-up burst
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	waitTrims(2)
	if tr.requests.Load() != 1 {
		t.Fatalf("%d requests counted, want 1", tr.requests.Load())
	}
}
