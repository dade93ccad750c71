package compute_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
)

// TestSyncPowerState applies what a driver reports to an idle ACTIVE
// server, as Nova's power-state sync does, and leaves a server alone
// once it moved on since it was read.
func TestSyncPowerState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		actual  state.PowerState
		stale   bool // the record is older than the row
		wantVM  state.VMState
		wantPow state.PowerState
	}{
		{"guest shut down", state.PowerShutdown, false, state.VMStopped, state.PowerShutdown},
		{"guest crashed", state.PowerCrashed, false, state.VMStopped, state.PowerShutdown},
		{"guest paused by itself", state.PowerPaused, false, state.VMActive, state.PowerPaused},
		{"unknown is ignored", state.PowerNoState, false, state.VMActive, state.PowerRunning},
		{"still running", state.PowerRunning, false, state.VMActive, state.PowerRunning},
		{"stale record", state.PowerShutdown, true, state.VMActive, state.PowerRunning},
	}
	apptest.Each(t, func(t *testing.T, database string) {
		c := computetest.New(t, database, computetest.Options{})
		ctx := context.Background()
		owner := &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id := c.CreateServer(t, owner, "sync", nil).Servers[0].ID
				srv := c.WaitFor(t, id, computetest.Active)
				records, err := c.Compute.IdlePowerRecords(ctx, srv.Host)
				if err != nil {
					t.Fatal(err)
				}
				var r compute.PowerRecord
				for _, rec := range records {
					if rec.ID == id {
						r = rec
					}
				}
				if r.ID == "" || r.VMState != state.VMActive || r.Power != state.PowerRunning {
					t.Fatalf("idle record %+v", r)
				}
				if tc.stale {
					r.Power = state.PowerPaused
				}
				if err := c.Compute.SyncPowerState(ctx, r, tc.actual); err != nil {
					t.Fatal(err)
				}
				got, err := c.Compute.GetAny(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if got.VMState != tc.wantVM || got.PowerState != tc.wantPow {
					t.Errorf("vm_state %s power %d, want %s %d", got.VMState, got.PowerState, tc.wantVM, tc.wantPow)
				}
			})
		}
	})
}
