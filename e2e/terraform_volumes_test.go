package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// TestTerraformVolumes applies volumes.tf, plans again (no changes),
// checks the attachment and the volume-backed server, and destroys it
// all: the volume is available again and the boot volume, marked
// delete_on_termination, is gone with its server.
func TestTerraformVolumes(t *testing.T) {
	t.Parallel()
	tofu := RequireTofu(t)
	s := Start(t, kumoBin, Options{})
	admin := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()
	storage, err := openstack.NewBlockStorageV3(admin.Provider, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatalf("gophercloud block storage endpoint: %v", err)
	}
	tf := tofu.Init(t, s.CloudsFile(), "kumo", map[string][]byte{
		"main.tf":  terraformConfig(t, "volumes.tf"),
		"disk.raw": imageData,
	})
	tf.Apply(t)
	out := tf.Outputs(t)

	vol, err := volumes.Get(ctx, storage, out["volume_id"]).Extract()
	if err != nil {
		t.Fatalf("get the volume: %v", err)
	}
	if vol.Status != "in-use" || len(vol.Attachments) != 1 || vol.Attachments[0].ServerID != out["app_id"] {
		t.Errorf("volume %s is %s attached to %+v; want in-use on server %s", vol.ID, vol.Status, vol.Attachments, out["app_id"])
	}
	if out["attachment_device"] == "" {
		t.Errorf("the attachment has no device")
	}
	bfv, err := servers.Get(ctx, admin.Compute, out["bfv_id"]).Extract()
	if err != nil {
		t.Fatalf("get the volume-backed server: %v", err)
	}
	if bfv.Status != "ACTIVE" || len(bfv.AttachedVolumes) != 1 {
		t.Fatalf("volume-backed server %s is %s with volumes %+v; want ACTIVE with its boot volume", bfv.ID, bfv.Status, bfv.AttachedVolumes)
	}
	if image, _ := bfv.Image["id"].(string); image != "" {
		t.Errorf("volume-backed server shows image %q; Nova shows none", image)
	}
	bootVolume := bfv.AttachedVolumes[0].ID
	boot, err := volumes.Get(ctx, storage, bootVolume).Extract()
	if err != nil {
		t.Fatalf("get the boot volume: %v", err)
	}
	if boot.Bootable != "true" || boot.VolumeImageMetadata["image_name"] != "tf-disk" {
		t.Errorf("boot volume bootable=%q image metadata %v; want bootable, made from tf-disk", boot.Bootable, boot.VolumeImageMetadata)
	}

	tf.Destroy(t)
	// The provider waits for its volume to go; Nova deletes a
	// delete_on_termination volume after its server, so that one may
	// still be "deleting" for a moment.
	waitVolumeGone(t, storage, out["volume_id"])
	waitVolumeGone(t, storage, bootVolume)
}

// waitVolumeGone polls a volume until the block storage API answers 404.
func waitVolumeGone(t *testing.T, storage *gophercloud.ServiceClient, id string) {
	t.Helper()
	deadline := time.Now().Add(serverWait)
	for {
		vol, err := volumes.Get(context.Background(), storage, id).Extract()
		switch {
		case gophercloud.ResponseCodeIs(err, 404):
			return
		case err != nil:
			t.Fatalf("get volume %s: %v", id, err)
		case vol.Status != "deleting" || time.Now().After(deadline):
			t.Fatalf("volume %s is %s; want it deleted", id, vol.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
