package compute

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/scheduler"
)

// Host statuses as Nova reports them in a server's host_status (2.16).
const (
	HostStatusUp          = "UP"
	HostStatusDown        = "DOWN"
	HostStatusMaintenance = "MAINTENANCE"
	HostStatusUnknown     = "UNKNOWN"
	HostStatusNone        = "" // the server has no host
)

// HostStatuses returns the host_status of each server's host, keyed by
// server id, as Nova's get_instances_host_statuses computes it: forced
// down is DOWN, a stale heartbeat UNKNOWN, disabled MAINTENANCE, else UP.
func (s *Service) HostStatuses(ctx context.Context, servers []*Server) (map[string]string, error) {
	out := make(map[string]string, len(servers))
	hosts := map[string]string{}
	var names []any
	for _, srv := range servers {
		if srv.Host != "" {
			if _, seen := hosts[srv.Host]; !seen {
				hosts[srv.Host] = HostStatusUnknown // no service row: Nova says UNKNOWN
				names = append(names, srv.Host)
			}
		}
	}
	if len(names) > 0 {
		rows, err := s.DB.QueryContext(ctx, `SELECT hostname, disabled, forced_down, heartbeat_at
			FROM compute_hosts WHERE hostname IN (`+placeholders(len(names))+`)`, names...)
		if err != nil {
			return nil, fmt.Errorf("load host statuses: %w", err)
		}
		defer rows.Close()
		liveSince := s.now().Add(-scheduler.ServiceDownTime).UnixMicro()
		for rows.Next() {
			var name string
			var disabled, forcedDown bool
			var heartbeat int64
			if err := rows.Scan(&name, &disabled, &forcedDown, &heartbeat); err != nil {
				return nil, fmt.Errorf("load host statuses: %w", err)
			}
			hosts[name] = hostStatus(disabled, forcedDown, heartbeat >= liveSince)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load host statuses: %w", err)
		}
	}
	for _, srv := range servers {
		out[srv.ID] = HostStatusNone
		if srv.Host != "" {
			out[srv.ID] = hosts[srv.Host]
		}
	}
	return out, nil
}

func hostStatus(disabled, forcedDown, live bool) string {
	switch {
	case forcedDown:
		return HostStatusDown
	case !live:
		return HostStatusUnknown
	case disabled:
		return HostStatusMaintenance
	}
	return HostStatusUp
}
