package compute_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/app/apptest"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
)

// volumeCloud is a rescue cloud with a fake volume service.
func newVolumeCloud(t *testing.T, database string) (*rescueCloud, *computetest.Volumes) {
	t.Helper()
	vols := computetest.NewVolumes()
	return newRescueCloud(t, database, computetest.Options{Volumes: vols}), vols
}

// guestVolumes waits until the fake guest's volumes are want.
func (rc *rescueCloud) guestVolumes(t *testing.T, id string, want []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, err := rc.Driver.Inspect(id)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(g.Volumes, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guest has volumes %v, want %v", g.Volumes, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitVolume waits until volume id has status.
func waitVolume(t *testing.T, vols *computetest.Volumes, id, status string) compute.Volume {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := vols.Get(id)
		if ok && v.Status == status || !ok && status == "" {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("volume %s is %q (exists %v), want %q", id, v.Status, ok, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestVolumeAttachDetach: an attached volume is reserved, then plugged
// into the guest by its host and in-use, shown with its device; detach
// unplugs it and makes it available again; both are instance actions.
func TestVolumeAttachDetach(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		id := rc.active(t, "attach")
		vol := vols.Add(rc.owner.ProjectID, "data", 1)

		bdm, err := rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: vol, Device: "/dev/vdz",
			Tag: "data", RequestID: "req-attach"})
		if err != nil {
			t.Fatal(err)
		}
		if bdm.DeviceName != "/dev/vdb" || bdm.AttachmentID == "" || bdm.Tag != "data" {
			t.Fatalf("mapping %+v, want /dev/vdb with an attachment", bdm)
		}
		if r := rc.event(t, id, "req-attach", "compute_attach_volume"); r != "Success" {
			t.Fatalf("attach event %s", r)
		}
		waitVolume(t, vols, vol, "in-use")
		rc.guestVolumes(t, id, []string{vol})
		attached, err := rc.Compute.AttachedVolumes(ctx, []string{id})
		if err != nil || len(attached[id]) != 1 || attached[id][0].VolumeID != vol || attached[id][0].Connection == nil {
			t.Fatalf("attached volumes %+v, %v", attached, err)
		}

		_, err = rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: vol})
		wantErr(t, "attach again", err, errs.KindInvalid, "Invalid volume: volume "+vol+" is already attached to instances: "+id)
		_, err = rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: "missing"})
		wantErr(t, "attach missing", err, errs.KindNotFound, "Volume missing could not be found.")
		_, err = rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: vol, Device: "sdb"})
		wantErr(t, "bad device", err, errs.KindInvalid, "The supplied device path (sdb) is invalid.")

		if err := rc.Compute.DetachVolume(ctx, rc.owner, id, vol, "req-detach"); err != nil {
			t.Fatal(err)
		}
		if r := rc.event(t, id, "req-detach", "compute_detach_volume"); r != "Success" {
			t.Fatalf("detach event %s", r)
		}
		waitVolume(t, vols, vol, "available")
		rc.guestVolumes(t, id, nil)
		err = rc.Compute.DetachVolume(ctx, rc.owner, id, vol, "req-detach-2")
		wantErr(t, "detach again", err, errs.KindNotFound, "Instance "+id+" is not attached to volume "+vol)
	})
}

// TestVolumesGoWithServer: deleting a server detaches its volumes and
// deletes those marked delete_on_termination.
func TestVolumesGoWithServer(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		id := rc.active(t, "doomed")
		keep := vols.Add(rc.owner.ProjectID, "keep", 1)
		drop := vols.Add(rc.owner.ProjectID, "drop", 1)
		for _, v := range []struct {
			id  string
			dot bool
		}{{keep, false}, {drop, true}} {
			if _, err := rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: v.id,
				DeleteOnTermination: v.dot, RequestID: "req-" + v.id}); err != nil {
				t.Fatal(err)
			}
			waitVolume(t, vols, v.id, "in-use")
			rc.idle(t, id)
		}
		if err := rc.Compute.Delete(ctx, rc.owner, id, "req-delete"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, computetest.Deleted)
		waitVolume(t, vols, keep, "available")
		waitVolume(t, vols, drop, "")
	})
}

