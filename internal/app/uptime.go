package app

import (
	"context"
	"errors"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hostlink"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/virt"
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
	line, err := l.client.HostUptime(ctx, url)
	if errors.Is(err, virt.ErrNotSupported) {
		// Nova's raise_feature_not_supported: a 501 where an answer is owed.
		return "", &errs.Error{Kind: errs.KindNotImplemented, Message: "The requested functionality is not supported.", Err: err}
	}
	return line, err
}
