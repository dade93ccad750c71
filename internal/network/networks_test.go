package network

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestEachProjectGetsItsOwnSubnets(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{IPv6: true})
		seen4, seen6 := map[string]bool{}, map[string]bool{}
		for i, p := range []string{"p1", "p2", "p3"} {
			n := ensureDefault(t, db, m, p)
			if n.Name != "private" || n.ProjectID != p {
				t.Errorf("network %+v, want private of %s", n, p)
			}
			if want := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 0}), 24).String(); n.CIDR != want {
				t.Errorf("%s got %s, want the lowest free subnet %s", p, n.CIDR, want)
			}
			if seen4[n.CIDR] || seen6[n.CIDRv6] || n.CIDRv6 == "" {
				t.Errorf("%s got %s / %q, not distinct", p, n.CIDR, n.CIDRv6)
			}
			seen4[n.CIDR], seen6[n.CIDRv6] = true, true
			if again := ensureDefault(t, db, m, p); again.ID != n.ID {
				t.Errorf("EnsureDefault(%s) created a second network %s after %s", p, again.ID, n.ID)
			}
		}
		list, err := m.Networks(context.Background(), db, "p2")
		if err != nil || len(list) != 1 || list[0].CIDR != "10.0.1.0/24" {
			t.Fatalf("Networks(p2) = %+v, %v", list, err)
		}
		if _, err := m.Network(context.Background(), db, "p1", list[0].ID); err != store.ErrNotFound {
			t.Errorf("p1 sees p2's network: err = %v", err)
		}
		if got, err := m.Network(context.Background(), db, "p2", list[0].ID); err != nil || got.CIDR != list[0].CIDR {
			t.Errorf("Network(p2) = %+v, %v", got, err)
		}
	})
}

func TestIPv6OffLeavesNoIPv6Subnet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{Pool: "192.168.0.0/16", PrefixLen: 26})
		n := ensureDefault(t, db, m, "p1")
		if n.CIDR != "192.168.0.0/26" || n.CIDRv6 != "" {
			t.Errorf("network %s / %q, want 192.168.0.0/26 and no IPv6", n.CIDR, n.CIDRv6)
		}
		addrs := mustAllocate(t, db, m, "p1", "i1", Auto())
		if len(addrs) != 1 || addrs[0].Version != 4 {
			t.Errorf("addresses %+v, want one IPv4", addrs)
		}
	})
}

func TestPoolExhaustion(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{Pool: "10.9.0.0/23", PrefixLen: 24})
		ensureDefault(t, db, m, "p1")
		ensureDefault(t, db, m, "p2")
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := m.EnsureDefault(context.Background(), tx, "p3")
			return err
		})
		if err == nil {
			t.Fatal("a third /24 came out of a /23")
		}
	})
}

func TestConcurrentFirstAllocationsCreateOneNetworkEach(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{})
		const workers = 12
		var wg sync.WaitGroup
		errCh := make(chan error, workers)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				project := fmt.Sprintf("p%d", i%4) // three instances per project
				_, err := allocate(t, db, m, project, fmt.Sprintf("i%d", i), Auto())
				if err != nil {
					errCh <- err
				}
			}()
		}
		wg.Wait()
		close(errCh)
		for err := range errCh {
			t.Errorf("concurrent first Allocate: %v", err)
		}
		cidrs := map[string]string{}
		for p := range 4 {
			project := fmt.Sprintf("p%d", p)
			list, err := m.Networks(context.Background(), db, project)
			if err != nil || len(list) != 1 {
				t.Fatalf("Networks(%s) = %+v, %v; want exactly one", project, list, err)
			}
			if prev, dup := cidrs[list[0].CIDR]; dup {
				t.Errorf("%s shared by %s and %s", list[0].CIDR, prev, project)
			}
			cidrs[list[0].CIDR] = project
		}
	})
}

// TestNetworksWithDefault: listing creates a project's default network
// once, under the id its servers' addresses then use, and never fails
// for want of a subnet.
func TestNetworksWithDefault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		pool    string // one /24 per project; "" for the default pool
		setup   func(t *testing.T, db *store.DB, m *Manager)
		project string
		want    int // networks listed
	}{
		{name: "fresh project gets its network", project: "p1", want: 1},
		{name: "a server's network is the one listed", project: "p1", want: 1,
			setup: func(t *testing.T, db *store.DB, m *Manager) { mustAllocate(t, db, m, "p1", "i0", Auto()) }},
		{name: "full pool lists nothing", pool: "10.9.0.0/24", project: "p2", want: 0,
			setup: func(t *testing.T, db *store.DB, m *Manager) { ensureDefault(t, db, m, "p1") }},
		{name: "no project, no network", project: "", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				m := newManager(t, Options{Pool: tc.pool})
				if tc.setup != nil {
					tc.setup(t, db, m)
				}
				first, err := m.NetworksWithDefault(ctx, db, tc.project)
				if err != nil || len(first) != tc.want {
					t.Fatalf("NetworksWithDefault(%q) = %+v, %v; want %d networks", tc.project, first, err, tc.want)
				}
				again, err := m.NetworksWithDefault(ctx, db, tc.project)
				if err != nil || len(again) != tc.want {
					t.Fatalf("second NetworksWithDefault(%q) = %+v, %v", tc.project, again, err)
				}
				if tc.want == 0 {
					return
				}
				if first[0].Name != DefaultName || again[0].ID != first[0].ID {
					t.Errorf("listed %+v then %+v, want one stable %q network", first[0], again[0], DefaultName)
				}
				addrs := mustAllocate(t, db, m, tc.project, "i1", Auto())
				if len(addrs) == 0 || addrs[0].NetworkID != first[0].ID {
					t.Errorf("a later server's addresses %+v are not on the listed network %s", addrs, first[0].ID)
				}
			})
		})
	}
}
