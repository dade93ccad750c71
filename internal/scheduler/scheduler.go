// Package scheduler places servers on compute hosts, as Nova's filter
// scheduler does: it reads every host's state, drops the hosts a filter
// rejects (filters.go), orders the rest by weight (weighers.go) and claims
// the capacity on the best one with one conditional UPDATE inside the
// caller's transaction, then on the next if that one filled up meanwhile,
// so two API processes can never both take the last of a host.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// ErrNoValidHost is Nova's fault message when nothing fits.
var ErrNoValidHost = errors.New("No valid host was found. ")

// DefaultAZ is the availability zone of hosts in no other zone.
const DefaultAZ = "nova"

// DefaultServiceDownTime is Nova's default service_down_time.
const DefaultServiceDownTime = 60 * time.Second

// Config is the deployment's scheduler configuration, Nova's
// service_down_time and [filter_scheduler] weight multipliers. The zero
// value is Nova's defaults.
type Config struct {
	// ServiceDownTime is how old a host's heartbeat may be before the
	// host counts as down (0: DefaultServiceDownTime).
	ServiceDownTime time.Duration
	// Multipliers override the weighers' multipliers by Nova's option
	// name (ram_weight_multiplier, ...); a weigher not named keeps its
	// default. A negative RAM multiplier packs instead of spreading.
	Multipliers map[string]float64
}

// DownTime is the service_down_time in force.
func (c Config) DownTime() time.Duration {
	if c.ServiceDownTime > 0 {
		return c.ServiceDownTime
	}
	return DefaultServiceDownTime
}

// LiveSince is the oldest heartbeat of a host that is up at now.
func (c Config) LiveSince(now time.Time) time.Time { return now.Add(-c.DownTime()) }

// Request is what a server needs from a host: Nova's request spec.
type Request struct {
	VCPUs    int
	MemoryMB int
	DiskGB   int
	AZ       string // "" for any
	// Host and Node are the requested destination ("" for any): 2.74's
	// host and hypervisor_hostname, the host a migrate, evacuate or live
	// migration names, or the host of "az:host:node".
	Host string
	Node string
	// Forced is Nova's force_hosts/force_nodes (the admin's
	// "az:host:node", evacuate or live migration with force): Host and
	// Node are taken without running the filters; only capacity counts.
	Forced bool
	// Exclude lists hosts the server may not go to (Nova's ignore_hosts:
	// the source of a move).
	Exclude []string
	// ProjectID is the server's project (AggregateMultiTenancyIsolation).
	ProjectID string
	// ExtraSpecs are the flavor's (AggregateInstanceExtraSpecsFilter).
	ExtraSpecs map[string]string
	// ImageProperties are the image's (ImagePropertiesFilter).
	ImageProperties map[string]string
	// Group is the server group the server is a member of; nil for none.
	Group *Group
	// SameHost, when not nil, lists the hosts of the servers the
	// same_host hint names: the server must go to one of them (an empty,
	// non-nil list fits nowhere). DifferentHost lists the hosts of the
	// different_host hint's servers, which it must avoid.
	SameHost      []string
	DifferentHost []string
	// Config is the deployment's scheduler configuration.
	Config Config
}

// Group is a server group as the scheduler sees it.
type Group struct {
	Policy string // affinity, anti-affinity, soft-affinity, soft-anti-affinity
	// MaxPerHost is the anti-affinity max_server_per_host rule (2.64; 0
	// means 1).
	MaxPerHost int
	// Members counts the group's live members per host.
	Members map[string]int
}

// Server group policies.
const (
	PolicyAffinity         = "affinity"
	PolicyAntiAffinity     = "anti-affinity"
	PolicySoftAffinity     = "soft-affinity"
	PolicySoftAntiAffinity = "soft-anti-affinity"
)

// Placement is where a server landed.
type Placement struct {
	Host string
	Node string
	AZ   string
}

// Claim picks the best host for req (filters, then weighers) and claims
// its capacity there, trying the next best when a concurrent claim took
// the room first.
func Claim(ctx context.Context, tx *store.Tx, req Request, now time.Time) (Placement, error) {
	var hosts []HostState
	return ClaimFrom(ctx, tx, &hosts, req, now)
}

// ClaimFrom is Claim on *hosts, the host states a create of many servers
// read once in its transaction (LoadHosts when *hosts is nil): the
// claimed host's usage grows there too, as Nova's scheduler consumes
// each instance of one request from its host states, so the next server
// is weighed with it. The claim itself is still the conditional UPDATE;
// when it fails (the states were stale), *hosts is read again.
func ClaimFrom(ctx context.Context, tx *store.Tx, hosts *[]HostState, req Request, now time.Time) (Placement, error) {
	if *hosts == nil {
		loaded, err := LoadHosts(ctx, tx)
		if err != nil {
			return Placement{}, err
		}
		*hosts = loaded
	}
	stale := false
	for _, h := range Select(*hosts, &req, now) {
		ok, err := claimOn(ctx, tx, h, req, now, true)
		if err != nil {
			return Placement{}, err
		}
		if ok {
			if stale {
				*hosts = nil
			} else {
				consume(*hosts, h.Host, req)
			}
			return Placement{Host: h.Host, Node: h.Node, AZ: h.AZ}, nil
		}
		stale = true
	}
	*hosts = nil
	return Placement{}, ErrNoValidHost
}

