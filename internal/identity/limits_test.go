package identity

import (
	"testing"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

var imageService = ServiceID("image")

func (f *fixture) registered(t *testing.T, region, resource string, def int64) *RegisteredLimit {
	t.Helper()
	out, err := f.svc.CreateRegisteredLimits(f.ctx, []RegisteredLimit{{ServiceID: imageService, RegionID: region, ResourceName: resource, DefaultLimit: def}})
	if err != nil {
		t.Fatalf("register %s/%s: %v", region, resource, err)
	}
	return &out[0]
}

func (f *fixture) limit(t *testing.T, project, region, resource string, v int64) *Limit {
	t.Helper()
	out, err := f.svc.CreateLimits(f.ctx, []Limit{{ProjectID: project, ServiceID: imageService, RegionID: region, ResourceName: resource, ResourceLimit: v}})
	if err != nil {
		t.Fatalf("limit %s/%s: %v", region, resource, err)
	}
	return &out[0]
}

func TestRegisteredLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		desc := "Number of images"
		out, err := f.svc.CreateRegisteredLimits(f.ctx, []RegisteredLimit{
			{ServiceID: imageService, ResourceName: "image_count_total", DefaultLimit: 10, Description: &desc},
			{ServiceID: imageService, RegionID: Region, ResourceName: "image_count_total", DefaultLimit: 5},
		})
		if err != nil || len(out) != 2 || out[0].ID == "" || out[1].RegionID != Region {
			t.Fatalf("create: %+v %v", out, err)
		}
		for _, tc := range []struct {
			name string
			in   RegisteredLimit
			want errs.Kind
		}{
			{"duplicate without region", RegisteredLimit{ServiceID: imageService, ResourceName: "image_count_total", DefaultLimit: 1}, errs.KindConflict},
			{"duplicate in a region", RegisteredLimit{ServiceID: imageService, RegionID: Region, ResourceName: "image_count_total"}, errs.KindConflict},
			{"unknown service", RegisteredLimit{ServiceID: "nope", ResourceName: "x"}, errs.KindInvalid},
			{"unknown region", RegisteredLimit{ServiceID: imageService, RegionID: "RegionTwo", ResourceName: "x"}, errs.KindInvalid},
		} {
			_, err := f.svc.CreateRegisteredLimits(f.ctx, []RegisteredLimit{{ServiceID: imageService, ResourceName: "fresh"}, tc.in})
			if !errs.Is(err, tc.want) {
				t.Errorf("%s: %v, want kind %d", tc.name, err, tc.want)
			}
		}
		// A refused batch creates nothing.
		if got, _ := f.svc.ListRegisteredLimits(f.ctx, LimitFilter{ResourceName: ptr("fresh")}); len(got) != 0 {
			t.Fatalf("half a batch was created: %+v", got)
		}
		got, err := f.svc.ListRegisteredLimits(f.ctx, LimitFilter{RegionID: ptr(Region)})
		if err != nil || len(got) != 1 || got[0].DefaultLimit != 5 {
			t.Fatalf("list by region: %+v %v", got, err)
		}
		all, _ := f.svc.ListRegisteredLimits(f.ctx, LimitFilter{ServiceID: ptr(imageService)})
		if len(all) != 2 || all[0].ID != out[0].ID || *all[0].Description != desc {
			t.Fatalf("list in creation order: %+v", all)
		}

		// Moving one onto the other's service, region and resource is a 409.
		_, err = f.svc.UpdateRegisteredLimit(f.ctx, out[1].ID, RegisteredLimitPatch{SetRegion: true})
		wantKind(t, err, errs.KindConflict)
		up, err := f.svc.UpdateRegisteredLimit(f.ctx, out[1].ID, RegisteredLimitPatch{DefaultLimit: ptr(int64(0)), SetDescription: true, Description: &desc})
		if err != nil || up.DefaultLimit != 0 || *up.Description != desc || up.RegionID != Region {
			t.Fatalf("update: %+v %v", up, err)
		}
		_, err = f.svc.UpdateRegisteredLimit(f.ctx, "missing", RegisteredLimitPatch{DefaultLimit: ptr(int64(1))})
		wantKind(t, err, errs.KindNotFound)
		_, err = f.svc.UpdateRegisteredLimit(f.ctx, out[1].ID, RegisteredLimitPatch{ServiceID: ptr("nope")})
		wantKind(t, err, errs.KindInvalid)

		// A registered limit a project limit overrides cannot change or go.
		p := f.project(t, "p1")
		f.limit(t, p.ID, Region, "image_count_total", 7)
		_, err = f.svc.UpdateRegisteredLimit(f.ctx, out[1].ID, RegisteredLimitPatch{DefaultLimit: ptr(int64(3))})
		wantKind(t, err, errs.KindForbidden)
		wantKind(t, f.svc.DeleteRegisteredLimit(f.ctx, out[1].ID), errs.KindForbidden)
		if err := f.svc.DeleteRegisteredLimit(f.ctx, out[0].ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetRegisteredLimit(f.ctx, out[0].ID)
		wantKind(t, err, errs.KindNotFound)
	})
}

func TestLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.registered(t, "", "image_size_total", 1000)
		p1, p2 := f.project(t, "p1"), f.project(t, "p2")
		l1 := f.limit(t, p1.ID, "", "image_size_total", 10)
		if l1.ServiceID != imageService || l1.ResourceName != "image_size_total" || l1.DomainID != "" {
			t.Fatalf("limit: %+v", l1)
		}
		// A project id that is a domain's makes a domain limit.
		dl := f.limit(t, DefaultDomainID, "", "image_size_total", 20)
		if dl.DomainID != DefaultDomainID || dl.ProjectID != "" {
			t.Fatalf("domain limit: %+v", dl)
		}
		for _, tc := range []struct {
			name string
			in   Limit
			want errs.Kind
		}{
			{"duplicate", Limit{ProjectID: p1.ID, ServiceID: imageService, ResourceName: "image_size_total"}, errs.KindConflict},
			{"no registered limit", Limit{ProjectID: p1.ID, ServiceID: imageService, ResourceName: "image_count_total"}, errs.KindForbidden},
			{"registered in no region only", Limit{ProjectID: p2.ID, ServiceID: imageService, RegionID: Region, ResourceName: "image_size_total"}, errs.KindForbidden},
			{"unknown project", Limit{ProjectID: "nope", ServiceID: imageService, ResourceName: "image_size_total"}, errs.KindInvalid},
			{"unknown domain", Limit{DomainID: "nope", ServiceID: imageService, ResourceName: "image_size_total"}, errs.KindInvalid},
			{"unknown service", Limit{ProjectID: p2.ID, ServiceID: "nope", ResourceName: "image_size_total"}, errs.KindInvalid},
		} {
			_, err := f.svc.CreateLimits(f.ctx, []Limit{tc.in})
			if !errs.Is(err, tc.want) {
				t.Errorf("%s: %v, want kind %d", tc.name, err, tc.want)
			}
		}
		l2 := f.limit(t, p2.ID, "", "image_size_total", 30)

		for _, tc := range []struct {
			name   string
			viewer *auth.Principal
			want   []string
		}{
			{"admin", &auth.Principal{ProjectID: f.adminProject, Roles: []string{"admin"}}, []string{l1.ID, dl.ID, l2.ID}},
			{"service role", &auth.Principal{ProjectID: "x", Roles: []string{"service"}}, []string{l1.ID, dl.ID, l2.ID}},
			{"project member", &auth.Principal{ProjectID: p1.ID, Roles: []string{"member"}}, []string{l1.ID}},
			{"domain scope", &auth.Principal{DomainID: DefaultDomainID, Roles: []string{"reader"}}, []string{l1.ID, dl.ID, l2.ID}},
			{"other domain scope", &auth.Principal{DomainID: "elsewhere", Roles: []string{"reader"}}, nil},
			{"unscoped", &auth.Principal{UserID: "u"}, nil},
		} {
			got, err := f.svc.ListLimits(f.ctx, tc.viewer, LimitFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range got {
				ids = append(ids, l.ID)
			}
			if len(ids) != len(tc.want) {
				t.Errorf("%s sees %v, want %v", tc.name, ids, tc.want)
				continue
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Errorf("%s sees %v, want %v", tc.name, ids, tc.want)
				}
			}
		}
		adminP := &auth.Principal{Roles: []string{"admin"}}
		if got, _ := f.svc.ListLimits(f.ctx, adminP, LimitFilter{ProjectID: &p2.ID}); len(got) != 1 || got[0].ID != l2.ID {
			t.Fatalf("filter by project: %+v", got)
		}
		// Updates may set 0 and clear the description.
		desc := "d"
		up, err := f.svc.UpdateLimit(f.ctx, l1.ID, LimitPatch{ResourceLimit: ptr(int64(0)), SetDescription: true, Description: &desc})
		if err != nil || up.ResourceLimit != 0 || *up.Description != "d" {
			t.Fatalf("update: %+v %v", up, err)
		}
		if up, _ = f.svc.UpdateLimit(f.ctx, l1.ID, LimitPatch{SetDescription: true}); up.Description != nil || up.ResourceLimit != 0 {
			t.Fatalf("clear description: %+v", up)
		}
		_, err = f.svc.UpdateLimit(f.ctx, "missing", LimitPatch{})
		wantKind(t, err, errs.KindNotFound)

		// Deleting a project deletes its limits (Keystone's
		// delete_limits_for_project).
		if err := f.svc.DeleteProject(f.ctx, p2.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetLimit(f.ctx, l2.ID)
		wantKind(t, err, errs.KindNotFound)
		if err := f.svc.DeleteLimit(f.ctx, l1.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, f.svc.DeleteLimit(f.ctx, l1.ID), errs.KindNotFound)
	})
}

func TestEffectiveLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.project(t, "p").ID
		f.registered(t, "", "image_size_total", 100)
		f.registered(t, "", "image_count_total", 10)
		f.registered(t, Region, "image_count_total", 20)
		f.registered(t, "", "image_count_uploading", -1)
		f.registered(t, "", "image_stage_total", 5)
		f.limit(t, p, "", "image_stage_total", 6)
		f.registered(t, Region, "image_stage_total", 7)
		f.limit(t, p, Region, "image_stage_total", 8)
		f.limit(t, p, "", "image_size_total", 50)
		// Other services' limits do not count.
		if _, err := f.svc.CreateRegisteredLimits(f.ctx, []RegisteredLimit{{ServiceID: ServiceID("compute"), ResourceName: "image_count_total", DefaultLimit: 1}}); err != nil {
			t.Fatal(err)
		}
		names := []string{"image_size_total", "image_count_total", "image_count_uploading", "image_stage_total", "unregistered"}
		for _, tc := range []struct {
			project string
			want    map[string]int64
		}{
			{p, map[string]int64{"image_size_total": 50, "image_count_total": 20, "image_count_uploading": -1, "image_stage_total": 8, "unregistered": 0}},
			{"other", map[string]int64{"image_size_total": 100, "image_count_total": 20, "image_count_uploading": -1, "image_stage_total": 7, "unregistered": 0}},
		} {
			got, err := EffectiveLimits(f.ctx, db, imageService, tc.project, names)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("project %s: %s = %d, want %d", tc.project, k, got[k], v)
				}
			}
		}
	})
}

func TestEnsureRegisteredLimitsKeepsAdminChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		defaults := map[string]int64{"image_size_total": 1000, "image_count_total": 100}
		added, err := f.svc.EnsureRegisteredLimits(f.ctx, imageService, defaults)
		if err != nil || len(added) != 2 {
			t.Fatalf("first start: %v %v", added, err)
		}
		got, _ := f.svc.ListRegisteredLimits(f.ctx, LimitFilter{ResourceName: ptr("image_size_total")})
		if _, err := f.svc.UpdateRegisteredLimit(f.ctx, got[0].ID, RegisteredLimitPatch{DefaultLimit: ptr(int64(5))}); err != nil {
			t.Fatal(err)
		}
		count, _ := f.svc.ListRegisteredLimits(f.ctx, LimitFilter{ResourceName: ptr("image_count_total")})
		if err := f.svc.DeleteRegisteredLimit(f.ctx, count[0].ID); err != nil {
			t.Fatal(err)
		}
		// A restart with other flags: the changed one stays, the deleted
		// one comes back with the flag's value.
		added, err = f.svc.EnsureRegisteredLimits(f.ctx, imageService, map[string]int64{"image_size_total": 2000, "image_count_total": 50})
		if err != nil || len(added) != 1 || added[0] != "image_count_total" {
			t.Fatalf("restart: %v %v", added, err)
		}
		lim, _ := EffectiveLimits(f.ctx, db, imageService, "any", []string{"image_size_total", "image_count_total"})
		if lim["image_size_total"] != 5 || lim["image_count_total"] != 50 {
			t.Fatalf("after restart: %v", lim)
		}
	})
}
