package volume

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// The storage backend as Cinder's scheduler and capabilities calls show
// it: one backend ("volfile", files under the data dir) with one pool of
// the same name, as the LVM driver reports its volume group.
const (
	BackendName     = "volfile"
	VendorName      = "Open Source"
	DriverVersion   = "1.0.0"
	StorageProtocol = "local" // the connection's driver_volume_type
)

// Pool is a pool's stats as a volume driver reports them to Cinder's
// scheduler (get_pools). kumo counts a volume's whole size against the
// capacity when it is placed (creates beyond it fail), so the pool is
// thick provisioned whatever the files' sparseness.
type Pool struct {
	Name        string // host@backend#pool
	Host        string // host@backend
	PoolName    string
	BackendName string
	// TotalGB and FreeGB are -1 when the capacity is unlimited
	// (Cinder's "infinite").
	TotalGB, FreeGB int64
	// AllocatedGB is what the volumes placed in the pool take;
	// ProvisionedGB adds their snapshots (LVM's used space).
	AllocatedGB, ProvisionedGB int64
	TotalVolumes               int64 // volumes and snapshots, as LVM counts logical volumes
	Updated                    time.Time
}

// Pools lists the storage pools (Cinder's scheduler get_pools): kumo's
// one pool, with its capacity figures.
func (s *Service) Pools(ctx context.Context) ([]Pool, error) {
	var alloc, prov, n int64
	host, pool := s.cfg.Host, s.PoolName()
	if err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(SUM(size_gb), 0) FROM volumes WHERE host = ? OR host LIKE ?),
		(SELECT COALESCE(SUM(s.size_gb), 0) FROM snapshots s JOIN volumes v ON v.id = s.volume_id WHERE v.host = ? OR v.host LIKE ?),
		(SELECT COUNT(*) FROM volumes WHERE host = ? OR host LIKE ?) +
		(SELECT COUNT(*) FROM snapshots s JOIN volumes v ON v.id = s.volume_id WHERE v.host = ? OR v.host LIKE ?)`,
		host, host+"#%", host, host+"#%", host, host+"#%", host, host+"#%").Scan(&alloc, &prov, &n); err != nil {
		return nil, fmt.Errorf("read pool usage: %w", err)
	}
	p := Pool{Name: pool, Host: host, PoolName: BackendName, BackendName: BackendName, TotalGB: -1, FreeGB: -1,
		AllocatedGB: alloc, ProvisionedGB: alloc + prov, TotalVolumes: n, Updated: s.now().UTC()}
	if s.cfg.CapacityGB > 0 {
		p.TotalGB = s.cfg.CapacityGB
		p.FreeGB = max(s.cfg.CapacityGB-p.ProvisionedGB, 0)
	}
	return []Pool{p}, nil
}

// HostUsage is one row of os-hosts' show: a project's (or, with Project
// "(total)", all projects') volumes and snapshots on a host.
type HostUsage struct {
	Project                   string
	VolumeCount, VolumeGB     int64
	SnapshotCount, SnapshotGB int64
}

// TotalProject is the Project of HostUsage's total row.
const TotalProject = "(total)"

// HostUsage is what os-hosts shows of the volume service's host: the
// totals first, then each project with volumes there (by id). Cinder's
// snapshot totals are the projects' sums.
func (s *Service) HostUsage(ctx context.Context) ([]HostUsage, error) {
	host := s.cfg.Host
	rows, err := s.db.QueryContext(ctx, `SELECT project_id, COUNT(*), COALESCE(SUM(size_gb), 0) FROM volumes
		WHERE host = ? OR host LIKE ? GROUP BY project_id`, host, host+"#%")
	if err != nil {
		return nil, fmt.Errorf("read host usage: %w", err)
	}
	per := map[string]*HostUsage{}
	for rows.Next() {
		u := &HostUsage{}
		if err := rows.Scan(&u.Project, &u.VolumeCount, &u.VolumeGB); err != nil {
			rows.Close()
			return nil, err
		}
		per[u.Project] = u
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT s.project_id, COUNT(*), COALESCE(SUM(s.size_gb), 0) FROM snapshots s
		JOIN volumes v ON v.id = s.volume_id WHERE v.host = ? OR v.host LIKE ? GROUP BY s.project_id`, host, host+"#%")
	if err != nil {
		return nil, fmt.Errorf("read host snapshot usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		var n, gb int64
		if err := rows.Scan(&p, &n, &gb); err != nil {
			return nil, err
		}
		// Cinder lists the projects with volumes on the host.
		if u := per[p]; u != nil {
			u.SnapshotCount, u.SnapshotGB = n, gb
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	total := HostUsage{Project: TotalProject}
	out := []HostUsage{}
	for _, u := range per {
		total.VolumeCount += u.VolumeCount
		total.VolumeGB += u.VolumeGB
		total.SnapshotCount += u.SnapshotCount
		total.SnapshotGB += u.SnapshotGB
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Project < out[j].Project })
	return append([]HostUsage{total}, out...), nil
}
