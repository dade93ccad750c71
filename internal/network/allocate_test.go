package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sync"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

var macPattern = regexp.MustCompile(`^fa:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$`)

func TestAllocateAutoGivesOneDualStackPort(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{IPv6: true})
		addrs := mustAllocate(t, db, m, "p1", "i1", Auto())
		if len(addrs) != 2 || addrs[0].Version != 4 || addrs[1].Version != 6 {
			t.Fatalf("addresses %+v, want IPv4 then IPv6", addrs)
		}
		n := ensureDefault(t, db, m, "p1")
		v4 := netip.MustParseAddr(addrs[0].Addr)
		if p := netip.MustParsePrefix(n.CIDR); !p.Contains(v4) || v4 == p.Addr() || v4 == gateway(p) || ordinal4(p, v4) == 255 {
			t.Errorf("IPv4 %s is not a host address of %s", v4, n.CIDR)
		}
		mac := addrs[0].MAC
		if !macPattern.MatchString(mac) || addrs[1].MAC != mac {
			t.Errorf("MACs %q and %q, want one fa:16:3e MAC per port", mac, addrs[1].MAC)
		}
		var hw [6]byte
		fmt.Sscanf(mac, "%x:%x:%x:%x:%x:%x", &hw[0], &hw[1], &hw[2], &hw[3], &hw[4], &hw[5])
		if want := eui64(netip.MustParsePrefix(n.CIDRv6), hw).String(); addrs[1].Addr != want {
			t.Errorf("IPv6 %s, want the SLAAC address %s", addrs[1].Addr, want)
		}
		for _, a := range addrs {
			if a.Network != "private" || a.NetworkID != n.ID || a.Type != "fixed" || a.PortID != addrs[0].PortID {
				t.Errorf("address %+v, want a fixed address of port %s on private", a, addrs[0].PortID)
			}
		}
		if got := addressesOf(t, db, m, "i1"); fmt.Sprint(got) != fmt.Sprint(addrs) {
			t.Errorf("ForInstances = %+v, want %+v", got, addrs)
		}
	})
}

func TestAllocateNoneStoresNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{})
		if addrs := mustAllocate(t, db, m, "p1", "i1", NoNetworks()); len(addrs) != 0 {
			t.Errorf("none gave %+v", addrs)
		}
		if got := addressesOf(t, db, m, "i1"); len(got) != 0 {
			t.Errorf("none stored %+v", got)
		}
		if list, _ := m.Networks(context.Background(), db, "p1"); len(list) != 0 {
			t.Errorf("none created networks %+v", list)
		}
	})
}

