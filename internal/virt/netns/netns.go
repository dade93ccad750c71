// Package netns is the switch of the qemu driver's bridge networking: a
// network namespace of kumo's own holding a Linux bridge per network and
// a tap per guest NIC on its network's bridge. The switch is layer 2
// only: its bridges have no address and it forwards nothing. What acts
// on the guests' traffic (security groups, DHCP, routers, floating IPs,
// metadata) is internal/dataplane/linux, which joins its own namespaces
// to these bridges and filters the bridges' traffic.
//
// Everything outlives kumo: the namespace, bridges and taps stay while
// kumo is stopped, so guests adopted after a restart keep their network.
// A bridge goes when the last link on it is unplugged; the namespace
// itself stays (ip netns del NAME removes it).
package netns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/kumocloud/kumo/internal/virt"
)

// Namespace is one network namespace kumo runs guests' NICs in.
type Namespace struct {
	name string     // as `ip netns` knows it
	dir  string     // kept state: ports.json
	ip   string     // the ip binary
	mu   sync.Mutex // one change at a time (ports.json)
}

// Port is one guest NIC plugged into the namespace.
type Port struct {
	Owner   string `json:"owner"` // the guest
	Tap     string `json:"tap"`
	Bridge  string `json:"bridge"`
	Network string `json:"network,omitempty"`
	MAC     string `json:"mac"`
	IPv4    string `json:"ipv4"`
	CIDR    string `json:"cidr"`
}

// NameFor is the namespace kumo uses for a data dir: one per data dir, so
// two kumos on one machine keep apart.
func NameFor(dataDir string) string {
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	sum := sha256.Sum256([]byte(dataDir))
	return "kumo-" + hex.EncodeToString(sum[:4])
}

// Open creates the namespace name unless it exists, with its state in
// dir, and restores what the state holds (bridges, taps) where it is
// missing, e.g. after the machine restarted. It needs root and ip
// (iproute2).
func Open(ctx context.Context, name, dir string) (*Namespace, error) {
	if uid := os.Geteuid(); uid != 0 {
		return nil, fmt.Errorf("bridge networking needs root (kumo runs as uid %d)", uid)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bridge networking: %w", err)
	}
	n := &Namespace{name: name, dir: dir}
	if n.ip, err = exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("bridge networking: %w (apt-get install iproute2)", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bridge networking: %w", err)
	}
	if _, err := os.Stat(filepath.Join("/run/netns", name)); err != nil {
		if err := n.run(ctx, "netns", "add", name); err != nil && !strings.Contains(err.Error(), "exists") {
			return nil, err
		}
	}
	// Nothing is routed in the switch; bridged frames pass the inet
	// hooks (br_netfilter), where security groups filter them with
	// connection tracking.
	if err := n.run(ctx, "netns", "exec", name, "sh", "-c",
		"echo 0 >/proc/sys/net/ipv4/ip_forward && echo 0 >/proc/sys/net/ipv6/conf/all/forwarding"+
			" && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables"+
			" && echo 1 >/proc/sys/net/bridge/bridge-nf-call-ip6tables"); err != nil {
		return nil, fmt.Errorf("%w (the kernel needs br_netfilter: modprobe br_netfilter)", err)
	}
	if err := n.run(ctx, "-n", name, "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ports, err := n.load()
	if err != nil {
		return nil, err
	}
	for _, p := range ports {
		if err := n.plugPort(ctx, p); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Name is the namespace's name, as `ip netns` knows it.
func (n *Namespace) Name() string { return n.name }

// Command is name run inside the namespace (ip netns exec).
func (n *Namespace) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, n.ip, append([]string{"netns", "exec", n.name, name}, args...)...)
}

// Plug gives each of owner's NICs a tap on its network's bridge (made
// when new) and returns the taps in NIC order. Plugging the same NICs
// again changes nothing; taps of owner's NICs no longer there are
// removed.
func (n *Namespace) Plug(ctx context.Context, owner string, nics []virt.NIC) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ports, err := n.load()
	if err != nil {
		return nil, err
	}
	var taps []string
	kept := slices.DeleteFunc(slices.Clone(ports), func(p Port) bool { return p.Owner == owner })
	for i, nic := range nics {
		p, err := newPort(owner, i, nic)
		if err != nil {
			return nil, err
		}
		kept = append(kept, p)
		taps = append(taps, p.Tap)
	}
	for _, p := range ports {
		if p.Owner == owner && !slices.Contains(taps, p.Tap) {
			if err := n.unplugPort(ctx, p); err != nil {
				return nil, err
			}
		}
	}
	if err := n.save(kept); err != nil {
		return nil, err
	}
	for _, p := range kept {
		if p.Owner == owner {
			if err := n.plugPort(ctx, p); err != nil {
				return nil, err
			}
		}
	}
	return taps, nil
}

