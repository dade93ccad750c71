package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// TestTaskFromAnotherProcessWakesAgent: on PostgreSQL a task queued by
// another process (another *store.DB, whose API cannot call Wake) wakes
// the agent through LISTEN/NOTIFY, long before its poll interval.
func TestTaskFromAnotherProcessWakesAgent(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	apiDB, hostDB := open(), open()
	// The API process: its own agent never runs, so its Wake reaches no one.
	api := newCloud(t, apiDB, fake.New(fake.Options{}), false)
	// The compute process: an agent that polls once an hour.
	host := compute.New(compute.Deps{DB: hostDB, Flavors: flavor.New(hostDB), Images: image.New(hostDB, t.TempDir())})
	a := agent.New(hostDB, host, fake.New(fake.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)),
		agent.Options{Poll: time.Hour, Heartbeat: time.Hour, Predecessor: api.Agent.Lease()})
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	// The agent claims at start and once it listens; servers created one
	// after the other outnumber those wake-ups, so the later ones can only
	// have been woken by their task's notification.
	for i := range 3 {
		srv := api.create(t, fmt.Sprintf("woken-%d", i), nil)
		api.WaitFor(t, srv.ID, computetest.Active)
	}
}
