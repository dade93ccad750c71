package compute

import (
	"context"
	"database/sql"
	"fmt"
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
// Servers loaded one by one carry their host's status already.
func (s *Service) HostStatuses(ctx context.Context, servers []*Server) (map[string]string, error) {
	out := make(map[string]string, len(servers))
	hosts := map[string]string{}
	var names []any
	for _, srv := range servers {
		if srv.hostStatusRead {
			out[srv.ID] = srv.hostStatus
			continue
		}
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
		liveSince := s.liveSince()
		for rows.Next() {
			var name string
			var h hostRow
			if err := rows.Scan(&name, &h.disabled, &h.forcedDown, &h.heartbeat); err != nil {
				return nil, fmt.Errorf("load host statuses: %w", err)
			}
			hosts[name] = h.status(name, liveSince)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load host statuses: %w", err)
		}
	}
	for _, srv := range servers {
		if srv.hostStatusRead {
			continue
		}
		out[srv.ID] = HostStatusNone
		if srv.Host != "" {
			out[srv.ID] = hosts[srv.Host]
		}
	}
	return out, nil
}

// liveSince is the oldest heartbeat of a host that is up.
func (s *Service) liveSince() int64 { return s.Scheduler.LiveSince(s.now()).UnixMicro() }

// hostRow is a compute host's row as host_status needs it; NULL when a
// server's host has no row.
type hostRow struct {
	disabled, forcedDown sql.NullBool
	heartbeat            sql.NullInt64
}

// status is the host_status of host (a server's, "" for none) given its row.
func (h hostRow) status(host string, liveSince int64) string {
	switch {
	case host == "":
		return HostStatusNone
	case !h.heartbeat.Valid:
		return HostStatusUnknown // no service row: Nova says UNKNOWN
	case h.forcedDown.Bool:
		return HostStatusDown
	case h.heartbeat.Int64 < liveSince:
		return HostStatusUnknown
	case h.disabled.Bool:
		return HostStatusMaintenance
	}
	return HostStatusUp
}