func TestAllocateRequestedNetworks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{IPv6: true})
		net1 := ensureDefault(t, db, m, "p1")
		other := ensureDefault(t, db, m, "p2")
		v6 := netip.MustParsePrefix(net1.CIDRv6)
		mustAllocate(t, db, m, "p1", "holder", Request{Networks: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.20"}}})

		tests := []struct {
			name    string
			req     []NetworkRequest
			want    []string // addresses, when the request succeeds
			kind    errs.Kind
			message string
		}{
			{name: "fixed IPv4", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.21"}}, want: []string{"10.0.0.21"}},
			{name: "fixed IPv6 only", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: withInterfaceID(v6, 0x99).String()}},
				want: []string{withInterfaceID(v6, 0x99).String()}},
			{name: "network without fixed IP", req: []NetworkRequest{{NetworkID: net1.ID, Tag: "nic1"}}, want: []string{"v4", "v6"}},
			{name: "two ports", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.30"}, {NetworkID: net1.ID, FixedIP: "10.0.0.31"}},
				want: []string{"10.0.0.30", "10.0.0.31"}},
			{name: "in use", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.20"}}, kind: errs.KindInvalid,
				message: "Fixed IP address 10.0.0.20 is already in use on instance holder."},
			{name: "same address twice", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.40"}, {NetworkID: net1.ID, FixedIP: "10.0.0.40"}},
				kind: errs.KindInvalid, message: "Fixed IP address 10.0.0.40 is already in use on instance new."},
			{name: "outside the subnet", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.1.5"}}, kind: errs.KindInvalid,
				message: "Fixed IP 10.0.1.5 is not a valid ip address for network " + net1.ID + "."},
			{name: "network address", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.0"}}, kind: errs.KindInvalid,
				message: "Fixed IP 10.0.0.0 is not a valid ip address for network " + net1.ID + "."},
			{name: "broadcast", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.255"}}, kind: errs.KindInvalid,
				message: "Fixed IP 10.0.0.255 is not a valid ip address for network " + net1.ID + "."},
			{name: "gateway", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.1"}}, kind: errs.KindInvalid,
				message: "Fixed IP 10.0.0.1 is already in use."},
			{name: "not an address", req: []NetworkRequest{{NetworkID: net1.ID, FixedIP: "10.0.0.300"}}, kind: errs.KindInvalid,
				message: "Fixed IP 10.0.0.300 is not a valid ip address for network " + net1.ID + "."},
			{name: "unknown network", req: []NetworkRequest{{NetworkID: "8a4c9a4e-0000-4000-8000-000000000001"}}, kind: errs.KindInvalid,
				message: "Network 8a4c9a4e-0000-4000-8000-000000000001 could not be found."},
			{name: "another project's network", req: []NetworkRequest{{NetworkID: other.ID}}, kind: errs.KindInvalid,
				message: "Network " + other.ID + " could not be found."},
			{name: "port", req: []NetworkRequest{{PortID: "5c2f0d7e-0000-4000-8000-000000000002"}}, kind: errs.KindInvalid,
				message: "Port id 5c2f0d7e-0000-4000-8000-000000000002 could not be found."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				addrs, err := allocate(t, db, m, "p1", "new", Request{Networks: tt.req})
				defer release(t, db, m, "new")
				if tt.message != "" {
					expectError(t, err, tt.kind, tt.message)
					return
				}
				if err != nil {
					t.Fatalf("Allocate: %v", err)
				}
				if len(addrs) != len(tt.want) {
					t.Fatalf("addresses %+v, want %v", addrs, tt.want)
				}
				for i, a := range addrs {
					if tt.want[i] != "v4" && tt.want[i] != "v6" && a.Addr != tt.want[i] {
						t.Errorf("address %d = %s, want %s", i, a.Addr, tt.want[i])
					}
					if tt.req[0].Tag != "" && a.Tag != tt.req[0].Tag {
						t.Errorf("tag = %q, want %q", a.Tag, tt.req[0].Tag)
					}
				}
				if len(tt.req) == 2 && addrs[0].MAC == addrs[1].MAC {
					t.Errorf("two ports share MAC %s", addrs[0].MAC)
				}
			})
		}
	})
}

func TestFailedAllocationLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{})
		n := ensureDefault(t, db, m, "p1")
		mustAllocate(t, db, m, "p1", "holder", Request{Networks: []NetworkRequest{{NetworkID: n.ID, FixedIP: "10.0.0.9"}}})
		// The caller goes on with its transaction after the error, as
		// server create does when it records a failed instance.
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := m.Allocate(context.Background(), tx, "p1", "i1", Request{Networks: []NetworkRequest{
				{NetworkID: n.ID, FixedIP: "10.0.0.8"}, {NetworkID: n.ID, FixedIP: "10.0.0.9"},
			}})
			if !errors.Is(err, ErrFixedIPInUse) {
				return fmt.Errorf("want in-use error, got %w", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := addressesOf(t, db, m, "i1"); len(got) != 0 {
			t.Errorf("failed allocation kept %+v", got)
		}
		if addrs := mustAllocate(t, db, m, "p1", "i2", Request{Networks: []NetworkRequest{{NetworkID: n.ID, FixedIP: "10.0.0.8"}}}); addrs[0].Addr != "10.0.0.8" {
			t.Errorf("10.0.0.8 not free again: %+v", addrs)
		}
	})
}

func TestReleaseFreesAddressesForReuse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{IPv6: true})
		n := ensureDefault(t, db, m, "p1")
		req := Request{Networks: []NetworkRequest{{NetworkID: n.ID, FixedIP: "10.0.0.10"}}}
		first := mustAllocate(t, db, m, "p1", "a", req)
		mustAllocate(t, db, m, "p1", "a", Auto()) // a second port, released too
		if _, err := allocate(t, db, m, "p1", "b", req); !errors.Is(err, ErrFixedIPInUse) {
			t.Fatalf("10.0.0.10 given twice: err = %v", err)
		}
		release(t, db, m, "a")
		if got := addressesOf(t, db, m, "a"); len(got) != 0 {
			t.Errorf("released instance still has %+v", got)
		}
		again := mustAllocate(t, db, m, "p1", "b", req)
		if again[0].Addr != "10.0.0.10" || again[0].MAC == first[0].MAC {
			t.Errorf("reuse gave %+v after %+v, want the same address on a new port", again, first)
		}
		release(t, db, m, "nothing-here") // releasing nothing is fine
	})
}

