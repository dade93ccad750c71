package dataplane

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type recordingApplier struct {
	mu    sync.Mutex
	hosts []Host
	err   error
}

func (r *recordingApplier) Apply(_ context.Context, h Host) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts = append(r.hosts, h)
	return r.err
}

func TestReconcilerOnce(t *testing.T) {
	readErr := errors.New("database gone")
	applyErr := errors.New("nft refused")
	tests := []struct {
		name      string
		source    func(context.Context) (Host, error)
		applyErr  error
		wantErr   error
		wantApply int
	}{
		{"applies what it reads", func(context.Context) (Host, error) { return Host{Name: "h1"}, nil }, nil, nil, 1},
		{"a failed read applies nothing", func(context.Context) (Host, error) { return Host{}, readErr }, nil, readErr, 0},
		{"a failed apply is reported", func(context.Context) (Host, error) { return Host{Name: "h1"}, nil }, applyErr, applyErr, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &recordingApplier{err: tc.applyErr}
			r := Reconciler{Source: tc.source, Applier: a}
			if err := r.Once(context.Background()); !errors.Is(err, tc.wantErr) {
				t.Errorf("Once: %v, want %v", err, tc.wantErr)
			}
			if len(a.hosts) != tc.wantApply || (tc.wantApply > 0 && a.hosts[0].Name != "h1") {
				t.Errorf("applied %+v", a.hosts)
			}
		})
	}
}

// TestReconcilerRun applies again every interval, errors or not, and
// stops with its context.
func TestReconcilerRun(t *testing.T) {
	a := &recordingApplier{err: errors.New("not yet")}
	r := Reconciler{Source: func(context.Context) (Host, error) { return Host{}, nil }, Applier: a, Interval: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		a.mu.Lock()
		n := len(a.hosts)
		a.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("applied %d times in 10 s at a 1 ms interval", n)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}
