package dataplane

import (
	"context"
	"log/slog"
	"time"
)

// Applier makes the kernel (or anything else) hold a Host.
type Applier interface {
	Apply(ctx context.Context, h Host) error
}

// Reconciler reads the wanted Host and applies it, again every Interval,
// so the database's changes act within about one Interval and a restart
// rebuilds the dataplane from the database.
type Reconciler struct {
	// Source reads the wanted Host.
	Source   func(ctx context.Context) (Host, error)
	Applier  Applier
	Interval time.Duration // 500 ms when zero
	Log      *slog.Logger
}

// Run reconciles until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	every := r.Interval
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var lastErr string
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		err := r.Once(ctx)
		switch {
		case err != nil && err.Error() != lastErr && ctx.Err() == nil:
			log.Warn("guest dataplane", "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			log.Info("guest dataplane applied")
			lastErr = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once reads the wanted Host and applies it.
func (r *Reconciler) Once(ctx context.Context) error {
	h, err := r.Source(ctx)
	if err != nil {
		return err
	}
	return r.Applier.Apply(ctx, h)
}
