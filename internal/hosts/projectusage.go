package hosts

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/store"
)

// ProjectUse is what one project's servers on a host take.
type ProjectUse struct {
	ProjectID       string
	VCPUs, MemoryMB int64
	DiskGB          int64 // root plus ephemeral
}

// ProjectUsage sums the flavors of the live servers on a host per
// project, in order of each project's first server there (os-hosts show).
func ProjectUsage(ctx context.Context, db *store.DB, hostname string) ([]ProjectUse, error) {
	rows, err := db.QueryContext(ctx, `SELECT project_id, SUM(vcpus), SUM(memory_mb), SUM(root_gb + ephemeral_gb), MIN(number)
		FROM instances WHERE host = ? AND deleted = FALSE GROUP BY project_id ORDER BY MIN(number)`, hostname)
	if err != nil {
		return nil, fmt.Errorf("usage on %s: %w", hostname, err)
	}
	defer rows.Close()
	var out []ProjectUse
	for rows.Next() {
		var u ProjectUse
		var first int64
		if err := rows.Scan(&u.ProjectID, &u.VCPUs, &u.MemoryMB, &u.DiskGB, &first); err != nil {
			return nil, fmt.Errorf("usage on %s: %w", hostname, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
