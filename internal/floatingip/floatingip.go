// Package floatingip is kumo's built-in floating IP pool (no Neutron):
// addresses allocated to projects from a configured range and associated
// with servers' fixed addresses.
package floatingip

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// Options configure the pool.
type Options struct {
	// Range is the IPv4 CIDR floating addresses come from ("": none).
	Range string
	// Pool is the pool's name (Nova's os-floating-ip-pools).
	Pool string
}

// Validate reports a range that is not an IPv4 CIDR or a range without
// a pool name.
func (o Options) Validate() error {
	_, err := o.parse()
	return err
}

// parse turns the options into the pool they describe (nil: no pool).
func (o Options) parse() (*Pool, error) {
	if o.Range == "" {
		return nil, nil
	}
	prefix, err := netip.ParsePrefix(o.Range)
	if err != nil || !prefix.Addr().Is4() {
		return nil, fmt.Errorf("floating range %q is not an IPv4 CIDR", o.Range)
	}
	if o.Pool == "" {
		return nil, fmt.Errorf("floating range %s needs a pool name", o.Range)
	}
	prefix = prefix.Masked()
	return &Pool{
		// The pool stands for Neutron's external network; its id is
		// stable across restarts so clients may name the pool by id.
		ID:    uuid.NewSHA1(uuid.NameSpaceURL, []byte("kumo:floating-pool:"+o.Pool)).String(),
		Name:  o.Pool,
		Range: prefix,
	}, nil
}

// Pool is the configured floating IP pool (Nova's os-floating-ip-pools
// entry), the built-in external network.
type Pool struct {
	ID, Name string
	Range    netip.Prefix
}

// Service manages floating IPs.
type Service struct {
	db       *store.DB
	nets     *network.Service
	pool     *Pool
	poolErr  error
	topology Topology
	quota    netquota.Checker
}

// New returns the floating IP service; each floating IP owns a port of
// nets on its external network. A bad range leaves the service without
// a pool; Options.Validate reports it at startup. Creates through the
// networking API check the floatingip quota with q.
func New(db *store.DB, nets *network.Service, o Options, q netquota.Checker) *Service {
	pool, err := o.parse()
	return &Service{db: db, nets: nets, pool: pool, poolErr: err, quota: q}
}

// Pools lists the pools (none when no range is configured).
func (s *Service) Pools() []Pool {
	if s.pool == nil {
		return nil
	}
	return []Pool{*s.pool}
}

// PoolNames names the pools Nova's os-floating-ip-pools lists, as Nova
// lists Neutron's external networks: the configured pool (the built-in
// external network), then the other router:external networks.
func (s *Service) PoolNames(ctx context.Context) ([]string, error) {
	out := []string{}
	builtin := ""
	if s.pool != nil {
		out = append(out, s.pool.Name)
		id, _, err := network.ExternalNetworkIn(ctx, s.db)
		if err != nil && !errs.Is(err, errs.KindNotFound) {
			return nil, err
		}
		builtin = id
	}
	ids, names, err := network.ExternalNetworksIn(ctx, s.db)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if id != builtin {
			out = append(out, names[i])
		}
	}
	return out, nil
}

// FloatingIP is one allocated floating address.
type FloatingIP struct {
	ID        string
	NetworkID string // its external network's
	Pool      string
	Address   string
	ProjectID string
	// FixedNetworkID and FixedAddress name the fixed IP the address is
	// bound to; InstanceID is that fixed IP's server. All "" when the
	// floating IP is not associated.
	FixedNetworkID string
	FixedAddress   string
	InstanceID     string
	// port is the floating IP's own port on its network ("": not yet
	// adopted).
	port string
}

// visible reports whether p may see a floating IP of projectID: its own
// project's, or any as an admin (as Neutron's default policy).
func visible(p *auth.Principal, projectID string) bool {
	return p.IsAdmin() || (p != nil && p.ProjectID == projectID)
}
