// Package linux makes the kernel carry a dataplane.Host, with the
// kernel's own tools: the qemu driver's switch namespace (its bridges
// and taps, package netns) filtered by nftables with connection tracking
// (security groups, anti-spoofing), a namespace per routing domain (a
// router's, or a network's no router joins) joined to the bridges by
// veth pairs, holding the subnets' gateway addresses, a dnsmasq per
// subnet, NAT for floating IPs and the external gateway, and the
// metadata service's listener. See docs/ARCHITECTURE.md ("Guest
// dataplane").
package linux

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/dataplane/nftgen"
	"github.com/kumocloud/kumo/internal/metadata"
	"github.com/kumocloud/kumo/internal/virt/netns"
)

// Options configure an Applier.
type Options struct {
	// Switch is the qemu driver's namespace holding the bridges and taps.
	Switch *netns.Namespace
	// Dir keeps dnsmasq pid files and logs.
	Dir string
	// ExternalInterface joins the external network's bridge to the host:
	// a host interface of that name is moved onto it, else a veth pair is
	// made whose host end has that name. "": the external network stays
	// apart from the host.
	ExternalInterface string
	// Metadata is the metadata service's handler for one domain, whose
	// guests resolve names; nil: no metadata service.
	Metadata func(resolve metadata.Resolver) http.Handler
	Log      *slog.Logger
}

// Applier makes the kernel match the Hosts it is given.
type Applier struct {
	opts    Options
	sw      string
	dir     string
	ipBin   string
	nftBin  string
	dnsmasq string
	log     *slog.Logger

	mu       sync.Mutex
	applied  [32]byte          // fingerprint of the last applied host and taps
	lastFull time.Time         // when every step last ran
	scripts  map[string]string // namespace → the nft script it holds
	meta     map[string]*metaServer

	// guests (namespace → guest address → server) has a lock of its own:
	// the metadata service asks it while an apply may wait on dnsmasq.
	guestsMu sync.RWMutex
	guests   map[string]map[netip.Addr]string
}

// New checks the tools and returns an Applier.
func New(o Options) (*Applier, error) {
	if o.Switch == nil {
		return nil, errors.New("dataplane: no switch namespace")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("dataplane: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dataplane: %w", err)
	}
	a := &Applier{opts: o, sw: o.Switch.Name(), dir: dir, log: o.Log, scripts: map[string]string{},
		meta: map[string]*metaServer{}, guests: map[string]map[netip.Addr]string{}}
	for _, b := range []struct {
		bin, pkg string
		to       *string
	}{{"ip", "iproute2", &a.ipBin}, {"nft", "nftables", &a.nftBin}, {"dnsmasq", "dnsmasq-base", &a.dnsmasq}} {
		if *b.to, err = exec.LookPath(b.bin); err != nil {
			return nil, fmt.Errorf("bridge networking: %w (apt-get install %s)", err, b.pkg)
		}
	}
	return a, nil
}

// fullEvery is how often every step runs even when nothing changed, so
// what someone else undid is made again.
const fullEvery = 30 * time.Second

// Apply makes the kernel hold h. A step that fails does not stop the
// others; the error joins every failure (the reconciler logs it and
// tries again).
func (a *Applier) Apply(ctx context.Context, h dataplane.Host) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	taps, err := a.opts.Switch.Ports()
	if err != nil {
		return err
	}
	// JSON follows the router's gateway pointer, which %v would print
	// as an address (new on every read).
	state, err := json.Marshal(struct {
		Host dataplane.Host
		Taps []netns.Port
	}{h, taps})
	if err != nil {
		return fmt.Errorf("dataplane: %w", err)
	}
	sum := sha256.Sum256(state)
	if sum == a.applied && time.Since(a.lastFull) < fullEvery {
		return nil
	}
	p := planFor(a.sw, h, a.opts.ExternalInterface)
	var errs []error
	step := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	step("bridges", a.ensureBridges(ctx, p.bridges))
	wanted := map[string]bool{}
	guests := map[string]map[netip.Addr]string{}
	for _, d := range p.domains {
		wanted[d.ns] = true
		guests[d.ns] = d.guests
	}
	a.guestsMu.Lock()
	a.guests = guests
	a.guestsMu.Unlock()
	for _, d := range p.domains {
		step("domain "+d.ns, a.applyDomain(ctx, d))
	}
	step("security groups", a.applySwitchRules(ctx, h, taps, p))
	if a.opts.ExternalInterface != "" && h.External != "" {
		step("external interface", a.joinExternal(ctx, netns.BridgeName(h.External)))
	}
	step("stale domains", a.removeStaleDomains(ctx, wanted))
	step("bridges", a.opts.Switch.PruneBridges(ctx, p.bridges))
	if err := errors.Join(errs...); err != nil {
		a.applied = [32]byte{}
		return err
	}
	a.applied, a.lastFull = sum, time.Now()
	return nil
}