// Unplug removes owner's taps; a bridge left without links goes.
// Unplugging an unknown owner does nothing.
func (n *Namespace) Unplug(ctx context.Context, owner string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	ports, err := n.load()
	if err != nil {
		return err
	}
	kept := slices.DeleteFunc(slices.Clone(ports), func(p Port) bool { return p.Owner == owner })
	if len(kept) == len(ports) {
		return nil
	}
	for _, p := range ports {
		if p.Owner == owner {
			if err := n.unplugPort(ctx, p); err != nil {
				return err
			}
		}
	}
	return n.save(kept)
}

// PlugNIC gives owner one more NIC (a hot-plug) and returns its tap; the
// owner's other taps stay as they are (its qemu has them open). The tap
// is named by the NIC's MAC, apart from Plug's by position; the next Plug
// (the guest's next boot) names it by position again. Plugging a NIC
// plugged before returns its tap.
func (n *Namespace) PlugNIC(ctx context.Context, owner string, nic virt.NIC) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ports, err := n.load()
	if err != nil {
		return "", err
	}
	p, err := newPort(owner, 0, nic)
	if err != nil {
		return "", err
	}
	p.Tap = hotTapName(owner, p.MAC)
	i := slices.IndexFunc(ports, func(q Port) bool { return q.Owner == owner && q.MAC == p.MAC })
	if i >= 0 && ports[i].Bridge == p.Bridge && ports[i].IPv4 == p.IPv4 {
		p = ports[i] // plugged before, under whichever name
	} else {
		if i >= 0 { // its address moved: the old tap goes
			if err := n.unplugPort(ctx, ports[i]); err != nil {
				return "", err
			}
			ports = slices.Delete(ports, i, i+1)
		}
		ports = append(ports, p)
		if err := n.save(ports); err != nil {
			return "", err
		}
	}
	return p.Tap, n.plugPort(ctx, p)
}

// UnplugNIC removes owner's tap of the NIC with MAC mac (a hot-unplug); a
// bridge left without links goes. Unplugging a NIC that is not plugged
// does nothing.
func (n *Namespace) UnplugNIC(ctx context.Context, owner, mac string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	ports, err := n.load()
	if err != nil {
		return err
	}
	mac = strings.ToLower(mac)
	i := slices.IndexFunc(ports, func(p Port) bool { return p.Owner == owner && p.MAC == mac })
	if i < 0 {
		return nil
	}
	if err := n.unplugPort(ctx, ports[i]); err != nil {
		return err
	}
	return n.save(slices.Delete(ports, i, i+1))
}

// Ports is what the namespace has plugged, from its kept state.
func (n *Namespace) Ports() ([]Port, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.load()
}

// EnsureBridge makes network's bridge where missing, up, and returns its
// name: the dataplane joins its own links to bridges without guests yet
// (a router's external network).
func (n *Namespace) EnsureBridge(ctx context.Context, network string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	br := BridgeName(network)
	return br, n.ensureBridge(ctx, br)
}

