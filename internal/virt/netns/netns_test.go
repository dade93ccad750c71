package netns

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
)

func TestNames(t *testing.T) {
	tests := []struct {
		subnet, bridge string
	}{
		{"10.0.0.0/24", "kb-0a000000-24"},
		{"10.0.3.7/24", "kb-0a000300-24"},
		{"192.168.255.0/30", "kb-c0a8ff00-30"},
		{"10.64.0.0/16", "kb-0a400000-16"},
	}
	for _, tc := range tests {
		if got := bridgeName(netip.MustParsePrefix(tc.subnet)); got != tc.bridge {
			t.Errorf("bridgeName(%s) = %s, want %s", tc.subnet, got, tc.bridge)
		}
		if len(tc.bridge) > 15 {
			t.Errorf("%s is longer than an interface name may be", tc.bridge)
		}
	}
	seen := map[string]bool{}
	for _, owner := range []string{"f627079f-2e57-448a-9ea6-005a80d0ad3a", "f627079f-2e57-448a-9ea6-005a80d0ad3b"} {
		for i := range 3 {
			tap := tapName(owner, i)
			if len(tap) > 15 || !strings.HasPrefix(tap, "kt-") || seen[tap] {
				t.Errorf("tapName(%s, %d) = %q: too long, unprefixed or taken", owner, i, tap)
			}
			if tapName(owner, i) != tap {
				t.Errorf("tapName(%s, %d) is not stable", owner, i)
			}
			seen[tap] = true
		}
	}
	if a, b := NameFor("/var/lib/kumo"), NameFor("/var/lib/kumo2"); a == b || len(a) > 15 || !strings.HasPrefix(a, "kumo-") {
		t.Errorf("NameFor: %q and %q", a, b)
	}
}

