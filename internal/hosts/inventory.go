package hosts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/store"
)

// Host is one compute host as the agent registered it, with its usage
// and its service flags.
type Host struct {
	ID                 string
	Number             int64
	Hostname           string
	HypervisorType     string
	HypervisorVersion  int64
	CPUInfo            string
	HostIP             string
	VCPUs, VCPUsUsed   int64
	MemoryMB, MemUsed  int64
	LocalGB, LocalUsed int64
	RunningVMs         int64
	// Workload counts servers being built or in a long task there
	// (Nova's current_workload).
	Workload         int64
	AvailabilityZone string
	Disabled         bool
	DisabledReason   *string
	ForcedDown       bool
	HeartbeatAt      time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// DownTime is the service_down_time the directory read the host
	// under (0: the default).
	DownTime time.Duration
}

// Up reports whether the host's agent is alive at now: a forced-down
// host is down whatever its heartbeat says, as in Nova's servicegroup.
func (h Host) Up(now time.Time) bool {
	return !h.ForcedDown && !h.HeartbeatAt.Before(scheduler.Config{ServiceDownTime: h.DownTime}.LiveSince(now))
}

// ServerRef names a server placed on a host.
type ServerRef struct {
	UUID string
	Name string
}

const hostColumns = `id, number, hostname, hypervisor_type, hypervisor_version, cpu_info, host_ip,
	vcpus, vcpus_used, memory_mb, memory_mb_used, local_gb, local_gb_used, running_vms,
	availability_zone, disabled, disabled_reason, forced_down, heartbeat_at, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanHost(r rowScanner) (Host, error) {
	var h Host
	var reason *string
	var hb, created, updated int64
	err := r.Scan(&h.ID, &h.Number, &h.Hostname, &h.HypervisorType, &h.HypervisorVersion, &h.CPUInfo, &h.HostIP,
		&h.VCPUs, &h.VCPUsUsed, &h.MemoryMB, &h.MemUsed, &h.LocalGB, &h.LocalUsed, &h.RunningVMs,
		&h.AvailabilityZone, &h.Disabled, &reason, &h.ForcedDown, &hb, &created, &updated)
	if err != nil {
		return Host{}, err
	}
	h.DisabledReason = reason
	h.HeartbeatAt, h.CreatedAt, h.UpdatedAt = store.Time(hb), store.Time(created), store.Time(updated)
	return h, nil
}

// List returns every host, oldest registration first (Nova orders
// compute nodes by id).
func (d *Directory) List(ctx context.Context) ([]Host, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+hostColumns+` FROM compute_hosts ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	var out []Host
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			return nil, fmt.Errorf("list hosts: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	if err := d.addWorkloads(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// addWorkloads fills in the hosts' Workload and the down time they are
// judged by.
func (d *Directory) addWorkloads(ctx context.Context, hs []Host) error {
	if len(hs) == 0 {
		return nil
	}
	for i := range hs {
		hs[i].DownTime = d.DownTime()
	}
	w, err := d.servers.Workloads(ctx)
	if err != nil {
		return fmt.Errorf("workload of hosts: %w", err)
	}
	for i := range hs {
		hs[i].Workload = w[hs[i].Hostname]
	}
	return nil
}

// Get returns the host with the given uuid; errs.NotFound when there is
// none.
func (d *Directory) Get(ctx context.Context, id string) (Host, error) {
	return d.getWhere(ctx, `id = ?`, id)
}

// GetByNumber returns the host with the given integer id.
func (d *Directory) GetByNumber(ctx context.Context, number int64) (Host, error) {
	return d.getWhere(ctx, `number = ?`, number)
}

// GetByName returns the host with the given hostname.
func (d *Directory) GetByName(ctx context.Context, hostname string) (Host, error) {
	return d.getWhere(ctx, `hostname = ?`, hostname)
}

func (d *Directory) getWhere(ctx context.Context, where string, arg any) (Host, error) {
	h, err := scanHost(d.db.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM compute_hosts WHERE `+where, arg))
	if isNoRows(err) {
		return Host{}, errs.NotFound("Compute host %v could not be found.", arg)
	}
	if err != nil {
		return Host{}, fmt.Errorf("get host %v: %w", arg, err)
	}
	one := []Host{h}
	if err := d.addWorkloads(ctx, one); err != nil {
		return Host{}, err
	}
	return one[0], nil
}

// Search returns the hosts whose hostname contains pattern, as Nova's
// LIKE '%pattern%' on a case-insensitive collation.
func (d *Directory) Search(ctx context.Context, pattern string) ([]Host, error) {
	all, err := d.List(ctx)
	if err != nil {
		return nil, err
	}
	p := strings.ToLower(pattern)
	var out []Host
	for _, h := range all {
		if strings.Contains(strings.ToLower(h.Hostname), p) {
			out = append(out, h)
		}
	}
	return out, nil
}

// Servers lists the servers placed on the host: not deleted, and not
// shelved-offloaded (Nova clears their host).
func (d *Directory) Servers(ctx context.Context, hostname string) ([]ServerRef, error) {
	return d.servers.ServersOnHost(ctx, hostname)
}
