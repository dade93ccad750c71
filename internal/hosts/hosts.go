// Package hosts keeps the inventory of compute hosts: each agent registers
// its host with the capacity its driver reports and heartbeats; the
// scheduler places servers on live, enabled hosts.
package hosts

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/store"
)

// Allocation ratios, Nova's initial defaults.
const (
	CPUAllocationRatio  = 16.0
	RAMAllocationRatio  = 1.5
	DiskAllocationRatio = 1.0
)

// HostInfo is what a host's driver reports about it; the agent converts
// virt.HostInfo, which has the same fields, so the inventory does not
// depend on the driver layer.
type HostInfo struct {
	Hostname          string
	HypervisorType    string // "fake", "QEMU"
	HypervisorVersion int
	VCPUs             int
	MemoryMB          int
	DiskGB            int
	CPUInfo           string // JSON, as Nova reports it
}

// Registration is how an agent introduces its host.
type Registration struct {
	Info HostInfo
	AZ   string // "" = "nova"
	IP   string
	// Endpoint is the URL of the host's endpoint (/kumo/v1/host/), where
	// other hosts send the files of a server moving to it; "" when the
	// host serves none (it then cannot receive moving servers).
	Endpoint string
	// Lease is the agent's token for the host's lease (lease.go), Holder
	// how it describes itself to an agent it refuses, Predecessor the
	// token of an agent known to be gone. An empty Lease registers the
	// host without taking its lease (inventory tests and tools).
	Lease, Holder, Predecessor string
}

// Register creates or refreshes the host's row, taking its lease (a
// *LeaseHeldError while another agent holds it and heartbeats). Usage
// counters are recomputed from the servers placed there, which heals any
// drift left by a crash. It returns the host's id.
func (d *Directory) Register(ctx context.Context, r Registration, now time.Time) (string, error) {
	az := r.AZ
	if az == "" {
		az = "nova"
	}
	var id string
	err := d.db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM compute_hosts WHERE hostname = ?`, r.Info.Hostname).Scan(&id)
		ts := now.UnixMicro()
		switch {
		case err == nil:
			if r.Lease != "" {
				// Before the row changes: a refused agent leaves no trace.
				if err := claimLease(ctx, tx, r.Info.Hostname, r, now, d.DownTime()); err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(ctx, `UPDATE compute_hosts SET hypervisor_type = ?, hypervisor_version = ?,
				cpu_info = ?, host_ip = ?, vcpus = ?, memory_mb = ?, local_gb = ?, availability_zone = ?,
				heartbeat_at = ?, updated_at = ?, endpoint_url = ? WHERE id = ?`,
				r.Info.HypervisorType, r.Info.HypervisorVersion, r.Info.CPUInfo, r.IP, r.Info.VCPUs,
				r.Info.MemoryMB, r.Info.DiskGB, az, ts, ts, r.Endpoint, id)
		case isNoRows(err):
			id = uuid.NewString()
			var number int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM compute_hosts`).Scan(&number); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO compute_hosts (id, number, hostname, hypervisor_type,
				hypervisor_version, cpu_info, host_ip, vcpus, memory_mb, local_gb, cpu_allocation_ratio,
				ram_allocation_ratio, disk_allocation_ratio, availability_zone, heartbeat_at, created_at, updated_at,
				lease_token, lease_holder, endpoint_url)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, number, r.Info.Hostname, r.Info.HypervisorType, r.Info.HypervisorVersion, r.Info.CPUInfo,
				r.IP, r.Info.VCPUs, r.Info.MemoryMB, r.Info.DiskGB, CPUAllocationRatio, RAMAllocationRatio,
				DiskAllocationRatio, az, ts, ts, ts, r.Lease, r.Holder, r.Endpoint)
		}
		if err != nil {
			return fmt.Errorf("register host %s: %w", r.Info.Hostname, err)
		}
		// A zone from a host aggregate outlives restarts, as in Nova.
		if err := SyncZone(ctx, tx, r.Info.Hostname, az); err != nil {
			return err
		}
		return d.recount(ctx, tx, r.Info.Hostname)
	})
	return id, err
}

// recount sets the host's usage to what its servers hold. Offloaded
// (shelved_offloaded) and deleted servers hold nothing.
func (d *Directory) recount(ctx context.Context, tx *store.Tx, host string) error {
	l, err := d.servers.HostLoad(ctx, tx, host)
	if err != nil {
		return fmt.Errorf("recount usage of %s: %w", host, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET vcpus_used = ?, memory_mb_used = ?, local_gb_used = ?,
		running_vms = ? WHERE hostname = ?`, l.VCPUs, l.MemoryMB, l.DiskGB, l.Servers, host); err != nil {
		return fmt.Errorf("recount usage of %s: %w", host, err)
	}
	return nil
}

// Heartbeat records that the host's agent, holding lease, is alive; it
// returns ErrLeaseLost, recording nothing, once another agent has taken
// the host over.
func (d *Directory) Heartbeat(ctx context.Context, hostname, lease string, now time.Time) error {
	res, err := d.db.ExecContext(ctx, `UPDATE compute_hosts SET heartbeat_at = ? WHERE hostname = ? AND lease_token = ?`,
		now.UnixMicro(), hostname, lease)
	if err != nil {
		return fmt.Errorf("heartbeat %s: %w", hostname, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("heartbeat %s: %w", hostname, err)
	}
	if n == 0 {
		return fmt.Errorf("heartbeat %s: %w", hostname, ErrLeaseLost)
	}
	return nil
}
