package netns

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/kumocloud/kumo/internal/virt"
)

func TestNames(t *testing.T) {
	nets := []string{"0b8a1bd1-5c5a-4a0e-9f3a-4d0e54c8a0a1", "0b8a1bd1-5c5a-4a0e-9f3a-4d0e54c8a0a2", "private"}
	bridges := map[string]bool{}
	for _, net := range nets {
		br := BridgeName(net)
		if len(br) > 15 || !strings.HasPrefix(br, "kb-") || bridges[br] || BridgeName(net) != br {
			t.Errorf("BridgeName(%s) = %q: too long, unprefixed, taken or unstable", net, br)
		}
		bridges[br] = true
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
		{"fixed address", virt.NIC{NetworkID: "n1", MAC: "FA:16:3E:00:00:01", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"},
			Port{Owner: "g", Tap: tapName("g", 1), Bridge: BridgeName("n1"), Network: "n1", MAC: "fa:16:3e:00:00:01", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"}},
		{"subnet given by a host address", virt.NIC{NetworkID: "n2", MAC: "fa:16:3e:00:00:02", IPv4: "10.0.1.9", CIDR: "10.0.1.1/24"},
			Port{Owner: "g", Tap: tapName("g", 1), Bridge: BridgeName("n2"), Network: "n2", MAC: "fa:16:3e:00:00:02", IPv4: "10.0.1.9", CIDR: "10.0.1.0/24"}},
		{"no network", virt.NIC{MAC: "fa:16:3e:00:00:08", IPv4: "10.0.0.5", CIDR: "10.0.0.0/24"}, Port{}},
		{"no address", virt.NIC{NetworkID: "n", MAC: "fa:16:3e:00:00:03", CIDR: "10.0.0.0/24"}, Port{}},
		{"address outside the subnet", virt.NIC{NetworkID: "n", MAC: "fa:16:3e:00:00:04", IPv4: "10.0.1.5", CIDR: "10.0.0.0/24"}, Port{}},
		{"no subnet", virt.NIC{NetworkID: "n", MAC: "fa:16:3e:00:00:05", IPv4: "10.0.0.5"}, Port{}},
		{"IPv6 subnet", virt.NIC{NetworkID: "n", MAC: "fa:16:3e:00:00:06", IPv4: "10.0.0.5", CIDR: "fd00::/64"}, Port{}},
		{"subnet too small", virt.NIC{NetworkID: "n", MAC: "fa:16:3e:00:00:07", IPv4: "10.0.0.5", CIDR: "10.0.0.5/31"}, Port{}},
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

// TestNamespace plugs, replugs and unplugs guests in a real namespace
// (root and ip needed) and checks its links after each step: a bridge per
// network, no address, no forwarding, bridged traffic through the inet
// hooks.
func TestNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip not installed (apt-get install iproute2)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	name := fmt.Sprintf("kumo-t%d", os.Getpid())
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
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
	nic := func(last int, network, subnet string) virt.NIC {
		p := netip.MustParsePrefix(subnet)
		b := p.Addr().As4()
		b[3] = byte(last)
		return virt.NIC{NetworkID: network, MAC: fmt.Sprintf("fa:16:3e:00:00:%02x", last), IPv4: netip.AddrFrom4(b).String(), CIDR: subnet}
	}
	// Two networks of one range (two projects'): two bridges.
	const netA, netB, cidr = "net-a", "net-b", "10.250.1.0/24"
	brA, brB := BridgeName(netA), BridgeName(netB)

	tapsA1 := must(n.Plug(ctx, "a1", []virt.NIC{nic(5, netA, cidr)}))
	tapsA2 := must(n.Plug(ctx, "a2", []virt.NIC{nic(6, netA, cidr), nic(7, netB, cidr)}))
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
	if addr := ip("-o", "addr", "show", "scope", "global"); strings.TrimSpace(addr) != "" {
		t.Errorf("the switch has addresses: %s", addr)
	}
	for file, want := range map[string]string{"/proc/sys/net/ipv4/ip_forward": "0", "/proc/sys/net/bridge/bridge-nf-call-iptables": "1"} {
		out, err := n.Command(ctx, "cat", file).Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s in the namespace: %q, %v; want %s", file, out, err, want)
		}
	}

	// Plugging the same NICs again keeps the taps.
	if again := must(n.Plug(ctx, "a1", []virt.NIC{nic(5, netA, cidr)})); !slices.Equal(again, tapsA1) {
		t.Errorf("replug: taps %v, want %v", again, tapsA1)
	}

	// A reopened namespace (kumo restarted, the machine rebooted) makes
	// its taps again.
	ip("link", "del", tapsA2[1])
	n = must(Open(ctx, name, dir))
	if !strings.Contains(ip("-o", "link", "show", tapsA2[1]), "master "+brB) {
		t.Errorf("after reopening, tap %s is not back on %s", tapsA2[1], brB)
	}

	// A hot-plugged NIC of a1 gets a tap of its own; a1's other tap stays
	// (its qemu has it open), and UnplugNIC takes it.
	hot := nic(9, netB, cidr)
	tapHot := must(n.PlugNIC(ctx, "a1", hot))
	if tapHot == tapsA1[0] || !strings.Contains(ip("-o", "link", "show", tapHot), "master "+brB) {
		t.Errorf("hot-plugged tap %s is not a new tap on %s", tapHot, brB)
	}
	if again := must(n.PlugNIC(ctx, "a1", hot)); again != tapHot {
		t.Errorf("hot-plugging again: tap %s, want %s", again, tapHot)
	}
	if err := n.UnplugNIC(ctx, "a1", "FA:16:3E:00:00:09"); err != nil {
		t.Fatal(err)
	}
	links = ip("-o", "link", "show")
	if strings.Contains(links, " "+tapHot+": ") || !strings.Contains(links, " "+tapsA1[0]+": ") {
		t.Errorf("after the hot-unplug the links are:\n%s", links)
	}
	if err := n.UnplugNIC(ctx, "a1", hot.MAC); err != nil {
		t.Errorf("hot-unplugging again: %v", err)
	}

	// Unplugging a2 takes its taps and the bridge it was alone on.
	if err := n.Unplug(ctx, "a2"); err != nil {
		t.Fatal(err)
	}
	links = ip("-o", "link", "show")
	for _, gone := range []string{tapsA2[0], tapsA2[1], brB} {
		if strings.Contains(links, " "+gone+": ") {
			t.Errorf("%s left after unplugging a2:\n%s", gone, links)
		}
	}
	if err := n.Unplug(ctx, "a2"); err != nil {
		t.Errorf("unplugging again: %v", err)
	}

	// A bridge made for the dataplane stays while wanted, goes when not.
	brC := must(n.EnsureBridge(ctx, "net-c"))
	if err := n.PruneBridges(ctx, map[string]bool{brC: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ip("-o", "link", "show"), " "+brC+": ") {
		t.Errorf("a wanted bridge was pruned")
	}
	if err := n.PruneBridges(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ip("-o", "link", "show"), " "+brC+": ") || !strings.Contains(ip("-o", "link", "show"), " "+brA+": ") {
		t.Errorf("pruning took the wrong bridges:\n%s", ip("-o", "link", "show"))
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
