package compute_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// TestConsoleOutputWhileServerBusy: console output answers while another
// task of the same server is still running (here a stop that hangs), as
// Nova's RPC call would, instead of queueing behind it.
func TestConsoleOutputWhileServerBusy(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc := newRescueCloud(t, database, computetest.Options{Fake: fake.Options{Delays: map[string]time.Duration{"power_off": time.Hour}}})
		ctx := context.Background()
		id := rc.active(t, "busy")
		if err := rc.Compute.Act(ctx, rc.owner, id, state.ActionStop, "req-stop"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			var running int
			if err := rc.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks WHERE instance_id = ? AND state = 'running'`,
				id).Scan(&running); err != nil {
				t.Fatal(err)
			}
			if running == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the stop task never started")
			}
			time.Sleep(10 * time.Millisecond)
		}
		callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		out, err := rc.Compute.ConsoleOutput(callCtx, rc.owner, id, nil, "req-console")
		if err != nil || out == "" {
			t.Fatalf("console output while the server is busy = %q, %v", out, err)
		}
	})
}
