package flavor_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

var (
	admin  = flavor.Viewer{ProjectID: "admin", Admin: true}
	userP1 = flavor.Viewer{ProjectID: "p1"}
	userP2 = flavor.Viewer{ProjectID: "p2"}
)

func seeded(t *testing.T, db *store.DB) *flavor.Service {
	t.Helper()
	s := flavor.New(db)
	if err := s.SeedDefaults(context.Background()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return s
}

func ids(fs []*flavor.Flavor) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSeedDefaults(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := seeded(t, db)
		if err := s.SeedDefaults(ctx); err != nil {
			t.Fatalf("second seed: %v", err)
		}
		all, err := s.List(ctx, admin, flavor.ListOptions{Visibility: flavor.AllFlavors, Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(all); !equal(got, []string{"1", "2", "3", "4", "5"}) {
			t.Fatalf("seeded ids %v", got)
		}
		want := map[string][3]int{"1": {1, 512, 1}, "2": {1, 2048, 20}, "3": {2, 4096, 40}, "4": {4, 8192, 80}, "5": {8, 16384, 160}}
		names := map[string]string{"1": "m1.tiny", "2": "m1.small", "3": "m1.medium", "4": "m1.large", "5": "m1.xlarge"}
		for _, f := range all {
			if w := want[f.ID]; f.VCPUs != w[0] || f.RAM != w[1] || f.Disk != w[2] || f.Name != names[f.ID] || !f.IsPublic || f.RxTxFactor != 1 {
				t.Errorf("flavor %s = %+v", f.ID, f)
			}
		}
	})
}

func TestCreateAndConflicts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := seeded(t, db)
		desc := "small one"
		f, err := s.Create(ctx, flavor.CreateInput{Name: "x1", VCPUs: 2, RAM: 1024, Disk: 10, Swap: 512, Ephemeral: 5, IsPublic: true, Description: &desc})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.ID) != 36 || f.RxTxFactor != 1 || f.Swap != 512 || f.Ephemeral != 5 || *f.Description != desc {
			t.Fatalf("created %+v", f)
		}
		cases := []struct {
			name string
			in   flavor.CreateInput
			kind errs.Kind
		}{
			{"duplicate id", flavor.CreateInput{ID: "1", Name: "other", VCPUs: 1, RAM: 1}, errs.KindConflict},
			{"duplicate name", flavor.CreateInput{ID: "99", Name: "m1.tiny", VCPUs: 1, RAM: 1}, errs.KindConflict},
			{"zero ram", flavor.CreateInput{Name: "z", VCPUs: 1, RAM: 0}, errs.KindInvalid},
			{"zero vcpus", flavor.CreateInput{Name: "z", VCPUs: 0, RAM: 1}, errs.KindInvalid},
			{"negative disk", flavor.CreateInput{Name: "z", VCPUs: 1, RAM: 1, Disk: -1}, errs.KindInvalid},
			{"blank name", flavor.CreateInput{Name: "  ", VCPUs: 1, RAM: 1}, errs.KindInvalid},
			{"rxtx too big", flavor.CreateInput{Name: "z", VCPUs: 1, RAM: 1, RxTxFactor: 1e39}, errs.KindInvalid},
		}
		for _, c := range cases {
			if _, err := s.Create(ctx, c.in); errs.KindOf(err) != c.kind {
				t.Errorf("%s: err %v, want kind %v", c.name, err, c.kind)
			}
		}
	})
}

