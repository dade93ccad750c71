package linux

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"

	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/virt/netns"
)

// MetadataAddress is the link-local address guests ask for their
// metadata, on every domain namespace's loopback.
const MetadataAddress = "169.254.169.254"

// plan is what the kernel must hold for a Host: the switch's bridges and
// the domain namespaces (routers and lone networks), computed without
// I/O.
type plan struct {
	bridges map[string]bool // switch bridges to keep
	domains []domain
}

// domain is one routing domain's namespace: a router's, or a network's
// whose subnets no router joins. It holds the subnets' gateway
// addresses, their DHCP servers and the metadata service.
type domain struct {
	ns      string
	router  *dataplane.Router // nil: a lone network's
	links   []link            // one per subnet served
	gateway *link             // a router's external gateway
	fips    []string          // floating IPs (/32 on the gateway) of this host's ports
	nextHop string            // default route via the gateway
	// guests are the addresses of this host's ports the domain serves,
	// each with its server (who asks for metadata).
	guests map[netip.Addr]string
}

// link is a veth pair joining a domain namespace to a switch bridge.
type link struct {
	dev    string // in the domain namespace
	peer   string // in the switch, on bridge
	bridge string
	mac    string // "" lets the kernel choose
	addr   string // 10.0.0.1/24
	dhcp   *dhcpConf
}

// name is a short stable hash of parts, for interface and namespace
// names (interface names have 15 bytes).
func name(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + hex.EncodeToString(h.Sum(nil))[:11]
}

// planFor is the plan of host h for the switch named sw.
func planFor(sw string, h dataplane.Host, external string) plan {
	subnets := map[string]dataplane.Subnet{}
	for _, n := range h.Networks {
		for _, s := range n.Subnets {
			subnets[s.ID] = s
		}
	}
	routerOf := map[string]*dataplane.Router{} // subnet → the router joining it
	for i := range h.Routers {
		for _, ifc := range h.Routers[i].Interfaces {
			routerOf[ifc.SubnetID] = &h.Routers[i]
		}
	}
	p := plan{bridges: map[string]bool{}}
	byNS := map[string]*domain{}
	get := func(ns string, r *dataplane.Router) *domain {
		if d, ok := byNS[ns]; ok {
			return d
		}
		d := &domain{ns: ns, router: r, guests: map[netip.Addr]string{}}
		byNS[ns] = d
		return d
	}
	// leases[ns][subnet] are the MAC/address pairs of this host's ports.
	leases := map[string]map[string][][2]string{}
	hereFixed := map[string]bool{} // this host's ports' addresses
	for _, port := range h.Ports {
		p.bridges[netns.BridgeName(port.NetworkID)] = true
		for _, ip := range port.FixedIPs {
			addr, err := netip.ParseAddr(ip.Address)
			if err != nil || !addr.Is4() {
				continue
			}
			if _, ok := subnets[ip.SubnetID]; !ok {
				continue
			}
			hereFixed[addr.String()] = true
			var d *domain
			if r := routerOf[ip.SubnetID]; r != nil {
				d = get(sw+"-r-"+name("", r.ID)[:10], r)
			} else {
				d = get(sw+"-n-"+name("", port.NetworkID)[:10], nil)
			}
			d.guests[addr] = port.DeviceID
			if leases[d.ns] == nil {
				leases[d.ns] = map[string][][2]string{}
			}
			leases[d.ns][ip.SubnetID] = append(leases[d.ns][ip.SubnetID], [2]string{port.MAC, addr.String()})
		}
	}
	dhcp := func(ns string, s dataplane.Subnet) *dhcpConf {
		l := leases[ns][s.ID]
		if !s.DHCP || len(l) == 0 {
			return nil
		}
		c := &dhcpConf{cidr: s.CIDR, gateway: s.GatewayIP, dns: s.DNS, leases: l}
		for _, r := range s.Routes {
			c.routes = append(c.routes, [2]string{r.Destination, r.NextHop})
		}
		return c
	}
	for ns, d := range byNS {
		if r := d.router; r != nil {
			for _, ifc := range r.Interfaces {
				s, ok := subnets[ifc.SubnetID]
				prefix, err := netip.ParsePrefix(ifc.CIDR)
				if !ok || err != nil {
					continue
				}
				br := netns.BridgeName(ifc.NetworkID)
				p.bridges[br] = true
				d.links = append(d.links, link{dev: name("qr-", ifc.PortID), peer: name("kv-", ns, ifc.PortID), bridge: br,
					mac: ifc.MAC, addr: ifc.Address + "/" + strconv.Itoa(prefix.Bits()), dhcp: dhcp(ns, s)})
			}
			if gw := r.Gateway; gw != nil {
				if prefix, err := netip.ParsePrefix(gw.CIDR); err == nil {
					br := netns.BridgeName(gw.NetworkID)
					p.bridges[br] = true
					d.gateway = &link{dev: name("qg-", gw.PortID), peer: name("kv-", ns, gw.PortID), bridge: br,
						mac: gw.MAC, addr: gw.Address + "/" + strconv.Itoa(prefix.Bits())}
					d.nextHop = gw.NextHop
					for _, f := range r.FloatingIPs {
						if hereFixed[f.FixedIP] {
							d.fips = append(d.fips, f.Address)
						}
					}
					slices.Sort(d.fips)
				}
			}
		} else {
			for id := range leases[ns] {
				s := subnets[id]
				prefix, err := netip.ParsePrefix(s.CIDR)
				if err != nil || s.GatewayIP == "" {
					continue // no address to serve it from
				}
				br := netns.BridgeName(s.NetworkID)
				d.links = append(d.links, link{dev: name("qd-", s.ID), peer: name("kv-", ns, s.ID), bridge: br,
					addr: s.GatewayIP + "/" + strconv.Itoa(prefix.Bits()), dhcp: dhcp(ns, s)})
			}
		}
		slices.SortFunc(d.links, func(a, b link) int { return cmp.Compare(a.dev, b.dev) })
		p.domains = append(p.domains, *d)
	}
	slices.SortFunc(p.domains, func(a, b domain) int { return cmp.Compare(a.ns, b.ns) })
	if external != "" && h.External != "" {
		p.bridges[netns.BridgeName(h.External)] = true
	}
	return p
}
