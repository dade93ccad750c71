package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/attachments"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
)

// TestVolumeCLI drives the block storage API with the openstack CLI,
// which finds it in the catalog (block-storage / volumev3) and negotiates
// its microversion from the version document: volumes, snapshots, types
// and quotas.
func TestVolumeCLI(t *testing.T) {
	t.Parallel()
	s, cli := startAdmin(t, "--volume-capacity-gb", "20")
	t.Run("gophercloud", func(t *testing.T) { volumeGophercloud(t, s) })

	var vol obj
	cli.JSON(t, &vol, "volume", "create", "--size", "1", "--property", "purpose=e2e", "cli-vol")
	id := vol.str(t, "id")
	waitVolume(t, cli, id, "available")

	var vols []obj
	cli.JSON(t, &vols, "volume", "list")
	if row := findBy(vols, "ID", id); row == nil || row.str(t, "Name") != "cli-vol" || row.num(t, "Size") != 1 {
		t.Fatalf("volume list %v", vols)
	}
	cli.Run(t, "volume", "set", "--name", "cli-vol2", "--description", "described", "--size", "2", "--property", "k=v", id)
	waitVolume(t, cli, id, "available")
	var shown obj
	cli.JSON(t, &shown, "volume", "show", id)
	if shown.str(t, "name") != "cli-vol2" || shown.str(t, "description") != "described" || shown.num(t, "size") != 2 {
		t.Errorf("volume show %v", shown)
	}
	// The CLI names the metadata "properties" or, through the SDK,
	// "metadata".
	if p := fmt.Sprint(shown["properties"], shown["metadata"]); !strings.Contains(p, "k") || !strings.Contains(p, "purpose") {
		t.Errorf("volume show %v: no metadata", shown)
	}

	var snap obj
	cli.JSON(t, &snap, "volume", "snapshot", "create", "--volume", id, "cli-snap")
	sid := snap.str(t, "id")
	waitFor(t, func() bool {
		var s obj
		cli.JSON(t, &s, "volume", "snapshot", "show", sid)
		return s.str(t, "status") == "available"
	})
	var snaps []obj
	cli.JSON(t, &snaps, "volume", "snapshot", "list")
	if findBy(snaps, "ID", sid) == nil {
		t.Errorf("snapshot list %v", snaps)
	}
	// A volume with snapshots cannot go.
	if msg := cli.Fail(t, "volume", "delete", id); !strings.Contains(msg, "snapshots") {
		t.Errorf("delete with snapshots: %s", msg)
	}
	cli.Run(t, "volume", "snapshot", "delete", sid)

	var typ obj
	cli.JSON(t, &typ, "volume", "type", "create", "--property", "volume_backend_name=kumo", "--private", "gold")
	var types []obj
	cli.JSON(t, &types, "volume", "type", "list")
	if findBy(types, "Name", "__DEFAULT__") == nil {
		t.Errorf("type list %v", types)
	}
	var all []obj
	cli.JSON(t, &all, "volume", "type", "list", "--long", "--private")
	if findBy(all, "Name", "gold") == nil {
		t.Errorf("private types %v", all)
	}

	// quota show asks compute, block storage and networking; the
	// volume rows are Cinder's.
	out := cli.Run(t, "quota", "show", "-f", "json")
	for _, want := range []string{"volumes", "gigabytes", "snapshots"} {
		if !strings.Contains(out, want) {
			t.Errorf("quota show lacks %s: %s", want, out)
		}
	}

	waitFor(t, func() bool { return cli.Exec("volume", "delete", id).Err == nil })
	waitFor(t, func() bool {
		var vols []obj
		cli.JSON(t, &vols, "volume", "list")
		return findBy(vols, "ID", id) == nil
	})
	cli.Run(t, "volume", "type", "delete", "gold")
}

// waitVolume waits until the CLI shows the volume in status.
func waitVolume(t *testing.T, cli *CLI, id, status string) {
	t.Helper()
	waitFor(t, func() bool {
		var v obj
		cli.JSON(t, &v, "volume", "show", id)
		if s := v.str(t, "status"); s == "error" {
			t.Fatalf("volume %s went to error", id)
		}
		return v.str(t, "status") == status
	})
}

// waitFor polls cond for a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// volumeGophercloud drives the same kumo with gophercloud's
// blockstorage/v3 packages: the endpoint from the catalog
// (NewBlockStorageV3), a volume through the attachments API, a snapshot,
// quota usage, limits and zones.
func volumeGophercloud(t *testing.T, s *Server) {
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, err := openstack.NewBlockStorageV3(c.Provider, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatalf("block storage endpoint: %v", err)
	}
	client.Microversion = "3.44"
	vol, err := volumes.Create(ctx, client, volumes.CreateOpts{Size: 1, Name: "gc-vol"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := volumes.WaitForStatus(ctx, client, vol.ID, "available"); err != nil {
		t.Fatal(err)
	}
	att, err := attachments.Create(ctx, client, attachments.CreateOpts{VolumeUUID: vol.ID,
		InstanceUUID: "0b8e3c84-9a8f-4a43-a0a0-0d0c6c3b7e51", Connector: map[string]any{"host": "e2e"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := attachments.Complete(ctx, client, att.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := volumes.WaitForStatus(ctx, client, vol.ID, "in-use"); err != nil {
		t.Fatal(err)
	}
	if err := attachments.Delete(ctx, client, att.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshots.Create(ctx, client, snapshots.CreateOpts{VolumeID: vol.ID, Name: "gc-snap"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshots.WaitForStatus(ctx, client, snap.ID, "available"); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimSuffix(client.ResourceBaseURL(), "/"), "/")
	q, err := quotasets.GetUsage(ctx, client, parts[len(parts)-1]).Extract()
	if err != nil || q.Volumes.InUse < 1 || q.Snapshots.InUse < 1 {
		t.Errorf("quota usage %+v %v", q, err)
	}
	if l, err := limits.Get(ctx, client).Extract(); err != nil || l.Absolute.MaxTotalVolumes != 10 {
		t.Errorf("limits %+v %v", l, err)
	}
	pages, err := availabilityzones.List(client).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if zones, err := availabilityzones.ExtractAvailabilityZones(pages); err != nil || len(zones) != 1 {
		t.Errorf("zones %+v %v", zones, err)
	}
	pages, err = volumetypes.List(client, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if types, err := volumetypes.ExtractVolumeTypes(pages); err != nil || len(types) == 0 {
		t.Errorf("types %+v %v", types, err)
	}
	if err := snapshots.Delete(ctx, client, snap.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := gophercloud.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		_, err := snapshots.Get(ctx, client, snap.ID).Extract()
		return gophercloud.ResponseCodeIs(err, 404), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := volumes.Delete(ctx, client, vol.ID, volumes.DeleteOpts{}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}
