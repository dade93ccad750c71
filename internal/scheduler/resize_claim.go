package scheduler

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// ClaimMove claims req on host for a server already there that is being
// resized: the host holds both flavors until the resize is confirmed or
// reverted, as Nova's resource tracker keeps the migration's usage next to
// the instance's. The host must pass the filters (a resize to the same
// host is scheduled like any other), and the server does not count twice
// in running_vms. It reports false when req does not fit.
func ClaimMove(ctx context.Context, tx *store.Tx, host string, req Request, now time.Time) (bool, error) {
	hosts, err := LoadHosts(ctx, tx)
	if err != nil {
		return false, err
	}
	req.Host, req.Node, req.Forced = host, "", false
	for _, h := range Filter(hosts, &req, now) {
		return claimOn(ctx, tx, h, req, now, false)
	}
	return false, nil
}

// ReleaseMove gives back a claim ClaimMove took.
func ReleaseMove(ctx context.Context, tx *store.Tx, host string, req Request, now time.Time) error {
	if host == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET
		vcpus_used = `+floorZero("vcpus_used")+`, memory_mb_used = `+floorZero("memory_mb_used")+`,
		local_gb_used = `+floorZero("local_gb_used")+`, updated_at = ?
		WHERE hostname = ?`, req.VCPUs, req.VCPUs, req.MemoryMB, req.MemoryMB, req.DiskGB, req.DiskGB, now.UnixMicro(), host)
	if err != nil {
		return fmt.Errorf("release move on %s: %w", host, err)
	}
	return nil
}

// OtherHostFits reports whether a host other than exclude (only host when
// it is not "") passes the filters for req: where a cold migration could
// go.
func OtherHostFits(ctx context.Context, q store.Querier, req Request, exclude, host string, now time.Time) (bool, error) {
	hosts, err := LoadHosts(ctx, q)
	if err != nil {
		return false, err
	}
	req.Exclude = append(slices.Clip(req.Exclude), exclude)
	if host != "" {
		req.Host, req.Node = host, ""
	}
	return len(Filter(hosts, &req, now)) > 0, nil
}

// HoldMove adds a claim a move already held before the host's usage was
// recounted from its servers (an agent restart), without a capacity check.
func HoldMove(ctx context.Context, tx *store.Tx, host string, req Request, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET vcpus_used = vcpus_used + ?, memory_mb_used = memory_mb_used + ?,
		local_gb_used = local_gb_used + ?, updated_at = ? WHERE hostname = ?`, req.VCPUs, req.MemoryMB, req.DiskGB, now.UnixMicro(), host)
	if err != nil {
		return fmt.Errorf("hold move claim on %s: %w", host, err)
	}
	return nil
}

// MoveRunning counts a server that moved between hosts on its new host:
// running_vms one less on from and one more on to ("" for neither). Its
// capacity claims move apart (Claim, Release, ReleaseMove).
func MoveRunning(ctx context.Context, tx *store.Tx, from, to string, now time.Time) error {
	if from != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET running_vms = `+floorZero("running_vms")+`, updated_at = ?
			WHERE hostname = ?`, 1, 1, now.UnixMicro(), from); err != nil {
			return fmt.Errorf("move server off %s: %w", from, err)
		}
	}
	if to != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET running_vms = running_vms + 1, updated_at = ?
			WHERE hostname = ?`, now.UnixMicro(), to); err != nil {
			return fmt.Errorf("move server onto %s: %w", to, err)
		}
	}
	return nil
}
