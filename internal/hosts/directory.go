package hosts

import (
	"context"
	"os"
	"time"

	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// Servers is what the host inventory needs to know about the servers
// placed on hosts; the compute package answers it (compute.Inventory), so
// SQL on the instances table stays there. Methods taking a store.Querier
// run in the caller's transaction.
type Servers interface {
	// HostLoad sums what the servers placed on hostname take (not
	// deleted, not shelved-offloaded).
	HostLoad(ctx context.Context, q store.Querier, hostname string) (Load, error)
	// ServersOnHost lists the servers placed on hostname, oldest first.
	ServersOnHost(ctx context.Context, hostname string) ([]ServerRef, error)
	// ProjectUsageOnHost sums the live servers on hostname per project,
	// in order of each project's first server there.
	ProjectUsageOnHost(ctx context.Context, hostname string) ([]ProjectUse, error)
	// Workloads counts per host the servers being built or in a long
	// task there; hosts with none are absent.
	Workloads(ctx context.Context) (map[string]int64, error)
}

// Load is what the servers on a host take.
type Load struct {
	VCPUs, MemoryMB int64
	DiskGB          int64 // root plus ephemeral
	Servers         int64
}

// Directory is the host service: the inventory of compute hosts, their
// nova-compute services and the control services on this machine. The
// APIs (os-hypervisors, os-services, os-hosts, os-availability-zone) and
// the agent's registration go through it.
type Directory struct {
	db      *store.DB
	servers Servers
	// ControlHost names the machine the control services run on.
	ControlHost string
	// Clock is the directory's clock; nil is the wall clock.
	Clock func() time.Time
	// ServiceDownTime is how old a host's heartbeat may be before the
	// host is down (Nova's service_down_time; 0: the default), the
	// scheduler's limit, so what the APIs show as up is what it places
	// on. An agent's host lease lapses after it too.
	ServiceDownTime time.Duration
}

// DownTime is the service_down_time in force.
func (d *Directory) DownTime() time.Duration {
	return scheduler.Config{ServiceDownTime: d.ServiceDownTime}.DownTime()
}

// NewDirectory reads hosts from db and their servers from servers; the
// control services are named after this machine.
func NewDirectory(db *store.DB, servers Servers) *Directory {
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "localhost"
	}
	return &Directory{db: db, servers: servers, ControlHost: name}
}

// Now is the directory's clock, the wall clock by default.
func (d *Directory) Now() time.Time {
	if d.Clock != nil {
		return d.Clock()
	}
	return time.Now()
}
