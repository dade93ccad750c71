package compute

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/servergroup"
	"github.com/kumocloud/kumo/internal/store"
)

// specSource is what a scheduler request is made of besides the capacity:
// Nova's RequestSpec of one server.
type specSource struct {
	serverID  string // "" for a server not yet written
	projectID string
	flavor    FlavorSnapshot
	sysmeta   map[string]string // the image's properties are kept there
	hints     map[string]any    // os:scheduler_hints
	group     *servergroup.Group
}

// completeSpec fills in req, in q, what the filters and weighers read
// beyond capacity: project, flavor extra specs, image properties, the
// server group, the same_host/different_host hints and the deployment's
// scheduler configuration.
func (s *Service) completeSpec(ctx context.Context, q store.Querier, req *scheduler.Request, src specSource) error {
	req.Config = s.Scheduler
	req.ProjectID = src.projectID
	req.ExtraSpecs = src.flavor.ExtraSpecs
	req.ImageProperties = imageProperties(src.sysmeta)
	var err error
	if req.Group, err = groupSpec(ctx, q, src.group, src.serverID); err != nil {
		return err
	}
	if ids := hintServers(src.hints["same_host"]); ids != nil {
		if req.SameHost, err = hostsOf(ctx, q, ids); err != nil {
			return err
		}
		if req.SameHost == nil {
			req.SameHost = []string{} // servers with no host: no host is theirs
		}
	}
	if ids := hintServers(src.hints["different_host"]); ids != nil {
		if req.DifferentHost, err = hostsOf(ctx, q, ids); err != nil {
			return err
		}
	}
	return nil
}

// requestSpec is the scheduler request of placed server srv with flavor
// f, read in q: for a move or an unshelve.
func (s *Service) requestSpec(ctx context.Context, q store.Querier, srv *Server, f FlavorSnapshot) (scheduler.Request, error) {
	req, err := claimFor(ctx, q, srv.ID, f)
	if err != nil {
		return req, err
	}
	g, err := groupOf(ctx, q, srv.ProjectID, srv.ID)
	if err != nil {
		return req, err
	}
	err = s.completeSpec(ctx, q, &req, specSource{serverID: srv.ID, projectID: srv.ProjectID, flavor: f,
		sysmeta: srv.SystemMetadata, hints: srv.SchedulerHints, group: g})
	return req, err
}

// hintServers reads a same_host or different_host hint: one server id or
// a list of them (Nova's schema allows both); nil when absent.
func hintServers(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if id, ok := x.(string); ok {
				out = append(out, id)
			}
		}
		return out
	}
	return nil
}

// hostsOf lists the hosts the live servers ids are on (Nova's filters
// match a host's instances).
func hostsOf(ctx context.Context, q store.Querier, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT host FROM instances WHERE deleted = FALSE AND host IS NOT NULL
		AND host <> '' AND id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("hosts of hinted servers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("hosts of hinted servers: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
