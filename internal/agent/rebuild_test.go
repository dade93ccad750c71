package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/virt/fake"
)

// TestRestartResumesInterruptedRebuild has an agent die in the middle of
// a rebuild (after rebuild_spawning for a running server, after
// rebuild_block_device_mapping for a stopped one) and checks a restarted
// agent finishes it once: the guest on the new image, powered as before,
// one successful compute_rebuild_instance event.
func TestRestartResumesInterruptedRebuild(t *testing.T) {
	cases := []struct {
		name    string
		stopped bool
		reached state.TaskState
		status  string
		power   state.PowerState
	}{
		{"running, died spawning", false, state.TaskRebuildSpawning, "ACTIVE", state.PowerRunning},
		{"stopped, died mapping devices", true, state.TaskRebuildBlockDeviceMapping, "SHUTOFF", state.PowerShutdown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				drv := fake.New(fake.Options{})
				c := newCloud(t, db, drv, false)
				srv := c.create(t, "interrupted-rebuild", nil)
				claim := func(kind string) *compute.Task {
					t.Helper()
					tasks, err := c.Compute.ClaimTasks(ctx, c.Agent.Host(), c.Agent.Lease(), 10)
					if err != nil || len(tasks) != 1 || tasks[0].Kind != kind {
						t.Fatalf("claimed %v, %v; want one %s task", tasks, err, kind)
					}
					return tasks[0]
				}
				// The build, done by hand since this agent does not run.
				build := claim(compute.TaskBuild)
				g, err := c.Agent.Guest(ctx, build)
				if err != nil {
					t.Fatal(err)
				}
				if err := drv.Spawn(ctx, g); err != nil {
					t.Fatal(err)
				}
				if err := c.Compute.FinishBuild(ctx, build, time.Now(), nil); err != nil {
					t.Fatal(err)
				}
				if tc.stopped {
					if err := c.Compute.Act(ctx, c.user, srv.ID, state.ActionStop, "req-stop"); err != nil {
						t.Fatal(err)
					}
					stop := claim(compute.TaskAction)
					if err := drv.PowerOff(ctx, srv.ID); err != nil {
						t.Fatal(err)
					}
					if err := c.Compute.FinishAction(ctx, stop, time.Now(), nil); err != nil {
						t.Fatal(err)
					}
				}
				admin := &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
				name, raw, bare := "next", "raw", "bare"
				img, err := c.Images.CreateFromReader(ctx, admin, image.CreateRequest{Name: &name, Visibility: image.Public,
					DiskFormat: &raw, ContainerFormat: &bare}, strings.NewReader("disk"))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Compute.Rebuild(ctx, c.user, srv.ID, compute.RebuildRequest{ImageRef: img.ID, RequestID: "req-rebuild"}); err != nil {
					t.Fatal(err)
				}
				// This agent gets part of the way and dies.
				task := claim(compute.TaskRebuild)
				for _, ts := range []state.TaskState{state.TaskRebuildBlockDeviceMapping, state.TaskRebuildSpawning} {
					if err := c.Compute.AdvanceTask(ctx, task, ts); err != nil {
						t.Fatal(err)
					}
					if ts == tc.reached {
						break
					}
				}
				c2 := restartCloud(t, db, drv, c)
				done := c2.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.TaskState == state.TaskNone })
				if done.Status() != tc.status || done.PowerState != tc.power || done.ImageRef != img.ID {
					t.Fatalf("resumed rebuild left %s power %v image %s", done.Status(), done.PowerState, done.ImageRef)
				}
				guest, err := drv.Inspect(srv.ID)
				if err != nil || guest.ImageID != img.ID || int(guest.Power) != int(tc.power) {
					t.Fatalf("guest %+v, %v", guest, err)
				}
				a, err := c2.Compute.GetAction(ctx, c.user, srv.ID, "req-rebuild", false)
				if err != nil {
					t.Fatal(err)
				}
				if len(a.Events) != 1 || a.Events[0].Event != "compute_rebuild_instance" || *a.Events[0].Result != "Success" {
					t.Fatalf("rebuild events %+v", a.Events)
				}
			})
		})
	}
}
