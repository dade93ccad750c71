package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestQemuDataplane is the guest dataplane's proof (issue 25), on bridge
// networking with an external interface (root only; kumo runs with
// --qemu-network bridge --external-interface <a name of the test's>,
// whose host end kumo creates). Real guests of the
// test guest try TCP connections to each other every second and print
// each change of outcome on their consoles, so each step waits for a
// line to turn:
//   - security groups: B's connections to A's ports 22 and 8080 (A in a
//     group "web" without ingress rules) fail; a rule for tcp 22 makes
//     port 22 answer and leaves 8080 blocked; deleting it blocks 22 again;
//   - the metadata service answers a guest with its uuid and EC2 id;
//   - projects apart: a guest of a second project, on a network of the
//     same CIDR, never reaches A while B does;
//   - routers: C, on a second network, reaches B once a router joins the
//     two subnets, not before;
//   - floating IPs: with the router's gateway on the external network and
//     a floating IP on A's port, a host on the external network (the
//     host end of --external-interface, moved into a namespace of the
//     test's) reaches A's port 22 at the floating IP, and no longer once
//     the floating IP is disassociated;
//   - after kumo is killed and restarted a new rule still takes effect.
func TestQemuDataplane(t *testing.T) {
	for _, tool := range []string{"nft", "ip", "bash", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("KUMO_TEST_REQUIRE_NET") == "1" {
				t.Fatalf("%s not installed (KUMO_TEST_REQUIRE_NET=1)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	// The external interface's host end: kumo makes it (a veth whose
	// peer is on the external network's bridge) and leaves it to us.
	extIf := fmt.Sprintf("kdx%08x", rand.Uint32())
	s, cli, dataDir, disk, ns := startBridgeCloud(t, "--external-interface", extIf)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", extIf).Run() }) // still in the host namespace if a step failed
	c := NewClients(t, s.CloudsFile(), "kumo")
	id := func(t *testing.T, args ...string) string {
		t.Helper()
		return strings.TrimSpace(cli.Run(t, append(args, "-f", "value", "-c", "id")...))
	}

	// Project 1 (admin's): two networks, a group without ingress rules.
	net1 := id(t, "network", "create", "dp-net1")
	sub1 := id(t, "subnet", "create", "--network", net1, "--subnet-range", "10.71.0.0/24", "dp-sub1")
	net2 := id(t, "network", "create", "dp-net2")
	sub2 := id(t, "subnet", "create", "--network", net2, "--subnet-range", "10.72.0.0/24", "dp-sub2")
	web := id(t, "security", "group", "create", "web")
	// Project 2, a member's, with a network of net1's CIDR; its addresses
	// start at .200 so none is A's (a guest reaching its own address
	// would prove nothing).
	for _, img := range []string{"qemu-disk", "qemu-disk-kernel", "qemu-disk-ramdisk"} {
		cli.Run(t, "image", "set", "--public", img)
	}
	cli.Run(t, "project", "create", "dp-other")
	cli.Run(t, "user", "create", "--password", "dp-pw", "--project", "dp-other", "dp-user")
	cli.Run(t, "role", "add", "--project", "dp-other", "--user", "dp-user", "member")
	other := NewCLI(writeClouds(t, strings.TrimSuffix(s.URL, "/")+"/identity/v3", "dp-user", "dp-pw", "dp-other"), "kumo")
	otherNet := strings.TrimSpace(other.Run(t, "network", "create", "dp-other-net", "-f", "value", "-c", "id"))
	other.Run(t, "subnet", "create", "--network", otherNet, "--subnet-range", "10.71.0.0/24",
		"--allocation-pool", "start=10.71.0.200,end=10.71.0.250", "dp-other-sub")

	// create starts a guest with user data and returns it (reporting to
	// the top test) and its fixed address.
	create := func(as *CLI, name, network, userData string, extra ...string) (qemuGuest, string) {
		t.Helper()
		ud := filepath.Join(t.TempDir(), "user-data")
		if err := os.WriteFile(ud, []byte(userData), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"server", "create", "--image", disk, "--flavor", "m1.tiny", "--config-drive", "true",
			"--network", network, "--user-data", ud}, extra...)
		sid := strings.TrimSpace(as.Run(t, append(args, name, "-f", "value", "-c", "id")...))
		if got := qemuWaitIdle(t, c, sid, "ACTIVE"); got != "ACTIVE" {
			t.Fatalf("create %s: status %s, fault %s", name, got, cli.Run(t, "server", "show", sid, "-f", "value", "-c", "fault"))
		}
		fixed := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+`).FindString(cli.Run(t, "server", "show", sid, "-f", "value", "-c", "addresses"))
		if fixed == "" {
			t.Fatalf("%s has no IPv4 address", name)
		}
		return qemuGuest{t: t, dataDir: dataDir, id: sid}, fixed
	}
	a, ipA := create(cli, "dp-a", net1, "kumo-listen 8080\n", "--security-group", web)
	b, ipB := create(cli, "dp-b", net1, fmt.Sprintf("kumo-connect %s 22\nkumo-connect %s 8080\n", ipA, ipA))
	cg, ipC := create(cli, "dp-c", net2, fmt.Sprintf("kumo-connect %s 22\nkumo-metadata\n", ipB))
	d, ipD := create(other, "dp-d", otherNet, fmt.Sprintf("kumo-connect %s 22\n", ipA))
	if ipD == ipA || !strings.HasPrefix(ipD, "10.71.0.") {
		t.Fatalf("the other project's guest has address %s (A has %s): the test needs the same subnet, another address", ipD, ipA)
	}
	// Each guest is leased its address and the router DHCP names: its
	// subnet's gateway (kumo's dnsmasq, option 3).
	a.waitConsole(c, 1, "dhcp ip="+ipA+"\n", "dhcp router=10.71.0.1\n")
	b.waitConsole(c, 1, "dhcp ip="+ipB+"\n", "dhcp router=10.71.0.1\n")
	cg.waitConsole(c, 1, "dhcp ip="+ipC+"\n", "dhcp router=10.72.0.1\n")
	d.waitConsole(c, 1, "dhcp ip="+ipD+"\n", "dhcp router=10.71.0.1\n")

	ssh22 := func(ip string) string { return ip + ":22" }
	var rule22, router string
	top := t
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"security group rules", func(t *testing.T) {
			b := b.on(t)
			b.waitConnect(c, ssh22(ipA), "failed")
			b.waitConnect(c, ipA+":8080", "failed")
			rule := id(t, "security", "group", "rule", "create", "--ingress", "--protocol", "tcp", "--dst-port", "22",
				"--remote-ip", "0.0.0.0/0", web)
			b.waitConnect(c, ssh22(ipA), "ok SSH-2.0-KUMO-GUEST dp-a")
			// Port 8080 (A listens there too) stays blocked.
			time.Sleep(5 * time.Second)
			log := b.waitConnect(c, ipA+":8080", "failed")
			if strings.Contains(log, "connect "+ipA+":8080 ok") {
				t.Errorf("a rule for port 22 opened port 8080 too:\n%s", log)
			}
			cli.Run(t, "security", "group", "rule", "delete", rule)
			b.waitConnect(c, ssh22(ipA), "failed")
			// The later steps need port 22 open.
			rule22 = id(t, "security", "group", "rule", "create", "--ingress", "--protocol", "tcp", "--dst-port", "22",
				"--remote-ip", "0.0.0.0/0", web)
			b.waitConnect(c, ssh22(ipA), "ok SSH-2.0-KUMO-GUEST dp-a")
		}},
		{"metadata service", func(t *testing.T) {
			var srv map[string]any
			cli.JSON(t, &srv, "server", "show", cg.id)
			name, _ := srv["OS-EXT-SRV-ATTR:instance_name"].(string)
			if !strings.HasPrefix(name, "instance-") {
				t.Fatalf("server show of dp-c: instance_name %q", name)
			}
			log := cg.on(t).waitConsoleFor(c, "the metadata lines", func(log string) bool {
				return strings.Contains(log, "metadata ec2 instance-id=") || strings.Contains(log, "metadata failed")
			})
			for _, want := range []string{"metadata uuid=" + cg.id + "\n", "metadata ec2 instance-id=i-" + strings.TrimPrefix(name, "instance-") + "\n"} {
				if !strings.Contains(log, want) {
					t.Errorf("dp-c's console lacks %q:\n%s", want, log)
				}
			}
		}},
		{"projects apart", func(t *testing.T) {
			// A's port 22 is open to 0.0.0.0/0: only the network keeps
			// the other project's guest from it, while B gets there.
			b.on(t).waitConnect(c, ssh22(ipA), "ok SSH-2.0-KUMO-GUEST dp-a")
			d := d.on(t)
			d.waitConnect(c, ssh22(ipA), "failed")
			time.Sleep(10 * time.Second)
			if log := d.waitConnect(c, ssh22(ipA), "failed"); strings.Contains(log, "connect "+ssh22(ipA)+" ok") {
				t.Errorf("the other project's guest reached %s:\n%s", ssh22(ipA), log)
			}
		}},
		{"router joins subnets", func(t *testing.T) {
			cg := cg.on(t)
			cg.waitConnect(c, ssh22(ipB), "failed")
			router = id(t, "router", "create", "dp-router")
			cli.Run(t, "router", "add", "subnet", router, sub1)
			cli.Run(t, "router", "add", "subnet", router, sub2)
			cg.waitConnect(c, ssh22(ipB), "ok SSH-2.0-KUMO-GUEST dp-b")
			// Project 1's router does not take the other project's
			// guest anywhere.
			if log := d.on(t).waitConnect(c, ssh22(ipA), "failed"); strings.Contains(log, "connect "+ssh22(ipA)+" ok") {
				t.Errorf("with the router the other project's guest reached %s:\n%s", ssh22(ipA), log)
			}
		}},
		{"floating IP", func(t *testing.T) {
			ext := firstLine(cli.Run(t, "network", "list", "--external", "-f", "value", "-c", "ID"))
			if ext == "" {
				t.Fatal("no external network")
			}
			cli.Run(t, "router", "set", "--external-gateway", ext, router)
			var extSub struct {
				CIDR      string `json:"cidr"`
				GatewayIP string `json:"gateway_ip"`
			}
			cli.JSON(t, &extSub, "subnet", "show", firstLine(cli.Run(t, "subnet", "list", "--network", ext, "-f", "value", "-c", "ID")))
			// The test's namespace stands for the external network's
			// upstream router: the subnet's gateway address, which
			// nothing of Neutron's is given.
			prefix, err := netip.ParsePrefix(extSub.CIDR)
			if err != nil || extSub.GatewayIP == "" {
				t.Fatalf("external subnet %+v: %v", extSub, err)
			}
			// It stays till the whole test ends: kumo is restarted
			// with the interface's host end moved away, as it would be
			// on a host whose operator wired it up.
			outside := outsideNamespace(t, top.Cleanup, extIf, fmt.Sprintf("%s/%d", extSub.GatewayIP, prefix.Bits()))

			var fip struct {
				ID      string `json:"id"`
				Address string `json:"floating_ip_address"`
			}
			cli.JSON(t, &fip, "floating", "ip", "create", ext)
			if banner, err := dialFrom(outside, fip.Address, 22); err == nil {
				t.Errorf("the floating IP %s answers before its association: %q", fip.Address, banner)
			}
			portA := firstLine(cli.Run(t, "port", "list", "--server", a.id, "-f", "value", "-c", "ID"))
			cli.Run(t, "floating", "ip", "set", "--port", portA, fip.ID)
			waitDial(t, outside, fip.Address, 22, func(banner string, err error) bool {
				return err == nil && banner == "SSH-2.0-KUMO-GUEST dp-a"
			})
			cli.Run(t, "floating", "ip", "unset", "--port", fip.ID)
			waitDial(t, outside, fip.Address, 22, func(_ string, err error) bool { return err != nil })
			time.Sleep(3 * time.Second)
			if banner, err := dialFrom(outside, fip.Address, 22); err == nil {
				t.Errorf("the disassociated floating IP %s answers again: %q", fip.Address, banner)
			}
		}},
		{"after restart", func(t *testing.T) {
			// A crash of kumo leaves the dataplane as it is; the
			// restarted kumo (stopped when the whole test ends) applies
			// new rules.
			s.Kill()
			restarted := Start(top, kumoBin, Options{DataDir: dataDir, Listen: s.Listen, Args: s.args})
			cli = NewCLI(restarted.CloudsFile(), "kumo")
			c = NewClients(top, restarted.CloudsFile(), "kumo")
			b := b.on(t)
			b.waitConnect(c, ssh22(ipA), "ok SSH-2.0-KUMO-GUEST dp-a")
			b.waitConnect(c, ipA+":8080", "failed")
			cli.Run(t, "security", "group", "rule", "create", "--ingress", "--protocol", "tcp", "--dst-port", "8080",
				"--remote-ip", "0.0.0.0/0", web)
			b.waitConnect(c, ipA+":8080", "ok KUMO-GUEST dp-a 8080")
			cli.Run(t, "security", "group", "rule", "delete", rule22)
			b.waitConnect(c, ssh22(ipA), "failed")
		}},
	}
	for _, step := range steps {
		if !t.Run(step.name, step.run) {
			t.FailNow() // the later steps build on this one's state
		}
	}

	// Without guests on the host no domain namespace is wanted.
	cli.Run(t, "server", "delete", "--wait", a.id, b.id, cg.id, d.id)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		left, _ := filepath.Glob("/run/netns/" + ns + "-*")
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("domain namespaces left after every guest's delete: %v", left)
			break
		}
	}
}

// on returns g reporting to t (a subtest's).
func (g qemuGuest) on(t *testing.T) qemuGuest {
	g.t = t
	return g
}

// lastConnect is the guest's last result for its connection to target
// ("ADDR:PORT"): "ok <first line>", "failed", or "" before its first try.
func lastConnect(log, target string) string {
	prefix := "KUMO-GUEST: connect " + target + " "
	i := strings.LastIndex(log, prefix)
	if i < 0 {
		return ""
	}
	line, _, _ := strings.Cut(log[i+len(prefix):], "\n")
	return strings.TrimSpace(line)
}

// waitConnect polls the console until the guest's last result for target
// is want and returns the log.
func (g qemuGuest) waitConnect(c *Clients, target, want string) string {
	g.t.Helper()
	return g.waitConsoleFor(c, fmt.Sprintf("connection to %s with outcome %q", target, want), func(log string) bool {
		return lastConnect(log, target) == want
	})
}

// outsideNamespace waits for kumo's external interface ifname in the host
// namespace, moves it into a new namespace of the test's (deleted by a
// function given to cleanup) with address addr, and returns the
// namespace's name.
func outsideNamespace(t *testing.T, cleanup func(func()), ifname, addr string) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); exec.Command("ip", "link", "show", ifname).Run() != nil; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("kumo made no external interface %s in the host namespace", ifname)
		}
	}
	name := fmt.Sprintf("kdo-%08x", rand.Uint32())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	run("netns", "add", name)
	cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	run("link", "set", ifname, "netns", name)
	run("-n", name, "link", "set", "lo", "up")
	run("-n", name, "addr", "add", addr, "dev", ifname)
	run("-n", name, "link", "set", ifname, "up")
	return name
}

// dialFrom connects from namespace ns to addr:port and returns the first
// line the peer sends.
func dialFrom(ns, addr string, port int) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "timeout", "5",
		"bash", "-c", `exec 3<>"/dev/tcp/$0/$1" && head -n 1 <&3`, addr, strconv.Itoa(port)).Output()
	line := strings.TrimSpace(string(out))
	if err == nil && line == "" {
		err = fmt.Errorf("%s:%d sent nothing", addr, port)
	}
	return line, err
}

// waitDial dials addr:port from ns every second until ok accepts the
// outcome.
func waitDial(t *testing.T, ns, addr string, port int, ok func(banner string, err error) bool) {
	t.Helper()
	deadline := time.Now().Add(qemuGuestWait)
	for {
		banner, err := dialFrom(ns, addr, port)
		if ok(banner, err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("from namespace %s, %s:%d after %v: %q, %v", ns, addr, port, qemuGuestWait, banner, err)
		}
		time.Sleep(time.Second)
	}
}

// firstLine is s's first line, trimmed.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}
