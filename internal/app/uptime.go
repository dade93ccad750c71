package app

import (
	"context"

	"github.com/kumocloud/kumo/internal/hostlink"
	"github.com/kumocloud/kumo/internal/hosts"
)

// uptimeLink asks compute hosts for their uptime through the host
// endpoint each registered: kumo serve its own, kumo api the kumo
// compute processes' (the hypervisors API's get_host_uptime).
type uptimeLink struct {
	hosts  *hosts.Directory
	client *hostlink.Client
}

func (l uptimeLink) HostUptime(ctx context.Context, host string) (string, error) {
	url, err := l.hosts.Endpoint(ctx, host)
	if err != nil {
		return "", err
	}
	return l.client.HostUptime(ctx, url)
}
