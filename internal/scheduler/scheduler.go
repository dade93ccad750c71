// Package scheduler places servers on compute hosts. Placement and the
// capacity claim are one conditional UPDATE inside the caller's
// transaction, so two creates can never both take the last of a host.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// ErrNoValidHost is Nova's fault message when nothing fits.
var ErrNoValidHost = errors.New("No valid host was found. ")

// DefaultAZ is the availability zone of hosts in no other zone.
const DefaultAZ = "nova"

// ServiceDownTime is how old a host's heartbeat may be before the host
// counts as down (Nova's service_down_time).
const ServiceDownTime = 60 * time.Second

// Request is what a server needs from a host.
type Request struct {
	VCPUs    int
	MemoryMB int
	DiskGB   int
	AZ       string // "" for any
	Host     string // "" for any (2.74 host / forced host)
	Node     string // "" for any (2.74 hypervisor_hostname)
	// Exclude lists hosts the server may not go to (a server group's
	// anti-affinity).
	Exclude []string
}

// Placement is where a server landed.
type Placement struct {
	Host string
	Node string
	AZ   string
}

// Claim picks the host with the most free RAM among the enabled, live
// hosts that fit req (Nova's default RAM weigher spreads load), and
// claims the capacity on it.
func Claim(ctx context.Context, tx *store.Tx, req Request, now time.Time) (Placement, error) {
	q := `SELECT hostname, availability_zone FROM compute_hosts
		WHERE disabled = FALSE AND forced_down = FALSE AND heartbeat_at >= ?
		AND vcpus_used + ? <= vcpus * cpu_allocation_ratio
		AND memory_mb_used + ? <= memory_mb * ram_allocation_ratio
		AND local_gb_used + ? <= local_gb * disk_allocation_ratio`
	args := []any{now.Add(-ServiceDownTime).UnixMicro(), req.VCPUs, req.MemoryMB, req.DiskGB}
	if req.AZ != "" {
		q += ` AND availability_zone = ?`
		args = append(args, req.AZ)
	}
	for _, h := range []string{req.Host, req.Node} {
		if h != "" {
			q += ` AND hostname = ?`
			args = append(args, h)
		}
	}
	for _, h := range req.Exclude {
		q += ` AND hostname <> ?`
		args = append(args, h)
	}
	q += ` ORDER BY memory_mb * ram_allocation_ratio - memory_mb_used DESC, hostname LIMIT 8`
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return Placement{}, fmt.Errorf("find hosts: %w", err)
	}
	var candidates []Placement
	for rows.Next() {
		var p Placement
		if err := rows.Scan(&p.Host, &p.AZ); err != nil {
			rows.Close()
			return Placement{}, err
		}
		p.Node = p.Host
		candidates = append(candidates, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Placement{}, err
	}
	for _, p := range candidates {
		ok, err := claimOn(ctx, tx, p.Host, req, now)
		if err != nil {
			return Placement{}, err
		}
		if ok {
			return p, nil
		}
	}
	return Placement{}, ErrNoValidHost
}

// claimOn adds req to host's usage if it still fits.
func claimOn(ctx context.Context, tx *store.Tx, host string, req Request, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET
		vcpus_used = vcpus_used + ?, memory_mb_used = memory_mb_used + ?,
		local_gb_used = local_gb_used + ?, running_vms = running_vms + 1, updated_at = ?
		WHERE hostname = ?
		AND vcpus_used + ? <= vcpus * cpu_allocation_ratio
		AND memory_mb_used + ? <= memory_mb * ram_allocation_ratio
		AND local_gb_used + ? <= local_gb * disk_allocation_ratio`,
		req.VCPUs, req.MemoryMB, req.DiskGB, now.UnixMicro(), host, req.VCPUs, req.MemoryMB, req.DiskGB)
	if err != nil {
		return false, fmt.Errorf("claim on %s: %w", host, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Release gives a server's capacity back to its host.
func Release(ctx context.Context, tx *store.Tx, host string, vcpus, memoryMB, diskGB int, now time.Time) error {
	if host == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET
		vcpus_used = `+floorZero("vcpus_used")+`, memory_mb_used = `+floorZero("memory_mb_used")+`,
		local_gb_used = `+floorZero("local_gb_used")+`, running_vms = `+floorZero("running_vms")+`, updated_at = ?
		WHERE hostname = ?`, vcpus, vcpus, memoryMB, memoryMB, diskGB, diskGB, 1, 1, now.UnixMicro(), host)
	if err != nil {
		return fmt.Errorf("release on %s: %w", host, err)
	}
	return nil
}

// floorZero is "col - ?" clamped at zero, in SQL both engines accept; it
// takes the subtrahend twice.
func floorZero(col string) string {
	return "CASE WHEN " + col + " - ? < 0 THEN 0 ELSE " + col + " - ? END"
}