func TestNewPort(t *testing.T) {
	tests := []struct {
		name string
		nic  virt.NIC
		want Port // zero: an error
	}{
		{"fixed address", virt.NIC{MAC: "FA:16:3E:00:00:01", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"},
			Port{Owner: "g", Tap: tapName("g", 1), Bridge: "kb-0a000000-24", MAC: "fa:16:3e:00:00:01", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"}},
		{"subnet given by a host address", virt.NIC{MAC: "fa:16:3e:00:00:02", IPv4: "10.0.1.9", CIDR: "10.0.1.1/24"},
			Port{Owner: "g", Tap: tapName("g", 1), Bridge: "kb-0a000100-24", MAC: "fa:16:3e:00:00:02", IPv4: "10.0.1.9", CIDR: "10.0.1.0/24"}},
		{"no address", virt.NIC{MAC: "fa:16:3e:00:00:03", CIDR: "10.0.0.0/24"}, Port{}},
		{"address outside the subnet", virt.NIC{MAC: "fa:16:3e:00:00:04", IPv4: "10.0.1.5", CIDR: "10.0.0.0/24"}, Port{}},
		{"no subnet", virt.NIC{MAC: "fa:16:3e:00:00:05", IPv4: "10.0.0.5"}, Port{}},
		{"IPv6 subnet", virt.NIC{MAC: "fa:16:3e:00:00:06", IPv4: "10.0.0.5", CIDR: "fd00::/64"}, Port{}},
		{"subnet too small", virt.NIC{MAC: "fa:16:3e:00:00:07", IPv4: "10.0.0.5", CIDR: "10.0.0.5/31"}, Port{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newPort("g", 1, tc.nic)
			if tc.want == (Port{}) {
				if err == nil {
					t.Errorf("want an error, got %+v", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestDnsmasqArgs(t *testing.T) {
	ports := []Port{
		{Tap: "kt-a", Bridge: "kb-0a000000-24", MAC: "fa:16:3e:00:00:01", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"},
		{Tap: "kt-b", Bridge: "kb-0a000000-24", MAC: "fa:16:3e:00:00:02", IPv4: "10.0.0.6", CIDR: "10.0.0.0/24"},
	}
	args, err := dnsmasqArgs("kb-0a000000-24", ports, "/s/kb.pid", "/s/kb.log")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(args, " ")
	for _, want := range []string{"--conf-file=/dev/null", "--port=0", "--interface=kb-0a000000-24 --bind-interfaces",
		"--dhcp-range=10.0.0.0,static,255.255.255.0,1h", "--dhcp-option=3 --dhcp-option=6", "--leasefile-ro",
		"--pid-file=/s/kb.pid", "--dhcp-host=fa:16:3e:00:00:01,10.0.0.5 --dhcp-host=fa:16:3e:00:00:02,10.0.0.6"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %s", want, got)
		}
	}
}

// TestNamespace plugs, replugs and unplugs guests in a real namespace
// (root, ip and dnsmasq needed) and checks its links, addresses, routes
// and dnsmasqs after each step.
func TestNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, bin := range []string{"ip", "dnsmasq"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (apt-get install iproute2 dnsmasq-base)", bin)
		}
	}
	ctx := context.Background()
	dir := t.TempDir()
	name := fmt.Sprintf("kumo-t%d", os.Getpid())
	t.Cleanup(func() {
		for _, pidFile := range must(filepath.Glob(filepath.Join(dir, "*.pid"))) {
			if b, err := os.ReadFile(pidFile); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					_ = stopProcess(ctx, pid, pidFile)
				}
			}
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	})
	n, err := Open(ctx, name, dir)
	if err != nil {
		t.Fatal(err)
	}
	ip := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	nic := func(last int, subnet string) virt.NIC {
		p := netip.MustParsePrefix(subnet)
		b := p.Addr().As4()
		b[3] = byte(last)
		return virt.NIC{MAC: fmt.Sprintf("fa:16:3e:00:00:%02x", last), IPv4: netip.AddrFrom4(b).String(), CIDR: subnet}
	}
	const netA, netB = "10.250.1.0/24", "10.250.2.0/24"
	brA, brB := bridgeName(netip.MustParsePrefix(netA)), bridgeName(netip.MustParsePrefix(netB))

	tapsA1 := must(n.Plug(ctx, "a1", []virt.NIC{nic(5, netA)}))
	tapsA2 := must(n.Plug(ctx, "a2", []virt.NIC{nic(6, netA), nic(7, netB)}))
	if len(tapsA1) != 1 || len(tapsA2) != 2 {
		t.Fatalf("taps %v %v", tapsA1, tapsA2)
	}
	links := ip("-o", "link", "show")
	for _, l := range []string{tapsA1[0] + ": ", tapsA2[0] + ": ", tapsA2[1] + ": ", brA + ": ", brB + ": ", "lo: "} {
		if !strings.Contains(links, " "+l) {
			t.Errorf("no link %q in the namespace:\n%s", l, links)
		}
	}
	if got := strings.Count(links, "link/ether"); got != 5 { // two bridges, three taps: no veth, nothing else
		t.Errorf("%d ethernet links in the namespace, want 5:\n%s", got, links)
	}
	if !strings.Contains(ip("-o", "link", "show", tapsA2[1]), "master "+brB) {
		t.Errorf("tap %s is not on %s", tapsA2[1], brB)
	}
	if addr := ip("-o", "-4", "addr", "show", "dev", brA); !strings.Contains(addr, "inet 10.250.1.1/24") {
		t.Errorf("bridge %s has not the gateway address: %s", brA, addr)
	}
	if def := ip("route", "show", "default"); strings.TrimSpace(def) != "" {
		t.Errorf("the namespace has a default route: %s", def)
	}
	out, err := n.Command(ctx, "cat", "/proc/sys/net/ipv4/ip_forward").Output()
	if err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Errorf("ip_forward in the namespace: %q, %v", out, err)
	}
	leases := func(br string) []string {
		t.Helper()
		pid, ok := n.dnsmasqPID(br)
		if !ok {
			return nil
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		var hosts []string
		for _, a := range strings.Split(string(b), "\x00") {
			if h, ok := strings.CutPrefix(a, "--dhcp-host="); ok {
				hosts = append(hosts, h)
			}
		}
		return hosts
	}
	if got := leases(brA); !slices.Equal(got, []string{"fa:16:3e:00:00:05,10.250.1.5", "fa:16:3e:00:00:06,10.250.1.6"}) {
		t.Errorf("dnsmasq of %s leases %v", brA, got)
	}
	if got := leases(brB); !slices.Equal(got, []string{"fa:16:3e:00:00:07,10.250.2.7"}) {
		t.Errorf("dnsmasq of %s leases %v", brB, got)
	}

	// Plugging the same NICs again restarts nothing.
	pidA, _ := n.dnsmasqPID(brA)
	if again := must(n.Plug(ctx, "a1", []virt.NIC{nic(5, netA)})); !slices.Equal(again, tapsA1) {
		t.Errorf("replug: taps %v, want %v", again, tapsA1)
	}
	if pid, _ := n.dnsmasqPID(brA); pid != pidA {
		t.Errorf("replugging the same NIC restarted dnsmasq (%d → %d)", pidA, pid)
	}

	// A reopened namespace (kumo restarted) restarts a dnsmasq that died.
	pidB, _ := n.dnsmasqPID(brB)
	if err := stopProcess(ctx, pidB, filepath.Join(dir, brB+".pid")); err != nil {
		t.Fatal(err)
	}
	n = must(Open(ctx, name, dir))
	if got := leases(brB); !slices.Equal(got, []string{"fa:16:3e:00:00:07,10.250.2.7"}) {
		t.Errorf("after reopening, dnsmasq of %s leases %v", brB, got)
	}

	// A hot-plugged NIC of a1 gets a tap and a lease of its own; a1's
	// other tap stays (its qemu has it open), and UnplugNIC takes both.
	hot := nic(9, netB)
	tapHot := must(n.PlugNIC(ctx, "a1", hot))
	if tapHot == tapsA1[0] || !strings.Contains(ip("-o", "link", "show", tapHot), "master "+brB) {
		t.Errorf("hot-plugged tap %s is not a new tap on %s", tapHot, brB)
	}
	if got := leases(brB); !slices.Equal(got, []string{"fa:16:3e:00:00:07,10.250.2.7", "fa:16:3e:00:00:09,10.250.2.9"}) {
		t.Errorf("after the hot-plug, dnsmasq of %s leases %v", brB, got)
	}
	pidB, _ = n.dnsmasqPID(brB)
	if again := must(n.PlugNIC(ctx, "a1", hot)); again != tapHot {
		t.Errorf("hot-plugging again: tap %s, want %s", again, tapHot)
	}
	if pid, _ := n.dnsmasqPID(brB); pid != pidB {
		t.Errorf("hot-plugging the same NIC again restarted dnsmasq (%d → %d)", pidB, pid)
	}
	if err := n.UnplugNIC(ctx, "a1", "FA:16:3E:00:00:09"); err != nil {
		t.Fatal(err)
	}
	links = ip("-o", "link", "show")
	if strings.Contains(links, " "+tapHot+": ") || !strings.Contains(links, " "+tapsA1[0]+": ") {
		t.Errorf("after the hot-unplug the links are:\n%s", links)
	}
	if got := leases(brB); !slices.Equal(got, []string{"fa:16:3e:00:00:07,10.250.2.7"}) {
		t.Errorf("after the hot-unplug, dnsmasq of %s leases %v", brB, got)
	}
	if err := n.UnplugNIC(ctx, "a1", hot.MAC); err != nil {
		t.Errorf("hot-unplugging again: %v", err)
	}

	// Unplugging a2 takes its taps, its leases and the bridge it was alone on.
	if err := n.Unplug(ctx, "a2"); err != nil {
		t.Fatal(err)
	}
	links = ip("-o", "link", "show")
	for _, gone := range []string{tapsA2[0], tapsA2[1], brB} {
		if strings.Contains(links, " "+gone+": ") {
			t.Errorf("%s left after unplugging a2:\n%s", gone, links)
		}
	}
	if got := leases(brA); !slices.Equal(got, []string{"fa:16:3e:00:00:05,10.250.1.5"}) {
		t.Errorf("after unplugging a2, dnsmasq of %s leases %v", brA, got)
	}
	if _, ok := n.dnsmasqPID(brB); ok {
		t.Errorf("dnsmasq of %s runs with no port on it", brB)
	}
	if err := n.Unplug(ctx, "a2"); err != nil {
		t.Errorf("unplugging again: %v", err)
	}
	if err := n.Unplug(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if links := ip("-o", "link", "show"); strings.Contains(links, "link/ether") {
		t.Errorf("links left after unplugging everything:\n%s", links)
	}
	if ports := must(n.Ports()); len(ports) != 0 {
		t.Errorf("ports left: %+v", ports)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
