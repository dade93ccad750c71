package compute_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/apitest"
	"github.com/kumocloud/kumo/internal/app"
	"github.com/kumocloud/kumo/internal/compute/computetest"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/store"
)

const (
	hostsAdmin  = "admin:admin-project"
	hostsMember = "u1:p1"
	hostedVM    = "11111111-1111-4111-8111-111111111111"
)

// hostsAPI is the compute API of a cloud with two more registered hosts
// than its own (computetest.Host, zone nova, no servers, hypervisor 1,
// service 3 after the scheduler and conductor): node-a (zone
// nova, one server) and node-b (zone west, no servers); all are up.
type hostsAPI struct {
	client  *apitest.Client
	db      *store.DB
	a, b    string // host uuids
	control string // the host of the control services
}

func newHostsAPI(t *testing.T, database string) *hostsAPI {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	// The cloud's own host has the capacity of the others.
	// The host endpoint answers the hypervisors API's uptime calls.
	c, client := newCloud(t, database, computetest.Options{HostEndpoint: true, Configure: func(cfg *app.Config) {
		cfg.HostVCPUs, cfg.HostMemoryMB, cfg.HostDiskGB = 4, 8192, 100
	}})
	db, dir := c.DB, c.App.Hosts
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
	x := &hostsAPI{client: client, db: db, a: reg("node-a", ""), b: reg("node-b", "west"), control: dir.ControlHost}
	_, err := db.ExecContext(ctx, `INSERT INTO instances (id, number, project_id, user_id, name, hostname,
		reservation_id, flavor_id, flavor, vcpus, memory_mb, root_gb, ephemeral_gb, vm_state, host, created_at, updated_at)
		VALUES (?, 1, 'p1', 'u1', 'vm-1', 'vm-1', 'r-1', '1', '{}', 1, 512, 1, 0, 'active', 'node-a', 1, 1)`, hostedVM)
	if err != nil {
		t.Fatalf("place server: %v", err)
	}
	reg("node-a", "") // registration recounts usage from the servers placed there
	return x
}