func TestVisibilityAndAccess(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := seeded(t, db)
		if _, err := s.Create(ctx, flavor.CreateInput{ID: "p", Name: "private", VCPUs: 1, RAM: 64}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, userP1, "p"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("private flavor visible without access: %v", err)
		}
		if _, err := s.Get(ctx, admin, "p"); err != nil {
			t.Fatalf("admin get: %v", err)
		}
		if f, err := s.GetAny(ctx, "p"); err != nil || f.Name != "private" || f.IsPublic {
			t.Fatalf("GetAny: %+v %v", f, err)
		}
		if _, err := s.GetAny(ctx, "missing"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("GetAny of a missing flavor: %v", err)
		}
		got, err := s.AddAccess(ctx, "p", "p1")
		if err != nil || !equal(got, []string{"p1"}) {
			t.Fatalf("add access: %v %v", got, err)
		}
		if _, err := s.AddAccess(ctx, "p", "p1"); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("duplicate access: %v", err)
		}
		if _, err := s.AddAccess(ctx, "nope", "p1"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("access to missing flavor: %v", err)
		}
		if _, err := s.Get(ctx, userP1, "p"); err != nil {
			t.Fatalf("granted project cannot see flavor: %v", err)
		}
		list1, _ := s.List(ctx, userP1, flavor.ListOptions{Limit: -1})
		list2, _ := s.List(ctx, userP2, flavor.ListOptions{Limit: -1})
		if len(list1) != 6 || len(list2) != 5 {
			t.Fatalf("p1 sees %v, p2 sees %v", ids(list1), ids(list2))
		}
		private, _ := s.List(ctx, admin, flavor.ListOptions{Visibility: flavor.PrivateOnly, Limit: -1})
		if !equal(ids(private), []string{"p"}) {
			t.Fatalf("private-only listing %v", ids(private))
		}
		def, _ := s.List(ctx, admin, flavor.ListOptions{Limit: -1})
		if len(def) != 5 {
			t.Fatalf("admin default listing should be public only (admin project has no grant): %v", ids(def))
		}
		if _, err := s.RemoveAccess(ctx, "p", "p2"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("remove missing access: %v", err)
		}
		left, err := s.RemoveAccess(ctx, "p", "p1")
		if err != nil || len(left) != 0 {
			t.Fatalf("remove access: %v %v", left, err)
		}
		if err := s.Delete(ctx, "p"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "p"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestListFiltersSortAndPaging(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := seeded(t, db)
		n := func(v int) *int { return &v }
		cases := []struct {
			name string
			o    flavor.ListOptions
			want []string
		}{
			{"default", flavor.ListOptions{Limit: -1}, []string{"1", "2", "3", "4", "5"}},
			{"minRam", flavor.ListOptions{MinRAM: n(4096), Limit: -1}, []string{"3", "4", "5"}},
			{"minDisk", flavor.ListOptions{MinDisk: n(80), Limit: -1}, []string{"4", "5"}},
			{"name regex", flavor.ListOptions{Name: regexp.MustCompile(`l`), Limit: -1}, []string{"2", "4", "5"}},
			{"sort ram desc", flavor.ListOptions{SortKey: "memory_mb", SortDesc: true, Limit: -1}, []string{"5", "4", "3", "2", "1"}},
			{"sort name", flavor.ListOptions{SortKey: "name", Limit: -1}, []string{"4", "3", "2", "1", "5"}},
			{"limit", flavor.ListOptions{Limit: 2}, []string{"1", "2"}},
			{"marker", flavor.ListOptions{Limit: 2, Marker: "2"}, []string{"3", "4"}},
			{"marker sorted desc", flavor.ListOptions{SortKey: "vcpus", SortDesc: true, Limit: -1, Marker: "3"}, []string{"2", "1"}},
			{"marker outside filter", flavor.ListOptions{MinRAM: n(8192), Limit: -1, Marker: "1"}, []string{"4", "5"}},
			{"limit zero", flavor.ListOptions{Limit: 0}, []string{}},
		}
		for _, c := range cases {
			got, err := s.List(ctx, userP1, c.o)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !equal(ids(got), c.want) {
				t.Errorf("%s: got %v, want %v", c.name, ids(got), c.want)
			}
		}
		if _, err := s.List(ctx, userP1, flavor.ListOptions{Marker: "nope", Limit: -1}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("unknown marker: %v", err)
		}
	})
}

