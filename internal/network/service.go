package network

import (
	"context"
	"errors"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// Service is the network service the APIs share: Nova's network proxies
// (os-networks, server addresses and the ip filters) today, the
// networking API next. It reads and writes on its own database; the
// compute domain allocates and releases addresses through the Manager in
// its own transactions.
type Service struct {
	db    *store.DB
	m     *Manager
	quota netquota.Checker
	// Devices tells the state of the servers ports belong to (nil: ports
	// show no host and are DOWN).
	Devices Devices
	// Groups keeps the security groups of ports (nil: ports have none).
	Groups PortGroups
	// Hosts tells where ports can be bound (nil: nowhere, a bound port's
	// binding fails).
	Hosts ComputeHosts
	// FloatingIPs goes with the external networks deleted (nil: none).
	FloatingIPs FloatingIPs
}

// NewService serves m's networks from db; the networking API's creates
// of networks, subnets and ports are checked against q in their
// transactions.
func NewService(db *store.DB, m *Manager, q netquota.Checker) *Service {
	return &Service{db: db, m: m, quota: q}
}

// Networks lists projectID's networks, creating its default network
// first (Manager.NetworksWithDefault).
func (s *Service) Networks(ctx context.Context, projectID string) ([]Network, error) {
	return s.m.NetworksWithDefault(ctx, s.db, projectID)
}

// Network returns projectID's network id; another project's network is
// not found like a missing one.
func (s *Service) Network(ctx context.Context, projectID, id string) (Network, error) {
	n, err := s.m.Network(ctx, s.db, projectID, id)
	if errors.Is(err, store.ErrNotFound) {
		return Network{}, errs.NotFound("Network not found")
	}
	return n, err
}

// Addresses returns the addresses of each instance (Manager.ForInstances).
func (s *Service) Addresses(ctx context.Context, instanceIDs []string) (map[string][]Address, error) {
	return s.m.ForInstances(ctx, s.db, instanceIDs)
}

// InstancesWithIP returns the ids of projectID's instances with an
// address matching pattern (Manager.InstancesWithIP).
func (s *Service) InstancesWithIP(ctx context.Context, projectID, pattern string, v6 bool) ([]string, error) {
	return s.m.InstancesWithIP(ctx, s.db, projectID, pattern, v6)
}
