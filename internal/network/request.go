package network

// Request is what a server create asks for in Nova's "networks": nothing
// (None, "none" since 2.37), one port on the project's default network
// (no Networks, i.e. "auto" or the key left out), or the listed ports.
type Request struct {
	None     bool
	Networks []NetworkRequest
	// Zone is the server's availability zone: its ports' device_owner
	// is "compute:<zone>".
	Zone string
}

// NetworkRequest is one entry of Nova's "networks" list.
type NetworkRequest struct {
	NetworkID string // "uuid"; empty means the project's default network
	FixedIP   string // "fixed_ip"
	PortID    string // "port": a port made through the networking API
	Tag       string // "tag" (2.32+)
}

// Auto asks for one port on the project's default network.
func Auto() Request { return Request{} }

// NoNetworks asks for no network at all.
func NoNetworks() Request { return Request{None: true} }

// Address is one fixed IP of an instance, as the server views show it.
type Address struct {
	NetworkID string
	Network   string // the label Nova groups "addresses" by, e.g. "private"
	PortID    string
	Addr      string
	Version   int // 4 or 6
	MAC       string
	Type      string // "fixed"
	Tag       string
}
