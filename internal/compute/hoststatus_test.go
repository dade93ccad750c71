package compute_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
)

// A server's host_status is the same whether the server was loaded alone
// (its host's row joined) or in a listing (hosts read for the page).
func TestHostStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		update string // applied to the host rows, or to the server's row (id = ?)
		want   string
	}{
		{"up", ``, compute.HostStatusUp},
		{"disabled", `UPDATE compute_hosts SET disabled = TRUE`, compute.HostStatusMaintenance},
		{"forced down", `UPDATE compute_hosts SET forced_down = TRUE, disabled = TRUE`, compute.HostStatusDown},
		{"stale heartbeat", `UPDATE compute_hosts SET heartbeat_at = 0, disabled = TRUE`, compute.HostStatusUnknown},
		{"no host row", `UPDATE instances SET host = 'gone' WHERE id = ?`, compute.HostStatusUnknown},
		{"no host", `UPDATE instances SET host = NULL WHERE id = ?`, compute.HostStatusNone},
	}
	apptest.Each(t, func(t *testing.T, database string) {
		ctx := context.Background()
		// Stopped: no heartbeat of the agent's loop undoes a case's update.
		c := computetest.New(t, database, computetest.Options{Stopped: true})
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				// The host as it was, whatever the last case did to it.
				if _, err := c.DB.ExecContext(ctx, `UPDATE compute_hosts SET disabled = FALSE, forced_down = FALSE, heartbeat_at = ?`,
					time.Now().UnixMicro()); err != nil {
					t.Fatal(err)
				}
				id := c.CreateServer(t, owner, "hs", nil).Servers[0].ID
				c.Step()
				if tc.update != "" {
					var args []any
					if tc.update[len(tc.update)-1] == '?' {
						args = append(args, id)
					}
					if _, err := c.DB.ExecContext(ctx, tc.update, args...); err != nil {
						t.Fatal(err)
					}
				}
				one, err := c.Compute.Get(ctx, owner, id)
				if err != nil {
					t.Fatal(err)
				}
				listed, err := c.Compute.List(ctx, compute.ListOptions{ProjectID: owner.ProjectID})
				if err != nil {
					t.Fatal(err)
				}
				for what, servers := range map[string][]*compute.Server{"alone": {one}, "listed": listed} {
					got, err := c.Compute.HostStatuses(ctx, servers)
					if err != nil {
						t.Fatal(err)
					}
					if got[id] != tc.want {
						t.Errorf("%s: host_status %q, want %q", what, got[id], tc.want)
					}
				}
			})
		}
	})
}
