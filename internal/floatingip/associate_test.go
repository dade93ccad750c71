package floatingip_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/router"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// assocCloud is a pool and an address manager with servers i1 and i2 of
// project p1 (one port each, IPv4 and IPv6) and i3 without addresses.
type assocCloud struct {
	s     *floatingip.Service
	nets  *network.Manager
	fixed map[string][]network.Address
}

func newAssocCloud(t *testing.T, db *store.DB) *assocCloud {
	t.Helper()
	ctx := context.Background()
	nets, err := network.New(network.Options{IPv6: true})
	if err != nil {
		t.Fatal(err)
	}
	quotas := netquota.New(db, netquota.Counters{netquota.Port: network.CountPorts, netquota.Router: router.CountRouters,
		netquota.FloatingIP: floatingip.CountFloatingIPs})
	// As with Neutron, an association needs a router from the fixed IP's
	// subnet to the external network: the default router of p1's
	// network made on first need, which the router service makes.
	svc := network.NewService(db, nets, quotas)
	if err := svc.EnsureExternal(ctx, "admin", "public", "203.0.113.0/24"); err != nil {
		t.Fatal(err)
	}
	c := &assocCloud{s: floatingip.New(db, svc, floatingip.Options{Range: "203.0.113.0/24", Pool: "public"}, quotas), nets: nets,
		fixed: map[string][]network.Address{}}
	router.New(db, svc, c.s, quotas)
	for _, id := range []string{"i1", "i2"} {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			addrs, err := nets.Allocate(ctx, tx, "p1", id, network.Auto())
			c.fixed[id] = addrs
			return err
		})
		if err != nil || len(c.fixed[id]) != 2 || c.fixed[id][0].Version != 4 || c.fixed[id][1].Version != 6 {
			t.Fatalf("allocate %s: %+v, %v", id, c.fixed[id], err)
		}
	}
	return c
}

func (c *assocCloud) allocate(t *testing.T, project string) *floatingip.FloatingIP {
	t.Helper()
	f, err := c.s.Allocate(context.Background(), project, "")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// bound is the fixed address and server of a floating IP.
func (c *assocCloud) bound(t *testing.T, id string) (fixed, instance string) {
	t.Helper()
	f, err := c.s.Get(context.Background(), admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return f.FixedAddress, f.InstanceID
}

func TestAssociateChoosesAndChecksTheFixedAddress(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newAssocCloud(t, db)
		f := c.allocate(t, "p1")
		v4, v6 := c.fixed["i1"][0].Addr, c.fixed["i1"][1].Addr

		tests := []struct {
			name, instance, address, fixed string
			kind                           errs.Kind
			msg                            string
		}{
			{"no addresses", "i3", f.Address, "", errs.KindInvalid, "Instance network is not ready yet"},
			{"foreign fixed address", "i1", f.Address, c.fixed["i2"][0].Addr, errs.KindInvalid, "Specified fixed address not assigned to instance"},
			// Outside the pool's range, so no allocation can hand it out.
			{"unknown floating IP", "i1", "198.51.100.99", "", errs.KindNotFound, "floating IP not found"},
			{"IPv6 fixed address", "i1", f.Address, v6, errs.KindInvalid, "Unable to associate floating IP " + f.Address +
				" to fixed IP " + v6 + " for instance i1. Error: Bad floatingip request: Cannot process floating IP association with " +
				v6 + ", since that is not an IPv4 address."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				expectErr(t, c.s.Associate(ctx, member, tt.instance, tt.address, tt.fixed), tt.kind, tt.msg)
			})
		}
		foreign := c.allocate(t, "p2")
		expectErr(t, c.s.Associate(ctx, member, "i1", foreign.Address, ""), errs.KindNotFound, "floating IP not found")

		// Without fixed_address the first IPv4 address is bound.
		if err := c.s.Associate(ctx, member, "i1", f.Address, ""); err != nil {
			t.Fatal(err)
		}
		if fixed, inst := c.bound(t, f.ID); fixed != v4 || inst != "i1" {
			t.Fatalf("bound to %s of %s, want %s of i1", fixed, inst, v4)
		}
		// Again, named: nothing changes.
		if err := c.s.Associate(ctx, member, "i1", f.Address, v4); err != nil {
			t.Fatalf("associate again: %v", err)
		}
		// A second floating IP for the same fixed IP is Neutron's conflict.
		g := c.allocate(t, "p1")
		err := c.s.Associate(ctx, member, "i1", g.Address, "")
		if errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("second floating IP on %s: %v", v4, err)
		}
		// Binding f to i2 moves it, as Neutron does.
		if err := c.s.Associate(ctx, member, "i2", f.Address, ""); err != nil {
			t.Fatal(err)
		}
		if fixed, inst := c.bound(t, f.ID); fixed != c.fixed["i2"][0].Addr || inst != "i2" {
			t.Fatalf("after the move bound to %s of %s", fixed, inst)
		}
	})
}

