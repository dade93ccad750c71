package compute_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/errs"
)

// TestCreateValidatesVolumeSources: Nova's _validate_bdm reads a
// snapshot source and the volume type of each mapping before the create
// is accepted: a snapshot the project cannot see, or a type it cannot
// use, is 400 in Nova's words, not a server that fails its build. A
// snapshot source without a size takes the snapshot's, and a type given
// by id is kept by name.
func TestCreateValidatesVolumeSources(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		own := vols.Add("p1", "own", 3)
		vols.SetBootable(own, rc.ImageID)
		ownSnap := vols.AddSnapshot(own)
		blank := vols.Add("p1", "blank", 1)
		blankSnap := vols.AddSnapshot(blank)
		otherSnap := vols.AddSnapshot(vols.Add("p2", "other", 3))
		const missing = "7b5c3d0e-0000-4000-8000-000000000000"
		fastID := vols.AddType("fast")
		zero, one := 0, 1
		for _, tc := range []struct {
			name string
			bdm  compute.BlockDeviceRequest
			// second: the server boots from the image, the mapping is
			// its second disk (otherwise the mapping is the boot disk).
			second bool
			// err is Nova's message of the 400; "" for an accepted create.
			err      string
			wantSize int
			wantType string
		}{
			// Nova reads a boot snapshot first (get_bdm_image_metadata),
			// the others in _validate_bdm.
			{name: "missing boot snapshot", bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: missing},
				err: "Snapshot " + missing + " could not be found."},
			{name: "another project's boot snapshot", bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: otherSnap},
				err: "Snapshot " + otherSnap + " could not be found."},
			{name: "missing snapshot", second: true, bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: missing},
				err: "Block Device Mapping is Invalid: failed to get snapshot " + missing + "."},
			{name: "another project's snapshot", second: true, bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: otherSnap},
				err: "Block Device Mapping is Invalid: failed to get snapshot " + otherSnap + "."},
			{name: "boot snapshot of a volume not bootable", bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: blankSnap},
				err: "Block Device " + blank + " is not bootable."},
			{name: "second disk from a snapshot of a volume not bootable", second: true,
				bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: blankSnap}, wantSize: 1},
			{name: "unknown type", bdm: compute.BlockDeviceRequest{SourceType: "blank", VolumeSize: 1, VolumeType: "slow"},
				err: "Volume type slow could not be found."},
			{name: "unknown type on a snapshot", bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: ownSnap, VolumeType: "slow"},
				err: "Volume type slow could not be found."},
			{name: "snapshot takes its size", bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: ownSnap},
				wantSize: 3},
			{name: "snapshot with a size", bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: ownSnap, VolumeSize: 5},
				wantSize: 5},
			{name: "type by id kept by name", bdm: compute.BlockDeviceRequest{SourceType: "blank", VolumeSize: 1, VolumeType: fastID},
				wantSize: 1, wantType: "fast"},
			{name: "type by name", bdm: compute.BlockDeviceRequest{SourceType: "snapshot", UUID: ownSnap, VolumeType: "__DEFAULT__"},
				wantSize: 3, wantType: "__DEFAULT__"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := tc.bdm
				b.DestinationType, b.BootIndex = "volume", &zero
				req := compute.CreateRequest{Name: tc.name, FlavorRef: "1", RequestID: "req-bdm"}
				if tc.second {
					b.BootIndex = &one
					req.ImageRef = rc.ImageID
				}
				req.BlockDevices = []compute.BlockDeviceRequest{b}
				res, err := rc.Compute.Create(context.Background(), rc.owner, req)
				if tc.err != "" {
					wantErr(t, "create", err, errs.KindInvalid, tc.err)
					return
				}
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				id := res.Servers[0].ID
				rc.WaitFor(t, id, computetest.Active)
				bs, err := rc.Compute.BlockDevices(context.Background(), rc.owner, id)
				if err != nil || len(bs) != 1 {
					t.Fatalf("mappings %+v, %v", bs, err)
				}
				if bs[0].VolumeSize != tc.wantSize || bs[0].VolumeType != tc.wantType || bs[0].SnapshotID != b.UUID && b.SourceType == "snapshot" {
					t.Errorf("mapping size %d type %q snapshot %q, want %d %q %q", bs[0].VolumeSize, bs[0].VolumeType, bs[0].SnapshotID,
						tc.wantSize, tc.wantType, b.UUID)
				}
				vol, ok := vols.Get(bs[0].VolumeID)
				if !ok || vol.SizeGB != tc.wantSize {
					t.Errorf("volume made %+v, want %d GiB", vol, tc.wantSize)
				}
			})
		}
	})
}
