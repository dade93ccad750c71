package scheduler_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// addHost inserts a compute host with 4 vCPUs, 4096 MB and 40 GB at
// ratio 1, heartbeating at beat.
func addHost(t *testing.T, db *store.DB, number int, name, az string, beat time.Time) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), `INSERT INTO compute_hosts (id, number, hostname, hypervisor_type,
		hypervisor_version, cpu_info, vcpus, memory_mb, local_gb, cpu_allocation_ratio, ram_allocation_ratio,
		disk_allocation_ratio, availability_zone, heartbeat_at, created_at, updated_at)
		VALUES (?, ?, ?, 'fake', 1000, '{"arch": "x86_64"}', 4, 4096, 40, 1, 1, 1, ?, ?, 1, 1)`,
		name+"-id", number, name, az, beat.UnixMicro())
	if err != nil {
		t.Fatalf("add host %s: %v", name, err)
	}
}

// addAggregate puts hosts in a new aggregate with metadata md.
func addAggregate(t *testing.T, db *store.DB, id int, md map[string]string, hosts ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO aggregates (id, uuid, name, created_at) VALUES (?, ?, ?, 1)`,
		id, "agg-uuid-"+string(rune('a'+id)), "agg"); err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if _, err := db.ExecContext(ctx, `INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)`, id, h); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range md {
		if _, err := db.ExecContext(ctx, `INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, ?, ?)`, id, k, v); err != nil {
			t.Fatal(err)
		}
	}
}

func claim(t *testing.T, db *store.DB, req scheduler.Request) (string, error) {
	t.Helper()
	var p scheduler.Placement
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		p, err = scheduler.Claim(context.Background(), tx, req, now)
		return err
	})
	return p.Host, err
}

// TestClaim: placement and the claim on both engines: spread over the
// hosts, each claim counted, nothing on a host that is down or full, and
// an aggregate's allocation ratio enforced by the claim itself.
func TestClaim(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		addHost(t, db, 1, "a", "nova", now)
		addHost(t, db, 2, "b", "nova", now)
		addHost(t, db, 3, "stale", "nova", now.Add(-2*time.Minute))
		addAggregate(t, db, 1, map[string]string{"ram_allocation_ratio": "1.5"}, "b")
		req := scheduler.Request{VCPUs: 1, MemoryMB: 2048, DiskGB: 1}
		var got []string
		for range 5 {
			h, err := claim(t, db, req)
			if err != nil {
				t.Fatalf("claim %d: %v", len(got)+1, err)
			}
			got = append(got, h)
		}
		// a and b spread 2048 MB claims; b's aggregate lets it take a third.
		want := []string{"a", "b", "a", "b", "b"}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("placements %v, want %v", got, want)
			}
		}
		if _, err := claim(t, db, req); !errors.Is(err, scheduler.ErrNoValidHost) {
			t.Fatalf("claim on full hosts: %v, want no valid host", err)
		}
		// A longer service_down_time brings the stale host back.
		req.Config.ServiceDownTime = 5 * time.Minute
		if h, err := claim(t, db, req); err != nil || h != "stale" {
			t.Fatalf("with service_down_time 5m: %q, %v; want the stale host", h, err)
		}
		var used, vms int
		if err := db.QueryRowContext(context.Background(), `SELECT memory_mb_used, running_vms FROM compute_hosts WHERE hostname = 'b'`).
			Scan(&used, &vms); err != nil || used != 6144 || vms != 3 {
			t.Fatalf("host b: %d MB in %d servers (%v), want 6144 in 3", used, vms, err)
		}
	})
}

// TestCandidates: a create claims from host states read before its
// transaction; when those are stale the claim still lands where there is
// room now, or nowhere when there is none.
func TestCandidates(t *testing.T) {
	t.Parallel()
	req := scheduler.Request{VCPUs: 1, MemoryMB: 2048, DiskGB: 1}
	cases := []struct {
		name   string
		before func(t *testing.T, db *store.DB) // the hosts when the states are read
		since  func(t *testing.T, db *store.DB) // what changes before the transaction
		want   []string                         // the hosts of two claims ("" = no valid host)
	}{
		{"states current", func(t *testing.T, db *store.DB) {
			addHost(t, db, 1, "a", "nova", now)
			addHost(t, db, 2, "b", "nova", now)
		}, func(*testing.T, *store.DB) {}, []string{"a", "b"}},
		{"host registered since", func(*testing.T, *store.DB) {}, func(t *testing.T, db *store.DB) {
			addHost(t, db, 1, "a", "nova", now)
		}, []string{"a", "a"}},
		{"host filled since", func(t *testing.T, db *store.DB) {
			addHost(t, db, 1, "a", "nova", now)
			addHost(t, db, 2, "b", "nova", now)
		}, func(t *testing.T, db *store.DB) {
			if _, err := db.ExecContext(context.Background(), `UPDATE compute_hosts SET memory_mb_used = 4096 WHERE hostname = 'a'`); err != nil {
				t.Fatal(err)
			}
		}, []string{"b", "b"}},
		{"host down since", func(t *testing.T, db *store.DB) {
			addHost(t, db, 1, "a", "nova", now)
		}, func(t *testing.T, db *store.DB) {
			if _, err := db.ExecContext(context.Background(), `UPDATE compute_hosts SET forced_down = TRUE`); err != nil {
				t.Fatal(err)
			}
		}, []string{"", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				tc.before(t, db)
				c, err := scheduler.ReadCandidates(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				tc.since(t, db)
				var got []string
				err = db.InTx(ctx, func(tx *store.Tx) error {
					got = nil
					c.Begin()
					for range 2 {
						p, err := c.Claim(ctx, tx, req, now)
						if err != nil && !errors.Is(err, scheduler.ErrNoValidHost) {
							return err
						}
						got = append(got, p.Host)
					}
					return nil
				})
				if err != nil || !slices.Equal(got, tc.want) {
					t.Fatalf("claims on %v, %v; want %v", got, err, tc.want)
				}
			})
		})
	}
}

// TestCandidatesAcrossTransactions: the servers a create makes one
// transaction each (past min_count) are weighed with the claims of the
// transactions committed before, not with the states as first read; a
// rolled-back attempt's claim is forgotten.
func TestCandidatesAcrossTransactions(t *testing.T) {
	t.Parallel()
	req := scheduler.Request{VCPUs: 1, MemoryMB: 1024, DiskGB: 1}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addHost(t, db, 1, "a", "nova", now)
		addHost(t, db, 2, "b", "nova", now)
		c, err := scheduler.ReadCandidates(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		claimOne := func(fail bool) string {
			t.Helper()
			var host string
			err := db.InTx(ctx, func(tx *store.Tx) error {
				c.Begin()
				p, err := c.Claim(ctx, tx, req, now)
				if err != nil {
					return err
				}
				host = p.Host
				if fail {
					return errRollBack
				}
				return nil
			})
			if fail != errors.Is(err, errRollBack) || (!fail && err != nil) {
				t.Fatalf("claim: %v", err)
			}
			if !fail {
				c.Committed()
			}
			return host
		}
		claimOne(true) // rolled back: a keeps its room
		var got []string
		for range 4 {
			got = append(got, claimOne(false))
		}
		if want := []string{"a", "b", "a", "b"}; !slices.Equal(got, want) {
			t.Fatalf("one transaction per server placed them on %v, want %v", got, want)
		}
	})
}

var errRollBack = errors.New("roll back")

// TestMoves: OtherHostFits and ClaimMove run the filters.
func TestMoves(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addHost(t, db, 1, "src", "nova", now)
		addHost(t, db, 2, "dst", "z2", now)
		addAggregate(t, db, 1, map[string]string{"filter_tenant_id": "other"}, "dst")
		req := scheduler.Request{VCPUs: 1, MemoryMB: 1024, DiskGB: 1, ProjectID: "p"}
		fits := func(r scheduler.Request, host string) bool {
			ok, err := scheduler.OtherHostFits(ctx, db, r, "src", host, now)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if fits(req, "") {
			t.Error("dst is isolated for another tenant, yet fits")
		}
		req.ProjectID = "other"
		if !fits(req, "") || !fits(req, "dst") || fits(req, "src") {
			t.Error("for the other tenant: want dst and only dst")
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i, want := range []bool{true, true, true, true, false} {
				ok, err := scheduler.ClaimMove(ctx, tx, "src", req, now)
				if err != nil || ok != want {
					t.Errorf("move claim %d: %v, %v; want %v", i+1, ok, err, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var vms int
		if err := db.QueryRowContext(ctx, `SELECT running_vms FROM compute_hosts WHERE hostname = 'src'`).Scan(&vms); err != nil || vms != 0 {
			t.Errorf("move claims counted %d servers (%v), want 0", vms, err)
		}
	})
}
