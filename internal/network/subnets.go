package network

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/store"
)

// Subnet is a Neutron subnet: an address range of a network.
type Subnet struct {
	ID          string
	NetworkID   string
	ProjectID   string
	Name        string
	Description string
	IPVersion   int
	CIDR        string
	GatewayIP   string // "": no gateway
	Pools       []Pool
	DNS         []string
	HostRoutes  []HostRoute
	EnableDHCP  bool
	// IPv6RAMode and IPv6AddressMode are "", "slaac", "dhcpv6-stateful"
	// or "dhcpv6-stateless".
	IPv6RAMode, IPv6AddressMode string
	Revision                    int
	CreatedAt, UpdatedAt        time.Time
	// Of its network, for the rules that read them (network:project_id,
	// shared, router:external).
	NetworkProjectID string
	Shared, External bool
	Tags             []string // filled by the networking API's reads

	poolIndex *int64 // the pool slot of a default network's IPv4 subnet
}

// Pool is an allocation pool: the addresses from Start to End.
type Pool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// HostRoute is a route a subnet's DHCP hands out.
type HostRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// newSubnet is a subnet of p with Neutron's defaults: the gateway at the
// first address, the rest of the range to allocate, DHCP on.
func newSubnet(networkID, projectID string, p netip.Prefix, now int64) Subnet {
	s := Subnet{ID: uuid.NewString(), NetworkID: networkID, ProjectID: projectID, IPVersion: version(p.Addr()),
		CIDR: p.String(), GatewayIP: p.Addr().Next().String(), EnableDHCP: true, Revision: 1,
		DNS: []string{}, HostRoutes: []HostRoute{},
		CreatedAt: store.Time(now), UpdatedAt: store.Time(now)}
	s.Pools = defaultPools(p, p.Addr().Next())
	return s
}

const subnetColumns = `s.id, s.network_id, s.project_id, s.name, s.description, s.ip_version, s.cidr, s.gateway_ip,
	s.allocation_pools, s.dns_nameservers, s.host_routes, s.enable_dhcp, s.ipv6_ra_mode, s.ipv6_address_mode,
	s.revision_number, s.created_at, s.updated_at, n.project_id, n.shared, n.external`

// subnetFrom selects subnets s with their networks n.
const subnetFrom = ` FROM subnets s JOIN networks n ON n.id = s.network_id`

func scanSubnet(row interface{ Scan(...any) error }) (Subnet, error) {
	var s Subnet
	var gw, ra, mode sql.NullString
	var pools, dns, routes string
	var created, updated int64
	if err := row.Scan(&s.ID, &s.NetworkID, &s.ProjectID, &s.Name, &s.Description, &s.IPVersion, &s.CIDR, &gw,
		&pools, &dns, &routes, &s.EnableDHCP, &ra, &mode, &s.Revision, &created, &updated,
		&s.NetworkProjectID, &s.Shared, &s.External); err != nil {
		return Subnet{}, err
	}
	s.GatewayIP, s.IPv6RAMode, s.IPv6AddressMode = gw.String, ra.String, mode.String
	s.CreatedAt, s.UpdatedAt = store.Time(created), store.Time(updated)
	for _, f := range []struct {
		text string
		dst  any
	}{{pools, &s.Pools}, {dns, &s.DNS}, {routes, &s.HostRoutes}} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return Subnet{}, fmt.Errorf("subnet %s: %w", s.ID, err)
		}
	}
	return s, nil
}

// insertSubnet stores s; false when its pool slot is taken.
func insertSubnet(ctx context.Context, q store.Querier, s Subnet) (bool, error) {
	pools, dns, routes := mustJSON(s.Pools), mustJSON(s.DNS), mustJSON(s.HostRoutes)
	res, err := q.ExecContext(ctx, `INSERT INTO subnets (id, network_id, project_id, name, description, ip_version, cidr,
		gateway_ip, allocation_pools, dns_nameservers, host_routes, enable_dhcp, ipv6_ra_mode, ipv6_address_mode,
		pool_index, revision_number, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		s.ID, s.NetworkID, s.ProjectID, s.Name, s.Description, s.IPVersion, s.CIDR, nullIfEmpty(s.GatewayIP),
		pools, dns, routes, s.EnableDHCP, nullIfEmpty(s.IPv6RAMode), nullIfEmpty(s.IPv6AddressMode),
		s.poolIndex, s.Revision, s.CreatedAt.UnixMicro(), s.UpdatedAt.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("create subnet %s of network %s: %w", s.CIDR, s.NetworkID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // lists of strings and structs of strings always marshal
	}
	return string(b)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// subnetsOf lists the subnets s (joined with their networks n) that
// where selects, oldest first.
func subnetsOf(ctx context.Context, q store.Querier, where string, args ...any) ([]Subnet, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+subnetColumns+subnetFrom+` WHERE `+where+` ORDER BY s.created_at, s.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list subnets: %w", err)
	}
	defer rows.Close()
	var out []Subnet
	for rows.Next() {
		s, err := scanSubnet(rows)
		if err != nil {
			return nil, fmt.Errorf("scan subnet: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func getSubnet(ctx context.Context, q store.Querier, id string) (Subnet, error) {
	s, err := scanSubnet(q.QueryRowContext(ctx, `SELECT `+subnetColumns+subnetFrom+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Subnet{}, subnetNotFound(id)
	}
	if err != nil {
		return Subnet{}, fmt.Errorf("get subnet %s: %w", id, err)
	}
	return s, nil
}

// defaultPools are Neutron's pools of a subnet: every host address but
// the gateway (split around it), without IPv4's network and broadcast
// addresses or IPv6's subnet-router anycast address.
func defaultPools(p netip.Prefix, gw netip.Addr) []Pool {
	first, last := hostBounds(p)
	if !first.IsValid() {
		return []Pool{}
	}
	var out []Pool
	add := func(a, b netip.Addr) {
		if a.IsValid() && b.IsValid() && a.Compare(b) <= 0 {
			out = append(out, Pool{Start: a.String(), End: b.String()})
		}
	}
	if gw.IsValid() && p.Contains(gw) && gw.Compare(first) >= 0 && gw.Compare(last) <= 0 {
		add(first, gw.Prev())
		add(gw.Next(), last)
	} else {
		add(first, last)
	}
	if out == nil {
		return []Pool{}
	}
	return out
}

// hostBounds is the first and last address of p a port may hold.
func hostBounds(p netip.Prefix) (netip.Addr, netip.Addr) {
	p = p.Masked()
	last := lastAddr(p)
	if p.Addr().Is4() {
		if p.Bits() >= 31 {
			return p.Addr(), last
		}
		return p.Addr().Next(), last.Prev()
	}
	if p.Bits() == 128 {
		return p.Addr(), last
	}
	return p.Addr().Next(), last
}

// lastAddr is the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := range b {
		host := p.Bits() - i*8
		switch {
		case host <= 0:
			b[i] = 0xff
		case host < 8:
			b[i] |= 0xff >> host
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
