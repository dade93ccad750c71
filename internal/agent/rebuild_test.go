package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/image"
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
			apptest.Each(t, func(t *testing.T, database string) {
				ctx := context.Background()
				c := newCloud(t, database, computetest.Options{Stopped: true})
				srv := c.create(t, "interrupted-rebuild", nil)
				stepAll(t, c, compute.TaskBuild)
				if tc.stopped {
					if err := c.Compute.Act(ctx, c.user, srv.ID, state.ActionStop, "req-stop"); err != nil {
						t.Fatal(err)
					}
					stepAll(t, c, compute.TaskAction)
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
				tasks, err := c.Compute.ClaimTasks(ctx, c.Agent.Host(), c.Agent.Lease(), 10)
				if err != nil || len(tasks) != 1 || tasks[0].Kind != compute.TaskRebuild {
					t.Fatalf("claimed %v, %v; want one rebuild task", tasks, err)
				}
				task := tasks[0]
				for _, ts := range []state.TaskState{state.TaskRebuildBlockDeviceMapping, state.TaskRebuildSpawning} {
					if err := c.Compute.AdvanceTask(ctx, task, ts); err != nil {
						t.Fatal(err)
					}
					if ts == tc.reached {
						break
					}
				}
				c2 := c.restart(t, computetest.Options{Stopped: true})
				stepAll(t, c2, compute.TaskRebuild)
				done := get(t, c2, srv.ID)
				if done.TaskState != state.TaskNone || done.Status() != tc.status || done.PowerState != tc.power || done.ImageRef != img.ID {
					t.Fatalf("resumed rebuild left %s (task %s) power %v image %s", done.Status(), done.TaskState, done.PowerState, done.ImageRef)
				}
				guest, err := c2.Driver.Inspect(srv.ID)
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

// TestRestartResumesInterruptedReimage has an agent die in the middle of
// a 2.93 rebuild of a volume-backed server (once the root volume's
// re-image was asked, or once the task reached
// rebuild_block_device_mapping before the volume was connected again)
// and checks a restarted agent finishes it without re-imaging the volume
// again: the volume in-use and attached, the guest booted from it.
func TestRestartResumesInterruptedReimage(t *testing.T) {
	cases := []struct {
		name    string
		advance bool // the task reached rebuild_block_device_mapping
	}{
		{"died waiting for the re-image", false},
		{"died mapping devices", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			apptest.Each(t, func(t *testing.T, database string) {
				ctx := context.Background()
				vols := computetest.NewVolumes()
				c := newCloud(t, database, computetest.Options{Stopped: true, Volumes: vols})
				boot := vols.Add(c.user.ProjectID, "boot", 1)
				vols.SetBootable(boot, c.ImageID)
				zero := 0
				srv := c.create(t, "interrupted-reimage", func(r *compute.CreateRequest) {
					r.ImageRef = ""
					r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: boot, BootIndex: &zero}}
				})
				stepAll(t, c, compute.TaskBuild)
				admin := &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}
				name, raw, bare := "next", "raw", "bare"
				img, err := c.Images.CreateFromReader(ctx, admin, image.CreateRequest{Name: &name, Visibility: image.Public,
					DiskFormat: &raw, ContainerFormat: &bare}, strings.NewReader("disk"))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Compute.Rebuild(ctx, c.user, srv.ID, compute.RebuildRequest{ImageRef: img.ID,
					ReimageBootVolume: true, RequestID: "req-rebuild"}); err != nil {
					t.Fatal(err)
				}
				tasks, err := c.Compute.ClaimTasks(ctx, c.Agent.Host(), c.Agent.Lease(), 10)
				if err != nil || len(tasks) != 1 || tasks[0].Kind != compute.TaskRebuild {
					t.Fatalf("claimed %v, %v; want one rebuild task", tasks, err)
				}
				if err := c.Compute.ReimageRootVolume(ctx, tasks[0]); err != nil {
					t.Fatal(err)
				}
				if tc.advance {
					if err := c.Compute.AdvanceTask(ctx, tasks[0], state.TaskRebuildBlockDeviceMapping); err != nil {
						t.Fatal(err)
					}
				}
				if v, _ := vols.Get(boot); v.Status != "reserved" {
					t.Fatalf("volume %s before the restart, want reserved", v.Status)
				}
				c2 := c.restart(t, computetest.Options{Stopped: true, Volumes: vols})
				stepAll(t, c2, compute.TaskRebuild)
				done := get(t, c2, srv.ID)
				if done.TaskState != state.TaskNone || done.Status() != "ACTIVE" || done.ImageRef != "" {
					t.Fatalf("resumed rebuild left %s (task %s) image %q, fault %+v", done.Status(), done.TaskState, done.ImageRef, done.Fault)
				}
				if got := vols.Reimaged(boot); len(got) != 1 || got[0] != img.ID {
					t.Fatalf("volume re-imaged with %v, want once with %s", got, img.ID)
				}
				v, _ := vols.Get(boot)
				if v.Status != "in-use" || len(v.Attachments) != 1 || v.Attachments[0].Status != "attached" || v.ImageMetadata["image_id"] != img.ID {
					t.Fatalf("volume after the resumed rebuild %+v", v)
				}
				guest, err := c2.Driver.Inspect(srv.ID)
				if err != nil || len(guest.Volumes) != 1 || guest.Volumes[0] != boot || int(guest.Power) != int(state.PowerRunning) {
					t.Fatalf("guest %+v, %v", guest, err)
				}
			})
		})
	}
}