func TestDisassociate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newAssocCloud(t, db)
		f := c.allocate(t, "p1")
		expectErr(t, c.s.Disassociate(ctx, member, "i1", f.Address), errs.KindConflict,
			"Floating IP "+f.Address+" is not associated with instance i1.")
		expectErr(t, c.s.Disassociate(ctx, member, "i1", "198.51.100.99"), errs.KindNotFound,
			"Floating IP not found for address 198.51.100.99.")
		if err := c.s.Associate(ctx, member, "i1", f.Address, ""); err != nil {
			t.Fatal(err)
		}
		expectErr(t, c.s.Disassociate(ctx, other, "i1", f.Address), errs.KindNotFound,
			"Floating IP not found for address "+f.Address+".")
		expectErr(t, c.s.Disassociate(ctx, member, "i2", f.Address), errs.KindConflict,
			"Floating IP "+f.Address+" is not associated with instance i2.")
		if err := c.s.Disassociate(ctx, member, "i1", f.Address); err != nil {
			t.Fatal(err)
		}
		if fixed, inst := c.bound(t, f.ID); fixed != "" || inst != "" {
			t.Fatalf("still bound to %s of %s", fixed, inst)
		}
	})
}

// The address view lists a floating IP after the fixed ones, on its fixed
// IP's network with the port's MAC; releasing the server's addresses
// (server delete) unbinds it and leaves it allocated.
func TestFloatingAddressesInViewAndOnRelease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newAssocCloud(t, db)
		f := c.allocate(t, "p1")
		if err := c.s.Associate(ctx, member, "i1", f.Address, ""); err != nil {
			t.Fatal(err)
		}
		got, err := c.nets.ForInstances(ctx, db, []string{"i1", "i2", "i3"})
		if err != nil {
			t.Fatal(err)
		}
		fixed := c.fixed["i1"][0]
		want := network.Address{NetworkID: fixed.NetworkID, Network: fixed.Network, PortID: fixed.PortID,
			Addr: f.Address, Version: 4, MAC: fixed.MAC, Type: "floating"}
		if len(got["i1"]) != 3 || got["i1"][2] != want || got["i1"][0].Type != "fixed" || got["i1"][1].Type != "fixed" {
			t.Fatalf("i1 addresses = %+v, want the fixed ones then %+v", got["i1"], want)
		}
		if len(got["i2"]) != 2 {
			t.Fatalf("i2 addresses = %+v", got["i2"])
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return c.nets.Release(ctx, tx, "i1") }); err != nil {
			t.Fatal(err)
		}
		if fixed, inst := c.bound(t, f.ID); fixed != "" || inst != "" {
			t.Fatalf("after release still bound to %s of %s", fixed, inst)
		}
		if list, err := c.s.List(ctx, "p1"); err != nil || len(list) != 1 {
			t.Fatalf("after release: %+v, %v", list, err)
		}
	})
}

// A cloud from before routers has floating IPs bound without one:
// RouteBound makes the default router of their network and records it;
// a floating IP no router can serve stays as it is.
func TestRouteBound(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newAssocCloud(t, db)
		f, g := c.allocate(t, "p1"), c.allocate(t, "p1")
		// Bound as the pool bound them before routers (no router_id);
		// g on a fixed IP of no subnet (a network without subnets).
		bind := func(id, network, address string) {
			t.Helper()
			if _, err := db.ExecContext(ctx, `UPDATE floating_ips SET fixed_network_id = ?, fixed_address = ? WHERE id = ?`,
				network, address, id); err != nil {
				t.Fatal(err)
			}
		}
		bind(f.ID, c.fixed["i1"][0].NetworkID, c.fixed["i1"][0].Addr)
		if _, err := db.ExecContext(ctx, `DELETE FROM subnets WHERE network_id = ? AND ip_version = 6`, c.fixed["i2"][1].NetworkID); err != nil {
			t.Fatal(err)
		}
		bind(g.ID, c.fixed["i2"][1].NetworkID, c.fixed["i2"][1].Addr)
		routerOf := func(id string) string {
			t.Helper()
			var r sql.NullString
			if err := db.QueryRowContext(ctx, `SELECT router_id FROM floating_ips WHERE id = ?`, id).Scan(&r); err != nil {
				t.Fatal(err)
			}
			return r.String
		}
		if err := c.s.RouteBound(ctx); err != nil {
			t.Fatal(err)
		}
		var routerID, name string
		if err := db.QueryRowContext(ctx, `SELECT id, name FROM routers WHERE project_id = 'p1'`).Scan(&routerID, &name); err != nil {
			t.Fatalf("default router: %v", err)
		}
		if routerOf(f.ID) != routerID || name != "router1" || routerOf(g.ID) != "" {
			t.Errorf("routers %q of f and %q of g, want %s (%s) and none", routerOf(f.ID), routerOf(g.ID), routerID, name)
		}
		// Run again, nothing changes.
		if err := c.s.RouteBound(ctx); err != nil || routerOf(f.ID) != routerID {
			t.Errorf("second run: %v, router %q", err, routerOf(f.ID))
		}
	})
}
