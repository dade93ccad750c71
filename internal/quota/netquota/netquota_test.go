package netquota_test

import (
	"context"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// fixed counts what used says, per project.
func fixed(used map[string]int) netquota.Counter {
	return func(_ context.Context, _ store.Querier, project string) (int, error) { return used[project], nil }
}

func TestLimitsSetListDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := netquota.New(db, netquota.Counters{netquota.Network: fixed(map[string]int{"p1": 3})})
		l, err := svc.Get(ctx, "p1")
		if err != nil || l[netquota.Network] != 100 || l[netquota.Port] != 500 || len(l) != 7 {
			t.Fatalf("defaults %v, %v", l, err)
		}
		if _, err := svc.Set(ctx, "p2", []netquota.Change{{netquota.Router, 1}}, false); err != nil {
			t.Fatal(err)
		}
		l, err = svc.Set(ctx, "p1", []netquota.Change{{netquota.Network, 3}, {netquota.Subnet, -1}}, false)
		if err != nil || l[netquota.Network] != 3 || l[netquota.Subnet] != -1 || l[netquota.Router] != 10 {
			t.Fatalf("set %v, %v", l, err)
		}
		all, err := svc.List(ctx)
		if err != nil || len(all) != 2 || all[0].ProjectID != "p1" || all[1].ProjectID != "p2" ||
			all[1].Limits[netquota.Router] != 1 || all[1].Limits[netquota.Network] != 100 {
			t.Fatalf("list %+v, %v", all, err)
		}
		if err := svc.Delete(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
		err = svc.Delete(ctx, "p1")
		if errs.KindOf(err) != errs.KindNotFound || errs.NameOf(err) != "TenantQuotaNotFound" || errs.Message(err) != "Quota for project p1 could not be found." {
			t.Errorf("second delete: %v", err)
		}
		if l, _ := svc.Get(ctx, "p1"); l[netquota.Network] != 100 {
			t.Errorf("limits after delete %v", l)
		}
	})
}

func TestSetBelowUsage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := netquota.New(db, netquota.Counters{netquota.Network: fixed(map[string]int{"p1": 3})})
		cases := []struct {
			name    string
			changes []netquota.Change
			force   bool
			msg     string
		}{
			{"below usage", []netquota.Change{{netquota.Subnet, 1}, {netquota.Network, 2}}, false,
				"Quota limit 2 for network must be greater than or equal to already used 3"},
			{"at usage", []netquota.Change{{netquota.Network, 3}}, false, ""},
			{"unlimited", []netquota.Change{{netquota.Network, -1}}, false, ""},
			{"forced", []netquota.Change{{netquota.Network, 0}}, true, ""},
			{"not counted yet", []netquota.Change{{netquota.Port, 0}}, false, ""},
		}
		for _, tc := range cases {
			_, err := svc.Set(ctx, "p1", tc.changes, tc.force)
			if tc.msg == "" && err != nil || tc.msg != "" && (errs.KindOf(err) != errs.KindInvalid || errs.Message(err) != tc.msg) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
			}
		}
		// The refused change stored nothing, not even its first limit.
		if l, _ := svc.Get(ctx, "p1"); l[netquota.Subnet] != 100 {
			t.Errorf("subnet limit after a refused change: %d", l[netquota.Subnet])
		}
	})
}

func TestCheckAndDetails(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := netquota.New(db, netquota.Counters{
			netquota.Network: fixed(map[string]int{"p1": 2}),
			netquota.Subnet:  fixed(map[string]int{"p1": 5}),
		})
		if _, err := svc.Set(ctx, "p1", []netquota.Change{{netquota.Network, 3}, {netquota.Subnet, -1}}, false); err != nil {
			t.Fatal(err)
		}
		check := func(project, res string, delta int) error {
			return db.InTx(ctx, func(tx *store.Tx) error { return svc.Check(ctx, tx, project, res, delta) })
		}
		cases := []struct {
			project, res string
			delta        int
			over         bool
		}{
			{"p1", netquota.Network, 1, false},
			{"p1", netquota.Network, 2, true},
			{"p1", netquota.Subnet, 1000, false}, // unlimited
			{"p2", netquota.Network, 100, false}, // the default, nothing used
			{"p2", netquota.Network, 101, true},
		}
		for _, tc := range cases {
			err := check(tc.project, tc.res, tc.delta)
			if !tc.over && err != nil {
				t.Errorf("%s +%d %s: %v", tc.project, tc.delta, tc.res, err)
			}
			if tc.over && (errs.KindOf(err) != errs.KindConflict || errs.NameOf(err) != "OverQuota" ||
				errs.Message(err) != "Quota exceeded for resources: ['"+tc.res+"'].") {
				t.Errorf("%s +%d %s: %v, want OverQuota", tc.project, tc.delta, tc.res, err)
			}
		}
		// A resource nobody counts cannot be checked: a wiring error.
		if err := check("p1", netquota.Port, 1); err == nil || errs.KindOf(err) != errs.KindInternal {
			t.Errorf("check of an uncounted resource: %v", err)
		}
		d, err := svc.Details(ctx, "p1")
		if err != nil || len(d) != 2 || d[netquota.Network] != (netquota.Detail{Limit: 3, Used: 2}) ||
			d[netquota.Subnet] != (netquota.Detail{Limit: -1, Used: 5}) {
			t.Errorf("details %+v, %v", d, err)
		}
	})
}

func TestOverQuotaNamesSorted(t *testing.T) {
	err := netquota.OverQuota("subnet", "network")
	if errs.Message(err) != "Quota exceeded for resources: ['network', 'subnet']." {
		t.Errorf("OverQuota: %v", err)
	}
}

func TestCounterForUnknownResourcePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a counter of an unknown resource")
		}
	}()
	netquota.New(nil, netquota.Counters{"networks": fixed(nil)})
}
