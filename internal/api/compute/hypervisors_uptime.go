package compute

import (
	"context"
	"time"

	"github.com/kumocloud/kumo/internal/hosts"
)

// uptimeWait bounds the wait for a host's uptime: a host that does not
// answer in time shows none, as Nova's API shows none for a compute
// service it cannot reach.
const uptimeWait = 2 * time.Second

// hostUptime is host's `uptime` line, asked of the host, or nil when it
// is down (Nova cannot ask it), its driver measures none (Nova's fake
// driver has no get_host_uptime, nor has kumo's) or it does not answer.
func (h *handlers) hostUptime(ctx context.Context, host hosts.Host, now time.Time) *string {
	if !host.Up(now) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, uptimeWait)
	defer cancel()
	line, err := h.HostUptime(ctx, host.Hostname)
	if err != nil {
		return nil
	}
	return &line
}