// Close stops the metadata listeners; the kernel's state stays.
func (a *Applier) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for ns, m := range a.meta {
		m.close()
		delete(a.meta, ns)
	}
	return nil
}

// ensureBridges makes the wanted bridges in the switch.
func (a *Applier) ensureBridges(ctx context.Context, bridges map[string]bool) error {
	have, err := a.links(ctx, a.sw)
	if err != nil {
		return err
	}
	for br := range bridges {
		if have[br] {
			continue
		}
		// The driver may make it at the same time (a guest's tap): one
		// that exists is as good.
		if err := a.ip(ctx, "-n", a.sw, "link", "add", br, "type", "bridge"); err != nil && !strings.Contains(err.Error(), "File exists") {
			return err
		}
		if err := a.ip(ctx, "-n", a.sw, "link", "set", br, "up"); err != nil {
			return err
		}
	}
	return nil
}

// applyDomain makes domain d's namespace, links, addresses, routes, NAT
// rules, DHCP servers and metadata listener.
func (a *Applier) applyDomain(ctx context.Context, d domain) error {
	if _, err := os.Stat(filepath.Join("/run/netns", d.ns)); err != nil {
		if err := a.ip(ctx, "netns", "add", d.ns); err != nil && !strings.Contains(err.Error(), "exists") {
			return err
		}
	}
	forward := "0"
	if d.router != nil {
		forward = "1"
	}
	if err := a.ip(ctx, "netns", "exec", d.ns, "sh", "-c",
		"echo "+forward+" >/proc/sys/net/ipv4/ip_forward && echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6"); err != nil {
		return err
	}
	if err := a.ip(ctx, "-n", d.ns, "link", "set", "lo", "up"); err != nil {
		return err
	}
	if err := a.ip(ctx, "-n", d.ns, "addr", "replace", MetadataAddress+"/32", "dev", "lo"); err != nil {
		return err
	}
	links := slices.Clone(d.links)
	if d.gateway != nil {
		links = append(links, *d.gateway)
	}
	have, err := a.links(ctx, d.ns)
	if err != nil {
		return err
	}
	keep := map[string]bool{"lo": true}
	for _, l := range links {
		keep[l.dev] = true
		addrs := []string{l.addr}
		if d.gateway != nil && l.dev == d.gateway.dev {
			for _, f := range d.fips {
				addrs = append(addrs, f+"/32")
			}
		}
		if err := a.ensureLink(ctx, d.ns, l, have[l.dev], addrs); err != nil {
			return err
		}
	}
	for dev := range have {
		if !keep[dev] {
			// Its peer in the switch goes with it.
			if err := a.ip(ctx, "-n", d.ns, "link", "del", dev); err != nil {
				return err
			}
			_ = a.serveDHCP(ctx, d.ns, dev, nil)
		}
	}
	if d.gateway != nil && d.nextHop != "" {
		if err := a.ip(ctx, "-n", d.ns, "route", "replace", "default", "via", d.nextHop, "dev", d.gateway.dev); err != nil {
			return err
		}
	}
	if d.router != nil {
		devs := nftgen.RouterDevs{}
		for _, l := range d.links {
			devs.Internal = append(devs.Internal, l.dev)
		}
		r := *d.router
		if d.gateway != nil {
			devs.Gateway = d.gateway.dev
			r.FloatingIPs = slices.DeleteFunc(slices.Clone(r.FloatingIPs), func(f dataplane.FloatingIP) bool {
				return !slices.Contains(d.fips, f.Address)
			})
		} else {
			r.Gateway, r.FloatingIPs = nil, nil
		}
		script, err := nftgen.Router(r, devs)
		if err != nil {
			return err
		}
		if err := a.nft(ctx, d.ns, script); err != nil {
			return err
		}
	}
	for _, l := range d.links {
		if err := a.serveDHCP(ctx, d.ns, l.dev, l.dhcp); err != nil {
			return err
		}
	}
	return a.serveMetadata(d.ns)
}

// ensureLink makes link l of namespace ns where missing (exists: its dev
// is there) and gives its dev exactly addrs.
func (a *Applier) ensureLink(ctx context.Context, ns string, l link, exists bool, addrs []string) error {
	if !exists {
		_ = a.ip(ctx, "-n", a.sw, "link", "del", l.peer) // a half-made pair of before
		if err := a.ip(ctx, "-n", a.sw, "link", "add", l.peer, "type", "veth", "peer", "name", l.dev, "netns", ns); err != nil {
			return err
		}
		if l.mac != "" {
			if err := a.ip(ctx, "-n", ns, "link", "set", l.dev, "address", l.mac); err != nil {
				return err
			}
		}
	}
	if err := a.ip(ctx, "-n", a.sw, "link", "set", l.peer, "master", l.bridge, "up"); err != nil {
		return err
	}
	if err := a.ip(ctx, "-n", ns, "link", "set", l.dev, "up"); err != nil {
		return err
	}
	out, err := a.output(ctx, "-n", ns, "-o", "addr", "show", "dev", l.dev, "scope", "global")
	if err != nil {
		return err
	}
	var have []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if i := slices.Index(f, "inet"); i >= 0 && i+1 < len(f) {
			have = append(have, f[i+1])
		}
	}
	for _, addr := range addrs {
		if !slices.Contains(have, addr) {
			if err := a.ip(ctx, "-n", ns, "addr", "add", addr, "dev", l.dev); err != nil {
				return err
			}
		}
	}
	for _, addr := range have {
		if !slices.Contains(addrs, addr) {
			if err := a.ip(ctx, "-n", ns, "addr", "del", addr, "dev", l.dev); err != nil {
				return err
			}
		}
	}
	return nil
}