func TestExtraSpecsAndDescription(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := seeded(t, db)
		specs, err := s.SetExtraSpecs(ctx, "1", map[string]string{"hw:cpu_policy": "shared", "hw:numa_nodes": "1"})
		if err != nil || len(specs) != 2 {
			t.Fatalf("set specs: %v %v", specs, err)
		}
		if _, err := s.SetExtraSpecs(ctx, "1", map[string]string{"hw:numa_nodes": "2"}); err != nil {
			t.Fatal(err)
		}
		f, err := s.Get(ctx, userP1, "1")
		if err != nil || f.ExtraSpecs["hw:numa_nodes"] != "2" || f.ExtraSpecs["hw:cpu_policy"] != "shared" {
			t.Fatalf("specs after update: %v %v", f, err)
		}
		if err := s.DeleteExtraSpec(ctx, "1", "hw:cpu_policy"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteExtraSpec(ctx, "1", "hw:cpu_policy"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("delete missing spec: %v", err)
		}
		if _, err := s.SetExtraSpecs(ctx, "nope", map[string]string{"a": "b"}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("specs of missing flavor: %v", err)
		}
		d := "described"
		f, err = s.UpdateDescription(ctx, "2", &d)
		if err != nil || f.Description == nil || *f.Description != d {
			t.Fatalf("update description: %+v %v", f, err)
		}
		f, err = s.UpdateDescription(ctx, "2", nil)
		if err != nil || f.Description != nil {
			t.Fatalf("clear description: %+v %v", f, err)
		}
		if _, err := s.UpdateDescription(ctx, "nope", &d); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("update missing flavor: %v", err)
		}
		// Deleting a flavor drops its specs, so a new one with the same id starts clean.
		if err := s.Delete(ctx, "1"); err != nil {
			t.Fatal(err)
		}
		f, err = s.Create(ctx, flavor.CreateInput{ID: "1", Name: "again", VCPUs: 1, RAM: 1})
		if err != nil || len(f.ExtraSpecs) != 0 {
			t.Fatalf("recreated flavor: %+v %v", f, err)
		}
	})
}

func TestValidateExtraSpec(t *testing.T) {
	t.Parallel()
	cases := []struct {
		key, value string
		ok         bool
	}{
		{"hw:cpu_policy", "dedicated", true},
		{"hw:cpu_policy", "bogus", false},
		{"hw:mem_page_size", "large", true},
		{"hw:mem_page_size", "2MB", true},
		{"hw:mem_page_size", "huge", false},
		{"hw:numa_nodes", "2", true},
		{"hw:numa_nodes", "two", false},
		{"hw:numa_cpus.0", "0-3", true},
		{"hw:no_such_thing", "1", false},
		{"quota:cpu_shares", "1024", true},
		{"quota:cpu_shares", "-1", false},
		{"quota:bogus", "1", false},
		{"resources:VCPU", "2", true},
		{"resources1:CUSTOM_GPU", "1", true},
		{"resources:VCPU", "x", false},
		{"trait:HW_CPU_X86_AVX", "required", true},
		{"trait:CUSTOM_FOO", "forbidden", true},
		{"trait:HW_CPU_X86_AVX", "maybe", false},
		{"hw_rng:allowed", "True", true},
		{"hw_rng:allowed", "sometimes", false},
		{"hide_hypervisor_id", "true", true},
		{"custom:anything", "goes", true},
		{"no_namespace_key", "goes", true},
	}
	for _, c := range cases {
		err := flavor.ValidateExtraSpec(c.key, c.value)
		if (err == nil) != c.ok {
			t.Errorf("%s=%s: err %v, want ok=%v", c.key, c.value, err, c.ok)
		}
		if err != nil && !errs.Is(err, errs.KindInvalid) {
			t.Errorf("%s: error kind %v", c.key, errs.KindOf(err))
		}
	}
}
