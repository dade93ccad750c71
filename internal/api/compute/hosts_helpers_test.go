package compute_test

import (
	"context"
	"testing"
	"time"

	computeapi "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/store"
)

const (
	hostsAdmin  = "admin:admin-project"
	hostsMember = "u1:p1"
	hostedVM    = "11111111-1111-4111-8111-111111111111"
)

// hostsAPI is the compute API over two registered hosts: node-a (zone
// nova, one server) and node-b (zone west, no servers); both are up.
type hostsAPI struct {
	client *apitest.Client
	db     *store.DB
	a, b   string // host uuids
}

func newHostsAPI(t *testing.T, db *store.DB) *hostsAPI {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	dir := newHosts(db, "ctl")
	reg := func(name, az string) string {
		id, err := dir.Register(ctx, hosts.Registration{
			Info: hosts.HostInfo{Hostname: name, HypervisorType: "fake", HypervisorVersion: 1000, VCPUs: 4,
				MemoryMB: 8192, DiskGB: 100, CPUInfo: `{"arch": "x86_64", "model": "Nehalem", "vendor": "Intel", "features": ["pge"], "topology": {"cores": 2, "threads": 1, "sockets": 2}}`},
			AZ: az, IP: "192.0.2.10",
		}, now)
		if err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
		return id
	}
	x := &hostsAPI{db: db, a: reg("node-a", ""), b: reg("node-b", "west")}
	_, err := db.ExecContext(ctx, `INSERT INTO instances (id, number, project_id, user_id, name, hostname,
		reservation_id, flavor_id, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, vm_state, host, created_at, updated_at)
		VALUES (?, 1, 'p1', 'u1', 'vm-1', 'vm-1', 'r-1', '1', '{}', 1, 512, 1, 0, 'active', 'node-a', 1, 1)`, hostedVM)
	if err != nil {
		t.Fatalf("place server: %v", err)
	}
	reg("node-a", "") // registration recounts usage from the servers placed there
	x.client = computeAPI(t, computeapi.Deps{Hosts: dir})
	return x
}