// PruneBridges deletes the bridges (kb-*) with no link on them that are
// not in keep.
func (n *Namespace) PruneBridges(ctx context.Context, keep map[string]bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	out, err := exec.CommandContext(ctx, n.ip, "-n", n.name, "-o", "link", "show", "type", "bridge").Output()
	if err != nil {
		return fmt.Errorf("list bridges of %s: %w", n.name, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		br := strings.TrimSuffix(f[1], ":")
		if strings.HasPrefix(br, "kb-") && !keep[br] {
			if err := n.deleteBridgeIfEmpty(ctx, br); err != nil {
				return err
			}
		}
	}
	return nil
}

// newPort is the port of owner's i-th NIC, which must have a network and
// an IPv4 address in an IPv4 subnet.
func newPort(owner string, i int, nic virt.NIC) (Port, error) {
	subnet, err := netip.ParsePrefix(nic.CIDR)
	if err != nil || !subnet.Addr().Is4() || subnet.Bits() > 30 {
		return Port{}, fmt.Errorf("bridge networking: NIC %s of %s has no usable IPv4 subnet (%q)", nic.MAC, owner, nic.CIDR)
	}
	addr, err := netip.ParseAddr(nic.IPv4)
	if err != nil || !subnet.Contains(addr) {
		return Port{}, fmt.Errorf("bridge networking: NIC %s of %s has no IPv4 address in %s (%q)", nic.MAC, owner, subnet, nic.IPv4)
	}
	if nic.NetworkID == "" {
		return Port{}, fmt.Errorf("bridge networking: NIC %s of %s has no network", nic.MAC, owner)
	}
	return Port{Owner: owner, Tap: tapName(owner, i), Bridge: BridgeName(nic.NetworkID), Network: nic.NetworkID,
		MAC: strings.ToLower(nic.MAC), IPv4: addr.String(), CIDR: subnet.Masked().String()}, nil
}

// BridgeName names a network's bridge by a hash of its id, within
// Linux's 15 bytes: one bridge per network, so two projects' networks
// never share one whatever their addresses.
func BridgeName(network string) string {
	sum := sha256.Sum256([]byte(network))
	return "kb-" + hex.EncodeToString(sum[:])[:11]
}

// TapPrefix begins the name of every guest tap: the dataplane's filter
// keeps taps it does not know dark by it.
const TapPrefix = "kt-"

// tapName names owner's i-th tap, within Linux's 15 bytes.
func tapName(owner string, i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", owner, i)))
	return TapPrefix + hex.EncodeToString(sum[:])[:11]
}

// hotTapName names the tap of owner's hot-plugged NIC with MAC mac.
func hotTapName(owner, mac string) string {
	sum := sha256.Sum256([]byte(owner + "/" + mac))
	return TapPrefix + hex.EncodeToString(sum[:])[:11]
}

// plugPort makes p's bridge and tap, where missing, and sets both up.
func (n *Namespace) plugPort(ctx context.Context, p Port) error {
	if err := n.ensureBridge(ctx, p.Bridge); err != nil {
		return err
	}
	if !n.linkExists(ctx, p.Tap) {
		if err := n.run(ctx, "-n", n.name, "tuntap", "add", "dev", p.Tap, "mode", "tap"); err != nil {
			return err
		}
	}
	return n.run(ctx, "-n", n.name, "link", "set", p.Tap, "master", p.Bridge, "up")
}

// unplugPort removes p's tap, and its bridge when nothing else is on it.
func (n *Namespace) unplugPort(ctx context.Context, p Port) error {
	if err := n.deleteLink(ctx, p.Tap); err != nil {
		return err
	}
	return n.deleteBridgeIfEmpty(ctx, p.Bridge)
}

// ensureBridge makes bridge br where missing (the dataplane may make it
// at the same time: one that exists is as good) and sets it up.
func (n *Namespace) ensureBridge(ctx context.Context, br string) error {
	if !n.linkExists(ctx, br) {
		if err := n.run(ctx, "-n", n.name, "link", "add", br, "type", "bridge"); err != nil && !strings.Contains(err.Error(), "File exists") {
			return err
		}
	}
	return n.run(ctx, "-n", n.name, "link", "set", br, "up")
}

// deleteBridgeIfEmpty deletes bridge br when no link is on it.
func (n *Namespace) deleteBridgeIfEmpty(ctx context.Context, br string) error {
	out, err := exec.CommandContext(ctx, n.ip, "-n", n.name, "-o", "link", "show", "master", br).CombinedOutput()
	if err != nil { // gone already
		return nil
	}
	if strings.TrimSpace(string(out)) != "" {
		return nil
	}
	return n.deleteLink(ctx, br)
}

func (n *Namespace) linkExists(ctx context.Context, link string) bool {
	return n.run(ctx, "-n", n.name, "link", "show", "dev", link) == nil
}

func (n *Namespace) deleteLink(ctx context.Context, link string) error {
	if !n.linkExists(ctx, link) {
		return nil
	}
	return n.run(ctx, "-n", n.name, "link", "del", "dev", link)
}

// run runs ip with args.
func (n *Namespace) run(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, n.ip, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (n *Namespace) portsFile() string { return filepath.Join(n.dir, "ports.json") }

func (n *Namespace) load() ([]Port, error) {
	b, err := os.ReadFile(n.portsFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bridge networking state: %w", err)
	}
	var ports []Port
	if err := json.Unmarshal(b, &ports); err != nil {
		return nil, fmt.Errorf("bridge networking state %s: %w", n.portsFile(), err)
	}
	return ports, nil
}

func (n *Namespace) save(ports []Port) error {
	b, err := json.MarshalIndent(ports, "", "  ")
	if err != nil {
		return err
	}
	tmp := n.portsFile() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("bridge networking state: %w", err)
	}
	if err := os.Rename(tmp, n.portsFile()); err != nil {
		return fmt.Errorf("bridge networking state: %w", err)
	}
	return nil
}
