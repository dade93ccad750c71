package router_test

import (
	"context"
	"sync"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/router"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// Gateways and floating IPs share the floating range: concurrent
// gateways and allocations never share an address, and together they
// fill the range exactly.
func TestGatewaysAndFloatingIPsShareTheRange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, err := network.New(network.Options{})
		if err != nil {
			t.Fatal(err)
		}
		quotas := netquota.New(db, netquota.Counters{netquota.Port: network.CountPorts, netquota.Router: router.CountRouters,
			netquota.FloatingIP: floatingip.CountFloatingIPs})
		nets := network.NewService(db, m, quotas)
		const cidr = "198.51.100.0/28" // 13 addresses: .2 to .14
		if err := nets.EnsureExternal(ctx, "admin", "public", cidr); err != nil {
			t.Fatal(err)
		}
		extID, _, err := nets.ExternalNetwork(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fips := floatingip.New(db, nets, floatingip.Options{Range: cidr, Pool: "public"}, quotas)
		routers := router.New(db, nets, fips, quotas)
		gw := &router.GatewayRequest{NetworkID: extID}

		var mu sync.Mutex
		seen := map[string]int{}
		failures := 0
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var addr string
				var err error
				if i%2 == 0 {
					var r router.Router
					r, err = routers.Create(ctx, "p1", router.Fields{Gateway: &gw})
					if err == nil {
						addr = r.Gateway.FixedIPs[0].IPAddress
					}
				} else {
					var f floatingip.Record
					f, err = fips.CreateRecord(ctx, floatingip.Create{ProjectID: "p2", NetworkID: extID})
					addr = f.Address
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					seen[addr]++
				case errs.NameOf(err) == "IpAddressGenerationFailure":
					failures++
				default:
					t.Errorf("create %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		for a, n := range seen {
			if n != 1 {
				t.Errorf("%s handed out %d times", a, n)
			}
		}
		if len(seen) != 13 || failures != 3 {
			t.Errorf("%d addresses handed out, %d exhausted; want 13 and 3", len(seen), failures)
		}
	})
}
