package floatingip_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// newService is the floating IP service on db with the floatingip quota,
// its range the built-in external network's subnet.
func newService(t *testing.T, db *store.DB, o floatingip.Options) *floatingip.Service {
	t.Helper()
	m, err := network.New(network.Options{})
	if err != nil {
		t.Fatal(err)
	}
	quotas := netquota.New(db, netquota.Counters{netquota.Port: network.CountPorts, netquota.FloatingIP: floatingip.CountFloatingIPs})
	nets := network.NewService(db, m, quotas)
	if o.Range != "" {
		if err := nets.EnsureExternal(context.Background(), "admin", o.Pool, o.Range); err != nil {
			t.Fatal(err)
		}
	}
	return floatingip.New(db, nets, o, quotas)
}

var (
	member = &auth.Principal{UserID: "u1", ProjectID: "p1", Roles: []string{"member"}}
	other  = &auth.Principal{UserID: "u2", ProjectID: "p2", Roles: []string{"member"}}
	admin  = &auth.Principal{UserID: "admin", ProjectID: "admin", Roles: []string{"admin"}}
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts floatingip.Options
		ok   bool
	}{
		{floatingip.Options{Range: "203.0.113.0/24", Pool: "public"}, true},
		{floatingip.Options{Range: "", Pool: "public"}, true},
		{floatingip.Options{Range: "203.0.113.7/24", Pool: "public"}, true},
		{floatingip.Options{Range: "203.0.113.0/24", Pool: ""}, false},
		{floatingip.Options{Range: "2001:db8::/64", Pool: "public"}, false},
		{floatingip.Options{Range: "not-a-cidr", Pool: "public"}, false},
	}
	for _, tt := range tests {
		if err := tt.opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.opts, err, tt.ok)
		}
	}
}

// expectErr checks an error's kind and message.
func expectErr(t *testing.T, err error, kind errs.Kind, msg string) {
	t.Helper()
	if errs.KindOf(err) != kind || errs.Message(err) != msg {
		t.Fatalf("error = %v (kind %v), want %v %q", err, errs.KindOf(err), kind, msg)
	}
}

func TestAllocateListShowRelease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db, floatingip.Options{Range: "203.0.113.0/24", Pool: "public"})
		if pools := s.Pools(); len(pools) != 1 || pools[0].Name != "public" || pools[0].ID == "" {
			t.Fatalf("Pools = %+v", pools)
		}
		a, err := s.Allocate(ctx, "p1", "")
		if err != nil {
			t.Fatal(err)
		}
		addr := netip.MustParseAddr(a.Address)
		if !netip.MustParsePrefix("203.0.113.0/24").Contains(addr) || a.Address == "203.0.113.0" ||
			a.Address == "203.0.113.1" || a.Address == "203.0.113.255" || a.Pool != "public" || a.InstanceID != "" {
			t.Fatalf("Allocate = %+v", a)
		}
		b, err := s.Allocate(ctx, "p1", "public")
		if err != nil {
			t.Fatal(err)
		}
		byID, err := s.Allocate(ctx, "p1", s.Pools()[0].ID)
		if err != nil {
			t.Fatalf("allocate from the pool by id: %v", err)
		}
		if _, err := s.Allocate(ctx, "p2", ""); err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx, "p1")
		if err != nil || len(list) != 3 || list[0].ID != a.ID || list[1].ID != b.ID || list[2].ID != byID.ID {
			t.Fatalf("List = %+v, %v", list, err)
		}
		if got, err := s.Get(ctx, member, a.ID); err != nil || got.Address != a.Address {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		_, err = s.Get(ctx, other, a.ID)
		expectErr(t, err, errs.KindNotFound, "Floating IP not found for ID "+a.ID)
		if _, err := s.Get(ctx, admin, a.ID); err != nil {
			t.Fatalf("admin Get: %v", err)
		}
		expectErr(t, s.Release(ctx, other, a.ID), errs.KindNotFound, "Floating IP not found for ID "+a.ID)
		if err := s.Release(ctx, member, a.ID); err != nil {
			t.Fatal(err)
		}
		expectErr(t, s.Release(ctx, member, a.ID), errs.KindNotFound, "Floating IP not found for ID "+a.ID)
		if list, _ := s.List(ctx, "p1"); len(list) != 2 {
			t.Fatalf("after release: %+v", list)
		}
		_, err = s.Allocate(ctx, "p1", "private")
		expectErr(t, err, errs.KindNotFound, "Floating IP pool not found.")
		none := newService(t, db, floatingip.Options{Pool: "public"})
		_, err = none.Allocate(ctx, "p1", "")
		expectErr(t, err, errs.KindNotFound, "Floating IP pool not found.")
	})
}

func TestAllocateExhaustionAndQuota(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// A /29 hands out .2 to .6.
		s := newService(t, db, floatingip.Options{Range: "198.51.100.0/29", Pool: "small"})
		// Nova's allocation checks Neutron's floatingip quota and answers
		// its 403 with Neutron's message.
		limits := netquota.New(db, nil)
		for project, limit := range map[string]int{"p2": 1, "p3": 0} {
			if _, err := limits.Set(ctx, project, []netquota.Change{{Resource: netquota.FloatingIP, Limit: limit}}, true); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		q, err := s.Allocate(ctx, "p2", "")
		if err != nil {
			t.Fatal(err)
		}
		seen[q.Address] = true
		const over = "Quota exceeded for resources: ['floatingip']."
		_, err = s.Allocate(ctx, "p2", "")
		expectErr(t, err, errs.KindForbidden, over)
		_, err = s.Allocate(ctx, "p2", "small")
		expectErr(t, err, errs.KindForbidden, over)
		_, err = s.Allocate(ctx, "p3", "")
		expectErr(t, err, errs.KindForbidden, over)
		for range 4 {
			f, err := s.Allocate(ctx, "p1", "")
			if err != nil {
				t.Fatal(err)
			}
			seen[f.Address] = true
		}
		for i := 2; i <= 6; i++ {
			if a := fmt.Sprintf("198.51.100.%d", i); !seen[a] {
				t.Errorf("%s not handed out: %v", a, seen)
			}
		}
		_, err = s.Allocate(ctx, "p1", "")
		expectErr(t, err, errs.KindNotFound, "No more floating IPs available.")
		_, err = s.Allocate(ctx, "p1", "small")
		expectErr(t, err, errs.KindNotFound, "No more floating IPs in pool small.")
	})
}

// Concurrent allocations never share an address and fill the pool
// exactly.
func TestConcurrentAllocationsGetDistinctAddresses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db, floatingip.Options{Range: "198.51.100.0/27", Pool: "public"}) // 29 addresses
		const workers = 40
		var mu sync.Mutex
		got := map[string]int{}
		exhausted := 0
		var wg sync.WaitGroup
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f, err := s.Allocate(ctx, fmt.Sprintf("p%d", i%3), "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					got[f.Address]++
				case errs.KindOf(err) == errs.KindNotFound:
					exhausted++
				default:
					t.Errorf("Allocate: %v", err)
				}
			}()
		}
		wg.Wait()
		for a, n := range got {
			if n != 1 {
				t.Errorf("%s handed out %d times", a, n)
			}
		}
		if len(got) != 29 || exhausted != workers-29 {
			t.Errorf("%d addresses handed out, %d exhausted; want 29 and %d", len(got), exhausted, workers-29)
		}
	})
}