// TestUpdateVolumeAttachment: 2.85's PUT changes delete_on_termination
// and refuses changes of the rest in Nova's words.
func TestUpdateVolumeAttachment(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		id := rc.active(t, "update")
		vol := vols.Add(rc.owner.ProjectID, "v", 1)
		if _, err := rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: vol}); err != nil {
			t.Fatal(err)
		}
		dev := "/dev/vdc"
		err := rc.Compute.UpdateVolumeAttachment(ctx, rc.owner, id, vol, compute.VolumeAttachmentUpdate{Device: &dev})
		wantErr(t, "device", err, errs.KindInvalid, "The device property is not mutable")
		yes := true
		if err := rc.Compute.UpdateVolumeAttachment(ctx, rc.owner, id, vol, compute.VolumeAttachmentUpdate{DeleteOnTermination: &yes}); err != nil {
			t.Fatal(err)
		}
		b, err := rc.Compute.BlockDevice(ctx, rc.owner, id, vol)
		if err != nil || !b.DeleteOnTermination {
			t.Fatalf("mapping %+v, %v; want delete_on_termination", b, err)
		}
		err = rc.Compute.SwapVolume(ctx, rc.owner, id, vol, vol)
		wantErr(t, "swap", err, errs.KindConflict, "volume "+vol+" is not migrating; this API should only be called by Cinder")
	})
}

// TestBootFromVolume: a server booted from an image made into a volume
// (the host makes, waits for and attaches it) and one booted from a
// given volume (reserved by the create) boot with the volume as their
// root disk; image "" in the server; the given volume stays when the
// server goes, the one made with delete_on_termination does not.
func TestBootFromVolume(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		vols.AddType("fast")
		ctx := context.Background()
		zero := 0
		made := rc.CreateServer(t, rc.owner, "from-image", func(r *compute.CreateRequest) {
			r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "image", DestinationType: "volume", UUID: r.ImageRef,
				BootIndex: &zero, VolumeSize: 1, DeleteOnTermination: true, VolumeType: "fast"}}
			r.ImageRef = ""
		}).Servers[0]
		if made.ImageRef != "" {
			t.Fatalf("image %q, want none", made.ImageRef)
		}
		rc.WaitFor(t, made.ID, computetest.Active)
		if len(vols.Created) != 1 || vols.Created[0].ImageID != rc.ImageID || vols.Created[0].SizeGB != 1 || vols.Created[0].VolumeType != "fast" {
			t.Fatalf("volumes made %+v", vols.Created)
		}
		attached, err := rc.Compute.AttachedVolumes(ctx, []string{made.ID})
		if err != nil || len(attached[made.ID]) != 1 || !attached[made.ID][0].IsRoot() || attached[made.ID][0].DeviceName != "/dev/vda" {
			t.Fatalf("attached %+v, %v", attached, err)
		}
		madeVol := attached[made.ID][0].VolumeID
		waitVolume(t, vols, madeVol, "in-use")
		rc.guestVolumes(t, made.ID, []string{madeVol})

		given := vols.Add(rc.owner.ProjectID, "boot", 2)
		vols.SetBootable(given, rc.ImageID)
		srv := rc.CreateServer(t, rc.owner, "from-volume", func(r *compute.CreateRequest) {
			r.ImageRef = ""
			r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: given, BootIndex: &zero}}
		}).Servers[0]
		if v, _ := vols.Get(given); v.Status != "reserved" && v.Status != "in-use" {
			t.Fatalf("given volume %s after the create, want reserved", v.Status)
		}
		_, err = rc.Compute.Create(ctx, rc.owner, compute.CreateRequest{Name: "again", FlavorRef: "1", BlockDevices: []compute.BlockDeviceRequest{
			{SourceType: "volume", DestinationType: "volume", UUID: given, BootIndex: &zero}}})
		if errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("booting from a reserved volume: %v, want 400", err)
		}
		rc.WaitFor(t, srv.ID, computetest.Active)
		waitVolume(t, vols, given, "in-use")
		rc.guestVolumes(t, srv.ID, []string{given})
		err = rc.Compute.DetachVolume(ctx, rc.owner, srv.ID, given, "req-root")
		wantErr(t, "detach root", err, errs.KindInvalid, "Cannot detach a root device volume")

		for _, id := range []string{made.ID, srv.ID} {
			if err := rc.Compute.Delete(ctx, rc.owner, id, "req-delete"); err != nil {
				t.Fatal(err)
			}
			rc.WaitFor(t, id, computetest.Deleted)
		}
		waitVolume(t, vols, given, "available")
		waitVolume(t, vols, madeVol, "")
	})
}

