package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/dataplane/linux"
	"github.com/kumocloud/kumo/internal/metadata"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/qemu"
)

// startDataplane prepares the guest dataplane of a qemu host on bridge
// networking (Serve runs it): the network domain's wanted state of this
// host, applied to the kernel every half second.
func (a *App) startDataplane(driver virt.Driver) error {
	q, ok := driver.(*qemu.Driver)
	if !ok || q.Switch() == nil {
		return nil
	}
	host := a.Config.Hostname()
	src := metadataSource{compute: a.Compute, networks: a.Networks, groups: a.groups}
	applier, err := linux.New(linux.Options{
		Switch: q.Switch(), Dir: filepath.Join(a.Config.DataDir, "netns", "dataplane"),
		ExternalInterface: a.Config.ExternalInterface, Log: a.Log,
		Metadata: func(resolve metadata.Resolver) http.Handler { return metadata.Handler(src, resolve, a.Log) },
	})
	if err != nil {
		return fmt.Errorf("guest dataplane: %w", err)
	}
	a.dataplaneApplier = applier
	a.dataplane = &dataplane.Reconciler{Applier: applier, Log: a.Log,
		Source: func(ctx context.Context) (dataplane.Host, error) {
			refs, err := a.servers.ServersOnHost(ctx, host)
			if err != nil {
				return dataplane.Host{}, err
			}
			ids := make([]string, len(refs))
			for i, r := range refs {
				ids[i] = r.UUID
			}
			return a.Networks.Dataplane(ctx, host, ids)
		}}
	return nil
}
