package network_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// Concurrent creates cannot pass a quota together: each counts inside
// its own transaction, so exactly as many as the limit leaves are made.
func TestConcurrentCreatesKeepTheQuota(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, err := network.New(network.Options{})
		if err != nil {
			t.Fatal(err)
		}
		quotas := netquota.New(db, netquota.Counters{netquota.Network: network.CountNetworks, netquota.Subnet: network.CountSubnets})
		svc := network.NewService(db, m, quotas)
		if _, err := quotas.Set(ctx, "p1", []netquota.Change{{Resource: netquota.Network, Limit: 3}}, false); err != nil {
			t.Fatal(err)
		}
		const tries = 8
		var wg sync.WaitGroup
		results := make(chan error, tries)
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("n%d", i)
				_, err := svc.CreateNetwork(ctx, "p1", network.NetworkFields{Name: &name})
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		made := 0
		for err := range results {
			switch {
			case err == nil:
				made++
			case errs.NameOf(err) != "OverQuota":
				t.Errorf("create: %v", err)
			}
		}
		n, err := network.CountNetworks(ctx, db, "p1")
		if made != 3 || n != 3 {
			t.Errorf("%d creates passed, %d networks made (%v), want 3", made, n, err)
		}
	})
}