// TestBootFromVolumeRefused: _validate_bdm's and the boot sequence's
// 400s, in Nova's words.
func TestBootFromVolumeRefused(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		zero, one, three := 0, 1, 3
		vol := vols.Add(rc.owner.ProjectID, "v", 1)
		for _, tc := range []struct {
			name  string
			image bool
			max   int
			bdms  []compute.BlockDeviceRequest
			msg   string
		}{
			{"no boot device", false, 1, []compute.BlockDeviceRequest{{SourceType: "blank", DestinationType: "volume", VolumeSize: 1}},
				"Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid."},
			{"gap in the boot indexes", true, 1, []compute.BlockDeviceRequest{{SourceType: "blank", DestinationType: "volume", VolumeSize: 1, BootIndex: &three}},
				"Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid."},
			{"image without size", false, 1, []compute.BlockDeviceRequest{{SourceType: "image", DestinationType: "volume", UUID: "IMAGE", BootIndex: &zero}},
				"Images with destination_type 'volume' need to have a non-zero size specified"},
			{"blank without size", true, 1, []compute.BlockDeviceRequest{{SourceType: "blank", DestinationType: "volume", BootIndex: &one}},
				"Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size"},
			{"missing volume", false, 1, []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: "nope", BootIndex: &zero}},
				"Block Device Mapping is Invalid: failed to get volume nope."},
			{"missing image", false, 1, []compute.BlockDeviceRequest{{SourceType: "image", DestinationType: "volume", UUID: "nope", BootIndex: &zero, VolumeSize: 1}},
				"Block Device Mapping is Invalid: failed to get image nope."},
			{"volume on the root device", true, 1, []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: vol, DeviceName: "/dev/vda"}},
				"The volume cannot be assigned the same device name as the root device vda"},
			{"a volume for two servers", true, 2, []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: vol}},
				"Cannot attach one or more volumes to multiple instances"},
			{"volume not bootable", false, 1, []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: vol, BootIndex: &zero}},
				"Block Device " + vol + " is not bootable."},
		} {
			req := compute.CreateRequest{Name: tc.name, FlavorRef: "1", MaxCount: tc.max, BlockDevices: tc.bdms}
			for i := range req.BlockDevices {
				if req.BlockDevices[i].UUID == "IMAGE" {
					req.BlockDevices[i].UUID = rc.ImageID
				}
			}
			if tc.image {
				req.ImageRef = rc.ImageID
			}
			_, err := rc.Compute.Create(ctx, rc.owner, req)
			wantErr(t, tc.name, err, errs.KindInvalid, tc.msg)
		}
	})
}

