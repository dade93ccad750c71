package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// TestTaskFromAnotherProcessWakesAgent: on PostgreSQL a task queued by
// another kumo process (its own *store.DB, whose API cannot call Wake)
// wakes the agent through LISTEN/NOTIFY, long before its poll interval.
func TestTaskFromAnotherProcessWakesAgent(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	// The compute process: its host is run by an agent that polls once an
	// hour (built here: the app's agent polls every second), taking over
	// from the app's own, which never runs.
	host := newCloud(t, dsn, computetest.Options{Stopped: true})
	a := agent.New(host.App.Hosts, host.Compute, host.Driver, slog.New(slog.NewTextHandler(io.Discard, nil)),
		agent.Options{Poll: time.Hour, Heartbeat: time.Hour, Predecessor: host.Agent.Lease()})
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = a.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	// The API process: another kumo on the database, whose own agent (of
	// another host) never runs; its admin places the servers on the
	// compute process's host.
	api := apptest.New(t, apptest.Options{Database: dsn, Host: "api-host", NoAuth: true})
	admin := api.Admin.As(api.Admin.Token, "2.74")
	// The agent claims at start and once it listens; servers created one
	// after the other outnumber those wake-ups, so the later ones can only
	// have been woken by their task's notification.
	for i := range 3 {
		id := api.CreateServer(admin, fmt.Sprintf("woken-%d", i), map[string]any{"host": computetest.Host, "networks": "none"})
		host.WaitFor(t, id, computetest.Active)
	}
}
