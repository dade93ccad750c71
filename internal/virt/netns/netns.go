// Package netns is the qemu driver's bridge networking: a network
// namespace of kumo's own holding a Linux bridge per project subnet (the
// bridge has the subnet's gateway address, .1), a tap device per guest
// NIC on its subnet's bridge, and a dnsmasq per bridge that leases each
// guest MAC its fixed address and nothing else. The namespace has no link
// to the host and forwards nothing: a guest reaches the guests on its own
// bridge and the bridge's address, and no other network.
//
// Everything outlives kumo: the namespace, bridges, taps and dnsmasq
// processes stay while kumo is stopped, so guests adopted after a restart
// keep their network. A bridge and its dnsmasq go when the last tap on it
// is unplugged; the namespace itself stays (ip netns del NAME removes it).
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
	name    string // as `ip netns` knows it
	dir     string // kept state: ports.json, a pid and a log file per dnsmasq
	ip      string // binaries
	dnsmasq string
	mu      sync.Mutex // one change at a time (ports.json, dnsmasq restarts)
}

// Port is one guest NIC plugged into the namespace.
type Port struct {
	Owner  string `json:"owner"` // the guest
	Tap    string `json:"tap"`
	Bridge string `json:"bridge"`
	MAC    string `json:"mac"`
	IPv4   string `json:"ipv4"`
	CIDR   string `json:"cidr"`
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
// dir, and restores what the state holds (bridges, taps, dnsmasqs) where
// it is missing, e.g. after the machine restarted. It needs root, ip
// (iproute2) and dnsmasq (dnsmasq-base).
func Open(ctx context.Context, name, dir string) (*Namespace, error) {
	if uid := os.Geteuid(); uid != 0 {
		return nil, fmt.Errorf("bridge networking needs root (kumo runs as uid %d)", uid)
	}
	dir, err := filepath.Abs(dir) // dnsmasq runs from /
	if err != nil {
		return nil, fmt.Errorf("bridge networking: %w", err)
	}
	n := &Namespace{name: name, dir: dir}
	for _, b := range []struct{ bin, pkg string }{{"ip", "iproute2"}, {"dnsmasq", "dnsmasq-base"}} {
		p, err := exec.LookPath(b.bin)
		if err != nil {
			return nil, fmt.Errorf("bridge networking: %w (apt-get install %s)", err, b.pkg)
		}
		if b.bin == "ip" {
			n.ip = p
		} else {
			n.dnsmasq = p
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bridge networking: %w", err)
	}
	if _, err := os.Stat(filepath.Join("/run/netns", name)); err != nil {
		if err := n.run(ctx, "netns", "add", name); err != nil && !strings.Contains(err.Error(), "exists") {
			return nil, err
		}
	}
	// Nothing leaves a bridge for another: no forwarding between subnets.
	if err := n.run(ctx, "netns", "exec", name, "sh", "-c",
		"echo 0 >/proc/sys/net/ipv4/ip_forward && echo 0 >/proc/sys/net/ipv6/conf/all/forwarding"); err != nil {
		return nil, err
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
	bridges := map[string]bool{}
	for _, p := range ports {
		if err := n.plugPort(ctx, p); err != nil {
			return nil, err
		}
		bridges[p.Bridge] = true
	}
	for br := range bridges {
		if err := n.serveDHCP(ctx, br, ports, false); err != nil {
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

// Plug gives each of owner's NICs a tap on its subnet's bridge (made
// with its gateway address and dnsmasq when new) and a fixed lease, and
// returns the taps in NIC order. Plugging the same NICs again changes
// nothing; taps of owner's NICs no longer there are removed.
func (n *Namespace) Plug(ctx context.Context, owner string, nics []virt.NIC) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ports, err := n.load()
	if err != nil {
		return nil, err
	}
	restart := map[string]bool{} // bridges to serve: true where their leases changed
	var taps []string
	kept := slices.DeleteFunc(slices.Clone(ports), func(p Port) bool { return p.Owner == owner })
	for i, nic := range nics {
		p, err := newPort(owner, i, nic)
		if err != nil {
			return nil, err
		}
		restart[p.Bridge] = restart[p.Bridge] || !slices.Contains(ports, p)
		kept = append(kept, p)
		taps = append(taps, p.Tap)
	}
	for _, p := range ports {
		if p.Owner == owner && !slices.Contains(taps, p.Tap) {
			if err := n.deleteLink(ctx, p.Tap); err != nil {
				return nil, err
			}
			restart[p.Bridge] = true
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
	for br, restart := range restart {
		if err := n.serveDHCP(ctx, br, kept, restart); err != nil {
			return nil, err
		}
	}
	return taps, nil
}

// Unplug removes owner's taps and leases; a bridge left without taps goes
// with its dnsmasq. Unplugging an unknown owner does nothing.
func (n *Namespace) Unplug(ctx context.Context, owner string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	ports, err := n.load()
	if err != nil {
		return err
	}
	changed := map[string]bool{}
	kept := slices.DeleteFunc(slices.Clone(ports), func(p Port) bool { return p.Owner == owner })
	for _, p := range ports {
		if p.Owner == owner {
			if err := n.deleteLink(ctx, p.Tap); err != nil {
				return err
			}
			changed[p.Bridge] = true
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := n.save(kept); err != nil {
		return err
	}
	for br := range changed {
		if err := n.serveDHCP(ctx, br, kept, true); err != nil {
			return err
		}
	}
	return nil
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
	restart := true
	if i >= 0 && ports[i].Bridge == p.Bridge && ports[i].IPv4 == p.IPv4 {
		p, restart = ports[i], false // plugged before, under whichever name
	} else {
		if i >= 0 { // its address moved: the old tap and lease go
			old := ports[i]
			if err := n.deleteLink(ctx, old.Tap); err != nil {
				return "", err
			}
			ports = slices.Delete(ports, i, i+1)
			if old.Bridge != p.Bridge {
				defer func() { _ = n.serveDHCP(ctx, old.Bridge, ports, true) }()
			}
		}
		ports = append(ports, p)
		if err := n.save(ports); err != nil {
			return "", err
		}
	}
	if err := n.plugPort(ctx, p); err != nil {
		return "", err
	}
	return p.Tap, n.serveDHCP(ctx, p.Bridge, ports, restart)
}

// UnplugNIC removes owner's tap and lease of the NIC with MAC mac (a
// hot-unplug); a bridge left without taps goes with its dnsmasq.
// Unplugging a NIC that is not plugged does nothing.
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
	gone := ports[i]
	if err := n.deleteLink(ctx, gone.Tap); err != nil {
		return err
	}
	ports = slices.Delete(ports, i, i+1)
	if err := n.save(ports); err != nil {
		return err
	}
	return n.serveDHCP(ctx, gone.Bridge, ports, true)
}

// Ports is what the namespace has plugged, from its kept state.
func (n *Namespace) Ports() ([]Port, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.load()
}

// newPort is the port of owner's i-th NIC, which must have an IPv4
// address in an IPv4 subnet.
func newPort(owner string, i int, nic virt.NIC) (Port, error) {
	subnet, err := netip.ParsePrefix(nic.CIDR)
	if err != nil || !subnet.Addr().Is4() || subnet.Bits() > 30 {
		return Port{}, fmt.Errorf("bridge networking: NIC %s of %s has no usable IPv4 subnet (%q)", nic.MAC, owner, nic.CIDR)
	}
	addr, err := netip.ParseAddr(nic.IPv4)
	if err != nil || !subnet.Contains(addr) {
		return Port{}, fmt.Errorf("bridge networking: NIC %s of %s has no IPv4 address in %s (%q)", nic.MAC, owner, subnet, nic.IPv4)
	}
	return Port{Owner: owner, Tap: tapName(owner, i), Bridge: bridgeName(subnet), MAC: strings.ToLower(nic.MAC),
		IPv4: addr.String(), CIDR: subnet.Masked().String()}, nil
}

// bridgeName names a subnet's bridge by its network address in hex and
// its length (10.0.3.0/24: kb-0a000300-24), within Linux's 15 bytes.
func bridgeName(subnet netip.Prefix) string {
	b := subnet.Masked().Addr().As4()
	return fmt.Sprintf("kb-%s-%d", hex.EncodeToString(b[:]), subnet.Bits())
}

// tapName names owner's i-th tap, within Linux's 15 bytes.
func tapName(owner string, i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", owner, i)))
	return "kt-" + hex.EncodeToString(sum[:])[:11]
}

// hotTapName names the tap of owner's hot-plugged NIC with MAC mac.
func hotTapName(owner, mac string) string {
	sum := sha256.Sum256([]byte(owner + "/" + mac))
	return "kt-" + hex.EncodeToString(sum[:])[:11]
}

// gateway is the subnet's first address with its length (10.0.3.1/24).
func gateway(cidr string) (string, error) {
	subnet, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", err
	}
	return netip.PrefixFrom(subnet.Masked().Addr().Next(), subnet.Bits()).String(), nil
}

// plugPort makes p's bridge (with its gateway address) and tap, where
// missing, and sets both up.
func (n *Namespace) plugPort(ctx context.Context, p Port) error {
	gw, err := gateway(p.CIDR)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", p.Bridge, err)
	}
	if !n.linkExists(ctx, p.Bridge) {
		if err := n.run(ctx, "-n", n.name, "link", "add", p.Bridge, "type", "bridge"); err != nil {
			return err
		}
	}
	if err := n.run(ctx, "-n", n.name, "addr", "replace", gw, "dev", p.Bridge); err != nil {
		return err
	}
	if err := n.run(ctx, "-n", n.name, "link", "set", p.Bridge, "up"); err != nil {
		return err
	}
	if !n.linkExists(ctx, p.Tap) {
		if err := n.run(ctx, "-n", n.name, "tuntap", "add", "dev", p.Tap, "mode", "tap"); err != nil {
			return err
		}
	}
	return n.run(ctx, "-n", n.name, "link", "set", p.Tap, "master", p.Bridge, "up")
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