// TestVolumeBackedSnapshotAndShelve: createImage of a volume-backed server
// snapshots its volume into an active image of size 0 whose
// block_device_mapping names the snapshot; a server booted from that
// image gets a volume made from the snapshot; shelving the first server
// offloads it without an image and unshelving boots it from its volume.
func TestVolumeBackedSnapshotAndShelve(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		zero := 0
		srv := rc.CreateServer(t, rc.owner, "bfv", func(r *compute.CreateRequest) {
			r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "image", DestinationType: "volume", UUID: r.ImageRef,
				BootIndex: &zero, VolumeSize: 1}}
			r.ImageRef = ""
		}).Servers[0]
		rc.WaitFor(t, srv.ID, computetest.Active)

		img, err := rc.Compute.Snapshot(ctx, rc.owner, srv.ID, compute.SnapshotRequest{Name: "snap", RequestID: "req-snap"})
		if err != nil {
			t.Fatal(err)
		}
		if img.Status != "active" || img.Size == nil || *img.Size != 0 || img.Properties["bdm_v2"] != "True" ||
			img.Properties["root_device_name"] != "/dev/vda" || !strings.Contains(img.Properties["block_device_mapping"], `"source_type":"snapshot"`) {
			t.Fatalf("snapshot image %+v", img)
		}
		if r := rc.event(t, srv.ID, "req-snap", "api_snapshot_instance"); r != "Success" {
			t.Fatalf("snapshot event %s", r)
		}
		if s := rc.idle(t, srv.ID); s.TaskState != "" {
			t.Fatalf("task state %s after a volume-backed snapshot", s.TaskState)
		}

		clone := rc.CreateServer(t, rc.owner, "clone", func(r *compute.CreateRequest) { r.ImageRef = img.ID }).Servers[0]
		rc.WaitFor(t, clone.ID, computetest.Active)
		last := vols.Created[len(vols.Created)-1]
		if last.SnapshotID == "" || last.SizeGB != 1 {
			t.Fatalf("the clone's volume was made from %+v, want the snapshot", last)
		}
		attached, err := rc.Compute.AttachedVolumes(ctx, []string{clone.ID})
		if err != nil || len(attached[clone.ID]) != 1 || !attached[clone.ID][0].IsRoot() {
			t.Fatalf("clone volumes %+v, %v", attached, err)
		}
		// Both boot from volumes (the clone's defined by its image): they
		// take none of the host's disk (m1.tiny has no ephemeral disk).
		if got := hostDiskUsed(t, rc); got != 0 {
			t.Fatalf("host disk used %d GiB by two volume-backed servers, want 0", got)
		}

		if err := rc.Compute.Shelve(ctx, rc.owner, srv.ID, "req-shelve"); err != nil {
			t.Fatal(err)
		}
		shelved := rc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "SHELVED_OFFLOADED" })
		if shelved.SystemMetadata["shelved_image_id"] != "" {
			t.Fatalf("a volume-backed shelve made image %s", shelved.SystemMetadata["shelved_image_id"])
		}
		if err := rc.Compute.Unshelve(ctx, rc.owner, srv.ID, compute.UnshelveRequest{RequestID: "req-unshelve"}); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, srv.ID, computetest.Active)
		boot, _ := rc.Compute.AttachedVolumes(ctx, []string{srv.ID})
		rc.guestVolumes(t, srv.ID, []string{boot[srv.ID][0].VolumeID})
		if got := hostDiskUsed(t, rc); got != 0 {
			t.Fatalf("host disk used %d GiB after the unshelve, want 0", got)
		}
	})
}

