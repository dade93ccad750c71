// Package computeaddr plugs the address manager into the compute
// service, translating compute's view of Nova's "networks" request. It
// lives apart from package network so that network never depends on
// compute.
package computeaddr

import (
	"context"
	"fmt"

	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// Devices is network.Devices backed by compute's inventory.
type Devices struct {
	Inventory *compute.Inventory
}

var _ network.Devices = Devices{}

// PortDevices tells the host and guest state of the servers ids.
func (d Devices) PortDevices(ctx context.Context, ids []string) (map[string]network.Device, error) {
	ps, err := d.Inventory.Presences(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]network.Device, len(ps))
	for id, p := range ps {
		out[id] = network.Device{Host: p.Host, Running: p.Running}
	}
	return out, nil
}

// Addresses is compute.Addresses backed by a network.Manager and the
// networking API's quotas.
type Addresses struct {
	Manager *network.Manager
	Quotas  *netquota.Service
}

var _ compute.Addresses = Addresses{}

// Allocate gives the instance the addresses req asks for.
func (a Addresses) Allocate(ctx context.Context, tx *store.Tx, projectID, instanceID string, req compute.NetworkRequest) error {
	_, err := a.Manager.Allocate(ctx, tx, projectID, instanceID, Request(req))
	return err
}

// PortQuota is the project's port limit and usage.
func (a Addresses) PortQuota(ctx context.Context, tx *store.Tx, projectID string) (limit, used int, err error) {
	return a.Quotas.Usage(ctx, tx, projectID, netquota.Port)
}

// Release frees the instance's addresses.
func (a Addresses) Release(ctx context.Context, tx *store.Tx, instanceID string) error {
	return a.Manager.Release(ctx, tx, instanceID)
}

// AttachInterface gives the instance one more port.
func (a Addresses) AttachInterface(ctx context.Context, tx *store.Tx, projectID, instanceID, zone string, req compute.RequestedNetwork) (string, error) {
	return a.Manager.AttachInterface(ctx, tx, projectID, instanceID, zone, network.NetworkRequest{
		NetworkID: req.UUID, FixedIP: req.FixedIP, PortID: req.Port, Tag: req.Tag,
	})
}

// DetachInterface takes a port off the instance.
func (a Addresses) DetachInterface(ctx context.Context, tx *store.Tx, instanceID, portID string) error {
	return a.Manager.DetachInterface(ctx, tx, instanceID, portID)
}

// NICs groups the instance's fixed addresses by port.
func (a Addresses) NICs(ctx context.Context, q store.Querier, projectID, instanceID string) ([]compute.NIC, error) {
	addrs, err := a.Manager.ForInstances(ctx, q, []string{instanceID})
	if err != nil {
		return nil, err
	}
	var nics []compute.NIC
	byPort := map[string]int{}
	for _, addr := range addrs[instanceID] {
		if addr.Type != "fixed" {
			continue
		}
		i, ok := byPort[addr.PortID]
		if !ok {
			net, err := a.Manager.Network(ctx, q, projectID, addr.NetworkID)
			if err != nil {
				return nil, fmt.Errorf("network of port %s: %w", addr.PortID, err)
			}
			i = len(nics)
			byPort[addr.PortID] = i
			nics = append(nics, compute.NIC{Port: addr.PortID, Network: addr.Network, NetworkID: addr.NetworkID,
				MAC: addr.MAC, CIDR: net.CIDR})
		}
		if addr.Version == 6 {
			nics[i].IPv6 = addr.Addr
		} else {
			nics[i].IPv4 = addr.Addr
		}
	}
	return nics, nil
}

// Request translates a create's networks: "none" is nothing; "auto", an
// absent key and an empty list (which Nova answers with a port on the
// project's only network) are one port on the default network.
func Request(req compute.NetworkRequest) network.Request {
	if req.Mode == "none" {
		return network.NoNetworks()
	}
	out := network.Request{Zone: req.Zone}
	for _, n := range req.Networks {
		out.Networks = append(out.Networks, network.NetworkRequest{
			NetworkID: n.UUID, FixedIP: n.FixedIP, PortID: n.Port, Tag: n.Tag,
		})
	}
	return out
}
