package hosts

import "context"

// ProjectUse is what one project's servers on a host take.
type ProjectUse struct {
	ProjectID       string
	VCPUs, MemoryMB int64
	DiskGB          int64 // root plus ephemeral
}

// ProjectUsage sums the flavors of the live servers on a host per
// project, in order of each project's first server there (os-hosts show).
func (d *Directory) ProjectUsage(ctx context.Context, hostname string) ([]ProjectUse, error) {
	return d.servers.ProjectUsageOnHost(ctx, hostname)
}
