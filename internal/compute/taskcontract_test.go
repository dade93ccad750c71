package compute_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

// TestUnknownTaskRefusedNotLost: a host leaves a task of a kind or params
// version it does not know pending, marked with the reason for the
// operator, and still runs the tasks it knows; a host of a newer build
// that knows them takes the marks back and runs them.
func TestUnknownTaskRefusedNotLost(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{Stopped: true})
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		srv := c.CreateServer(t, owner, "contract", nil).Servers[0]
		for _, row := range []struct {
			id, kind string
			version  int
			created  int64
		}{{"t-unknown-kind", "teleport", 1, 1}, {"t-newer-version", compute.TaskBuild, 99, 2}} {
			if _, err := c.DB.ExecContext(ctx, `INSERT INTO tasks (id, instance_id, host, kind, params, params_version,
				state, request_id, created_at) VALUES (?, ?, ?, ?, '{}', ?, 'pending', 'req-future', ?)`,
				row.id, srv.ID, srv.Host, row.kind, row.version, row.created); err != nil {
				t.Fatal(err)
			}
		}
		claimed, err := c.Compute.ClaimTasks(ctx, srv.Host, c.Agent.Lease(), 10)
		if err != nil || len(claimed) != 1 || claimed[0].Kind != compute.TaskBuild {
			t.Fatalf("claimed %+v, %v; want the server's build only", claimed, err)
		}
		refused, err := c.Compute.RefuseUnknownTasks(ctx, srv.Host)
		if err != nil || len(refused) != 2 {
			t.Fatalf("refused %+v, %v; want both unknown tasks", refused, err)
		}
		reasons := map[string]string{}
		rows, err := c.DB.QueryContext(ctx, `SELECT id, state, COALESCE(refused, '') FROM tasks WHERE id IN (?, ?)`,
			"t-unknown-kind", "t-newer-version")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, st, why string
			if err := rows.Scan(&id, &st, &why); err != nil {
				t.Fatal(err)
			}
			if st != "pending" {
				t.Errorf("refused task %s is %s, want pending", id, st)
			}
			reasons[id] = why
		}
		rows.Close()
		if !strings.Contains(reasons["t-unknown-kind"], `"teleport"`) || !strings.Contains(reasons["t-newer-version"], "version 99") {
			t.Fatalf("refusals %q say neither the kind nor the version", reasons)
		}
		if again, err := c.Compute.RefuseUnknownTasks(ctx, srv.Host); err != nil || len(again) != 0 {
			t.Fatalf("refused again %+v, %v; want each refusal reported once", again, err)
		}
		if err := c.Compute.FinishBuild(ctx, claimed[0], time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		if more, err := c.Compute.ClaimTasks(ctx, srv.Host, c.Agent.Lease(), 10); err != nil || len(more) != 0 {
			t.Fatalf("claimed %+v, %v; want no refused task", more, err)
		}

		newer := c.Compute.WithTaskKind("teleport", 1).WithTaskKind(compute.TaskBuild, 99)
		if refused, err := newer.RefuseUnknownTasks(ctx, srv.Host); err != nil || len(refused) != 0 {
			t.Fatalf("newer host refused %+v, %v", refused, err)
		}
		for _, want := range []string{"t-unknown-kind", "t-newer-version"} {
			got, err := newer.ClaimTasks(ctx, srv.Host, c.Agent.Lease(), 10)
			if err != nil || len(got) != 1 || got[0].ID != want {
				t.Fatalf("newer host claimed %+v, %v; want %s", got, err, want)
			}
			if err := newer.FinishEvent(ctx, got[0], time.Now(), nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}
