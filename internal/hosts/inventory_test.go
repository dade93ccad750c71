package hosts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
	"github.com/kumocloud/kumo/internal/virt"
)

func register(t *testing.T, db *store.DB, name, az string, now time.Time) string {
	t.Helper()
	id, err := hosts.Register(context.Background(), db, hosts.Registration{
		Info: virt.HostInfo{Hostname: name, HypervisorType: "fake", HypervisorVersion: 1000, VCPUs: 4, MemoryMB: 8192, DiskGB: 100, CPUInfo: `{"arch":"x86_64"}`},
		AZ:   az, IP: "192.0.2.1",
	}, now)
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return id
}

// PlaceServer inserts a live server on host, as the scheduler would.
func PlaceServer(t *testing.T, db *store.DB, id string, number int64, host string) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), `INSERT INTO instances (id, number, project_id, user_id, name, hostname,
		reservation_id, flavor_id, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, vm_state, host, created_at, updated_at)
		VALUES (?, ?, 'p', 'u', ?, 'vm', 'r-1', '1', '{}', 1, 512, 1, 0, 'active', ?, 1, 1)`, id, number, "vm-"+id[:4], host)
	if err != nil {
		t.Fatalf("place server: %v", err)
	}
}

func TestInventory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		a := register(t, db, "node-a", "", now)
		register(t, db, "node-b", "zone-b", now.Add(-2*hosts.DownTime))
		PlaceServer(t, db, "11111111-1111-4111-8111-111111111111", 1, "node-a")

		all, err := hosts.List(ctx, db)
		if err != nil || len(all) != 2 {
			t.Fatalf("list: %v %d", err, len(all))
		}
		if all[0].ID != a || all[0].Number != 1 || all[0].AvailabilityZone != "nova" || !all[0].Up(now) {
			t.Errorf("first host = %+v", all[0])
		}
		if all[1].Up(now) {
			t.Errorf("node-b has a stale heartbeat and must be down")
		}
		if got, err := hosts.GetByNumber(ctx, db, 2); err != nil || got.Hostname != "node-b" {
			t.Errorf("by number: %v %v", got.Hostname, err)
		}
		if _, err := hosts.Get(ctx, db, "00000000-0000-4000-8000-000000000000"); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("missing host: %v", err)
		}
		if found, _ := hosts.Search(ctx, db, "NODE"); len(found) != 2 {
			t.Errorf("search is case-insensitive substring: %d", len(found))
		}
		servers, err := hosts.Servers(ctx, db, "node-a")
		if err != nil || len(servers) != 1 || servers[0].UUID != "11111111-1111-4111-8111-111111111111" {
			t.Errorf("servers: %v %+v", err, servers)
		}

		disabled, reason := true, "maintenance"
		got, err := hosts.UpdateService(ctx, db, "node-a", hosts.ServiceChange{Disabled: &disabled, Reason: &reason}, now)
		if err != nil || !got.Disabled || got.DisabledReason == nil || *got.DisabledReason != reason {
			t.Fatalf("disable: %v %+v", err, got)
		}
		if _, err := hosts.UpdateService(ctx, db, "nope", hosts.ServiceChange{Disabled: &disabled}, now); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("update of a missing host: %v", err)
		}
		if err := hosts.Delete(ctx, db, "node-a"); !errs.Is(err, errs.KindConflict) {
			t.Errorf("delete of a host with servers: %v", err)
		}
		if err := hosts.Delete(ctx, db, "node-b"); err != nil {
			t.Errorf("delete: %v", err)
		}

		svcs, err := hosts.Services(ctx, db, "ctl", now)
		if err != nil || len(svcs) != 3 {
			t.Fatalf("services: %v %d", err, len(svcs))
		}
		if svcs[0].Binary != "nova-scheduler" || svcs[0].Zone != hosts.InternalZone || svcs[2].ID != 3 || svcs[2].Compute == nil {
			t.Errorf("services = %+v", svcs)
		}
	})
}

// A disabled compute service gets no new servers: the scheduler skips it.
func TestSchedulerSkipsDisabledHost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		register(t, db, "only", "", now)
		disabled := true
		if _, err := hosts.UpdateService(ctx, db, "only", hosts.ServiceChange{Disabled: &disabled}, now); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := scheduler.Claim(ctx, tx, scheduler.Request{VCPUs: 1, MemoryMB: 64, DiskGB: 1}, now)
			return err
		})
		if !errors.Is(err, scheduler.ErrNoValidHost) {
			t.Fatalf("claim on a disabled host: %v", err)
		}
		enabled := false
		if _, err := hosts.UpdateService(ctx, db, "only", hosts.ServiceChange{Disabled: &enabled}, now); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := scheduler.Claim(ctx, tx, scheduler.Request{VCPUs: 1, MemoryMB: 64, DiskGB: 1}, now)
			return err
		}); err != nil {
			t.Fatalf("claim on the enabled host: %v", err)
		}
	})
}