// TestRebuildVolumeBacked rebuilds a volume-backed server as Nova does
// at each microversion: before 2.93 only with its root volume's own
// image, the volume kept as it is; from 2.93 with any image, written
// into the root volume, which is attached again and in-use with the new
// image's metadata while the server keeps showing no image. A failed
// re-image leaves the server in ERROR.
func TestRebuildVolumeBacked(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		zero := 0
		other := rebuildImage(t, rc.Cloud, "other", false, func(r *image.CreateRequest) { r.Properties["hw_disk_bus"] = "scsi" })
		// Larger than the 1 GB flavor disk: no matter for a volume-backed server.
		big := rebuildImage(t, rc.Cloud, "big", false, func(r *image.CreateRequest) { r.MinDisk = 5 })
		cases := []struct {
			name    string
			reimage bool // 2.93
			image   string
			size    int // the mapping's volume_size (image to volume); 0 boots an existing volume
			before  func(vols *computetest.Volumes, boot string)
			failed  bool // the re-image fails
			// refused: the rebuild's error message (a 400).
			refused string
			// reimaged: the images the root volume was re-imaged with.
			reimaged []string
		}{
			{name: "2.92, its own image", image: rc.ImageID},
			{name: "2.92, another image", image: other,
				refused: "Image " + other + " is unacceptable: Unable to rebuild with a different image for a volume-backed server."},
			{name: "2.93, another image", reimage: true, image: other, reimaged: []string{other}},
			{name: "2.93, its own image", reimage: true, image: rc.ImageID, reimaged: []string{rc.ImageID}},
			{name: "2.93, image bigger than the flavor disk", reimage: true, image: big, reimaged: []string{big}},
			{name: "2.93, image needing a bigger volume", reimage: true, image: big, size: 1,
				refused: fmt.Sprintf("Volume is smaller than the minimum size specified in image metadata. Volume size is %d bytes, minimum size is %d bytes.", 1<<30, 5<<30)},
			{name: "2.93, volume not in-use", reimage: true, image: other,
				before:  func(vols *computetest.Volumes, boot string) { vols.SetStatus(boot, "error") },
				refused: "Invalid volume: volume '%s' status must be 'in-use'. Currently in 'error' status"},
			{name: "2.93, re-image fails", reimage: true, image: other, failed: true, reimaged: []string{other}},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var boot string
				srv := rc.CreateServer(t, rc.owner, fmt.Sprintf("bfv-%d", i), func(r *compute.CreateRequest) {
					if tc.size > 0 {
						r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "image", DestinationType: "volume", UUID: r.ImageRef,
							BootIndex: &zero, VolumeSize: tc.size}}
					} else {
						boot = vols.Add(rc.owner.ProjectID, "boot", 10)
						vols.SetBootable(boot, rc.ImageID)
						r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: boot, BootIndex: &zero}}
					}
					r.ImageRef = ""
				}).Servers[0]
				rc.WaitFor(t, srv.ID, computetest.Active)
				bs, err := rc.Compute.BlockDevices(ctx, rc.owner, srv.ID)
				if err != nil || len(bs) != 1 {
					t.Fatalf("mappings %+v, %v", bs, err)
				}
				boot, attachment := bs[0].VolumeID, bs[0].AttachmentID
				if tc.before != nil {
					tc.before(vols, boot)
				}
				vols.FailReimage(tc.failed)
				defer vols.FailReimage(false)
				requestID := "req-rebuild-" + srv.ID
				res, err := rc.Compute.Rebuild(ctx, rc.owner, srv.ID, compute.RebuildRequest{ImageRef: tc.image,
					ReimageBootVolume: tc.reimage, RequestID: requestID})
				if tc.refused != "" {
					msg := tc.refused
					if strings.Contains(msg, "%s") {
						msg = fmt.Sprintf(msg, boot)
					}
					wantErr(t, "rebuild", err, errs.KindInvalid, msg)
					if got := vols.Reimaged(boot); len(got) != 0 {
						t.Fatalf("a refused rebuild re-imaged the volume with %v", got)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Server.ImageRef != "" {
					t.Fatalf("rebuilt volume-backed server shows image %q", res.Server.ImageRef)
				}
				done := rc.idle(t, srv.ID)
				if got := vols.Reimaged(boot); !slices.Equal(got, tc.reimaged) {
					t.Fatalf("root volume re-imaged with %v, want %v (server %s, fault %+v)", got, tc.reimaged, done.Status(), done.Fault)
				}
				vol, _ := vols.Get(boot)
				if tc.failed {
					want := "Build of instance " + srv.ID + " aborted: Failed to rebuild volume backed instance."
					if done.Status() != "ERROR" || done.Fault == nil || done.Fault.Message != want {
						t.Fatalf("failed re-image left %s with fault %+v", done.Status(), done.Fault)
					}
					if vol.Status != "error" {
						t.Fatalf("volume %s after a failed re-image", vol.Status)
					}
					if r := rc.event(t, srv.ID, requestID, "compute_rebuild_instance"); r != "Error" {
						t.Fatalf("rebuild event %s", r)
					}
					return
				}
				if done.Status() != "ACTIVE" || done.ImageRef != "" || done.SystemMetadata["image_base_image_ref"] != tc.image {
					t.Fatalf("rebuilt server %s image %q system metadata %v", done.Status(), done.ImageRef, done.SystemMetadata)
				}
				if tc.image == other && done.SystemMetadata["image_hw_disk_bus"] != "scsi" {
					t.Fatalf("system metadata %v lacks the new image's properties", done.SystemMetadata)
				}
				if r := rc.event(t, srv.ID, requestID, "compute_rebuild_instance"); r != "Success" {
					t.Fatalf("rebuild event %s", r)
				}
				wantImage := rc.ImageID
				if tc.reimage {
					wantImage = tc.image
				}
				if vol.Status != "in-use" || vol.ImageMetadata["image_id"] != wantImage || len(vol.Attachments) != 1 ||
					vol.Attachments[0].ServerID != srv.ID || vol.Attachments[0].Status != "attached" {
					t.Fatalf("root volume after the rebuild: %+v, want in-use with image %s", vol, wantImage)
				}
				bs, err = rc.Compute.BlockDevices(ctx, rc.owner, srv.ID)
				if err != nil || len(bs) != 1 || bs[0].Connection == nil || bs[0].AttachmentID != vol.Attachments[0].ID {
					t.Fatalf("mappings after the rebuild %+v, %v", bs, err)
				}
				if replaced := bs[0].AttachmentID != attachment; replaced != tc.reimage {
					t.Fatalf("attachment replaced %v, want %v", replaced, tc.reimage)
				}
				rc.guestVolumes(t, srv.ID, []string{boot})
				if g, err := rc.Driver.Inspect(srv.ID); err != nil || int(g.Power) != int(state.PowerRunning) {
					t.Fatalf("guest %+v, %v", g, err)
				}
			})
		}
	})
}

