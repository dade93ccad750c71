package compute_test

import (
	"github.com/kumocloud/kumo/internal/aggregate"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/servergroup"
	"github.com/kumocloud/kumo/internal/store"
)

// The domain services the handlers use, wired on db as internal/app
// wires them: compute answers the others' questions about servers.

func newQuotas(db *store.DB, o quota.Options) *quota.Service {
	o.Instances = compute.NewInventory(db)
	return quota.New(db, o)
}

// newHosts is the host service; control names the machine of the
// control services ("" keeps this machine's name).
func newHosts(db *store.DB, control string) *hosts.Directory {
	d := hosts.NewDirectory(db, compute.NewInventory(db))
	if control != "" {
		d.ControlHost = control
	}
	return d
}

func newAggregates(db *store.DB) *aggregate.Service {
	return aggregate.New(db, compute.NewInventory(db))
}

func newNetworks(db *store.DB, m *network.Manager) *network.Service {
	return network.NewService(db, m, nil)
}

func newSecGroups(db *store.DB) *secgroup.Service { return secgroup.New(db, compute.NewInventory(db)) }

func newServerGroups(db *store.DB) *servergroup.Service {
	return servergroup.New(db, compute.NewInventory(db))
}
