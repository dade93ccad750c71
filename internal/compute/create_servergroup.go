package compute

import (
	"context"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/servergroup"
	"github.com/kumocloud/kumo/internal/store"
)

// groupHint is the "group" scheduler hint: a server group id, or a list
// whose first item is one (Nova's schema allows both).
func groupHint(hints map[string]any) string {
	switch v := hints["group"].(type) {
	case string:
		return v
	case []any:
		if len(v) > 0 {
			s, _ := v[0].(string)
			return s
		}
	}
	return ""
}

// checkGroupHint returns the server group a create asks for (nil for
// none); a group the project does not have is Nova's 400.
func checkGroupHint(ctx context.Context, tx *store.Tx, projectID string, hints map[string]any) (*servergroup.Group, error) {
	id := groupHint(hints)
	if id == "" {
		return nil, nil
	}
	g, err := servergroup.Lookup(ctx, tx, projectID, id)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errs.Invalid("Instance group %s could not be found.", id)
	}
	return g, nil
}

// groupPlacement narrows a new member's placement to its group's policy,
// as Nova's ServerGroup(Anti)AffinityFilter do: affinity pins the host of
// the live members, anti-affinity excludes the hosts that already have
// max_server_per_host of them (1 unless the 2.64 rule says more). ok is
// false when no host can satisfy the policy. The soft policies only
// weigh hosts in Nova; they constrain nothing here.
func groupPlacement(ctx context.Context, tx *store.Tx, g *servergroup.Group, req *scheduler.Request) (ok bool, err error) {
	if g == nil || (g.Policy != servergroup.Affinity && g.Policy != servergroup.AntiAffinity) {
		return true, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT i.host, COUNT(*) FROM server_group_members m
		JOIN instances i ON i.id = m.instance_id AND i.deleted = FALSE
		WHERE m.group_id = ? AND i.host IS NOT NULL AND i.host <> '' GROUP BY i.host ORDER BY i.host`, g.ID)
	if err != nil {
		return false, fmt.Errorf("hosts of server group %s: %w", g.ID, err)
	}
	defer rows.Close()
	perHost := map[string]int{}
	var hostsInUse []string
	for rows.Next() {
		var host string
		var n int
		if err := rows.Scan(&host, &n); err != nil {
			return false, fmt.Errorf("hosts of server group %s: %w", g.ID, err)
		}
		perHost[host] = n
		hostsInUse = append(hostsInUse, host)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("hosts of server group %s: %w", g.ID, err)
	}
	if g.Policy == servergroup.Affinity {
		if len(hostsInUse) == 0 {
			return true, nil
		}
		if req.Host != "" && req.Host != hostsInUse[0] {
			return false, nil
		}
		req.Host = hostsInUse[0]
		return true, nil
	}
	limit := 1
	if n, ok := g.Rules["max_server_per_host"]; ok && n > 0 {
		limit = n
	}
	for _, h := range hostsInUse {
		if perHost[h] >= limit {
			req.Exclude = append(req.Exclude, h)
		}
	}
	return true, nil
}

// joinServerGroup records a new server as a member of its group.
func joinServerGroup(ctx context.Context, tx *store.Tx, g *servergroup.Group, serverID string, now time.Time) error {
	if g == nil {
		return nil
	}
	return servergroup.AddMember(ctx, tx, g.ID, serverID, now)
}