func TestConcurrentAllocationsNeverShareAnAddress(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{IPv6: true})
		ensureDefault(t, db, m, "p1")
		const workers = 20
		results := make([][]Address, workers)
		errCh := make(chan error, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.InTx(context.Background(), func(tx *store.Tx) error {
					addrs, err := m.Allocate(context.Background(), tx, "p1", fmt.Sprintf("i%02d", i), Auto())
					results[i] = addrs
					return err
				})
				if err != nil {
					errCh <- err
				}
			}()
		}
		wg.Wait()
		close(errCh)
		for err := range errCh {
			t.Errorf("concurrent Allocate: %v", err)
		}
		addrs, macs := map[string]string{}, map[string]string{}
		for i, got := range results {
			owner := fmt.Sprintf("i%02d", i)
			if len(got) != 2 {
				t.Errorf("%s got %+v", owner, got)
			}
			for _, a := range got {
				if prev, dup := addrs[a.Addr]; dup {
					t.Errorf("%s given to %s and %s", a.Addr, prev, owner)
				}
				addrs[a.Addr] = owner
				if prev, dup := macs[a.MAC]; dup && prev != owner {
					t.Errorf("MAC %s given to %s and %s", a.MAC, prev, owner)
				}
				macs[a.MAC] = owner
			}
		}
		ids := make([]string, workers)
		for i := range ids {
			ids[i] = fmt.Sprintf("i%02d", i)
		}
		stored, err := m.ForInstances(context.Background(), db, ids)
		if err != nil || len(stored) != workers {
			t.Fatalf("ForInstances: %d instances, %v", len(stored), err)
		}
	})
}

func TestExhaustedNetworkSaysSo(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{})
		n := ensureDefault(t, db, m, "p1")
		// A /24 has 253 addresses to give: .2 to .254.
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			seen := map[string]bool{}
			for i := range 253 {
				addrs, err := m.Allocate(context.Background(), tx, "p1", fmt.Sprintf("i%03d", i), Auto())
				if err != nil {
					return fmt.Errorf("allocation %d: %w", i, err)
				}
				if seen[addrs[0].Addr] {
					return fmt.Errorf("allocation %d: %s handed out twice", i, addrs[0].Addr)
				}
				seen[addrs[0].Addr] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = allocate(t, db, m, "p1", "one-too-many", Auto())
		expectError(t, err, errs.KindConflict, "No fixed IP addresses available for network: "+n.ID)
		if !errors.Is(err, ErrNoMoreFixedIPs) {
			t.Errorf("error %v does not wrap ErrNoMoreFixedIPs", err)
		}
		release(t, db, m, "i100")
		if addrs := mustAllocate(t, db, m, "p1", "one-more", Auto()); len(addrs) != 1 {
			t.Errorf("after a release got %+v", addrs)
		}
	})
}

func TestFirstFreeOrdinalFindsGaps(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{})
		n := ensureDefault(t, db, m, "p1")
		claim := func(ips ...string) {
			for _, ip := range ips {
				mustAllocate(t, db, m, "p1", "i-"+ip, Request{Networks: []NetworkRequest{{NetworkID: n.ID, FixedIP: ip}}})
			}
		}
		gapFrom := func(from int64) int64 {
			var o int64
			err := db.InTx(context.Background(), func(tx *store.Tx) error {
				var err error
				o, err = firstFreeOrdinal(context.Background(), tx, n.ID, from)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		gap := func() int64 { return gapFrom(2) }
		if got := gap(); got != 2 {
			t.Errorf("empty network: first free %d, want 2", got)
		}
		claim("10.0.0.3", "10.0.0.4")
		if got := gap(); got != 2 {
			t.Errorf("first free %d, want 2", got)
		}
		claim("10.0.0.2", "10.0.0.6")
		if got := gap(); got != 5 {
			t.Errorf("first free %d, want 5", got)
		}
		if got := gapFrom(6); got != 7 {
			t.Errorf("first free from 6: %d, want 7", got)
		}
		if got := gapFrom(200); got != 200 {
			t.Errorf("first free from 200: %d, want 200", got)
		}
	})
}
