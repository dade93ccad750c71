package volume

import (
	"context"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// AvailabilityZones is os-availability-zone: the one storage zone.
func (s *Service) AvailabilityZones(ctx context.Context) ([]AvailabilityZone, error) {
	return []AvailabilityZone{{Name: s.cfg.AvailabilityZone, Available: true}}, nil
}

// Services is os-services' view of the block storage service: the
// scheduler and the volume service of this host, up while kumo runs.
func (s *Service) Services(ctx context.Context) ([]ServiceInfo, error) {
	now := s.now().UTC().Truncate(time.Second)
	host, _, _ := cutAt(s.cfg.Host)
	return []ServiceInfo{
		{Binary: "cinder-scheduler", Host: host, Zone: s.cfg.AvailabilityZone, Status: "enabled", State: "up", UpdatedAt: now},
		{Binary: "cinder-volume", Host: s.cfg.Host, Zone: s.cfg.AvailabilityZone, Status: "enabled", State: "up", UpdatedAt: now,
			ReplicationStatus: "disabled", BackendState: "up"},
	}, nil
}

// cutAt splits Cinder's host@backend.
func cutAt(h string) (string, string, bool) {
	for i := 0; i < len(h); i++ {
		if h[i] == '@' {
			return h[:i], h[i+1:], true
		}
	}
	return h, "", false
}

// Capacity is the storage host's space: the configured total and what
// the volumes and snapshots placed on it take.
func (s *Service) Capacity(ctx context.Context) (Capacity, error) {
	used, err := usedGB(ctx, s.db)
	if err != nil {
		return Capacity{}, err
	}
	c := Capacity{TotalGB: s.cfg.CapacityGB, UsedGB: used}
	if c.TotalGB > 0 {
		c.FreeGB = max(c.TotalGB-used, 0)
	}
	return c, nil
}

// PoolName is the backend pool volumes are placed in (host#pool).
func (s *Service) PoolName() string { return s.cfg.Host + "#volfile" }

// usedGB sums the sizes of the volumes and snapshots placed on the host.
func usedGB(ctx context.Context, q store.Querier) (int64, error) {
	var used int64
	if err := q.QueryRowContext(ctx, `SELECT (SELECT COALESCE(SUM(size_gb), 0) FROM volumes WHERE host <> '')
		+ (SELECT COALESCE(SUM(size_gb), 0) FROM snapshots WHERE host <> '')`).Scan(&used); err != nil {
		return 0, fmt.Errorf("read used capacity: %w", err)
	}
	return used, nil
}
