package network

import (
	"context"
	"fmt"
	"math/big"
	"net/netip"

	"github.com/kumocloud/kumo/internal/store"
)

// IPAvailability is a network's address use, as Neutron's
// network-ip-availability computes it: per subnet, then summed.
type IPAvailability struct {
	NetworkID, NetworkName, ProjectID string
	Subnets                           []SubnetIPAvailability
}

// SubnetIPAvailability is one subnet's address use.
type SubnetIPAvailability struct {
	SubnetID, SubnetName, CIDR string
	IPVersion                  int
	// TotalIPs is the size of the allocation pools, or of the CIDR when
	// the subnet has none; UsedIPs the addresses held in the subnet.
	TotalIPs *big.Int
	UsedIPs  int
	// The network-ip-availability-details figures: the CIDR's host
	// addresses (IPv4 without network and broadcast), the pools' size, and
	// the used addresses inside the pools.
	TotalInSubnet, TotalInPools *big.Int
	UsedInPools                 int
}

// Totals sums the subnets' figures: total and used addresses, then the
// details (in subnets, in pools, used in subnets, used in pools).
func (a IPAvailability) Totals() (total *big.Int, used int, inSubnet, inPools *big.Int, usedInPools int) {
	total, inSubnet, inPools = new(big.Int), new(big.Int), new(big.Int)
	for _, s := range a.Subnets {
		total.Add(total, s.TotalIPs)
		inSubnet.Add(inSubnet, s.TotalInSubnet)
		inPools.Add(inPools, s.TotalInPools)
		used += s.UsedIPs
		usedInPools += s.UsedInPools
	}
	return total, used, inSubnet, inPools, usedInPools
}

// IPAvailabilities returns the address use of every network, oldest
// first (the networking API lets admins see it).
func (s *Service) IPAvailabilities(ctx context.Context) ([]IPAvailability, error) {
	return s.ipAvailabilities(ctx, "1 = 1")
}

// NetworkIPAvailability returns network id's address use.
func (s *Service) NetworkIPAvailability(ctx context.Context, id string) (IPAvailability, error) {
	out, err := s.ipAvailabilities(ctx, "n.id = ?", id)
	if err != nil {
		return IPAvailability{}, err
	}
	if len(out) == 0 {
		return IPAvailability{}, noSuchNetwork(id)
	}
	return out[0], nil
}

// ipAvailabilities computes the address use of the networks n where
// holds.
func (s *Service) ipAvailabilities(ctx context.Context, where string, args ...any) ([]IPAvailability, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT n.id, n.name, n.project_id FROM networks n WHERE `+where+
		` ORDER BY n.created_at, n.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var out []IPAvailability
	index := map[string]int{}
	for rows.Next() {
		var a IPAvailability
		if err := rows.Scan(&a.NetworkID, &a.NetworkName, &a.ProjectID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan network: %w", err)
		}
		index[a.NetworkID] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	subnets, err := subnetsOf(ctx, s.db, where, args...)
	if err != nil {
		return nil, err
	}
	used, err := usedAddresses(ctx, s.db, where, args...)
	if err != nil {
		return nil, err
	}
	for _, sn := range subnets {
		i, ok := index[sn.NetworkID]
		if !ok {
			continue
		}
		a, err := subnetAvailability(sn, used[sn.NetworkID])
		if err != nil {
			return nil, err
		}
		out[i].Subnets = append(out[i].Subnets, a)
	}
	return out, nil
}

// subnetAvailability counts sn's addresses and those of addrs (its
// network's held addresses) inside it.
func subnetAvailability(sn Subnet, addrs []netip.Addr) (SubnetIPAvailability, error) {
	p, err := netip.ParsePrefix(sn.CIDR)
	if err != nil {
		return SubnetIPAvailability{}, fmt.Errorf("subnet %s: %w", sn.ID, err)
	}
	a := SubnetIPAvailability{SubnetID: sn.ID, SubnetName: sn.Name, CIDR: sn.CIDR, IPVersion: sn.IPVersion,
		TotalInSubnet: prefixSize(p), TotalInPools: new(big.Int)}
	total := prefixSize(p)
	if p.Addr().Is4() {
		a.TotalInSubnet.Sub(a.TotalInSubnet, big.NewInt(2))
	}
	for _, pool := range sn.Pools {
		a.TotalInPools.Add(a.TotalInPools, rangeSize(netip.MustParseAddr(pool.Start), netip.MustParseAddr(pool.End)))
	}
	if len(sn.Pools) > 0 {
		total = new(big.Int).Set(a.TotalInPools)
	}
	a.TotalIPs = total
	for _, addr := range addrs {
		if !p.Contains(addr) {
			continue
		}
		a.UsedIPs++
		if inPools(sn.Pools, addr) {
			a.UsedInPools++
		}
	}
	return a, nil
}

// prefixSize is how many addresses p holds.
func prefixSize(p netip.Prefix) *big.Int {
	return new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits()))
}

// rangeSize is how many addresses lie from first to last.
func rangeSize(first, last netip.Addr) *big.Int {
	a := new(big.Int).SetBytes(first.AsSlice())
	b := new(big.Int).SetBytes(last.AsSlice())
	return b.Sub(b, a).Add(b, big.NewInt(1))
}

// usedAddresses are the addresses held on the networks n where holds,
// by network: the ports' fixed IPs (router gateways' and floating IPs'
// included).
func usedAddresses(ctx context.Context, q store.Querier, where string, args ...any) (map[string][]netip.Addr, error) {
	out := map[string][]netip.Addr{}
	read := func(query string) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("addresses of networks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var net, addr string
			if err := rows.Scan(&net, &addr); err != nil {
				return fmt.Errorf("scan address: %w", err)
			}
			if a, err := netip.ParseAddr(addr); err == nil {
				out[net] = append(out[net], a)
			}
		}
		return rows.Err()
	}
	if err := read(`SELECT f.network_id, f.address FROM fixed_ips f JOIN networks n ON n.id = f.network_id WHERE ` + where); err != nil {
		return nil, err
	}
	return out, nil
}
