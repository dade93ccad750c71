package compute

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/store"
)

// Inventory answers other domain services' questions about servers (how
// many a project runs, what a host holds), so that SQL on the instances
// table stays in this package. The hosts, aggregate and quota packages
// each define the small interface they need; Inventory implements them
// and internal/app wires it in. Methods taking a store.Querier run in the
// caller's transaction, so a check and the change it guards stay atomic.
type Inventory struct{ db *store.DB }

// NewInventory reads servers from db.
func NewInventory(db *store.DB) *Inventory { return &Inventory{db: db} }

// liveOnHost selects the servers that take resources on a host: not
// deleted and not shelved-offloaded (Nova clears their host).
const liveOnHost = `host = ? AND deleted = FALSE AND vm_state <> 'shelved_offloaded'`

// HostLoad sums what the servers placed on hostname take; a
// volume-backed server's root disk is not the host's (claimOf).
func (v *Inventory) HostLoad(ctx context.Context, q store.Querier, hostname string) (hosts.Load, error) {
	var l hosts.Load
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(vcpus), 0), COALESCE(SUM(memory_mb), 0),
		COALESCE(SUM(ephemeral_gb + CASE WHEN EXISTS (SELECT 1 FROM block_device_mappings b
			WHERE b.instance_id = instances.id AND b.boot_index = 0) THEN 0 ELSE root_gb END), 0),
		COUNT(*) FROM instances WHERE `+liveOnHost, hostname).
		Scan(&l.VCPUs, &l.MemoryMB, &l.DiskGB, &l.Servers)
	if err != nil {
		return hosts.Load{}, fmt.Errorf("sum servers on %s: %w", hostname, err)
	}
	return l, nil
}

// CountHostedServers counts the servers whose host is hostname and that
// are not deleted, shelved-offloaded ones included (kumo keeps their
// host).
func (v *Inventory) CountHostedServers(ctx context.Context, q store.Querier, hostname string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE host = ? AND deleted = FALSE`, hostname).Scan(&n); err != nil {
		return 0, fmt.Errorf("count servers on %s: %w", hostname, err)
	}
	return n, nil
}

