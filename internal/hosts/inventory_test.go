package hosts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/store/storetest"
)

// directory is the host service on db, with compute's answers about
// servers and a clock that reads now.
func directory(db *store.DB, now time.Time) *hosts.Directory {
	d := hosts.NewDirectory(db, compute.NewInventory(db))
	d.ControlHost, d.Clock = "ctl", func() time.Time { return now }
	return d
}

func register(t *testing.T, db *store.DB, name, az string, now time.Time) string {
	t.Helper()
	id, err := directory(db, now).Register(context.Background(), hosts.Registration{
		Info: hosts.HostInfo{Hostname: name, HypervisorType: "fake", HypervisorVersion: 1000, VCPUs: 4, MemoryMB: 8192, DiskGB: 100, CPUInfo: `{"arch":"x86_64"}`},
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
	placeServer(t, db, id, number, host, "active")
}

func placeServer(t *testing.T, db *store.DB, id string, number int64, host, vmState string) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), `INSERT INTO instances (id, number, project_id, user_id, name, hostname,
		reservation_id, flavor_id, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, vm_state, host, created_at, updated_at)
		VALUES (?, ?, 'p', 'u', ?, 'vm', 'r-1', '1', '{}', 1, 512, 1, 0, ?, ?, 1, 1)`, id, number, "vm-"+id[:4], vmState, host)
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
		register(t, db, "node-b", "zone-b", now.Add(-2*scheduler.DefaultServiceDownTime))
		PlaceServer(t, db, "11111111-1111-4111-8111-111111111111", 1, "node-a")
		placeServer(t, db, "22222222-2222-4222-8222-222222222222", 2, "node-b", "building")
		dir := directory(db, now)

		all, err := dir.List(ctx)
		if err != nil || len(all) != 2 {
			t.Fatalf("list: %v %d", err, len(all))
		}
		if all[0].ID != a || all[0].Number != 1 || all[0].AvailabilityZone != "nova" || !all[0].Up(now) {
			t.Errorf("first host = %+v", all[0])
		}
		if all[1].Up(now) {
			t.Errorf("node-b has a stale heartbeat and must be down")
		}
		if all[0].Workload != 0 || all[1].Workload != 1 {
			t.Errorf("workloads = %d, %d, want 0, 1 (node-b builds a server)", all[0].Workload, all[1].Workload)
		}
		if _, err := db.ExecContext(ctx, `UPDATE instances SET deleted = TRUE WHERE host = 'node-b'`); err != nil {
			t.Fatal(err)
		}
		// A registration recounts the host's usage from its servers.
		register(t, db, "node-a", "", now)
		if got, err := dir.GetByName(ctx, "node-a"); err != nil || got.VCPUsUsed != 1 || got.MemUsed != 512 ||
			got.LocalUsed != 1 || got.RunningVMs != 1 {
			t.Errorf("node-a after registration: %v %+v", err, got)
		}
		usage, err := dir.ProjectUsage(ctx, "node-a")
		if err != nil || len(usage) != 1 || usage[0] != (hosts.ProjectUse{ProjectID: "p", VCPUs: 1, MemoryMB: 512, DiskGB: 1}) {
			t.Errorf("project usage: %v %+v", err, usage)
		}
		if got, err := dir.GetByNumber(ctx, 2); err != nil || got.Hostname != "node-b" {
			t.Errorf("by number: %v %v", got.Hostname, err)
		}
		if _, err := dir.Get(ctx, "00000000-0000-4000-8000-000000000000"); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("missing host: %v", err)
		}
		if found, _ := dir.Search(ctx, "NODE"); len(found) != 2 {
			t.Errorf("search is case-insensitive substring: %d", len(found))
		}
		servers, err := dir.Servers(ctx, "node-a")
		if err != nil || len(servers) != 1 || servers[0].UUID != "11111111-1111-4111-8111-111111111111" {
			t.Errorf("servers: %v %+v", err, servers)
		}

		disabled, reason := true, "maintenance"
		got, err := directory(db, now).UpdateService(ctx, "node-a", hosts.ServiceChange{Disabled: &disabled, Reason: &reason})
		if err != nil || !got.Disabled || got.DisabledReason == nil || *got.DisabledReason != reason {
			t.Fatalf("disable: %v %+v", err, got)
		}
		if _, err := directory(db, now).UpdateService(ctx, "nope", hosts.ServiceChange{Disabled: &disabled}); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("update of a missing host: %v", err)
		}
		if err := dir.Delete(ctx, "node-a"); !errs.Is(err, errs.KindConflict) {
			t.Errorf("delete of a host with servers: %v", err)
		}
		if err := dir.Delete(ctx, "node-b"); err != nil {
			t.Errorf("delete: %v", err)
		}

		svcs, err := dir.Services(ctx)
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
		if _, err := directory(db, now).UpdateService(ctx, "only", hosts.ServiceChange{Disabled: &disabled}); err != nil {
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
		if _, err := directory(db, now).UpdateService(ctx, "only", hosts.ServiceChange{Disabled: &enabled}); err != nil {
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
