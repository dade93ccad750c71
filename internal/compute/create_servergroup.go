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

// groupSpec is server group g as the scheduler's filters and weighers
// see it: its policy, the 2.64 max_server_per_host rule and its live
// members per host, leaving out self (a moving member does not count
// against its own host, as Nova's group_hosts exclude the instance).
func groupSpec(ctx context.Context, q store.Querier, g *servergroup.Group, self string) (*scheduler.Group, error) {
	if g == nil {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT i.host, COUNT(*) FROM server_group_members m
		JOIN instances i ON i.id = m.instance_id AND i.deleted = FALSE
		WHERE m.group_id = ? AND i.id <> ? AND i.host IS NOT NULL AND i.host <> '' GROUP BY i.host`, g.ID, self)
	if err != nil {
		return nil, fmt.Errorf("hosts of server group %s: %w", g.ID, err)
	}
	defer rows.Close()
	spec := &scheduler.Group{Policy: g.Policy, MaxPerHost: g.Rules["max_server_per_host"], Members: map[string]int{}}
	for rows.Next() {
		var host string
		var n int
		if err := rows.Scan(&host, &n); err != nil {
			return nil, fmt.Errorf("hosts of server group %s: %w", g.ID, err)
		}
		spec.Members[host] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hosts of server group %s: %w", g.ID, err)
	}
	return spec, nil
}

// groupOf returns the server group server id (of projectID) is a member
// of; nil for none.
func groupOf(ctx context.Context, q store.Querier, projectID, id string) (*servergroup.Group, error) {
	var groupID string
	err := q.QueryRowContext(ctx, `SELECT group_id FROM server_group_members WHERE instance_id = ? ORDER BY created_at LIMIT 1`, id).Scan(&groupID)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("server group of %s: %w", id, err)
	}
	return servergroup.Lookup(ctx, q, projectID, groupID)
}

// joinServerGroup records a new server as a member of its group.
func joinServerGroup(ctx context.Context, tx *store.Tx, g *servergroup.Group, serverID string, now time.Time) error {
	if g == nil {
		return nil
	}
	return servergroup.AddMember(ctx, tx, g.ID, serverID, now)
}
