// Package dataplane is what one compute host's guest network must be, as
// data: the guest ports on the host with their addresses and security
// groups, the networks they are on, the routers joining those networks'
// subnets (their interfaces, external gateway and floating IPs) and the
// security groups' rules and members. The network domain builds a Host
// from the database; an Applier (internal/dataplane/linux) makes the
// kernel match it; the Reconciler in between asks for it again until the
// two agree, so a change in the database acts on guest traffic within a
// second and a restarted kumo rebuilds everything from the database.
//
// Only IPv4 is routed and NATed; IPv6 rules filter where a port has IPv6
// addresses.
package dataplane

// Host is the wanted network of one compute host.
type Host struct {
	Name string
	// Networks are those with a guest port on the host, and the external
	// networks of the routers' gateways.
	Networks []Network
	// Ports are the guest ports bound to servers on the host.
	Ports []Port
	// Groups are the security groups the ports are in, with the groups
	// their rules name as remote groups.
	Groups []Group
	// Routers are those with an interface on a subnet of a port on the
	// host.
	Routers []Router
	// External is the external network an --external-interface joins
	// ("": none, or the cloud has no external network).
	External string
}

// Network is one Neutron network and its IPv4 subnets.
type Network struct {
	ID        string
	ProjectID string
	External  bool
	Subnets   []Subnet
}

// Subnet is one IPv4 subnet.
type Subnet struct {
	ID        string
	NetworkID string
	CIDR      string // 10.0.0.0/24
	GatewayIP string // "" when the subnet has none
	DHCP      bool
	DNS       []string
	Routes    []Route // host_routes
}

// Route is a destination CIDR and its next hop.
type Route struct {
	Destination string
	NextHop     string
}

// Port is one guest port (a server's NIC) on the host.
type Port struct {
	ID        string
	ProjectID string
	NetworkID string
	DeviceID  string // the server
	MAC       string // lower case
	FixedIPs  []FixedIP
	// SecurityEnabled is port_security_enabled: false means no
	// filtering and no anti-spoofing at all.
	SecurityEnabled bool
	Groups          []string // security group ids
	AddressPairs    []AddressPair
}

// FixedIP is one address of a port on one subnet.
type FixedIP struct {
	SubnetID string
	Address  string // 10.0.0.5
}

// AddressPair is an allowed address pair: traffic from IP (an address or
// a CIDR) with MAC (the port's own when empty) passes anti-spoofing.
type AddressPair struct {
	IP  string
	MAC string
}

// Group is one security group with its rules and the addresses of every
// port in it (on any host: a remote group names them all).
type Group struct {
	ID      string
	Rules   []Rule
	Members []string // addresses, IPv4 and IPv6
}

// Rule is one security group rule, as Neutron stores it.
type Rule struct {
	ID          string
	Direction   string // "ingress" or "egress"
	EtherType   string // "IPv4" or "IPv6"
	Protocol    string // "" (any), a name (tcp, udp, icmp, ...) or a number
	PortMin     int    // 0: none; for icmp the type
	PortMax     int    // 0: none; for icmp the code
	RemoteCIDR  string // "" when none
	RemoteGroup string // "" when none
}

// Router is one Neutron router with a part on the host.
type Router struct {
	ID         string
	ProjectID  string
	Interfaces []Interface
	Gateway    *Gateway // nil without an external gateway
	Routes     []Route  // extra routes
	// FloatingIPs are the floating IPs associated through this router.
	FloatingIPs []FloatingIP
}

// Interface is a router's port on one subnet.
type Interface struct {
	PortID    string
	NetworkID string
	SubnetID  string
	MAC       string
	Address   string // the router's address on the subnet (usually its gateway)
	CIDR      string // the subnet
}

// Gateway is a router's port on an external network.
type Gateway struct {
	PortID    string
	NetworkID string
	MAC       string
	Address   string // on the external subnet
	CIDR      string // the external subnet
	NextHop   string // the external subnet's gateway ("" when none)
	SNAT      bool   // enable_snat
}

// FloatingIP is an associated floating IP.
type FloatingIP struct {
	ID      string
	Address string // on the external network
	FixedIP string // the port's address it DNATs to
	PortID  string
}
