package compute

import (
	"context"
	"fmt"
	"time"

	"github.com/kumocloud/kumo/internal/errs"
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
	line, err := h.askUptime(ctx, host, now)
	if err != nil {
		return nil
	}
	return &line
}

// askUptime asks host for its uptime line: a 400 when the host is down
// or does not answer (Nova's ComputeServiceUnavailable), the host's
// answer (a 501 when its driver measures none) otherwise.
func (h *handlers) askUptime(ctx context.Context, host hosts.Host, now time.Time) (string, error) {
	unavailable := errs.Invalid("Compute service of %s is unavailable at this time.", host.Hostname)
	if !host.Up(now) {
		return "", unavailable
	}
	ctx, cancel := context.WithTimeout(ctx, uptimeWait)
	defer cancel()
	line, err := h.HostUptime(ctx, host.Hostname)
	if errs.Is(err, errs.KindNotImplemented) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", unavailable, err)
	}
	return line, nil
}
