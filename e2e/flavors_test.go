package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/kumocloud/kumo/internal/mv"
)

// The classic flavors a fresh kumo seeds, as Nova's defaults.
var classicFlavors = []struct {
	id, name        string
	ram, disk, vcpu int
}{
	{"1", "m1.tiny", 512, 1, 1},
	{"2", "m1.small", 2048, 20, 1},
	{"3", "m1.medium", 4096, 40, 2},
	{"4", "m1.large", 8192, 80, 4},
	{"5", "m1.xlarge", 16384, 160, 8},
}

func TestFlavorsCLI(t *testing.T) {
	t.Parallel()
	_, cli, c := startAdminClients(t)
	// flavorNamed checks a command's effect with gophercloud (no Python
	// start-up): the flavor named name, or nil.
	flavorNamed := func(t *testing.T, name string) *flavors.Flavor {
		t.Helper()
		pages, err := flavors.ListDetail(c.Compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(context.Background())
		if err != nil {
			t.Fatalf("list flavors: %v", err)
		}
		all, err := flavors.ExtractFlavors(pages)
		if err != nil {
			t.Fatal(err)
		}
		for i := range all {
			if all[i].Name == name {
				return &all[i]
			}
		}
		return nil
	}

	t.Run("list", func(t *testing.T) {
		var rows []obj
		cli.JSON(t, &rows, "flavor", "list")
		for _, want := range classicFlavors {
			r := findBy(rows, "Name", want.name)
			if r == nil {
				t.Fatalf("flavor list lacks %s: %v", want.name, rows)
			}
			if r.str(t, "ID") != want.id || int(r.num(t, "RAM")) != want.ram || int(r.num(t, "Disk")) != want.disk || int(r.num(t, "VCPUs")) != want.vcpu {
				t.Errorf("flavor list row %v, want id %s ram %d disk %d vcpus %d", r, want.id, want.ram, want.disk, want.vcpu)
			}
		}
	})

	t.Run("show m1.tiny", func(t *testing.T) {
		var f obj
		cli.JSON(t, &f, "flavor", "show", "m1.tiny")
		if f.str(t, "id") != "1" || f.str(t, "name") != "m1.tiny" || f.num(t, "ram") != 512 || f.num(t, "disk") != 1 || f.num(t, "vcpus") != 1 {
			t.Errorf("flavor show m1.tiny = %v", f)
		}
		if f["os-flavor-access:is_public"] != true {
			t.Errorf("m1.tiny is not public: %v", f)
		}
	})

	var id string
	t.Run("create f1", func(t *testing.T) {
		var f obj
		cli.JSON(t, &f, "flavor", "create", "--ram", "256", "--disk", "1", "--vcpus", "1", "f1")
		id = f.str(t, "id")
		if id == "" || f.str(t, "name") != "f1" || f.num(t, "ram") != 256 || f.num(t, "disk") != 1 || f.num(t, "vcpus") != 1 {
			t.Errorf("flavor create printed %v", f)
		}
		if f := flavorNamed(t, "f1"); f == nil || f.ID != id {
			t.Errorf("flavors after create: %+v, want f1 with id %s", f, id)
		}
	})

	t.Run("set property", func(t *testing.T) {
		cli.Run(t, "flavor", "set", "--property", "hw:cpu_policy=shared", "f1")
		specs, err := flavors.ListExtraSpecs(context.Background(), c.Compute, id).Extract()
		if err != nil || specs["hw:cpu_policy"] != "shared" {
			t.Errorf("extra specs after flavor set: %v (%v), want hw:cpu_policy=shared", specs, err)
		}
	})

	t.Run("set description", func(t *testing.T) {
		if max := advertisedMax(t); !max.AtLeast(mv.V2_55) {
			t.Skipf("kumo advertises compute API up to %s; flavor descriptions need 2.55", max)
		}
		cli.Run(t, "--os-compute-api-version", "2.55", "flavor", "set", "--description", "for tests", "f1")
		compute := *c.Compute
		compute.Microversion = "2.55"
		if f, err := flavors.Get(context.Background(), &compute, id).Extract(); err != nil || f.Description != "for tests" {
			t.Errorf("description after flavor set: %+v (%v)", f, err)
		}
	})

	t.Run("delete f1", func(t *testing.T) {
		cli.Run(t, "flavor", "delete", "f1")
		if f := flavorNamed(t, "f1"); f != nil {
			t.Errorf("f1 still listed after delete: %+v", f)
		}
		if stderr := cli.Fail(t, "flavor", "show", "f1"); !strings.Contains(stderr, "No Flavor found for f1") {
			t.Errorf("flavor show of the deleted f1 failed with:\n%s", stderr)
		}
	})
}

func TestFlavorsGophercloud(t *testing.T) {
	t.Parallel()
	s, _ := startAdmin(t)
	c := NewClients(t, s.CloudsFile(), "kumo")
	ctx := context.Background()

	pages, err := flavors.ListDetail(c.Compute, flavors.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatalf("list flavors: %v", err)
	}
	list, err := flavors.ExtractFlavors(pages)
	if err != nil {
		t.Fatalf("extract flavors: %v", err)
	}
	byID := map[string]flavors.Flavor{}
	for _, f := range list {
		byID[f.ID] = f
	}
	for _, want := range classicFlavors {
		f, ok := byID[want.id]
		if !ok || f.Name != want.name || f.RAM != want.ram || f.Disk != want.disk || f.VCPUs != want.vcpu || !f.IsPublic {
			t.Errorf("flavor %s = %+v (found %v), want %+v", want.id, f, ok, want)
		}
	}

	tiny, err := flavors.Get(ctx, c.Compute, "1").Extract()
	if err != nil {
		t.Fatalf("get flavor 1: %v", err)
	}
	if tiny.Name != "m1.tiny" || tiny.RAM != 512 {
		t.Errorf("flavor 1 = %+v", tiny)
	}

	disk := 2
	created, err := flavors.Create(ctx, c.Compute, flavors.CreateOpts{Name: "gc-flavor", RAM: 128, VCPUs: 2, Disk: &disk}).Extract()
	if err != nil {
		t.Fatalf("create flavor: %v", err)
	}
	if created.ID == "" || created.Name != "gc-flavor" || created.RAM != 128 || created.VCPUs != 2 || created.Disk != 2 || !created.IsPublic {
		t.Errorf("created flavor = %+v", created)
	}
	got, err := flavors.Get(ctx, c.Compute, created.ID).Extract()
	if err != nil || got.Name != "gc-flavor" {
		t.Fatalf("get created flavor: %+v, %v", got, err)
	}
	if err := flavors.Delete(ctx, c.Compute, created.ID).ExtractErr(); err != nil {
		t.Fatalf("delete flavor: %v", err)
	}
	_, err = flavors.Get(ctx, c.Compute, created.ID).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get deleted flavor: err = %v, want 404", err)
	}
}