// Candidates are the host states the servers of one create claim from:
// read once before its transactions (ReadCandidates), so that the reads
// neither lengthen the transactions nor conflict with the hosts'
// heartbeats, and kept as its servers claim (ClaimFrom). Each claim is
// still the conditional UPDATE; when the states read before let no
// claim succeed (a host up or freed since), the transaction reads its
// own and tries again.
type Candidates struct {
	before, hosts []HostState
	readInTx      bool
}

// ReadCandidates reads the host states before a create's transactions.
func ReadCandidates(ctx context.Context, q store.Querier) (*Candidates, error) {
	hosts, err := LoadHosts(ctx, q)
	if err != nil {
		return nil, err
	}
	return &Candidates{before: hosts}, nil
}

// Begin starts a transaction (or its retry) on the states read before,
// with the claims of the transactions committed since (Committed).
func (c *Candidates) Begin() {
	c.hosts, c.readInTx = slices.Clone(c.before), c.before == nil
}

// Committed keeps the claims of the transaction that just committed: the
// next one starts from them, as Nova's scheduler consumes each instance
// of one request from its host states.
func (c *Candidates) Committed() {
	c.before = c.hosts
}

// Claim picks and claims a host for req in tx (see ClaimFrom), reading
// the states again in tx when those read before let no claim succeed.
func (c *Candidates) Claim(ctx context.Context, tx *store.Tx, req Request, now time.Time) (Placement, error) {
	p, err := ClaimFrom(ctx, tx, &c.hosts, req, now)
	if errors.Is(err, ErrNoValidHost) && !c.readInTx {
		c.hosts, c.readInTx = nil, true
		p, err = ClaimFrom(ctx, tx, &c.hosts, req, now)
	}
	return p, err
}

// consume adds a new server's claim of req to host's state in hosts.
func consume(hosts []HostState, host string, req Request) {
	for i := range hosts {
		if hosts[i].Host == host {
			hosts[i].VCPUsUsed += int64(req.VCPUs)
			hosts[i].MemoryUsed += int64(req.MemoryMB)
			hosts[i].DiskUsed += int64(req.DiskGB)
			hosts[i].RunningVMs++
			return
		}
	}
}

// Select returns the hosts that pass every filter for req, best first.
func Select(hosts []HostState, req *Request, now time.Time) []HostState {
	return Weigh(Filter(hosts, req, now), req)
}

// claimOn adds req to h's usage if it still fits under h's allocation
// ratios (the aggregates' where they set them). A move's claim on its
// own host does not count the server twice in running_vms.
func claimOn(ctx context.Context, tx *store.Tx, h HostState, req Request, now time.Time, newServer bool) (bool, error) {
	vms := 0
	if newServer {
		vms = 1
	}
	// The ratios are bound as numbers of their own: PostgreSQL would
	// read a parameter next to an integer column as an integer.
	cpu, ram, disk := h.Ratios()
	args := []any{req.VCPUs, req.MemoryMB, req.DiskGB, vms, now.UnixMicro(), h.Host,
		req.VCPUs, cpu, req.MemoryMB, ram, req.DiskGB, disk}
	// The compute filter's verdict, checked again on the row: the states
	// it ran on may have been read before the transaction (Candidates).
	// A forced host skips the filter, so here too.
	up := ""
	if !req.Forced {
		up = ` AND disabled = FALSE AND forced_down = FALSE AND heartbeat_at >= ?`
		args = append(args, req.Config.LiveSince(now).UnixMicro())
	}
	res, err := tx.ExecContext(ctx, `UPDATE compute_hosts SET
		vcpus_used = vcpus_used + ?, memory_mb_used = memory_mb_used + ?,
		local_gb_used = local_gb_used + ?, running_vms = running_vms + ?, updated_at = ?
		WHERE hostname = ?
		AND vcpus_used + ? <= vcpus * CAST(? AS DOUBLE PRECISION)
		AND memory_mb_used + ? <= memory_mb * CAST(? AS DOUBLE PRECISION)
		AND local_gb_used + ? <= local_gb * CAST(? AS DOUBLE PRECISION)`+up, args...)
	if err != nil {
		return false, fmt.Errorf("claim on %s: %w", h.Host, err)
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