// ServersOnHost lists the servers placed on hostname, oldest first.
func (v *Inventory) ServersOnHost(ctx context.Context, hostname string) ([]hosts.ServerRef, error) {
	rows, err := v.db.QueryContext(ctx, `SELECT id, name FROM instances WHERE `+liveOnHost+` ORDER BY number`, hostname)
	if err != nil {
		return nil, fmt.Errorf("servers on %s: %w", hostname, err)
	}
	defer rows.Close()
	var out []hosts.ServerRef
	for rows.Next() {
		var s hosts.ServerRef
		if err := rows.Scan(&s.UUID, &s.Name); err != nil {
			return nil, fmt.Errorf("servers on %s: %w", hostname, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("servers on %s: %w", hostname, err)
	}
	return out, nil
}

// ProjectUsageOnHost sums the flavors of the live servers on hostname
// per project, in order of each project's first server there.
func (v *Inventory) ProjectUsageOnHost(ctx context.Context, hostname string) ([]hosts.ProjectUse, error) {
	rows, err := v.db.QueryContext(ctx, `SELECT project_id, SUM(vcpus), SUM(memory_mb), SUM(root_gb + ephemeral_gb), MIN(number)
		FROM instances WHERE host = ? AND deleted = FALSE GROUP BY project_id ORDER BY MIN(number)`, hostname)
	if err != nil {
		return nil, fmt.Errorf("usage on %s: %w", hostname, err)
	}
	defer rows.Close()
	var out []hosts.ProjectUse
	for rows.Next() {
		var u hosts.ProjectUse
		var first int64
		if err := rows.Scan(&u.ProjectID, &u.VCPUs, &u.MemoryMB, &u.DiskGB, &first); err != nil {
			return nil, fmt.Errorf("usage on %s: %w", hostname, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage on %s: %w", hostname, err)
	}
	return out, nil
}

// Workloads counts, per host, the servers being built or in a long task
// there (Nova's current_workload); hosts with none are absent.
func (v *Inventory) Workloads(ctx context.Context) (map[string]int64, error) {
	rows, err := v.db.QueryContext(ctx, `SELECT host, COUNT(*) FROM instances WHERE host IS NOT NULL AND deleted = FALSE
		AND (vm_state = 'building' OR task_state IN ('resize_migrating', 'rebuilding', 'resize_prep',
		'image_snapshot', 'image_backup', 'rescuing', 'unshelving')) GROUP BY host`)
	if err != nil {
		return nil, fmt.Errorf("count workloads: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var host string
		var n int64
		if err := rows.Scan(&host, &n); err != nil {
			return nil, fmt.Errorf("count workloads: %w", err)
		}
		out[host] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count workloads: %w", err)
	}
	return out, nil
}

// CountInstances counts the live servers of a project, or of one user in
// it when userID is not empty, with their vCPUs and RAM, off the covering
// index instances_usage. As in Nova, soft-deleted servers do not count
// (restore checks the quota).
func (v *Inventory) CountInstances(ctx context.Context, q store.Querier, projectID, userID string) (n, cores, ramMB int64, err error) {
	query, args := instanceCountQuery(projectID, userID)
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n, &cores, &ramMB); err != nil {
		return 0, 0, 0, fmt.Errorf("count instances of project %s: %w", projectID, err)
	}
	return n, cores, ramMB, nil
}

// instanceCountQuery is CountInstances' query.
func instanceCountQuery(projectID, userID string) (string, []any) {
	query := `SELECT COUNT(*), COALESCE(SUM(vcpus), 0), COALESCE(SUM(memory_mb), 0) FROM instances WHERE project_id = ? AND deleted = FALSE
		AND (vm_state IS NULL OR vm_state <> 'soft-delete')`
	args := []any{projectID}
	if userID != "" {
		query += ` AND user_id = ?`
		args = append(args, userID)
	}
	return query, args
}

// CountGroupMembers counts the live servers of userID in a server group
// (Nova's _server_group_count_members_by_user).
func (v *Inventory) CountGroupMembers(ctx context.Context, q store.Querier, groupID, userID string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM server_group_members m
		JOIN instances i ON i.id = m.instance_id AND i.deleted = FALSE
		WHERE m.group_id = ? AND i.user_id = ?`, groupID, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count members of server group %s: %w", groupID, err)
	}
	return n, nil
}

// LiveServers returns which of ids are servers not deleted.
func (v *Inventory) LiveServers(ctx context.Context, q store.Querier, ids []string) (map[string]bool, error) {
	live := map[string]bool{}
	if len(ids) == 0 {
		return live, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT id FROM instances WHERE deleted = FALSE AND id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("look up %d servers: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("look up %d servers: %w", len(ids), err)
		}
		live[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up %d servers: %w", len(ids), err)
	}
	return live, nil
}

// Presence is what the network service shows of a server on its ports:
// its host and whether its guest runs.
type Presence struct {
	Host    string
	Running bool
}

// Presences tells, for each of ids that is a server, its host and
// whether its guest runs (its ports are ACTIVE then, DOWN otherwise, as
// Neutron's ports follow their VIFs).
func (v *Inventory) Presences(ctx context.Context, ids []string) (map[string]Presence, error) {
	out := map[string]Presence{}
	if len(ids) == 0 {
		return out, nil
	}
	from, arg := store.StringsTable(v.db, "d", ids)
	rows, err := v.db.QueryContext(ctx, `SELECT i.id, COALESCE(i.host, ''), i.power_state FROM `+from+`
		JOIN instances i ON i.id = d.value`, arg)
	if err != nil {
		return nil, fmt.Errorf("look up the devices of %d ports: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, host string
		var power int
		if err := rows.Scan(&id, &host, &power); err != nil {
			return nil, fmt.Errorf("look up the devices of %d ports: %w", len(ids), err)
		}
		out[id] = Presence{Host: host, Running: state.PowerState(power) == state.PowerRunning}
	}
	return out, rows.Err()
}
