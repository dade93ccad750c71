package network

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

func TestForInstancesReadsManyInstancesInOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{IPv6: true})
		n := ensureDefault(t, db, m, "p1")
		two := mustAllocate(t, db, m, "p1", "two-ports", Request{Networks: []NetworkRequest{
			{NetworkID: n.ID, FixedIP: "10.0.0.200", Tag: "first"}, {NetworkID: n.ID, Tag: "second"},
		}})
		later := mustAllocate(t, db, m, "p1", "two-ports", Request{Networks: []NetworkRequest{{NetworkID: n.ID, FixedIP: "10.0.0.3"}}})
		one := mustAllocate(t, db, m, "p1", "one-port", Auto())
		mustAllocate(t, db, m, "p1", "no-ports", NoNetworks())

		// More ids than SQLite's default limit of 999 bound variables,
		// most of them unknown.
		ids := []string{"two-ports", "no-ports"}
		for i := range 1500 {
			ids = append(ids, fmt.Sprintf("unknown-%d", i))
		}
		ids = append(ids, "one-port")
		got, err := m.ForInstances(context.Background(), db, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("ForInstances has %d instances, want 2: %+v", len(got), got)
		}
		want := append(append([]Address{}, two...), later...)
		if fmt.Sprint(got["two-ports"]) != fmt.Sprint(want) {
			t.Errorf("two-ports = %+v\nwant in allocation order %+v", got["two-ports"], want)
		}
		if tags := []string{want[0].Tag, want[1].Tag, want[3].Tag}; !slices.Equal(tags, []string{"first", "second", ""}) {
			t.Errorf("tags = %q", tags)
		}
		if fmt.Sprint(got["one-port"]) != fmt.Sprint(one) {
			t.Errorf("one-port = %+v, want %+v", got["one-port"], one)
		}
		if empty, err := m.ForInstances(context.Background(), db, nil); err != nil || len(empty) != 0 {
			t.Errorf("ForInstances(nil) = %+v, %v", empty, err)
		}
	})
}

func TestInstancesWithIPMatchesLikeNova(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{IPv6: true})
		n1 := ensureDefault(t, db, m, "p1")
		n2 := ensureDefault(t, db, m, "p2")
		fixed := func(project, instance, netID, ip string) {
			mustAllocate(t, db, m, project, instance, Request{Networks: []NetworkRequest{{NetworkID: netID, FixedIP: ip}}})
		}
		fixed("p1", "a", n1.ID, "10.0.0.5")
		fixed("p1", "b", n1.ID, "10.0.0.50")
		fixed("p1", "c", n1.ID, "10.0.0.6")
		fixed("p2", "d", n2.ID, "10.0.1.5")
		eAddrs := mustAllocate(t, db, m, "p1", "e", Auto())
		v6 := eAddrs[1].Addr
		// e's IPv4 address is drawn at random: .51-.59 also start with
		// "10.0.0.5", so the prefix case expects e then too.
		prefixMatch := []string{"a", "b"}
		if strings.HasPrefix(eAddrs[0].Addr, "10.0.0.5") {
			prefixMatch = []string{"a", "b", "e"}
		}

		tests := []struct {
			project, pattern string
			v6               bool
			want             []string
		}{
			{"p1", "10.0.0.5", false, prefixMatch},            // re.match: a prefix match
			{"p1", `10\.0\.0\.5$`, false, []string{"a"}},      // anchored by the user
			{"p1", "10.0.0.[56]$", false, []string{"a", "c"}}, // a character class
			{"p1", "0.0.5", false, nil},                       // matches only from the start
			{"p1", "10.0.1.5", false, nil},                    // another project's address
			{"", "10.0.1.5", false, []string{"d"}},            // every project
			{"p1", "10.0.0.5", true, nil},                     // ip6 looks at IPv6 only
			{"p1", v6[:9], true, []string{"e"}},
			{"p1", v6, false, nil},
		}
		for _, tt := range tests {
			got, err := m.InstancesWithIP(context.Background(), db, tt.project, tt.pattern, tt.v6)
			if err != nil {
				t.Fatalf("InstancesWithIP(%q, %q, %v): %v", tt.project, tt.pattern, tt.v6, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("InstancesWithIP(%q, %q, v6=%v) = %q, want %q", tt.project, tt.pattern, tt.v6, got, tt.want)
			}
		}
		_, err := m.InstancesWithIP(context.Background(), db, "p1", "10.(", false)
		if errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("bad regex: err = %v, want invalid", err)
		}
	})
}
