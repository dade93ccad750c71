package network

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// prefill4 marks every host address of n in use except the ordinals in
// keep, with bulk inserts on one placeholder port.
func prefill4(t *testing.T, db *store.DB, n Network, keep map[int64]bool) {
	t.Helper()
	ctx := context.Background()
	subnet := netip.MustParsePrefix(n.CIDR)
	first, last := hostRange4(subnet)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO network_ports (id, network_id, instance_id, mac, position, created_at)
			VALUES ('filler', ?, 'filler', 'fa:16:3e:00:00:00', 0, 0)`, n.ID); err != nil {
			return err
		}
		var rows []string
		var args []any
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO fixed_ips (network_id, address, version, ordinal, port_id, instance_id)
				VALUES `+strings.Join(rows, ", "), args...)
			rows, args = rows[:0], args[:0]
			return err
		}
		for o := first; o <= last; o++ {
			if keep[o] {
				continue
			}
			rows = append(rows, "(?, ?, 4, ?, 'filler', 'filler')")
			args = append(args, n.ID, at4(subnet, o).String(), o)
			if len(rows) == 400 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		t.Fatalf("prefill: %v", err)
	}
}

func TestNearlyFullLargeNetworkFindsTheLastGapsQuickly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		m := newManager(t, Options{PrefixLen: 20}) // 4093 host addresses
		n := ensureDefault(t, db, m, "p1")
		subnet := netip.MustParsePrefix(n.CIDR)
		gaps := map[int64]bool{2: true, 1777: true, 4094: true}
		prefill4(t, db, n, gaps)
		got := map[string]bool{}
		for i := range len(gaps) {
			start := time.Now()
			addrs := mustAllocate(t, db, m, "p1", fmt.Sprintf("i%d", i), Auto())
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("allocation %d took %v in a network with 4000 addresses", i, took)
			}
			got[addrs[0].Addr] = true
		}
		for o := range gaps {
			if a := at4(subnet, o).String(); !got[a] {
				t.Errorf("gap %s was not handed out; got %v", a, got)
			}
		}
		_, err := allocate(t, db, m, "p1", "full", Auto())
		expectError(t, err, errs.KindConflict, "No fixed IP addresses available for network: "+n.ID)
	})
}
