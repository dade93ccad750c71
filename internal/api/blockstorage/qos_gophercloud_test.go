package blockstorage_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/qos"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"

	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestGophercloudQoSAndEncryption makes the calls of the Terraform
// provider's openstack_blockstorage_qos_v3 and
// openstack_blockstorage_qos_association_v3 (gophercloud's qos package)
// and of gophercloud's volume type encryption calls.
func TestGophercloudQoSAndEncryption(t *testing.T) {
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
			t.Fatal(err)
		}

		// The resource's create, read, update (delete the old keys, then
		// set the new specs and consumer) and delete.
		q, err := qos.Create(ctx, client, qos.CreateOpts{Name: "tf", Consumer: qos.ConsumerFront, Specs: map[string]string{"read_iops_sec": "20"}}).Extract()
		if err != nil || q.Consumer != "front-end" || q.Specs["read_iops_sec"] != "20" {
			t.Fatalf("create: %+v, %v", q, err)
		}
		if err := qos.DeleteKeys(ctx, client, q.ID, qos.DeleteKeysOpts{"read_iops_sec"}).ExtractErr(); err != nil {
			t.Fatalf("delete keys: %v", err)
		}
		specs, err := qos.Update(ctx, client, q.ID, qos.UpdateOpts{Consumer: qos.ConsumerBoth, Specs: map[string]string{"write_iops_sec": "40"}}).Extract()
		if err != nil || specs["write_iops_sec"] != "40" {
			t.Fatalf("update: %v, %v", specs, err)
		}
		got, err := qos.Get(ctx, client, q.ID).Extract()
		if err != nil || got.Consumer != "both" || len(got.Specs) != 1 || got.Specs["write_iops_sec"] != "40" {
			t.Fatalf("get: %+v, %v", got, err)
		}
		pages, err := qos.List(client, nil).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if all, err := qos.ExtractQoS(pages); err != nil || len(all) != 1 || all[0].ID != q.ID {
			t.Fatalf("list: %+v, %v", all, err)
		}

		// The association resource.
		typ, err := volumetypes.Create(ctx, client, volumetypes.CreateOpts{Name: "tf-type"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if err := qos.Associate(ctx, client, q.ID, qos.AssociateOpts{VolumeTypeID: typ.ID}).ExtractErr(); err != nil {
			t.Fatalf("associate: %v", err)
		}
		pages, err = qos.ListAssociations(client, q.ID).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if as, err := qos.ExtractAssociations(pages); err != nil || len(as) != 1 || as[0].ID != typ.ID || as[0].Name != "tf-type" || as[0].AssociationType != "volume_type" {
			t.Fatalf("associations: %+v, %v", as, err)
		}
		if vt, err := volumetypes.Get(ctx, client, typ.ID).Extract(); err != nil || vt.QosSpecID != q.ID {
			t.Fatalf("type: %+v, %v", vt, err)
		}
		if err := qos.Disassociate(ctx, client, q.ID, qos.DisassociateOpts{VolumeTypeID: typ.ID}).ExtractErr(); err != nil {
			t.Fatalf("disassociate: %v", err)
		}
		if err := qos.DisassociateAll(ctx, client, q.ID).ExtractErr(); err != nil {
			t.Fatalf("disassociate all: %v", err)
		}
		if err := qos.Delete(ctx, client, q.ID, qos.DeleteOpts{}).ExtractErr(); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := qos.Get(ctx, client, q.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
			t.Fatalf("get after delete: %v", err)
		}

		// Encryption of the type.
		enc, err := volumetypes.CreateEncryption(ctx, client, typ.ID, volumetypes.CreateEncryptionOpts{KeySize: 256, Provider: "luks",
			ControlLocation: "front-end", Cipher: "aes-xts-plain64"}).Extract()
		if err != nil || enc.VolumeTypeID != typ.ID || enc.EncryptionID == "" || enc.KeySize != 256 {
			t.Fatalf("create encryption: %+v, %v", enc, err)
		}
		shown, err := volumetypes.GetEncryption(ctx, client, typ.ID).Extract()
		if err != nil || shown.Provider != "luks" || shown.EncryptionID != enc.EncryptionID {
			t.Fatalf("get encryption: %+v, %v", shown, err)
		}
		if _, err := volumetypes.UpdateEncryption(ctx, client, typ.ID, enc.EncryptionID, volumetypes.UpdateEncryptionOpts{KeySize: 128,
			Provider: "luks", ControlLocation: "back-end", Cipher: "aes-xts-plain64"}).Extract(); err != nil {
			t.Fatalf("update encryption: %v", err)
		}
		spec, err := volumetypes.GetEncryptionSpec(ctx, client, typ.ID, "control_location").Extract()
		if err != nil || spec["control_location"] != "back-end" {
			t.Fatalf("encryption spec: %v, %v", spec, err)
		}
		if err := volumetypes.DeleteEncryption(ctx, client, typ.ID, enc.EncryptionID).ExtractErr(); err != nil {
			t.Fatalf("delete encryption: %v", err)
		}
	})
}