// applySwitchRules loads the security groups' rules into the switch.
func (a *Applier) applySwitchRules(ctx context.Context, h dataplane.Host, taps []netns.Port, p plan) error {
	byKey := map[[2]string]dataplane.Port{}
	for _, port := range h.Ports {
		byKey[[2]string{port.DeviceID, strings.ToLower(port.MAC)}] = port
	}
	var ports []nftgen.SwitchPort
	for _, t := range taps {
		port, ok := byKey[[2]string{t.Owner, t.MAC}]
		if !ok {
			// A tap the database does not know (yet, or any more): it
			// gets nothing through.
			port = dataplane.Port{ID: "unknown-" + t.Tap, DeviceID: t.Owner, MAC: t.MAC, SecurityEnabled: true}
		}
		ports = append(ports, nftgen.SwitchPort{Tap: t.Tap, Bridge: t.Bridge, Port: port})
	}
	var bridges []string
	for br := range p.bridges {
		bridges = append(bridges, br)
	}
	for _, t := range taps {
		if !slices.Contains(bridges, t.Bridge) {
			bridges = append(bridges, t.Bridge)
		}
	}
	slices.Sort(bridges)
	script, err := nftgen.Switch(ports, h.Groups, bridges)
	if err != nil {
		return err
	}
	return a.nft(ctx, a.sw, script)
}

// joinExternal joins the host to the external network's bridge br.
func (a *Applier) joinExternal(ctx context.Context, br string) error {
	iface := a.opts.ExternalInterface
	peer := name("kx-", iface)
	have, err := a.links(ctx, a.sw)
	if err != nil {
		return err
	}
	switch {
	case have[peer]: // our veth: its host end may be anywhere now
		return a.ip(ctx, "-n", a.sw, "link", "set", peer, "master", br, "up")
	case have[iface]: // the host's interface, moved here before
		return a.ip(ctx, "-n", a.sw, "link", "set", iface, "master", br, "up")
	}
	if _, err := net.InterfaceByName(iface); err == nil {
		if err := a.ip(ctx, "link", "set", iface, "netns", a.sw); err != nil {
			return err
		}
		return a.ip(ctx, "-n", a.sw, "link", "set", iface, "master", br, "up")
	}
	if err := a.ip(ctx, "link", "add", iface, "type", "veth", "peer", "name", peer, "netns", a.sw); err != nil {
		return err
	}
	if err := a.ip(ctx, "link", "set", iface, "up"); err != nil {
		return err
	}
	return a.ip(ctx, "-n", a.sw, "link", "set", peer, "master", br, "up")
}

// removeStaleDomains deletes the domain namespaces of this switch that
// are not wanted, with their DHCP servers and metadata listeners.
func (a *Applier) removeStaleDomains(ctx context.Context, wanted map[string]bool) error {
	entries, err := os.ReadDir("/run/netns")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		ns := e.Name()
		if !strings.HasPrefix(ns, a.sw+"-") || wanted[ns] {
			continue
		}
		if m := a.meta[ns]; m != nil {
			m.close()
			delete(a.meta, ns)
		}
		delete(a.scripts, ns)
		if err := a.stopDHCPIn(ctx, ns); err != nil {
			return err
		}
		if err := a.ip(ctx, "netns", "del", ns); err != nil {
			return err
		}
	}
	return nil
}

// nft loads script into namespace ns unless it holds it already.
func (a *Applier) nft(ctx context.Context, ns, script string) error {
	if a.scripts[ns] == script {
		return nil
	}
	cmd := exec.CommandContext(ctx, a.ipBin, "netns", "exec", ns, a.nftBin, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		delete(a.scripts, ns)
		return fmt.Errorf("nft in %s: %v: %s", ns, err, strings.TrimSpace(string(out)))
	}
	a.scripts[ns] = script
	return nil
}

// links are the names of namespace ns's links.
func (a *Applier) links(ctx context.Context, ns string) (map[string]bool, error) {
	out, err := a.output(ctx, "-n", ns, "-o", "link", "show")
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		have[n] = true
	}
	return have, nil
}

func (a *Applier) ip(ctx context.Context, args ...string) error {
	_, err := a.output(ctx, args...)
	return err
}

func (a *Applier) output(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, a.ipBin, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
