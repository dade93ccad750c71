package networking_test

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/networkipavailabilities"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/kumocloud/kumo/internal/app/apptest"
)

// TestGophercloudQuotas drives quotas and network IP availability with
// gophercloud's packages.
func TestGophercloudQuotas(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, database string) {
		c := newCloud(t, database)
		client, ctx := adminNetworkClient(t, c), context.Background()
		project := c.MemberProject

		q, err := quotas.Get(ctx, client, project).Extract()
		if err != nil {
			t.Fatalf("get quota: %v", err)
		}
		if q.Network != 100 || q.Subnet != 100 || q.Port != 500 || q.Router != 10 || q.FloatingIP != 50 ||
			q.SecurityGroup != 10 || q.SecurityGroupRule != 100 {
			t.Errorf("default quota %+v", q)
		}
		five, unlimited := 5, -1
		q, err = quotas.Update(ctx, client, project, quotas.UpdateOpts{Network: &five, Router: &unlimited}).Extract()
		if err != nil {
			t.Fatalf("update quota: %v", err)
		}
		if q.Network != 5 || q.Router != -1 {
			t.Errorf("updated quota %+v", q)
		}
		if _, err := networks.Create(ctx, client, networks.CreateOpts{Name: "g1", TenantID: project}).Extract(); err != nil {
			t.Fatalf("create network: %v", err)
		}
		d, err := quotas.GetDetail(ctx, client, project).Extract()
		if err != nil {
			t.Fatalf("quota details: %v", err)
		}
		if d.Network.Limit != 5 || d.Network.Used < 1 || d.Network.Reserved != 0 || d.Subnet.Limit != 100 {
			t.Errorf("quota details %+v", d)
		}
		if err := quotas.Delete(ctx, client, project).ExtractErr(); err != nil {
			t.Fatalf("delete quota: %v", err)
		}
		if q, err := quotas.Get(ctx, client, project).Extract(); err != nil || q.Network != 100 {
			t.Errorf("quota after delete %+v, %v", q, err)
		}

		pages, err := networkipavailabilities.List(client, networkipavailabilities.ListOpts{NetworkName: "public"}).AllPages(ctx)
		if err != nil {
			t.Fatalf("list ip availabilities: %v", err)
		}
		avails, err := networkipavailabilities.ExtractNetworkIPAvailabilities(pages)
		if err != nil {
			t.Fatal(err)
		}
		if len(avails) != 1 || avails[0].TotalIPs != "253" || avails[0].UsedIPs != "0" || len(avails[0].SubnetIPAvailabilities) != 1 {
			t.Fatalf("public network's ip availability %+v", avails)
		}
		one, err := networkipavailabilities.Get(ctx, client, avails[0].NetworkID).Extract()
		if err != nil || one.NetworkName != "public" || one.SubnetIPAvailabilities[0].CIDR != "203.0.113.0/24" {
			t.Errorf("ip availability %+v, %v", one, err)
		}
	})
}
