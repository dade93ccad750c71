package app

import (
	"context"
	"errors"
	"io"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/hostlink"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/virt"
)

// hostLink calls other compute hosts (and this process's own) at the
// host endpoint each registered: a live migration's streams
// (virt.MigrationLink), guests' consoles (consoles.go) and hosts' uptime
// (the hypervisors API's get_host_uptime).
type hostLink struct {
	hosts  *hosts.Directory
	client *hostlink.Client
}

func (l hostLink) DialMigration(ctx context.Context, host, id, channel string) (io.ReadWriteCloser, error) {
	url, err := l.hosts.Endpoint(ctx, host)
	if err != nil {
		return nil, err
	}
	return l.client.DialMigration(ctx, url, id, channel)
}

// HostUptime is host's uptime line, asked of the host.
func (l hostLink) HostUptime(ctx context.Context, host string) (string, error) {
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