// TestVolumesKeptThroughResizeAndRescue: the guest keeps an attached
// volume when it is resized (and confirmed) and while it is rescued, as
// every guest spec the agent builds lists the server's volumes.
func TestVolumesKeptThroughResizeAndRescue(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		vols := computetest.NewVolumes()
		rc := &rescueCloud{Cloud: resizeCloud(t, database, computetest.Options{Volumes: vols}),
			owner: &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}},
			admin: &auth.Principal{UserID: "admin", ProjectID: "admin-project", Roles: []string{"admin"}}}
		ctx := context.Background()
		id := rc.active(t, "keep")
		vol := vols.Add(rc.owner.ProjectID, "data", 1)
		if _, err := rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: vol}); err != nil {
			t.Fatal(err)
		}
		waitVolume(t, vols, vol, "in-use")
		rc.idle(t, id)

		if err := rc.Compute.Resize(ctx, rc.owner, id, compute.ResizeRequest{FlavorRef: "2", RequestID: "req-resize"}); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "VERIFY_RESIZE" })
		rc.guestVolumes(t, id, []string{vol})
		if err := rc.Compute.ConfirmResize(ctx, rc.owner, id, "req-confirm"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, computetest.Active)
		rc.guestVolumes(t, id, []string{vol})

		if _, err := rc.Compute.Rescue(ctx, rc.owner, id, compute.RescueRequest{RequestID: "req-rescue"}); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "RESCUE" })
		rc.guestVolumes(t, id, []string{vol})
		if err := rc.Compute.Unrescue(ctx, rc.owner, id, "req-unrescue"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, computetest.Active)
		rc.guestVolumes(t, id, []string{vol})
	})
}

// TestAttachToShelvedOffloaded: a volume attached to a shelved-offloaded
// server is in-use at once with no device (Nova's API-only attach); the
// host that unshelves the server names its device and plugs it.
func TestAttachToShelvedOffloaded(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		id := rc.active(t, "shelved")
		if err := rc.Compute.Shelve(ctx, rc.owner, id, "req-shelve"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, func(s *compute.Server) bool { return s.Status() == "SHELVED_OFFLOADED" })
		vol := vols.Add(rc.owner.ProjectID, "data", 1)
		_, err := rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: vol, Tag: "t"})
		wantErr(t, "tagged", err, errs.KindInvalid, "Tagged volume attachment is not supported for shelved-offloaded instances.")
		bdm, err := rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: vol, RequestID: "req-attach"})
		if err != nil {
			t.Fatal(err)
		}
		if bdm.DeviceName != "" {
			t.Fatalf("device %q for a shelved-offloaded server, want none", bdm.DeviceName)
		}
		waitVolume(t, vols, vol, "in-use")
		if r := rc.event(t, id, "req-attach", "api_attach_volume"); r != "Success" {
			t.Fatalf("attach event %s", r)
		}
		if err := rc.Compute.Unshelve(ctx, rc.owner, id, compute.UnshelveRequest{RequestID: "req-unshelve"}); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, id, computetest.Active)
		rc.guestVolumes(t, id, []string{vol})
		if b, err := rc.Compute.BlockDevice(ctx, rc.owner, id, vol); err != nil || b.DeviceName != "/dev/vdb" {
			t.Fatalf("mapping after the unshelve %+v, %v; want /dev/vdb", b, err)
		}
	})
}

