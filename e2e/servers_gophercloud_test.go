package e2e

import (
	"context"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// TestServersGophercloud drives servers as a Go application would:
// create with networks "none" and "auto", wait, list with filters and
// pages, get, rename, metadata, addresses, delete.
func TestServersGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	c.Compute.Microversion = computeVersion
	ctx := context.Background()
	imageID := imageIDByName(t, c, "kumo-tiny")
	started := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)

	create := func(name string, networks any, metadata map[string]string) *servers.Server {
		t.Helper()
		srv, err := servers.Create(ctx, c.Compute, servers.CreateOpts{
			Name: name, ImageRef: imageID, FlavorRef: "1", Networks: networks, Metadata: metadata,
		}, nil).Extract()
		if err != nil {
			t.Fatalf("create server %s: %v", name, err)
		}
		if srv.ID == "" || srv.AdminPass == "" {
			t.Fatalf("create server %s answered %+v, want an id and an adminPass", name, srv)
		}
		return srv
	}
	none := create("gc-none", "none", map[string]string{"k0": "v0"})
	auto := create("gc-auto", "auto", nil)
	third := create("gc-third", "none", nil)

	t.Run("wait ACTIVE", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, serverWait)
		defer cancel()
		for _, id := range []string{none.ID, auto.ID, third.ID} {
			if err := servers.WaitForStatus(wctx, c.Compute, id, "ACTIVE"); err != nil {
				t.Fatalf("servers.WaitForStatus(%s, ACTIVE): %v (last: %s)", id, err, statusOf(gcGet(t, c, id)))
			}
		}
	})

	t.Run("get", func(t *testing.T) {
		got := gcGet(t, c, none.ID)
		if got.Name != "gc-none" || got.Status != "ACTIVE" || got.VmState != "active" || got.TaskState != "" || got.PowerState != servers.RUNNING {
			t.Errorf("get gc-none = %s, name %s power %d", statusOf(got), got.Name, got.PowerState)
		}
		if len(got.Addresses) != 0 {
			t.Errorf("gc-none has addresses %v, want none", got.Addresses)
		}
		// 2.37 predates 2.47's embedded flavor: Nova shows its id and links.
		if got.Flavor["id"] != "1" {
			t.Errorf("gc-none flavor = %v, want id 1 at microversion %s", got.Flavor, computeVersion)
		}
		if got.Image["id"] != imageID {
			t.Errorf("gc-none image = %v, want id %s", got.Image, imageID)
		}
		if got.Metadata["k0"] != "v0" || len(got.Metadata) != 1 {
			t.Errorf("gc-none metadata = %v, want k0=v0", got.Metadata)
		}
		if got.AdminPass != "" {
			t.Errorf("GET returned an adminPass")
		}
		if got.Created.IsZero() || time.Since(got.Created) > time.Hour {
			t.Errorf("gc-none created %v, want about now", got.Created)
		}
	})

	t.Run("addresses", func(t *testing.T) {
		got := gcGet(t, c, auto.ID)
		pages, err := servers.ListAddresses(c.Compute, auto.ID).AllPages(ctx)
		if err != nil {
			t.Fatalf("list addresses: %v", err)
		}
		addrs, err := servers.ExtractAddresses(pages)
		if err != nil {
			t.Fatalf("extract addresses: %v", err)
		}
		if len(addrs) != 1 {
			t.Fatalf("gc-auto addresses %v, want one network", addrs)
		}
		for network, list := range addrs {
			v4 := 0
			for _, a := range list {
				if ip := net.ParseIP(a.Address); ip == nil || (a.Version == 4) != (ip.To4() != nil) {
					t.Errorf("address %+v: not an IP of its version", a)
				} else if a.Version == 4 {
					v4++
				}
			}
			if v4 != 1 {
				t.Errorf("network %s addresses %+v, want one IPv4", network, list)
			}
			if _, ok := got.Addresses[network]; !ok {
				t.Errorf("GET server addresses %v lack network %s that /ips lists", got.Addresses, network)
			}
		}
	})

	t.Run("list filters", func(t *testing.T) {
		if names := serverNames(gcListAll(t, c.Compute, servers.ListOpts{})); !slices.Equal(names, []string{"gc-auto", "gc-none", "gc-third"}) {
			t.Errorf("list = %v, want the three servers", names)
		}
		if names := serverNames(gcListAll(t, c.Compute, servers.ListOpts{Name: "gc-a"})); !slices.Equal(names, []string{"gc-auto"}) {
			t.Errorf("list name=gc-a = %v, want gc-auto", names)
		}
		if names := serverNames(gcListAll(t, c.Compute, servers.ListOpts{Status: "ACTIVE"})); len(names) != 3 {
			t.Errorf("list status=ACTIVE = %v, want all three", names)
		}
		if names := serverNames(gcListAll(t, c.Compute, servers.ListOpts{Status: "SHUTOFF"})); len(names) != 0 {
			t.Errorf("list status=SHUTOFF = %v, want none", names)
		}
		if names := serverNames(gcListAll(t, c.Compute, servers.ListOpts{Image: imageID, Flavor: "1"})); len(names) != 3 {
			t.Errorf("list image=kumo-tiny flavor=1 = %v, want all three", names)
		}
		if names := serverNames(gcListAll(t, c.Compute, servers.ListOpts{Flavor: "2"})); len(names) != 0 {
			t.Errorf("list flavor=2 = %v, want none", names)
		}
	})

	t.Run("list pages", func(t *testing.T) {
		var pageSizes []int
		var ids []string
		err := servers.List(c.Compute, servers.ListOpts{Limit: 1}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			list, err := servers.ExtractServers(p)
			if err != nil {
				return false, err
			}
			pageSizes = append(pageSizes, len(list))
			for _, s := range list {
				ids = append(ids, s.ID)
			}
			return len(pageSizes) < 10, nil
		})
		if err != nil {
			t.Fatalf("page through servers: %v", err)
		}
		// Nova lists the newest first.
		want := []string{third.ID, auto.ID, none.ID}
		if !slices.Equal(ids, want) {
			t.Errorf("paged ids %v (page sizes %v), want %v newest first", ids, pageSizes, want)
		}
		for _, n := range pageSizes {
			if n > 1 {
				t.Errorf("page sizes %v with limit 1", pageSizes)
				break
			}
		}
		// An unknown marker is Nova's 400.
		_, err = servers.List(c.Compute, servers.ListOpts{Marker: "00000000-0000-0000-0000-000000000000"}).AllPages(ctx)
		if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "marker [00000000-0000-0000-0000-000000000000] not found") {
			t.Errorf("list with an unknown marker: err = %v, want Nova's 400 \"marker [...] not found\"", err)
		}
		// AllPages follows the same links.
		if all := gcListAll(t, c.Compute, servers.ListOpts{Limit: 2}); len(all) != 3 {
			t.Errorf("AllPages with limit 2 gave %v, want 3 servers", serverNames(all))
		}
		// Without details too.
		simple, err := servers.ListSimple(c.Compute, servers.ListOpts{Limit: 1}).AllPages(ctx)
		if err != nil {
			t.Fatalf("list servers (no details): %v", err)
		}
		if list, err := servers.ExtractServers(simple); err != nil || len(list) != 3 {
			t.Errorf("ListSimple with limit 1 gave %v (%v), want 3 servers", serverNames(list), err)
		}
	})

	t.Run("update name", func(t *testing.T) {
		updated, err := servers.Update(ctx, c.Compute, third.ID, servers.UpdateOpts{Name: "gc-renamed"}).Extract()
		if err != nil {
			t.Fatalf("update server: %v", err)
		}
		if updated.Name != "gc-renamed" || updated.ID != third.ID {
			t.Errorf("update answered name %s id %s", updated.Name, updated.ID)
		}
		if got := gcGet(t, c, third.ID); got.Name != "gc-renamed" {
			t.Errorf("name after update = %s", got.Name)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		id := none.ID
		check := func(step string, want map[string]string) {
			t.Helper()
			got, err := servers.Metadata(ctx, c.Compute, id).Extract()
			if err != nil {
				t.Fatalf("%s: get metadata: %v", step, err)
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s: metadata %v, want %v", step, got, want)
			}
		}
		check("after create", map[string]string{"k0": "v0"})

		merged, err := servers.UpdateMetadata(ctx, c.Compute, id, servers.MetadataOpts{"k1": "v1", "k0": "v0b"}).Extract()
		if err != nil {
			t.Fatalf("update metadata: %v", err)
		}
		if want := map[string]string{"k0": "v0b", "k1": "v1"}; !maps.Equal(merged, want) {
			t.Errorf("update metadata answered %v, want %v", merged, want)
		}
		check("after update", map[string]string{"k0": "v0b", "k1": "v1"})

		reset, err := servers.ResetMetadata(ctx, c.Compute, id, servers.MetadataOpts{"k2": "v2"}).Extract()
		if err != nil {
			t.Fatalf("reset metadata: %v", err)
		}
		if want := map[string]string{"k2": "v2"}; !maps.Equal(reset, want) {
			t.Errorf("reset metadata answered %v, want %v", reset, want)
		}
		check("after reset", map[string]string{"k2": "v2"})

		item, err := servers.CreateMetadatum(ctx, c.Compute, id, servers.MetadatumOpts{"k3": "v3"}).Extract()
		if err != nil || item["k3"] != "v3" {
			t.Fatalf("set metadata item: %v, %v", item, err)
		}
		one, err := servers.Metadatum(ctx, c.Compute, id, "k3").Extract()
		if err != nil || !maps.Equal(one, map[string]string{"k3": "v3"}) {
			t.Errorf("get metadata item k3: %v, %v", one, err)
		}
		if err := servers.DeleteMetadatum(ctx, c.Compute, id, "k2").ExtractErr(); err != nil {
			t.Fatalf("delete metadata item: %v", err)
		}
		check("after delete", map[string]string{"k3": "v3"})
		_, err = servers.Metadatum(ctx, c.Compute, id, "k2").Extract()
		if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			t.Errorf("get deleted metadata item: err = %v, want 404", err)
		}
		if got := gcGet(t, c, id); !maps.Equal(got.Metadata, map[string]string{"k3": "v3"}) {
			t.Errorf("server metadata in GET = %v, want k3=v3", got.Metadata)
		}
	})

	t.Run("delete", func(t *testing.T) {
		for _, id := range []string{none.ID, auto.ID, third.ID} {
			if err := servers.Delete(ctx, c.Compute, id).ExtractErr(); err != nil {
				t.Fatalf("delete server %s: %v", id, err)
			}
		}
		for _, id := range []string{none.ID, auto.ID, third.ID} {
			gcWaitGone(t, c.Compute, id)
		}
		if names := serverNames(gcListAll(t, c.Compute, servers.ListOpts{})); len(names) != 0 {
			t.Errorf("list after delete = %v, want none", names)
		}
		// changes-since also answers deleted servers, so clients can sync.
		since := gcListAll(t, c.Compute, servers.ListOpts{ChangesSince: started.Format(time.RFC3339)})
		for _, srv := range since {
			if srv.Status != "DELETED" {
				t.Errorf("list changes-since after deleting everything: %s is %s, want DELETED", srv.Name, srv.Status)
			}
		}
		if names := serverNames(since); !slices.Equal(names, []string{"gc-auto", "gc-none", "gc-renamed"}) {
			t.Errorf("list changes-since = %v, want the three deleted servers", names)
		}
		err := servers.Delete(ctx, c.Compute, none.ID).ExtractErr()
		if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			t.Errorf("delete of a deleted server: err = %v, want 404", err)
		}
	})
}

// gcGet reads one server, failing the test on an error.
func gcGet(t *testing.T, c *Clients, id string) *servers.Server {
	t.Helper()
	srv, err := servers.Get(context.Background(), c.Compute, id).Extract()
	if err != nil {
		t.Fatalf("get server %s: %v", id, err)
	}
	return srv
}
