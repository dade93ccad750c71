// Package network is kumo's built-in address manager, standing in for
// Neutron: every project gets a private network (an IPv4 subnet carved
// from a pool, plus an IPv6 /64 from a ULA prefix when enabled), and
// instances get ports on it with fixed IPs and Nova-style MACs.
//
// Mutating calls take the caller's *store.Tx so that addresses are
// allocated and released in the same transaction as the instance change.
// They keep no state between calls, so store.DB.InTx may re-run them.
package network

import (
	"fmt"
	"net/netip"
)

// Defaults used when Options leaves a field empty.
const (
	DefaultPool       = "10.0.0.0/8"
	DefaultPrefixLen  = 24
	DefaultIPv6Prefix = "fd6b:756d:6f00::/48"
	DefaultName       = "private"
)

// Options configures the address pools.
type Options struct {
	// Pool is the IPv4 range project subnets are carved from.
	Pool string
	// PrefixLen is the size of each project's IPv4 subnet (24 = a /24).
	PrefixLen int
	// IPv6 gives every network a /64 out of IPv6Prefix as well.
	IPv6       bool
	IPv6Prefix string
}

// Manager allocates networks, ports and fixed IPs.
type Manager struct {
	pool      netip.Prefix
	prefixLen int
	v6        netip.Prefix // invalid when IPv6 is off
	capacity  int64        // how many project networks the pools hold
}

// New validates opts and returns a Manager.
func New(opts Options) (*Manager, error) {
	if opts.Pool == "" {
		opts.Pool = DefaultPool
	}
	if opts.PrefixLen == 0 {
		opts.PrefixLen = DefaultPrefixLen
	}
	pool, err := netip.ParsePrefix(opts.Pool)
	if err != nil || !pool.Addr().Is4() {
		return nil, fmt.Errorf("network pool %q is not an IPv4 CIDR", opts.Pool)
	}
	pool = pool.Masked()
	if opts.PrefixLen < pool.Bits() || opts.PrefixLen > 29 {
		return nil, fmt.Errorf("network prefix length /%d must lie between the pool's /%d and /29", opts.PrefixLen, pool.Bits())
	}
	m := &Manager{pool: pool, prefixLen: opts.PrefixLen, capacity: int64(1) << (opts.PrefixLen - pool.Bits())}
	if opts.IPv6 {
		if opts.IPv6Prefix == "" {
			opts.IPv6Prefix = DefaultIPv6Prefix
		}
		v6, err := netip.ParsePrefix(opts.IPv6Prefix)
		if err != nil || !v6.Addr().Is6() || v6.Addr().Is4In6() {
			return nil, fmt.Errorf("IPv6 prefix %q is not an IPv6 CIDR", opts.IPv6Prefix)
		}
		if v6.Bits() > 64 {
			return nil, fmt.Errorf("IPv6 prefix %q must be /64 or shorter to hold per-project /64s", opts.IPv6Prefix)
		}
		m.v6 = v6.Masked()
		if bits := 64 - v6.Bits(); bits < 62 {
			if c := int64(1) << bits; c < m.capacity {
				m.capacity = c
			}
		}
	}
	return m, nil
}

// IPv6 reports whether networks get an IPv6 subnet.
func (m *Manager) IPv6() bool { return m.v6.IsValid() }
