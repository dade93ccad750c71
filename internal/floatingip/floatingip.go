// Package floatingip is kumo's built-in floating IP pool (no Neutron):
// addresses allocated to projects from a configured range and associated
// with servers' fixed addresses.
package floatingip

import (
	"fmt"
	"net/netip"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
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
	first, last := hostRange(prefix)
	return &Pool{
		// The pool stands for Neutron's external network; its id is
		// stable across restarts so clients may name the pool by id.
		ID:    uuid.NewSHA1(uuid.NameSpaceURL, []byte("kumo:floating-pool:"+o.Pool)).String(),
		Name:  o.Pool,
		Range: prefix,
		first: first,
		last:  last,
	}, nil
}

// Pool is a floating IP pool (Nova's os-floating-ip-pools entry, Neutron's
// external network).
type Pool struct {
	ID, Name    string
	Range       netip.Prefix
	first, last int64 // ordinals of the addresses handed out
}

// hostRange is the ordinals (addresses as numbers) the pool hands out:
// all but the network address, the gateway (.1, as on Neutron's external
// subnet) and the broadcast address, for ranges that have them.
func hostRange(p netip.Prefix) (first, last int64) {
	base := ordinal(p.Addr())
	size := int64(1) << (32 - p.Bits())
	if size < 4 {
		return base, base + size - 1
	}
	return base + 2, base + size - 2
}

// ordinal is an IPv4 address as a number.
func ordinal(a netip.Addr) int64 {
	b := a.As4()
	return int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
}

// addrAt is the IPv4 address of an ordinal.
func addrAt(o int64) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(o >> 24), byte(o >> 16), byte(o >> 8), byte(o)})
}

// Service manages floating IPs.
type Service struct {
	db       *store.DB
	pool     *Pool
	poolErr  error
	topology Topology
	quota    netquota.Checker
}

// New returns the floating IP service. A bad range leaves the service
// without a pool; Options.Validate reports it at startup. Creates through
// the networking API check the floatingip quota with q.
func New(db *store.DB, o Options, q netquota.Checker) *Service {
	pool, err := o.parse()
	return &Service{db: db, pool: pool, poolErr: err, quota: q}
}

// Pools lists the pools (none when no range is configured).
func (s *Service) Pools() []Pool {
	if s.pool == nil {
		return nil
	}
	return []Pool{*s.pool}
}

// FloatingIP is one allocated floating address.
type FloatingIP struct {
	ID        string
	Pool      string
	Address   string
	ProjectID string
	// FixedNetworkID and FixedAddress name the fixed IP the address is
	// bound to; InstanceID is that fixed IP's server. All "" when the
	// floating IP is not associated.
	FixedNetworkID string
	FixedAddress   string
	InstanceID     string
}

// visible reports whether p may see a floating IP of projectID: its own
// project's, or any as an admin (as Neutron's default policy).
func visible(p *auth.Principal, projectID string) bool {
	return p.IsAdmin() || (p != nil && p.ProjectID == projectID)
}