// TestVolumeExtendedEvent: Cinder's "volume-extended" for a server's
// attached volume is an extend_volume instance action whose host grows
// the guest's disk to the volume's size; a volume the server does not
// have is nothing to do.
func TestVolumeExtendedEvent(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		id := rc.active(t, "grow")
		vol := vols.Add(rc.owner.ProjectID, "data", 2)
		if _, err := rc.Compute.AttachVolume(ctx, rc.owner, id, compute.AttachVolumeRequest{VolumeID: vol, RequestID: "req-attach"}); err != nil {
			t.Fatal(err)
		}
		waitVolume(t, vols, vol, "in-use")
		rc.idle(t, id)
		cinder := &auth.Principal{UserID: "cinder", Roles: []string{"admin"}}
		if err := rc.Compute.VolumeExtended(ctx, cinder, id, vol, "req-extend"); err != nil {
			t.Fatal(err)
		}
		if r := rc.event(t, id, "req-extend", "compute_extend_volume"); r != "Success" {
			t.Fatalf("extend event %s", r)
		}
		out, err := rc.Driver.ConsoleOutput(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "resized to 2147483648 bytes") {
			t.Errorf("the guest's console does not show its disk grown to 2 GiB:\n%s", out)
		}
		// Not this server's volume: no action.
		other := vols.Add(rc.owner.ProjectID, "other", 1)
		if err := rc.Compute.VolumeExtended(ctx, cinder, id, other, "req-other"); err != nil {
			t.Fatal(err)
		}
		actions, err := rc.Compute.ListActions(ctx, rc.owner, id, compute.ActionListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range actions {
			if a.RequestID == "req-other" {
				t.Errorf("an event for a volume the server does not have made action %+v", a)
			}
		}
	})
}

// TestRescueVolumeBacked: from 2.87 a volume-backed server is rescued
// with an image made for stable rescue (hw_rescue_bus and
// hw_rescue_device), its boot volume still attached; otherwise Nova's
// 400 "Cannot rescue a volume-backed instance".
func TestRescueVolumeBacked(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		rc, vols := newVolumeCloud(t, database)
		ctx := context.Background()
		zero := 0
		boot := vols.Add(rc.owner.ProjectID, "boot", 1)
		vols.SetBootable(boot, rc.ImageID)
		srv := rc.CreateServer(t, rc.owner, "bfv", func(r *compute.CreateRequest) {
			r.ImageRef = ""
			r.BlockDevices = []compute.BlockDeviceRequest{{SourceType: "volume", DestinationType: "volume", UUID: boot, BootIndex: &zero}}
		}).Servers[0]
		rc.WaitFor(t, srv.ID, computetest.Active)
		stable := rebuildImage(t, rc.Cloud, "stable-rescue", false, func(r *image.CreateRequest) {
			r.Properties["hw_rescue_bus"], r.Properties["hw_rescue_device"] = "virtio", "disk"
		})
		refused := "Instance " + srv.ID + " cannot be rescued: Cannot rescue a volume-backed instance"
		for _, tc := range []struct {
			name string
			req  compute.RescueRequest
		}{
			{"before 2.87", compute.RescueRequest{ImageRef: stable}},
			{"no stable rescue image", compute.RescueRequest{ImageRef: rc.ImageID, AllowVolumeBacked: true}},
			{"no image at all", compute.RescueRequest{AllowVolumeBacked: true}},
		} {
			wantErr(t, tc.name, rc.rescueErr(ctx, rc.owner, srv.ID, tc.req), errs.KindInvalid, refused)
		}
		if _, err := rc.Compute.Rescue(ctx, rc.owner, srv.ID, compute.RescueRequest{ImageRef: stable, AllowVolumeBacked: true,
			RequestID: "req-rescue"}); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, srv.ID, func(s *compute.Server) bool { return s.Status() == "RESCUE" })
		rc.guestVolumes(t, srv.ID, []string{boot})
		if err := rc.Compute.Unrescue(ctx, rc.owner, srv.ID, "req-unrescue"); err != nil {
			t.Fatal(err)
		}
		rc.WaitFor(t, srv.ID, computetest.Active)
		rc.guestVolumes(t, srv.ID, []string{boot})
	})
}
