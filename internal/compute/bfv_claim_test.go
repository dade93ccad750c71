package compute_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/store"
)

// TestVolumeBackedServersClaimNoRootDisk: a server booted from a volume
// takes only its flavor's ephemeral disk from the host, as Nova's request
// spec with is_bfv asks placement for no root_gb; one booted from an
// image takes root and ephemeral. So a host with a small disk takes a
// volume-backed server of a big-root flavor and refuses the same flavor
// from an image; a delete gives back what the create took, and a recount
// of the host agrees.
func TestVolumeBackedServersClaimNoRootDisk(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		vols := computetest.NewVolumes()
		rc := newRescueCloud(t, database, computetest.Options{Volumes: vols, Configure: func(c *app.Config) {
			c.HostVCPUs, c.HostMemoryMB, c.HostDiskGB = 64, 1<<16, 10
		}})
		ctx := context.Background()
		if _, err := rc.Flavors.Create(ctx, flavor.CreateInput{ID: "bigroot", Name: "bigroot", VCPUs: 1, RAM: 64, Disk: 40,
			Ephemeral: 2, IsPublic: true}); err != nil {
			t.Fatal(err)
		}
		used := func() int { return hostDiskUsed(t, rc) }
		zero := 0
		fromVolume := func(r *compute.CreateRequest) {
			boot := vols.Add(rc.owner.ProjectID, "boot", 1)
			vols.SetBootable(boot, rc.ImageID)
			r.ImageRef = ""
			r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: boot, BootIndex: &zero}}
		}
		var bfv []string
		for _, tc := range []struct {
			name, flavor string
			volume       bool
			wantActive   bool
			wantUsed     int // the host's local_gb_used after the create
		}{
			{name: "volume-backed, big root", flavor: "bigroot", volume: true, wantActive: true, wantUsed: 2},
			{name: "image-backed, small root", flavor: "1", wantActive: true, wantUsed: 3},
			{name: "image-backed, big root", flavor: "bigroot", wantActive: false, wantUsed: 3},
			{name: "second volume-backed, big root", flavor: "bigroot", volume: true, wantActive: true, wantUsed: 5},
		} {
			srv := rc.CreateServer(t, rc.owner, tc.name, func(r *compute.CreateRequest) {
				r.FlavorRef = tc.flavor
				if tc.volume {
					fromVolume(r)
				}
			}).Servers[0]
			if tc.wantActive {
				rc.WaitFor(t, srv.ID, computetest.Active)
			} else if srv.Fault == nil || srv.Fault.Message != "No valid host was found. " {
				t.Fatalf("%s: fault %+v, want No valid host", tc.name, srv.Fault)
			}
			if got := used(); got != tc.wantUsed {
				t.Fatalf("%s: local_gb_used %d, want %d", tc.name, got, tc.wantUsed)
			}
			if tc.volume {
				bfv = append(bfv, srv.ID)
			}
		}
		if err := rc.DB.InTx(ctx, func(tx *store.Tx) error {
			l, err := compute.NewInventory(rc.DB).HostLoad(ctx, tx, computetest.Host)
			if err == nil && l.DiskGB != 5 {
				t.Errorf("recounted disk %d GiB, want 5", l.DiskGB)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := rc.Compute.Delete(ctx, rc.owner, bfv[0], "req-del"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, bfv[0], func(s *compute.Server) bool { return s.Deleted })
		if got := used(); got != 3 {
			t.Fatalf("after deleting a volume-backed server: local_gb_used %d, want 3", got)
		}

		// A resize claims the new flavor's ephemeral disk only, and the
		// confirm gives back the old one's.
		if _, err := rc.Flavors.Create(ctx, flavor.CreateInput{ID: "bigroot2", Name: "bigroot2", VCPUs: 1, RAM: 64, Disk: 80,
			Ephemeral: 3, IsPublic: true}); err != nil {
			t.Fatal(err)
		}
		if err := rc.Compute.Resize(ctx, rc.owner, bfv[1], compute.ResizeRequest{FlavorRef: "bigroot2", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, bfv[1], func(s *compute.Server) bool { return s.Status() == "VERIFY_RESIZE" })
		if got := used(); got != 6 {
			t.Fatalf("in VERIFY_RESIZE: local_gb_used %d, want 6 (both flavors' ephemeral disks and the image-backed root)", got)
		}
		if err := rc.Compute.ConfirmResize(ctx, rc.owner, bfv[1], "req-confirm"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, bfv[1], computetest.Active)
		if got := used(); got != 4 {
			t.Fatalf("after the confirm: local_gb_used %d, want 4", got)
		}
	})
}

// hostDiskUsed is the test host's local_gb_used.
func hostDiskUsed(t *testing.T, rc *rescueCloud) int {
	t.Helper()
	var n int
	if err := rc.DB.QueryRowContext(context.Background(), `SELECT local_gb_used FROM compute_hosts WHERE hostname = ?`,
		computetest.Host).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
