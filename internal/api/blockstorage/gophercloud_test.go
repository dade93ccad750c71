package blockstorage_test

import (
	"context"
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

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestGophercloud drives the block storage API with gophercloud's
// blockstorage/v3 packages over HTTP, finding the endpoint in the catalog
// as NewBlockStorageV3 does (type block-storage, URL with the project).
func TestGophercloud(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := apptest.New(t, apptest.Options{Database: database, Run: true})
		creds, err := app.ReadClouds(c.App.Config.CloudsFile())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
			IdentityEndpoint: c.URL() + "/identity/v3", Username: "admin", Password: creds.Password,
			TenantName: "admin", DomainID: "default"})
		if err != nil {
			t.Fatalf("authenticate: %v", err)
		}
		client, err := openstack.NewBlockStorageV3(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
		if err != nil {
			t.Fatalf("block storage endpoint: %v", err)
		}
		if !strings.HasPrefix(client.ResourceBaseURL(), c.URL()+"/volume/v3/") {
			t.Errorf("endpoint %s", client.ResourceBaseURL())
		}
		client.Microversion = "3.71"

		typ, err := volumetypes.Create(ctx, client, volumetypes.CreateOpts{Name: "fast", ExtraSpecs: map[string]string{"k": "v"}}).Extract()
		if err != nil {
			t.Fatalf("create type: %v", err)
		}
		pages, err := volumetypes.List(client, nil).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		types, err := volumetypes.ExtractVolumeTypes(pages)
		if err != nil || len(types) != 2 {
			t.Errorf("types %v %v", types, err)
		}

		vol, err := volumes.Create(ctx, client, volumes.CreateOpts{Size: 1, Name: "g1", VolumeType: typ.Name}, nil).Extract()
		if err != nil {
			t.Fatalf("create volume: %v", err)
		}
		if err := volumes.WaitForStatus(ctx, client, vol.ID, "available"); err != nil {
			t.Fatal(err)
		}
		vol, err = volumes.Get(ctx, client, vol.ID).Extract()
		if err != nil || vol.VolumeType != "fast" || vol.Size != 1 || vol.CreatedAt.IsZero() {
			t.Errorf("volume %+v %v", vol, err)
		}
		if err := volumes.ExtendSize(ctx, client, vol.ID, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if err := volumes.WaitForStatus(ctx, client, vol.ID, "available"); err != nil {
			t.Fatal(err)
		}
		pages, err = volumes.List(client, volumes.ListOpts{Name: "g1"}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		vols, err := volumes.ExtractVolumes(pages)
		if err != nil || len(vols) != 1 || vols[0].Size != 2 {
			t.Errorf("volumes %+v %v", vols, err)
		}

		// The attachments API: reserve, connect, complete, delete.
		server := "5a0fc2c4-0bd8-4e2b-a5b0-3c3b8d7e6a11"
		att, err := attachments.Create(ctx, client, attachments.CreateOpts{VolumeUUID: vol.ID, InstanceUUID: server}).Extract()
		if err != nil {
			t.Fatalf("create attachment: %v", err)
		}
		att, err = attachments.Update(ctx, client, att.ID, attachments.UpdateOpts{Connector: map[string]any{"host": "h", "mode": "rw"}}).Extract()
		if err != nil || att.ConnectionInfo == nil {
			t.Fatalf("update attachment %+v: %v", att, err)
		}
		if err := attachments.Complete(ctx, client, att.ID).ExtractErr(); err != nil {
			t.Fatalf("complete: %v", err)
		}
		if err := volumes.WaitForStatus(ctx, client, vol.ID, "in-use"); err != nil {
			t.Fatal(err)
		}
		pages, err = attachments.List(client, attachments.ListOpts{}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if all, err := attachments.ExtractAttachments(pages); err != nil || len(all) != 1 || all[0].Status != "attached" {
			t.Errorf("attachments %+v %v", all, err)
		}
		if err := attachments.Delete(ctx, client, att.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if err := volumes.WaitForStatus(ctx, client, vol.ID, "available"); err != nil {
			t.Fatal(err)
		}

		snap, err := snapshots.Create(ctx, client, snapshots.CreateOpts{VolumeID: vol.ID, Name: "s1"}).Extract()
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		if err := snapshots.WaitForStatus(ctx, client, snap.ID, "available"); err != nil {
			t.Fatal(err)
		}
		pages, err = snapshots.ListDetail(client, nil).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if snaps, err := snapshots.ExtractSnapshots(pages); err != nil || len(snaps) != 1 {
			t.Errorf("snapshots %+v %v", snaps, err)
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

		q, err := quotasets.GetUsage(ctx, client, projectOf(t, client)).Extract()
		if err != nil || q.Volumes.InUse != 1 || q.Gigabytes.InUse != 2 {
			t.Errorf("quota usage %+v %v", q, err)
		}
		if _, err := quotasets.Update(ctx, client, projectOf(t, client), quotasets.UpdateOpts{Volumes: gophercloud.IntToPointer(20)}).Extract(); err != nil {
			t.Errorf("quota update: %v", err)
		}
		l, err := limits.Get(ctx, client).Extract()
		if err != nil || l.Absolute.MaxTotalVolumes != 20 || l.Absolute.TotalVolumesUsed != 1 {
			t.Errorf("limits %+v %v", l, err)
		}
		pages, err = availabilityzones.List(client).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if zones, err := availabilityzones.ExtractAvailabilityZones(pages); err != nil || len(zones) != 1 || zones[0].ZoneName != "nova" {
			t.Errorf("zones %+v %v", zones, err)
		}

		if err := volumes.Delete(ctx, client, vol.ID, volumes.DeleteOpts{}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if err := gophercloud.WaitFor(ctx, func(ctx context.Context) (bool, error) {
			_, err := volumes.Get(ctx, client, vol.ID).Extract()
			return gophercloud.ResponseCodeIs(err, 404), nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := volumetypes.Delete(ctx, client, typ.ID).ExtractErr(); err != nil {
			t.Errorf("delete type: %v", err)
		}
	})
}

// projectOf is the project in the endpoint's URL.
func projectOf(t *testing.T, client *gophercloud.ServiceClient) string {
	t.Helper()
	parts := strings.Split(strings.TrimSuffix(client.ResourceBaseURL(), "/"), "/")
	return parts[len(parts)-1]
}
