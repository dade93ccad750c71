package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/faults"
)

// openFaults builds the fault service and stores the rules of
// --faults FILE, replacing the ones an earlier start loaded from it.
func (a *App) openFaults(ctx context.Context) error {
	a.Faults = faults.New(a.DB, faults.Options{Observe: a.faultInjected})
	if a.Config.FaultsFile == "" {
		return nil
	}
	path, err := filepath.Abs(a.Config.FaultsFile)
	if err != nil {
		return fmt.Errorf("--faults: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--faults: %w", err)
	}
	rules, err := faults.ParseFile(data)
	if err != nil {
		return fmt.Errorf("--faults %s: %w", path, err)
	}
	if err := a.Faults.LoadFile(ctx, path, rules); err != nil {
		return fmt.Errorf("--faults %s: %w", path, err)
	}
	a.Log.Info("fault injection rules loaded", "file", path, "rules", len(rules))
	return nil
}

// faultInjected logs an injection with its request id and counts it.
func (a *App) faultInjected(ctx context.Context, ev faults.Event) {
	a.Log.LogAttrs(ctx, slog.LevelWarn, "fault injected",
		slog.String("request_id", ev.RequestID), slog.String("fault", ev.FaultName),
		slog.String("fault_id", ev.FaultID), slog.String("action", ev.Action),
		slog.String("service", ev.Service), slog.String("method", ev.Method), slog.String("path", ev.Path),
		slog.String("operation", ev.Operation), slog.String("server_id", ev.ServerID))
	a.metrics.FaultInjected(ev.FaultName, ev.Action)
}

// faultInjector is the fault service as the APIs ask it.
type faultInjector struct{ f *faults.Service }

func (i faultInjector) InjectFault(ctx context.Context, q api.FaultRequest) (*api.Fault, error) {
	r, err := i.f.MatchRequest(ctx, faults.Request{Service: q.Service, Method: q.Method, Path: q.Path,
		ProjectID: q.ProjectID, Microversion: q.Microversion, RequestID: q.RequestID})
	if r == nil || err != nil {
		return nil, err
	}
	return &api.Fault{Type: r.Action.Type, Status: r.Action.Status, Message: r.Action.StatusMessage(),
		RetryAfter: r.Action.RetryAfterHeader(), Delay: r.Action.Delay()}, nil
}
