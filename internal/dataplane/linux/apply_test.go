package linux

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/metadata"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/virt/netns"
)

// TestApply applies a host with a router (two subnets, a gateway, a
// floating IP) and another project's network of the same range to real
// namespaces (root, ip, nft, dnsmasq, curl and python3 needed), and
// checks what the kernel holds: a client on the external network reaches
// a guest through its floating IP, the guest reaches the metadata service
// as itself, and a router taken away leaves nothing behind.
func TestApply(t *testing.T) {
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root"
	}
	for _, bin := range []string{"ip", "nft", "dnsmasq", "curl", "python3"} {
		if _, err := exec.LookPath(bin); err != nil && why == "" {
			why = bin + " not installed"
		}
	}
	if why != "" {
		if os.Getenv("KUMO_TEST_REQUIRE_NET") == "1" {
			t.Fatalf("%s (KUMO_TEST_REQUIRE_NET=1)", why)
		}
		t.Skip(why)
	}
	ctx := context.Background()
	sw := fmt.Sprintf("kumo-ap%d", os.Getpid())
	ext := fmt.Sprintf("kx%d", os.Getpid()) // the external interface
	guestNS, extNS := sw+"-test-guest", sw+"-test-ext"
	dir := t.TempDir()
	var a *Applier
	t.Cleanup(func() {
		if a != nil {
			a.Close()
			entries, _ := os.ReadDir("/run/netns")
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), sw+"-") {
					_ = a.stopDHCPIn(ctx, e.Name())
				}
			}
		}
		entries, _ := os.ReadDir("/run/netns")
		for _, e := range entries {
			if e.Name() == sw || strings.HasPrefix(e.Name(), sw+"-") {
				_ = exec.Command("ip", "netns", "del", e.Name()).Run()
			}
		}
		_ = exec.Command("ip", "link", "del", ext).Run()
	})
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	s, err := netns.Open(ctx, sw, filepath.Join(dir, "switch"))
	if err != nil {
		t.Fatal(err)
	}
	const guestMAC = "fa:16:3e:00:00:0a"
	if _, err := s.Plug(ctx, "server-a", []virt.NIC{{NetworkID: "net-a", MAC: guestMAC, IPv4: "10.0.1.5", CIDR: "10.0.1.0/24"}}); err != nil {
		t.Fatal(err)
	}
	a, err = New(Options{Switch: s, Dir: filepath.Join(dir, "dataplane"), ExternalInterface: ext,
		Metadata: func(resolve metadata.Resolver) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				host, _, _ := strings.Cut(r.RemoteAddr, ":")
				id, ok := resolve(r.Context(), mustAddr(host))
				fmt.Fprintf(w, "server=%s ok=%t path=%s", id, ok, r.URL.Path)
			})
		}})
	if err != nil {
		t.Fatal(err)
	}
	sub := func(id, net, cidr, gw string) dataplane.Subnet {
		return dataplane.Subnet{ID: id, NetworkID: net, CIDR: cidr, GatewayIP: gw, DHCP: true}
	}
	open := dataplane.Group{ID: "open", Rules: []dataplane.Rule{
		{ID: "in", Direction: "ingress", EtherType: "IPv4"}, {ID: "out", Direction: "egress", EtherType: "IPv4"}}}
	h := dataplane.Host{
		Networks: []dataplane.Network{
			{ID: "net-a", Subnets: []dataplane.Subnet{sub("sub-a", "net-a", "10.0.1.0/24", "10.0.1.1")}},
			{ID: "net-b", Subnets: []dataplane.Subnet{sub("sub-b", "net-b", "10.0.2.0/24", "10.0.2.1")}},
			{ID: "net-c", Subnets: []dataplane.Subnet{sub("sub-c", "net-c", "10.0.1.0/24", "10.0.1.1")}},
			{ID: "public", External: true, Subnets: []dataplane.Subnet{sub("sub-pub", "public", "172.24.4.0/24", "172.24.4.1")}},
		},
		Ports: []dataplane.Port{
			{ID: "pa", NetworkID: "net-a", DeviceID: "server-a", MAC: guestMAC, SecurityEnabled: true, Groups: []string{"open"},
				FixedIPs: []dataplane.FixedIP{{SubnetID: "sub-a", Address: "10.0.1.5"}}},
			{ID: "pc", NetworkID: "net-c", DeviceID: "server-c", MAC: "fa:16:3e:00:00:0c", SecurityEnabled: true,
				FixedIPs: []dataplane.FixedIP{{SubnetID: "sub-c", Address: "10.0.1.5"}}},
		},
		Groups: []dataplane.Group{open},
		Routers: []dataplane.Router{{ID: "r1",
			Interfaces: []dataplane.Interface{
				{PortID: "rp-a", NetworkID: "net-a", SubnetID: "sub-a", MAC: "fa:16:3e:00:01:01", Address: "10.0.1.1", CIDR: "10.0.1.0/24"},
				{PortID: "rp-b", NetworkID: "net-b", SubnetID: "sub-b", MAC: "fa:16:3e:00:01:02", Address: "10.0.2.1", CIDR: "10.0.2.0/24"},
			},
			Gateway: &dataplane.Gateway{PortID: "gw", NetworkID: "public", MAC: "fa:16:3e:00:02:01", Address: "172.24.4.10",
				CIDR: "172.24.4.0/24", NextHop: "172.24.4.1", SNAT: true},
			FloatingIPs: []dataplane.FloatingIP{{ID: "f1", Address: "172.24.4.20", FixedIP: "10.0.1.5", PortID: "pa"}},
		}},
		External: "public",
	}
	if err := a.Apply(ctx, h); err != nil {
		t.Fatal(err)
	}
	// The same host read again (a new gateway pointer) changes nothing.
	full := a.lastFull
	again := h
	again.Routers = []dataplane.Router{h.Routers[0]}
	gw := *h.Routers[0].Gateway
	again.Routers[0].Gateway = &gw
	if err := a.Apply(ctx, again); err != nil || a.lastFull != full {
		t.Errorf("applying an equal host again: %v, redone %t", err, a.lastFull != full)
	}
	p := planFor(sw, h, ext)
	var rns, lone string
	for _, d := range p.domains {
		if d.router != nil {
			rns = d.ns
		} else {
			lone = d.ns
		}
	}
	addrs := run("ip", "-n", rns, "-o", "-4", "addr", "show")
	for _, want := range []string{"10.0.1.1/24", "10.0.2.1/24", "172.24.4.10/24", "172.24.4.20/32", MetadataAddress + "/32"} {
		if !strings.Contains(addrs, " "+want+" ") {
			t.Errorf("router namespace lacks %s:\n%s", want, addrs)
		}
	}
	if r := run("ip", "-n", rns, "route", "show", "default"); !strings.Contains(r, "via 172.24.4.1") {
		t.Errorf("router's default route: %q", r)
	}
	if nat := run("ip", "netns", "exec", rns, "nft", "list", "table", "ip", "kumo"); !strings.Contains(nat, "dnat to 10.0.1.5") {
		t.Errorf("router's nat table:\n%s", nat)
	}
	if addrs := run("ip", "-n", lone, "-o", "-4", "addr", "show"); !strings.Contains(addrs, " 10.0.1.1/24 ") {
		t.Errorf("the other project's network lacks its gateway:\n%s", addrs)
	}
	leased := func(ns, lease string) bool {
		files, _ := filepath.Glob(filepath.Join(dir, "dataplane", ns+".*.pid"))
		for _, f := range files {
			if pid, ok := dnsmasqPID(f); ok {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				if strings.Contains(string(cmdline), "--dhcp-host="+lease+"\x00") {
					return true
				}
			}
		}
		return false
	}
	if !leased(rns, guestMAC+",10.0.1.5") || !leased(lone, "fa:16:3e:00:00:0c,10.0.1.5") {
		t.Errorf("dnsmasq leases missing (router %t, lone network %t)", leased(rns, guestMAC+",10.0.1.5"),
			leased(lone, "fa:16:3e:00:00:0c,10.0.1.5"))
	}
	if tables := run("ip", "netns", "exec", sw, "nft", "list", "tables"); !strings.Contains(tables, "bridge kumo") ||
		!strings.Contains(tables, "inet kumo") {
		t.Errorf("switch tables: %s", tables)
	}

	// A stand-in guest (a veth on net-a's bridge with the port's address)
	// and a client on the external network through the external
	// interface.
	run("ip", "netns", "add", guestNS)
	run("ip", "-n", sw, "link", "add", "kg-test", "type", "veth", "peer", "name", "eth0", "netns", guestNS)
	run("ip", "-n", sw, "link", "set", "kg-test", "master", netns.BridgeName("net-a"), "up")
	run("ip", "-n", guestNS, "addr", "add", "10.0.1.5/24", "dev", "eth0")
	run("ip", "-n", guestNS, "link", "set", "eth0", "up")
	run("ip", "-n", guestNS, "link", "set", "lo", "up")
	run("ip", "-n", guestNS, "route", "add", "default", "via", "10.0.1.1")
	run("ip", "netns", "add", extNS)
	run("ip", "link", "set", ext, "netns", extNS)
	run("ip", "-n", extNS, "addr", "add", "172.24.4.100/24", "dev", ext)
	run("ip", "-n", extNS, "link", "set", ext, "up")
	server := exec.Command("ip", "netns", "exec", guestNS, "python3", "-m", "http.server", "8080", "--bind", "10.0.1.5")
	server.Dir = t.TempDir()
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Process.Kill(); _ = server.Wait() })
	curl := func(ns, url string) (string, error) {
		var out []byte
		var err error
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			out, err = exec.Command("ip", "netns", "exec", ns, "curl", "-sS", "-m", "2", url).CombinedOutput()
			if err == nil {
				break
			}
		}
		return string(out), err
	}
	if out, err := curl(guestNS, "http://10.0.1.5:8080/"); err != nil { // the server listens
		t.Fatalf("the stand-in guest's server: %v: %s", err, out)
	}
	if out, err := curl(extNS, "http://172.24.4.20:8080/"); err != nil || !strings.Contains(out, "Directory listing") {
		t.Errorf("the floating IP from the external network: %v: %s", err, out)
	}
	if out, err := curl(guestNS, "http://"+MetadataAddress+"/openstack/latest/meta_data.json"); err != nil ||
		out != "server=server-a ok=true path=/openstack/latest/meta_data.json" {
		t.Errorf("metadata from the guest: %v: %s", err, out)
	}
	if out, err := exec.Command("ip", "netns", "exec", extNS, "curl", "-sS", "-m", "2", "http://10.0.1.5:8080/").CombinedOutput(); err == nil {
		t.Errorf("the external network reaches a fixed address: %s", out)
	}

	// Without the router, net-a is a lone network: the router's namespace
	// and its DHCP server go, net-a gets a namespace of its own.
	h.Routers = nil
	if err := a.Apply(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("/run/netns", rns)); err == nil {
		t.Errorf("router namespace %s left", rns)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "dataplane", rns+".*.pid")); len(files) != 0 {
		t.Errorf("router's dnsmasq pid files left: %v", files)
	}
	if got := len(planFor(sw, h, ext).domains); got != 2 {
		t.Errorf("%d domains without the router, want 2", got)
	}
	for _, d := range planFor(sw, h, ext).domains {
		if _, err := os.Stat(filepath.Join("/run/netns", d.ns)); err != nil {
			t.Errorf("domain %s missing: %v", d.ns, err)
		}
	}
}

func mustAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a
}
